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

"""What the inference worker runs per synchronised set: rig_input -> engine -> rig_output.

``RigPipeline`` is plain Python (no rclpy) so tests can drive it directly. Per set it asks the
engine only for what the consumed topics need (``demand``), hands CompressedImage bytes to an
engine that decodes on the GPU, and records the end-to-end latency (image stamp to publish).
With ``overlap`` the messages of one result are built and published on a second thread while the
engine runs the next set (one result in flight at most, published in order). Run-time parameter
updates arrive from the executor thread as a ``PendingUpdate`` and are applied between sets.
"""
import collections
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
import logging
import threading
import time
from typing import Any, Callable, Container, Optional, Sequence

from da3_ros.config import EngineConfig
from da3_ros.engine.engine import Engine, PendingStep
from da3_ros.engine.types import RigResult
from da3_ros.errors import Da3Error
from da3_ros.ros.demand import output_request
from da3_ros.ros.diagnostics import NodeStats
from da3_ros.ros.locked_tf import LockedTf
from da3_ros.ros.messages.msgtypes import MsgTypes
from da3_ros.ros.messages.rig_input import build_rig_input, CameraSource, RigInput
from da3_ros.ros.messages.rig_output import OutputOptions, result_messages
from da3_ros.ros.sync.approximate_time import SyncedSet

_LOG = logging.getLogger(__name__)
# Longest wait (wall time) for the odometry TF of a set's newest image when /tf is behind the
# images (``LockedTf.can_transform``); after it the set goes on without odometry, reported.
ODOMETRY_WAIT_S = 0.2
Publish = Callable[[list[tuple[str, Any]]], None]


@dataclass(frozen=True)
class PendingUpdate:
    """Accepted run-time parameters waiting for the worker's next set."""

    options: OutputOptions
    config: EngineConfig


class RigPipeline:
    """One synchronised set in, messages published; errors are reported, never raised."""

    def __init__(self, engine: Engine, *, types: MsgTypes, sources: Sequence[CameraSource],
                 tf: LockedTf | None, options: OutputOptions, stats: NodeStats,
                 publish: Publish, use_odometry: bool, log_error: Callable[[str], None],
                 gpu_memory: Callable[[], Any] | None = None,
                 demand: Callable[[], Optional[Container[str]]] | None = None,
                 clock_ns: Callable[[], int] = time.time_ns, overlap: bool = False,
                 on_result: Callable[[RigResult, RigInput], None] | None = None,
                 odometry_wait_s: float = ODOMETRY_WAIT_S):
        """Build the pipeline.

        ``demand`` returns the consumed topics (None: all); ``clock_ns`` is the clock that
        image stamps are compared with for the end-to-end latency (the node's clock);
        ``on_result`` sees every result and its input (e.g. virtual cameras);
        ``odometry_wait_s`` bounds the wait for odometry that is late on ``/tf``.
        """
        self.demand, self.clock_ns, self.overlap = demand or (lambda: None), clock_ns, overlap
        self._out: ThreadPoolExecutor | None = None
        self._last: Future | None = None
        self.engine, self.types, self.sources, self.tf = engine, types, list(sources), tf
        self.options, self.stats, self.publish = options, stats, publish
        self.use_odometry, self.gpu_memory = use_odometry, gpu_memory or (lambda: None)
        self.log_error, self.on_result = log_error, on_result
        self.odometry_wait_s = odometry_wait_s
        self.names = [s.name for s in self.sources]
        self.inputs: collections.OrderedDict[float, RigInput] = collections.OrderedDict()
        self.sequence = 0
        self.reset_requested = threading.Event()
        self._pending: PendingUpdate | None = None
        self._pending_lock = threading.Lock()

    def update(self, options: OutputOptions, config: EngineConfig) -> None:
        """Use new output options and engine config from the next set on (any thread).

        Output options and ``config.output`` keep the trajectory; a changed ``config.window``
        starts a new engine on the same network (a reset, like a clock jump). ``config.model``
        and the cameras are fixed after configure.
        """
        with self._pending_lock:
            self._pending = PendingUpdate(options, config)

    def _apply_pending(self) -> None:
        with self._pending_lock:
            pending, self._pending = self._pending, None
        if pending is None:
            return
        self.options, config = pending.options, pending.config
        if config.window != self.engine.config.window:
            self.engine = Engine(config, self.engine.predictor)
            self.inputs.clear()
        elif config.output != self.engine.config.output:
            self.engine.set_output(config.output)

    def __call__(self, synced: SyncedSet) -> None:
        self._apply_pending()
        if self.reset_requested.is_set():
            self.reset_requested.clear()
            self.engine.reset()
            self.inputs.clear()
        odom = self.options.odom_frame if self.use_odometry and self.options.tf_mode != 'odom' \
            else ''
        self._wait_for_odometry(synced, odom)
        rig_input = build_rig_input(synced, self.sources, self.tf,
                                    base_frame=self.options.base_frame, odom_frame=odom,
                                    encoded=self.engine.decodes_on_device)
        self._report_input(rig_input)
        if rig_input.frame is None:
            self.stats.drop('no_usable_camera')
            return
        self.inputs[rig_input.frame.stamp] = rig_input
        while len(self.inputs) > self.engine.config.window.length + 2:
            self.inputs.popitem(last=False)
        topics, options = self.demand(), self.options
        try:
            pending = self.engine.submit(rig_input.frame,
                                         output_request(options, self.names, topics))
        except (Da3Error, RuntimeError, ValueError) as err:
            self._engine_error(err)
            return
        finally:
            for camera, text in self.engine.decode_errors.items():
                self._error(text, camera)
        if pending is None:
            return
        job = (pending, self.inputs.get(pending.stamp), options, topics)
        if not self.overlap:
            self._finish(*job)
            return
        self.wait_published()
        if self._out is None:
            self._out = ThreadPoolExecutor(1, thread_name_prefix='da3_publish')
        self._last = self._out.submit(self._finish, *job)

    def _wait_for_odometry(self, synced: SyncedSet, odom_frame: str) -> None:
        """Give ``/tf`` up to ``odometry_wait_s`` to reach the set's newest image stamp."""
        stamps = [s for s in synced.stamps_ns if s is not None]
        if odom_frame and self.tf is not None and stamps:
            self.tf.can_transform(odom_frame, self.options.base_frame, max(stamps),
                                  self.odometry_wait_s)

    def wait_published(self) -> None:
        """Wait until the result in flight (``overlap``) is published.

        What the publishing thread raised (e.g. publishing after shutdown) is reported as an
        error, never raised here: this runs in the worker and in the node's teardown.
        """
        last, self._last = self._last, None
        if last is None:
            return
        err = last.exception()
        if err is not None:
            self._error(f'publish: {type(err).__name__}: {err}')
            self.stats.drop('publish_error')

    def close(self) -> None:
        """Publish the result in flight and stop the publishing thread (restarts on demand)."""
        self.wait_published()
        if self._out is not None:
            self._out.shutdown(wait=True)
            self._out = None

    def _finish(self, pending: PendingStep, rig_input: RigInput | None, options: OutputOptions,
                topics: Optional[Container[str]]) -> None:
        try:
            result = pending.result()
        except (Da3Error, RuntimeError, ValueError) as err:
            self._engine_error(err)
            return
        self._publish(result, rig_input, options, topics)

    def _engine_error(self, err: BaseException) -> None:
        self._error(f'engine: {type(err).__name__}: {err}')
        self.stats.drop('engine_error')
        _LOG.debug('engine failed', exc_info=True)

    def _report_input(self, rig_input: RigInput) -> None:
        for camera, text in rig_input.errors.items():
            self._error(text, camera)
        for camera in rig_input.stamps_ns:
            self.stats.camera_ok(camera)
        if rig_input.odom_error:
            self._error(f'odometry: {rig_input.odom_error}')

    def _error(self, text: str, camera: str = '') -> None:
        if self.stats.error(text, camera):
            self.log_error(f'camera {camera}: {text}' if camera else text)

    def _publish(self, result: RigResult, rig_input: RigInput | None, options: OutputOptions,
                 topics: Optional[Container[str]]) -> None:
        if rig_input is None:
            self.stats.drop('result_without_input')
            return
        if result.reset:
            self.stats.reset()
        self.sequence += 1
        try:
            messages = result_messages(self.types, result, rig_input, options,
                                       camera_names=self.names, sequence=self.sequence,
                                       topics=topics)
        except Da3Error as err:
            self._error(f'output: {err}')
            return
        self.publish(messages)
        if self.on_result is not None:  # e.g. virtual cameras (ros/virtual_cameras.py)
            self.on_result(result, rig_input)
        self.stats.result(result.timings.get('total', 0.0), result.is_metric, self.gpu_memory())
        self.stats.end_to_end((self.clock_ns() - rig_input.stamp_ns) / 1e6)
