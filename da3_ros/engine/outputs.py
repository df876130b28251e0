# Copyright 2026 The da3_ros Authors
#
# Licensed under the Apache License, Version 2.0 (the "License");
# you may not use this file except in compliance with the License.
# You may obtain a copy of the License at
#
#     http://www.apache.org/licenses/LICENSE-2.0
#
# Unless required by applicable law or agreed to in writing, software
# distributed under the License is distributed on an "AS IS" BASIS,
# WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
# See the License for the specific language governing permissions and
# limitations under the License.

"""Which outputs one engine step computes and copies back (outputs nobody consumes cost nothing).

A step always runs the forward and the alignment (the world frame and the poses need them, and
they are small on the host). Everything at output resolution is optional: per camera the depth
map, the confidence map, the sky mask and the organised cloud; for the rig the fused cloud. An
output that is not requested is neither computed on the device nor copied to the host, and its
``CameraResult`` field is None (``RigResult.fused_points`` is empty).

``OutputConfig`` still decides what may exist (``organized_clouds``, ``fused_cloud``); a request
selects among that. The node derives its request from its publishers' subscriber counts, the
bag tool from the topics it writes.
"""
from dataclasses import dataclass
from typing import FrozenSet, Iterable, Mapping, Tuple

from da3_ros.errors import ConfigError

DEPTH, CONFIDENCE, SKY, CLOUD = 'depth', 'confidence', 'sky', 'cloud'
CAMERA_OUTPUTS: FrozenSet[str] = frozenset((DEPTH, CONFIDENCE, SKY, CLOUD))
FUSED_CLOUD = 'fused_cloud'
MAP_ORDER = (DEPTH, CONFIDENCE, SKY)  # channels resampled together, in this order


@dataclass(frozen=True)
class OutputRequest:
    """The outputs of one step.

    Attributes:
        default: camera outputs of every camera not named in ``cameras``.
        cameras: ``(camera name, outputs)`` pairs overriding ``default`` per camera.
        fused_cloud: build the fused cloud (when ``OutputConfig.fused_cloud`` allows it).
    """

    default: FrozenSet[str] = CAMERA_OUTPUTS
    cameras: Tuple[Tuple[str, FrozenSet[str]], ...] = ()
    fused_cloud: bool = True

    def __post_init__(self) -> None:
        for name, wanted in ((None, self.default),) + tuple(self.cameras):
            unknown = set(wanted) - CAMERA_OUTPUTS
            if unknown:
                where = 'default' if name is None else f'camera {name!r}'
                raise ConfigError(f'{where}: unknown outputs {sorted(unknown)};'
                                  f' known: {sorted(CAMERA_OUTPUTS)}')

    @classmethod
    def of(cls, names: Iterable[str]) -> 'OutputRequest':
        """Return the same camera outputs for every camera, plus ``'fused_cloud'`` when named.

        Raises:
            ConfigError: a name that is neither a camera output nor ``'fused_cloud'``.
        """
        names = frozenset(names)
        unknown = names - CAMERA_OUTPUTS - {FUSED_CLOUD}
        if unknown:
            raise ConfigError(f'unknown outputs {sorted(unknown)};'
                              f' known: {sorted(CAMERA_OUTPUTS | {FUSED_CLOUD})}')
        return cls(names & CAMERA_OUTPUTS, (), FUSED_CLOUD in names)

    @classmethod
    def per_camera(cls, cameras: Mapping[str, Iterable[str]],
                   fused_cloud: bool) -> 'OutputRequest':
        """Return outputs named per camera; cameras not in the mapping get none."""
        pairs = tuple((name, frozenset(wanted)) for name, wanted in cameras.items())
        return cls(frozenset(), pairs, fused_cloud)

    def for_camera(self, name: str) -> FrozenSet[str]:
        """Camera outputs requested for camera ``name``."""
        return next((frozenset(w) for n, w in self.cameras if n == name), self.default)


ALL = OutputRequest()
