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

"""The offline pipeline: bag messages -> node's sync + TF -> engine -> node's output messages.

The same pieces as the live node, in the same order: ``MultiCameraSync`` (image + CameraInfo
pairing, approximate-time sets with a timeout in message time), ``TfBuffer`` fed from ``/tf`` and
``/tf_static``, ``rig_input.build_rig_input`` and ``rig_output.result_messages``. Offline nothing
is dropped for being busy: every set goes through the engine, and a set that cannot (no usable
camera, an engine error) is counted with its reason and reported on ``/diagnostics``.
"""
import collections
import copy
import time
from typing import Any, Dict, Optional

import numpy as np

from da3_ros.errors import Da3Error
from da3_ros.ros.demand import output_request
from da3_ros.ros.diagnostics import diagnostic_array, DIAGNOSTICS_TOPIC, StatusReport
from da3_ros.ros.messages.image import image_to_depth
from da3_ros.ros.messages.rig_input import build_rig_input, RigInput
from da3_ros.ros.messages.rig_output import result_messages
from da3_ros.ros.messages.tf_buffer import TfBuffer, TransformException
from da3_ros.ros.messages.tf_msgs import stamp_to_ns
from da3_ros.ros.sync.approximate_time import SyncedSet
from da3_ros.ros.sync.clock_policy import ClockPolicy
from da3_ros.ros.sync.multi_camera import MultiCameraSync
from da3_ros.tools.bag.config import BagConfig
from da3_ros.tools.bag.evaluation import Evaluator
from da3_ros.tools.bag.io import BagMessage, InputBag
from da3_ros.tools.bag.summary import Summary
from da3_ros.tools.bag.writer import SegmentedWriter

_NS = 1_000_000_000
_KEEP_NS = 30 * _NS  # dynamic TF kept this long behind the newest message
DIAG_NAME = 'da3_bag: set'
# Engine attributes built again from the (checked-equal) config on --resume, never saved.
# Rebuilt from the config on resume, never saved (decoder and transfer hold device resources).
ENGINE_REBUILT = ('predictor', 'config', 'device', 'pre', 'post', 'undistort', 'decoder',
                  'transfer', 'decode_errors')


class Pipeline:
    """State of one processing run (saved at every commit through ``state``).

    Args:
        config: validated bag config.
        bag: the open input bag.
        writer: the output writer.
        engine: the engine (its predictor is never saved).
        evaluate: collect ground-truth errors.
    """

    def __init__(self, config: BagConfig, bag: InputBag, writer: SegmentedWriter, engine: Any,
                 *, evaluate: bool = False) -> None:
        from da3_ros.tools.bag.io import msg_types
        self.config, self.bag, self.writer, self.engine = config, bag, writer, engine
        self.types = msg_types(bag.store)
        self.names = tuple(cam.name for cam in config.engine.cameras)
        self.sources = config.sources()
        self.routes = self._routes()
        self.now_ns = self.newest_ns = 0
        self.sync = MultiCameraSync(self.names, slop_ns=int(config.slop_s * _NS),
                                    queue_size=10_000, timeout_ns=int(config.timeout_s * _NS),
                                    clock=lambda: self.now_ns)
        self.clock = ClockPolicy(self.names)
        self.tf_rejected: collections.Counter = collections.Counter()  # reported as sync drops
        self.tf = TfBuffer(cache_time_ns=_KEEP_NS)
        self.gt_depth: Dict[tuple, Any] = {}
        self.evaluator = Evaluator() if evaluate else None
        self.summary = Summary()
        self.progress = {'last_set_ns': -1, 'last_index': -1, 'sequence': 0}
        self.resume_set_ns, self.resume_index = -1, -1
        self.recent: Dict[float, RigInput] = {}
        self.pending_set_ns = -1
        # Only what is written (or evaluated) is computed and copied back.
        self.request = output_request(config.output, self.names,
                                      extra=('depth',) if evaluate else ())
        self.novel: Optional[Any] = None  # novel.NovelViews when asked for
        self.settings: Dict[str, Any] = {}
        self._engine_copy = self._engine_state()

    def _routes(self) -> Dict[str, tuple]:
        routes: Dict[str, tuple] = {'/tf': ('tf', False), '/tf_static': ('tf', True)}
        for cam in self.config.engine.cameras:
            routes[cam.image_topic] = ('image', cam.name)
            routes[self.config.info_topic(cam)] = ('info', cam.name)
            base = self.config.info_topic(cam).rsplit('/', 1)[0]
            routes[f'{base}/depth_gt'] = ('gt', cam.name)
        return routes

    # -- state -------------------------------------------------------------------------------

    def _engine_state(self) -> Dict[str, Any]:
        """Get a copy of the engine's mutable state (window, trajectory, keyframe bookkeeping)."""
        return copy.deepcopy({k: v for k, v in self.engine.__dict__.items()
                              if k not in ENGINE_REBUILT})

    def snapshot(self) -> Dict[str, Any]:
        """Return what ``--resume`` needs, as of the last completed set."""
        import torch
        return {'settings': self.settings, 'engine': self._engine_copy,
                'progress': dict(self.progress), 'summary': self.summary,
                'evaluator': self.evaluator, 'recent': self.recent,
                'torch_threads': torch.get_num_threads()}

    def restore(self, state: Dict[str, Any]) -> None:
        """Continue after the last committed set of a previous run (settings checked)."""
        self.engine.__dict__.update(copy.deepcopy(state['engine']))
        self._engine_copy = state['engine']
        self.progress = dict(state['progress'])
        self.summary = state['summary']
        self.summary.interrupted = False
        self.summary.sets_total = self.summary.sets_resumed = 0  # the input is read again
        if self.evaluator is not None and state['evaluator'] is not None:
            self.evaluator = state['evaluator']
        self.recent = state['recent']
        self.resume_set_ns = self.progress['last_set_ns']
        self.resume_index = self.progress['last_index']

    def set_written(self) -> None:
        """Mark the set last returned by :meth:`handle` as completely written."""
        self.progress['last_set_ns'] = self.pending_set_ns

    def input_written(self, index: int) -> None:
        """Mark input message ``index`` as fully consumed (and passed through)."""
        self.progress['last_index'] = index

    # -- input -------------------------------------------------------------------------------

    def feed(self, message: BagMessage) -> list:
        """Route one input message; return the sets it completed."""
        self.now_ns = max(self.now_ns, message.time_ns)
        self.newest_ns = max(self.newest_ns, message.time_ns)
        route = self.routes.get(message.topic)
        if route is None:
            return []
        kind, arg = route
        if kind == 'gt' and self.evaluator is None:
            return []
        msg = self.bag.decode(message)
        if kind == 'tf':
            try:
                self.tf.add_tf_message(msg, static=arg)
            except TransformException as err:  # tf2 ignores such a transform; so does the tool
                self.tf_rejected[f'{message.topic}: {type(err).__name__}'] += 1
            return []
        stamp = stamp_to_ns(msg.header.stamp)
        if kind == 'gt':
            self.gt_depth[(arg, stamp)] = msg
            return []
        if kind == 'info':
            return self.sync.add_info(arg, stamp, msg)
        return self._image(arg, stamp, msg)

    def _image(self, camera: str, stamp: int, msg: Any) -> list:
        """Get image through the node's clock policy (bad clocks excluded, one reset per jump)."""
        excluded = self.clock.excluded()
        verdict = self.clock.image(camera, stamp)
        if verdict.reset:
            self.sync.reset()
        out = []
        if self.clock.excluded() != excluded:
            out += self.sync.exclude(sorted(self.clock.excluded()))
        if verdict.bad_clock:
            key = f'{camera}: {verdict.bad_clock.split(":", 1)[0]}'
            self.summary.camera_errors[key] = self.summary.camera_errors.get(key, 0) + 1
        return out + (self.sync.add_image(camera, stamp, msg) if verdict.use else [])

    def flush(self) -> list:
        """Return sets still queued at the end of the input (partial where a camera had ended)."""
        self.now_ns = 2 ** 62
        return self.sync.poll()

    # -- sets --------------------------------------------------------------------------------

    def handle(self, synced: SyncedSet) -> Optional[list]:
        """Process one set; return the messages to write, or None when it was skipped."""
        self.summary.sets_total += 1
        set_ns = min(s for s in synced.stamps_ns if s is not None)
        if set_ns <= self.resume_set_ns:
            self.summary.sets_resumed += 1
            return None
        self.pending_set_ns = set_ns
        started = time.perf_counter()
        rig_input = build_rig_input(synced, self.sources, self.tf,
                                    base_frame=self.config.base_frame,
                                    odom_frame=self.config.odom_frame,
                                    encoded=self.engine.decodes_on_device)
        self.summary.add_timings({'decode': (time.perf_counter() - started) * 1e3})
        for name, reason in rig_input.errors.items():
            key = f'{name}: {reason}'
            self.summary.camera_errors[key] = self.summary.camera_errors.get(key, 0) + 1
        if rig_input.frame is None:
            reason = 'no usable camera: ' + ('; '.join(
                f'{k}: {v}' for k, v in rig_input.errors.items()) or 'all missing')
            return self._skipped(rig_input, reason)
        try:
            result = self.engine.step(rig_input.frame, self.request)
        except Da3Error as err:
            return self._skipped(rig_input, f'engine: {type(err).__name__}: {err}')
        finally:  # cameras whose bytes the engine could not decode (GPU decoding)
            for name, reason in self.engine.decode_errors.items():
                key = f'{name}: {reason}'
                self.summary.camera_errors[key] = self.summary.camera_errors.get(key, 0) + 1
        self.summary.sets_processed += 1
        self._remember(rig_input)
        self._engine_copy = self._engine_state()
        if result is None:
            key = 'window filling or not a keyframe'
            self.summary.no_output[key] = self.summary.no_output.get(key, 0) + 1
            return []
        return self._outputs(result, rig_input)

    def _remember(self, rig_input: RigInput) -> None:
        """Keep the inputs a delayed output may still refer to (images are large)."""
        self.recent[rig_input.frame.stamp] = rig_input
        window = self.config.engine.window
        keep = sorted(self.recent)[-(window.length * window.stride + 1):]
        self.recent = {k: self.recent[k] for k in keep}
        oldest_ns = min(v.stamp_ns for v in self.recent.values())
        self.gt_depth = {k: v for k, v in self.gt_depth.items() if k[1] >= oldest_ns}

    def _outputs(self, result: Any, rig_input: RigInput) -> list:
        source = self.recent.get(result.stamp, rig_input)
        self.summary.sets_output += 1
        self.summary.add_timings(result.timings)
        out = result_messages(self.types, result, source, self.config.output,
                              camera_names=self.names, sequence=self.progress['sequence'])
        self.progress['sequence'] += 1
        if self.novel is not None:
            out += self.novel(self.types, result, source)
        out = [(self.config.topic(topic), msg) for topic, msg in out]
        if self.config.diagnostics:
            values = {f'{k}_ms': f'{v:.1f}' for k, v in sorted(result.timings.items())}
            values.update({f'error.{k}': v for k, v in source.errors.items()})
            values['missing'] = ','.join(source.missing)
            level = 'WARN' if source.errors or source.missing else 'OK'
            out.append(self._diag(source.stamp_ns, level, 'processed', values))
        if self.evaluator is not None:
            self._evaluate(result, source)
        return out

    def _skipped(self, rig_input: RigInput, reason: str) -> list:
        self.summary.skip(reason)
        if not self.config.diagnostics:
            return []
        return [self._diag(rig_input.stamp_ns, 'ERROR', f'set skipped: {reason}', {})]

    def _diag(self, stamp_ns: int, level: str, message: str, values: Dict[str, str]) -> tuple:
        report = StatusReport(name=DIAG_NAME, level=level, message=message, values=values)
        return DIAGNOSTICS_TOPIC, diagnostic_array(self.types, stamp_ns, [report])

    def _evaluate(self, result: Any, source: RigInput) -> None:
        for name, cam in result.cameras.items():
            msg = self.gt_depth.get((name, source.stamps_ns.get(name, source.stamp_ns)))
            gt = None if msg is None else image_to_depth(msg)
            self.evaluator.add_depth(name, cam.depth, gt, result.is_metric)
        try:
            gt_pose = self.tf.lookup(*self.config.gt_frames, source.stamp_ns)
        except Da3Error:
            gt_pose = None
        estimate = None if result.t_world_base is None else np.asarray(result.t_world_base)
        self.evaluator.add_pose(source.stamp_ns, estimate, gt_pose, result.is_metric)
