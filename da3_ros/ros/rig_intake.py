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

"""The node's inputs on the executor thread: messages -> clock policy -> synchroniser -> worker.

Images, CameraInfos and the ``poll`` timer feed ``MultiCameraSync``; each set it completes goes
to the latest-only worker. Time is judged by ``ClockPolicy`` alone: a jump of ROS time (the
``/clock`` jump callback) or of the rig's image stamps (a bag looping without ``/clock``)
``reset``s the synchroniser, the dynamic TF and the engine once; a camera with a bad clock (stamp
0, far behind or ahead of the others) is excluded and flagged in its own diagnostics status while
the others go on. ``/tf`` and ``/tf_static`` are inserted one transform at a time (tf2's rules);
accepted statics are kept to be re-inserted after a reset.

No rclpy here: the node hands in its clock and logger (duck-typed) and owns the subscriptions.
"""
from typing import Any, Callable

from da3_ros.errors import Da3Error
from da3_ros.ros.diagnostics import NodeStats
from da3_ros.ros.latest_worker import LatestWorker
from da3_ros.ros.locked_tf import LockedTf
from da3_ros.ros.messages.tf_msgs import stamp_to_ns
from da3_ros.ros.rig_pipeline import RigPipeline
from da3_ros.ros.sync.clock_policy import ClockPolicy
from da3_ros.ros.sync.multi_camera import MultiCameraSync

NS = 1_000_000_000


class RigIntake:
    """Executor-side input handling of ``Da3Node`` (see the module docstring).

    Args:
        stats: the node's counters (inputs, clock verdicts, drops, resets).
        tf: the TF buffer shared with the worker.
        tf_message: the ``TFMessage`` class (one transform per insert).
        clock: the node's clock (``now().nanoseconds``, ``ros_time_is_active``).
        logger: the node's logger (``warning``, ``info``).
        log_once: logs an error once per distinct text (``NodeStats.error``).
    """

    def __init__(self, *, stats: NodeStats, tf: LockedTf, tf_message: Callable[..., Any],
                 clock: Any, logger: Any, log_once: Callable[[str], None]) -> None:
        self.stats, self.tf, self.tf_message = stats, tf, tf_message
        self.clock, self.logger, self.log_once = clock, logger, log_once
        self.statics: dict[str, object] = {}
        self.sync: MultiCameraSync | None = None
        self.clock_policy: ClockPolicy | None = None
        self.worker: LatestWorker | None = None
        self.pipeline: RigPipeline | None = None
        self.held: dict = {}  # camera -> (stamp, image) waiting after the camera's own jump

    def start(self, options: Any, worker: LatestWorker, pipeline: RigPipeline) -> None:
        """Get a fresh synchroniser and clock policy from ``params.NodeOptions`` (on activate)."""
        self.sync = MultiCameraSync(
            options.cameras, slop_ns=int(options.sync_slop_s * NS),
            queue_size=options.sync_queue_size,
            timeout_ns=int(options.sync_timeout_s * NS) if options.sync_timeout_s > 0 else None,
            min_period_ns=int(options.sync_min_period_s * NS))
        self.clock_policy = ClockPolicy(options.cameras)
        self.worker, self.pipeline = worker, pipeline

    @property
    def sync_drops(self) -> dict:
        """The synchroniser's drop counts (empty before the first activation)."""
        return self.sync.drops if self.sync is not None else {}

    def clock_jumped(self, jump: Any) -> None:
        """Return the ``/clock`` jump callback (rclpy ``TimeJump``)."""
        if jump.delta.nanoseconds < 0:  # not the ROS_TIME_ACTIVATED notice of /clock's start
            why = self.clock_policy.clock_jumped(self.clock.now().nanoseconds,
                                                 jump.delta.nanoseconds)
            if why:
                self.reset(why)

    def image(self, camera: str, msg: Any) -> None:
        self.stats.image(camera)
        stamp_ns = stamp_to_ns(msg.header.stamp)
        excluded = self.clock_policy.excluded()
        clock = self.clock
        now_ns = clock.now().nanoseconds if getattr(clock, 'ros_time_is_active', False) else None
        verdict = self.clock_policy.image(camera, stamp_ns, now_ns)
        if verdict.reset:
            held = self.held
            self.reset(verdict.reset)
            for other, (other_ns, other_msg) in held.items():  # they jumped first: new time
                if other != camera:
                    self._submit(self.sync.add_image(other, other_ns, other_msg))
        if verdict.waiting:
            self.held[camera] = (stamp_ns, msg)
        # a camera waiting after its own jump is undecided: its clock state stays as it was
        if not verdict.waiting and self.stats.clock(camera, verdict.bad_clock):
            self._clock_changed(camera, verdict.bad_clock)
        if self.clock_policy.excluded() != excluded:
            self._submit(self.sync.exclude(sorted(self.clock_policy.excluded())))
        if verdict.use:
            self._submit(self.sync.add_image(camera, stamp_ns, msg))
        else:
            self.stats.drop(f'excluded_by_clock:{camera}')

    def _clock_changed(self, camera: str, bad_clock: str) -> None:
        # rclpy fixes a logging call site's severity at its first call: one site per severity.
        if bad_clock:
            self.logger.warning(f'camera {camera}: {bad_clock}; excluded')
        else:
            self.logger.info(f'camera {camera}: clock good again; included')

    def info(self, camera: str, msg: Any) -> None:
        self._submit(self.sync.add_info(camera, stamp_to_ns(msg.header.stamp), msg))

    def poll(self) -> None:
        """Timer: emit the partial sets whose timeout has passed."""
        self._submit(self.sync.poll())

    def _submit(self, sets: list) -> None:
        for synced in sets:
            self.stats.synced(synced.missing)
            self.worker.submit(synced)

    def transforms(self, msg: Any, static: bool) -> None:
        """Insert each transform (tf2's rules); only accepted statics are kept for resets."""
        for transform in msg.transforms:
            single = self.tf_message(transforms=[transform])
            try:
                self.tf.add(single, static=static)
            except Da3Error as err:
                self.log_once(f'bad transform on {"/tf_static" if static else "/tf"}: {err}')
                continue
            if static:
                self.statics[transform.child_frame_id] = single

    def reset(self, why: str) -> None:
        self.logger.warning(f'{why}: resetting synchroniser, TF buffer and engine')
        self.sync.reset()
        self.sync.exclude(sorted(self.clock_policy.excluded()))  # the policy forgot its verdicts
        self.worker.clear()
        self.tf.clear_dynamic(list(self.statics.values()))
        self.pipeline.reset_requested.set()
        self.stats.reset()
        self.held = {}
