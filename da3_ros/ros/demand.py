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

"""Which engine outputs the published (or written) topics need (no rclpy).

``rig_output`` topics map to engine outputs (``engine.outputs``) as follows:

- ``<cam>/depth`` and ``<cam>/depth/camera_info``: the camera's depth (the info needs its size);
- ``<cam>/confidence``: its confidence;
- ``<cam>/points``: its organised cloud, plus its confidence with ``cloud_confidence``;
- ``points``: the fused cloud;
- ``rig_step``: depth and confidence of every camera;
- ``/tf``: nothing beyond the poses, which every step computes.

The node passes the topics that have subscribers right now, the bag tool None (everything its
options enable is written), so an output nobody consumes is never computed or copied back.
"""
from typing import Container, Iterable, Optional, Sequence

from da3_ros.engine.outputs import CLOUD, CONFIDENCE, DEPTH, OutputRequest
from da3_ros.ros.messages.rig_output import EVERYTHING, OutputOptions


def output_request(options: OutputOptions, cameras: Sequence[str],
                   topics: Optional[Container[str]] = None, *,
                   extra: Iterable[str] = ()) -> OutputRequest:
    """Return the engine request for ``options`` restricted to ``topics`` (None: every topic).

    Args:
        options: what ``rig_output`` may publish.
        cameras: the rig's camera names.
        topics: relative ``rig_output`` topics that are consumed, or None for all.
        extra: camera outputs needed for every camera besides the topics (e.g. ``'depth'``
            for an evaluation).
    """
    topics = EVERYTHING if topics is None else topics
    rig_step = options.rig_step and 'rig_step' in topics
    per_camera = {}
    for cam in cameras:
        wanted = set(extra)
        if rig_step or (options.depth and (f'{cam}/depth' in topics
                                           or f'{cam}/depth/camera_info' in topics)):
            wanted.add(DEPTH)
        if rig_step or (options.confidence and f'{cam}/confidence' in topics):
            wanted.add(CONFIDENCE)
        if options.camera_clouds and f'{cam}/points' in topics:
            wanted.update((CLOUD, CONFIDENCE) if options.cloud_confidence else (CLOUD,))
        per_camera[cam] = wanted
    return OutputRequest.per_camera(per_camera, options.fused_cloud and 'points' in topics)
