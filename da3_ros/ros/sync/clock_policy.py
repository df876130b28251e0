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

"""The one owner of the node's clock policy: what is a time jump, which camera has a bad clock.

Nothing else in the live path decides that time went backwards: the synchroniser, the
image/CameraInfo pairer and the TF buffer only forget what they hold when the node resets them
on this policy's word (the engine keeps its own guard, which is about its window only).

Rules (stamps in integer ns):

- **Clock jump.** ROS time running backwards (``clock_jumped``, fed by the ``/clock`` jump
  callback under ``use_sim_time``) is a jump of the rig's time: one reset, unless the image
  stamps already jumped with it (no camera's last stamp lies more than half the jump after the
  new time), so one jump of a looping bag is one reset whichever of ``/clock`` and the images
  arrives first. While ROS time is active (``now_ns`` given), an image stamped more than
  ``jump_ns`` (or half the last clock jump, if smaller) after it was sent before the clock
  jumped and arrived late (another topic): it is dropped without judging anything.
- **A camera's own jump.** A stamp more than ``jump_ns`` behind the camera's own newest accepted
  stamp. If the camera now agrees with the others (within ``skew_ns`` of their median), it was
  the camera's glitch: its history restarts, nothing is reset. Otherwise the camera waits
  (its images are excluded, ``Verdict.waiting``: the caller keeps the last one) until the
  cameras that jumped are a majority of the reporting cameras: then the rig's time jumped (a
  bag looping without ``/clock``), there is exactly one reset and the waiting cameras' last
  images belong to the new time (the caller feeds them again). A rig of one camera resets on
  its own jump.
- **Bad clock.** A camera stamping 0 (an unsynchronised driver), or more than ``skew_ns`` away
  from the median of the other reporting cameras' last stamps (lagging or leading the rig),
  has a bad clock: its images are excluded and the reason is reported for that camera only;
  the other cameras go on and nothing is reset. Every image is judged afresh, so a camera whose
  clock recovers is used again.

Only cameras that sent one of the last ``stale_images`` images of the rig vote (by default three
per camera; cameras waiting after their own jump do not), so cameras that stopped publishing do
not hold the rig at their old time. Staleness is counted in images, not seconds, so a slow
consumer never makes every voter stale. Of two cameras that disagree, the one seen first is
kept (two voters cannot outvote each other).
"""
from dataclasses import dataclass
import statistics
from typing import Sequence

from da3_ros.errors import SyncError

NS = 1_000_000_000
DEFAULT_JUMP_NS = NS  # a stamp this far behind the camera's own newest one is a jump
DEFAULT_SKEW_NS = NS  # a camera this far from the others' median has a bad clock
STALE_IMAGES_PER_CAMERA = 3  # a camera absent from this many rig steps' images does not vote


@dataclass(frozen=True)
class Verdict:
    """What to do with one image.

    Attributes:
        use: feed the image to the synchroniser.
        reset: why everything must be reset now ('' for no reset); the image is then used.
        bad_clock: why the camera's clock is bad ('' when it is good).
        waiting: not used now because the camera jumped alone; after a reset it is valid.
    """

    use: bool
    reset: str = ''
    bad_clock: str = ''
    waiting: bool = False


class ClockPolicy:
    """Judges image stamps per camera (see the module docstring).

    Args:
        cameras: camera names.
        jump_ns: own-history jump threshold.
        skew_ns: largest distance from the other cameras' median that is still a good clock.
        stale_images: a camera absent from the rig's last this many images does not vote
            (default ``STALE_IMAGES_PER_CAMERA`` per camera).
    """

    def __init__(self, cameras: Sequence[str], *, jump_ns: int = DEFAULT_JUMP_NS,
                 skew_ns: int = DEFAULT_SKEW_NS, stale_images: int | None = None) -> None:
        stale = STALE_IMAGES_PER_CAMERA * len(cameras) if stale_images is None else stale_images
        if not cameras or jump_ns <= 0 or skew_ns <= 0 or stale <= 0:
            raise SyncError(f'invalid clock policy: cameras={list(cameras)}, jump_ns={jump_ns},'
                            f' skew_ns={skew_ns}, stale_images={stale_images}')
        self.cameras = tuple(cameras)
        self._jump, self._skew, self._stale = jump_ns, skew_ns, stale
        self._count = 0  # images judged so far
        self._ahead = jump_ns  # an image this far after ROS time was sent before a clock jump
        self._newest: dict[str, int] = {}  # newest accepted stamp per camera (its history)
        self._last: dict[str, int] = {}  # last judged stamp per camera (its vote)
        self._seen: dict[str, int] = {}  # ``_count`` at the camera's last judged image
        self._jumped: dict[str, int] = {}  # cameras waiting after their own jump
        self.bad: dict[str, str] = {}  # camera -> why its clock is bad
        self.resets = 0

    def clock_jumped(self, now_ns: int, back_ns: int) -> str:
        """ROS time ran back by ``back_ns`` to ``now_ns``: the reset reason, or '' (see above)."""
        self._ahead = min(self._jump, max(abs(int(back_ns)) // 2, 1))
        if all(stamp <= now_ns + self._ahead for stamp in self._last.values()):
            return ''
        self._forget(keep_jumped=False)
        return 'clock jumped backwards'

    def excluded(self) -> frozenset:
        """Cameras whose images are currently not used (bad clock or waiting after a jump)."""
        return frozenset(self.bad) | frozenset(self._jumped)

    def image(self, camera: str, stamp_ns: int, now_ns: int | None = None) -> Verdict:
        """Judge one image stamp of ``camera``; ``now_ns``: ROS time when it is active (sim)."""
        if camera not in self.cameras:
            raise SyncError(f'unknown camera {camera!r}; known: {list(self.cameras)}')
        stamp_ns = int(stamp_ns)
        if now_ns and stamp_ns > now_ns + self._ahead:
            return Verdict(use=False)  # from before a clock jump, delivered after it
        self._count += 1
        if stamp_ns <= 0:
            return self._bad(camera, f'bad clock: image stamp is {stamp_ns} (driver not synced)')
        reference = self._reference(camera)
        self._last[camera], self._seen[camera] = stamp_ns, self._count
        agrees = reference is None or abs(stamp_ns - reference) <= self._skew
        newest = self._newest.get(camera)
        jumped = newest is not None and stamp_ns < newest - self._jump
        if jumped and (reference is None or not agrees):
            return self._own_jump(camera, stamp_ns)
        if not agrees:
            side = 'behind' if stamp_ns < reference else 'ahead of'
            return self._bad(camera, f'bad clock: stamp {abs(stamp_ns - reference) / NS:.3f} s'
                                     f' {side} the other cameras (limit {self._skew / NS:g} s)')
        self.bad.pop(camera, None)
        self._jumped.pop(camera, None)
        self._newest[camera] = stamp_ns if newest is None or jumped else max(newest, stamp_ns)
        return Verdict(use=True)

    def _bad(self, camera: str, why: str) -> Verdict:
        self.bad[camera] = why
        return Verdict(use=False, bad_clock=why)

    def _own_jump(self, camera: str, stamp_ns: int) -> Verdict:
        """Wait, or reset once the cameras that jumped are a majority of the reporting ones."""
        self._jumped[camera] = stamp_ns
        reporting = {c for c in self._voters(None) if c not in self.bad} | set(self._jumped)
        if 2 * len(self._jumped) <= len(reporting):
            return Verdict(use=False, waiting=True)
        self._forget(keep_jumped=True)
        return Verdict(use=True, reset='image stamps jumped backwards')

    def _forget(self, *, keep_jumped: bool) -> None:
        """Reset: the cameras that jumped start the new history, every other one is forgotten."""
        self._newest = dict(self._jumped) if keep_jumped else {}
        self._last = dict(self._newest)
        self._seen = {c: self._count for c in self._newest}
        self._jumped.clear()
        self.bad.clear()
        self.resets += 1

    def _voters(self, camera: str | None) -> list[str]:
        """Cameras other than ``camera`` among the senders of the last ``stale_images``."""
        horizon = self._count - self._stale
        return [c for c, seen in self._seen.items() if c != camera and seen > horizon]

    def _reference(self, camera: str) -> int | None:
        """Median last stamp of the other voters, jumped ones left out (None without voters)."""
        stamps = [self._last[c] for c in self._voters(camera) if c not in self._jumped]
        return int(statistics.median(stamps)) if stamps else None
