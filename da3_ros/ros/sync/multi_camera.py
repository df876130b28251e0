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

"""Image + CameraInfo pairing per camera, then N-camera approximate-time sync (no rclpy).

Why it exists: on a full ROS install this is ``message_filters.TimeSynchronizer([image, info])``
per camera feeding an ``ApproximateTimeSynchronizer`` (or ``image_transport``'s camera
subscriber); neither is installable on the pip-only runtime (``docs/pip-runtime.md``).

Pairing mirrors the ExactTime policy first: an image and a CameraInfo with the same stamp form a
pair. Drivers that latch CameraInfo once, or stamp it differently, would then never pair, so an
image whose exact CameraInfo can no longer arrive (a CameraInfo or a newer image with a later
stamp has been seen) falls back to the newest CameraInfo not after it (else the closest one) and
is marked ``info_exact=False``. A CameraInfo more than ``max_info_age_ns`` (default
``DEFAULT_MAX_INFO_AGE_NS``, 5 s) away from the image is never paired: the image is dropped as
``stale_camera_info`` (a driver whose CameraInfo publisher died must not have its new images
read with an old calibration; drivers that latch CameraInfo once must republish it at least
that often, as ``camera_info_manager`` based drivers do with every image). Images of one camera
may arrive out of stamp order: each is paired when its CameraInfo is there. Each camera's pairs
then feed ``ApproximateTimeSync``.
"""
import bisect
import collections
from dataclasses import dataclass
from typing import Any, Callable, Sequence

from da3_ros.errors import SyncError
from da3_ros.ros.sync.approximate_time import ApproximateTimeSync, SyncedSet

DEFAULT_MAX_INFO_AGE_NS = 5_000_000_000


@dataclass(frozen=True)
class ImagePair:
    """One camera's image with the CameraInfo it was paired with (stamps in ns)."""

    camera: str
    stamp_ns: int
    image: Any
    info: Any
    info_stamp_ns: int

    @property
    def info_exact(self) -> bool:
        return self.info_stamp_ns == self.stamp_ns


class ImageInfoPairer:
    """Pair one camera's images with CameraInfo messages, in image-stamp order.

    Args:
        camera: camera name (used in ``ImagePair`` and drop counts).
        queue_size: how many unpaired images and CameraInfos are kept.
        max_info_age_ns: largest stamp distance between an image and its CameraInfo.
    """

    def __init__(self, camera: str, *, queue_size: int = 10,
                 max_info_age_ns: int = DEFAULT_MAX_INFO_AGE_NS) -> None:
        self.camera = camera
        self._queue_size, self._max_age = queue_size, max_info_age_ns
        self.drops: collections.Counter = collections.Counter()
        self.reset()

    def reset(self) -> None:
        """Forget pending images and CameraInfos (the clock policy decided time jumped)."""
        if getattr(self, '_images', None):
            self.drops[(self.camera, 'clock_reset')] += len(self._images)
        self._images: dict[int, Any] = {}
        self._info_stamps: list[int] = []
        self._infos: dict[int, Any] = {}

    def add_image(self, stamp_ns: int, image: Any) -> list[ImagePair]:
        """Queue an image; return the frames that are now paired."""
        stamp_ns = int(stamp_ns)
        self._images[stamp_ns] = image
        if len(self._images) > self._queue_size:
            del self._images[min(self._images)]
            self.drops[(self.camera, 'no_camera_info')] += 1
        return self._flush()

    def add_info(self, stamp_ns: int, info: Any) -> list[ImagePair]:
        """Store a CameraInfo; return the frames that are now paired."""
        stamp_ns = int(stamp_ns)
        if stamp_ns not in self._infos:
            bisect.insort(self._info_stamps, stamp_ns)
        self._infos[stamp_ns] = info
        if len(self._info_stamps) > self._queue_size:
            del self._infos[self._info_stamps.pop(0)]
        return self._flush()

    def _flush(self) -> list[ImagePair]:
        out = []
        for stamp_ns in sorted(self._images):
            info_stamp = self._match(stamp_ns)
            if info_stamp is None:
                break
            if abs(stamp_ns - info_stamp) > self._max_age:
                del self._images[stamp_ns]
                self.drops[(self.camera, 'stale_camera_info')] += 1
                continue
            out.append(ImagePair(self.camera, stamp_ns, self._images.pop(stamp_ns),
                                 self._infos[info_stamp], info_stamp))
        return out

    def _match(self, stamp_ns: int) -> int | None:
        """Return the CameraInfo stamp for the image at ``stamp_ns``, or None to keep waiting."""
        if stamp_ns in self._infos:
            return stamp_ns
        newest_seen = max([*self._images, *self._info_stamps[-1:]])
        if not self._info_stamps or newest_seen <= stamp_ns:
            return None
        index = bisect.bisect_right(self._info_stamps, stamp_ns)
        return self._info_stamps[index - 1] if index > 0 else self._info_stamps[0]


class MultiCameraSync:
    """Pair image + CameraInfo per camera, then synchronise the cameras.

    Emits ``SyncedSet`` objects whose messages are ``ImagePair`` (or None for a camera missing
    from a partial set). ``max_info_age_ns`` goes to ``ImageInfoPairer``, the other keyword
    arguments to ``ApproximateTimeSync``.
    """

    def __init__(self, cameras: Sequence[str], *, slop_ns: int, queue_size: int = 10,
                 timeout_ns: int | None = None, clock: Callable[[], int] | None = None,
                 min_period_ns: int = 0,
                 max_info_age_ns: int = DEFAULT_MAX_INFO_AGE_NS) -> None:
        self._sync = ApproximateTimeSync(
            cameras, slop_ns=slop_ns, queue_size=queue_size, timeout_ns=timeout_ns,
            clock=clock, min_period_ns=min_period_ns)
        self._pairers = {c: ImageInfoPairer(c, queue_size=queue_size,
                                            max_info_age_ns=max_info_age_ns) for c in cameras}

    @property
    def drops(self) -> collections.Counter:
        """Drop counts keyed by ``(camera, reason)`` from pairing and synchronisation."""
        total = collections.Counter(self._sync.drops)
        for pairer in self._pairers.values():
            total.update(pairer.drops)
        return total

    def reset(self) -> None:
        """Forget everything queued (the clock policy decided time jumped)."""
        self._sync.reset()
        for pairer in self._pairers.values():
            pairer.reset()

    def exclude(self, cameras: Sequence[str]) -> list[SyncedSet]:
        """Stop waiting for ``cameras`` (a bad clock); return the sets that are now ready."""
        return self._sync.exclude(cameras)

    def add_image(self, camera: str, stamp_ns: int, image: Any) -> list[SyncedSet]:
        return self._feed(self._pairer(camera).add_image(stamp_ns, image))

    def add_info(self, camera: str, stamp_ns: int, info: Any) -> list[SyncedSet]:
        return self._feed(self._pairer(camera).add_info(stamp_ns, info))

    def poll(self) -> list[SyncedSet]:
        """Emit timed-out partial sets without a new message (call from a timer)."""
        return self._sync.poll()

    def _pairer(self, camera: str) -> ImageInfoPairer:
        if camera not in self._pairers:
            raise SyncError(f'unknown camera {camera!r}; known: {list(self._pairers)}')
        return self._pairers[camera]

    def _feed(self, frames: list[ImagePair]) -> list[SyncedSet]:
        out = []
        for frame in frames:
            out.extend(self._sync.add(frame.camera, frame.stamp_ns, frame))
        return out
