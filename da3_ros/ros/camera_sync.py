"""Image + CameraInfo pairing per camera, then N-camera approximate-time sync (no rclpy).

Why it exists: on a full ROS install this is ``message_filters.TimeSynchronizer([image, info])``
per camera feeding an ``ApproximateTimeSynchronizer`` (or ``image_transport``'s camera
subscriber); neither is installable on the pip-only runtime (``docs/pip-runtime.md``).

Pairing mirrors the ExactTime policy first: an image and a CameraInfo with the same stamp form a
pair. Drivers that latch CameraInfo once, or stamp it differently, would then never pair, so an
image whose exact CameraInfo can no longer arrive (a CameraInfo or a newer image with a later
stamp has been seen) falls back to the newest CameraInfo not after it (else the closest one) and
is marked ``info_exact=False``. Each camera's pairs then feed ``ApproximateTimeSync``.
"""
import bisect
import collections
from dataclasses import dataclass
from typing import Any, Callable, Sequence

from da3_ros.errors import SyncError
from da3_ros.ros.sync import ApproximateTimeSync, SyncedSet


@dataclass(frozen=True)
class CameraFrame:
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
        camera: camera name (used in ``CameraFrame`` and drop counts).
        queue_size: how many unpaired images and CameraInfos are kept.
        reset_jump_ns: a stamp this far behind the newest one seen resets the pairer.
    """

    def __init__(self, camera: str, *, queue_size: int = 10,
                 reset_jump_ns: int = 1_000_000_000) -> None:
        self.camera = camera
        self._queue_size, self._reset_jump = queue_size, reset_jump_ns
        self.drops: collections.Counter = collections.Counter()
        self.reset()

    def reset(self) -> None:
        """Forget pending images and CameraInfos (after a clock jump)."""
        self._images: dict[int, Any] = {}
        self._info_stamps: list[int] = []
        self._infos: dict[int, Any] = {}
        self._last_emitted: int | None = None
        self._newest: int | None = None

    def _check_jump(self, stamp_ns: int) -> None:
        if self._newest is not None and stamp_ns < self._newest - self._reset_jump:
            self.drops[(self.camera, 'clock_reset')] += len(self._images)
            self.reset()
        self._newest = stamp_ns if self._newest is None else max(self._newest, stamp_ns)

    def add_image(self, stamp_ns: int, image: Any) -> list[CameraFrame]:
        """Queue an image; return the frames that are now paired."""
        stamp_ns = int(stamp_ns)
        self._check_jump(stamp_ns)
        if self._last_emitted is not None and stamp_ns <= self._last_emitted:
            self.drops[(self.camera, 'late_image')] += 1
            return []
        self._images[stamp_ns] = image
        if len(self._images) > self._queue_size:
            del self._images[min(self._images)]
            self.drops[(self.camera, 'no_camera_info')] += 1
        return self._flush()

    def add_info(self, stamp_ns: int, info: Any) -> list[CameraFrame]:
        """Store a CameraInfo; return the frames that are now paired."""
        stamp_ns = int(stamp_ns)
        self._check_jump(stamp_ns)
        if stamp_ns not in self._infos:
            bisect.insort(self._info_stamps, stamp_ns)
        self._infos[stamp_ns] = info
        if len(self._info_stamps) > self._queue_size:
            del self._infos[self._info_stamps.pop(0)]
        return self._flush()

    def _flush(self) -> list[CameraFrame]:
        out = []
        for stamp_ns in sorted(self._images):
            info_stamp = self._match(stamp_ns)
            if info_stamp is None:
                break
            out.append(CameraFrame(self.camera, stamp_ns, self._images.pop(stamp_ns),
                                   self._infos[info_stamp], info_stamp))
            self._last_emitted = stamp_ns
        return out

    def _match(self, stamp_ns: int) -> int | None:
        """The CameraInfo stamp for the image at ``stamp_ns``, or None to keep waiting."""
        if stamp_ns in self._infos:
            return stamp_ns
        newest_seen = max([*self._images, *self._info_stamps[-1:]])
        if not self._info_stamps or newest_seen <= stamp_ns:
            return None
        index = bisect.bisect_right(self._info_stamps, stamp_ns)
        return self._info_stamps[index - 1] if index > 0 else self._info_stamps[0]


class MultiCameraSync:
    """Pair image + CameraInfo per camera, then synchronise the cameras.

    Emits ``SyncedSet`` objects whose messages are ``CameraFrame`` (or None for a camera missing
    from a partial set). Keyword arguments go to ``ApproximateTimeSync``.
    """

    def __init__(self, cameras: Sequence[str], *, slop_ns: int, queue_size: int = 10,
                 timeout_ns: int | None = None, clock: Callable[[], int] | None = None,
                 reset_jump_ns: int = 1_000_000_000, min_period_ns: int = 0) -> None:
        self._sync = ApproximateTimeSync(
            cameras, slop_ns=slop_ns, queue_size=queue_size, timeout_ns=timeout_ns,
            clock=clock, reset_jump_ns=reset_jump_ns, min_period_ns=min_period_ns)
        self._pairers = {c: ImageInfoPairer(c, queue_size=queue_size, reset_jump_ns=reset_jump_ns)
                         for c in cameras}

    @property
    def drops(self) -> collections.Counter:
        """Drop counts keyed by ``(camera, reason)`` from pairing and synchronisation."""
        total = collections.Counter(self._sync.drops)
        for pairer in self._pairers.values():
            total.update(pairer.drops)
        return total

    def reset(self) -> None:
        """Forget everything queued (call on a backwards clock jump)."""
        self._sync.reset()
        for pairer in self._pairers.values():
            pairer.reset()

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

    def _feed(self, frames: list[CameraFrame]) -> list[SyncedSet]:
        out = []
        for frame in frames:
            out.extend(self._sync.add(frame.camera, frame.stamp_ns, frame))
        return out
