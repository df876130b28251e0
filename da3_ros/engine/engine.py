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

"""The sliding-window multi-camera engine: RigFrame in, RigResult out.

``Engine.step`` admits a synchronized timestep, runs ONE DA3 forward over the window's
T x N views, chains the window's gauge into the world frame and returns depth, clouds and poses
of the output timestep. Tensors stay on the device until their copy back. Its stages, each a
module, pass a ``window.WindowSpan`` (the step's views) along:

1. preprocess (``preprocess``, ``decode``): images into the device window (``window``);
2. model inputs (``model_inputs``): images, intrinsics, known poses for pose conditioning;
3. forward (``predictor``), then the metric variant's focal rule (``scale``);
4. scale and stitch (``window_geometry``, ``scale``, ``stitch``): the window's host
   geometry, where its metric scale comes from, and its gauge-to-world alignment;
5. outputs (``results``, ``gaussians_io``): the requested maps and clouds in the world frame,
   each copied back as soon as it exists (``transfer``) and assembled into a ``RigResult``.
   The scale-free half (confidence, sky, resampled gauge depth) is queued behind the
   geometry's small copy, before the host aligns the window; the rest after.

Images may arrive encoded (``decode.EncodedImage``, decoded in the preprocess stage, on the GPU
when it can); only the outputs of the step's ``OutputRequest`` are computed and copied back
(``outputs``), asynchronously into pinned host buffers on CUDA (``transfer``).
``Engine.submit`` returns before that copy finishes, so a caller can overlap it with its own
work; ``step`` waits at once.
"""
import dataclasses
import logging
from typing import Dict, Iterable, List, Optional

import numpy as np
import torch

from da3_ros.config import EngineConfig, OutputConfig
from da3_ros.engine import gaussians_io, model_inputs, results, scale
from da3_ros.engine.host_threads import single_threaded_blas
from da3_ros.engine.outputs import ALL, OutputRequest
from da3_ros.engine.postprocess import Postprocessor
from da3_ros.engine.predictor import build_predictor, Predictor, with_device
from da3_ros.engine.preprocess import Preprocessor, window_size
from da3_ros.engine.scale import Alignment
from da3_ros.engine.stitch import Stitcher
from da3_ros.engine.timing import StageTimer
from da3_ros.engine.transfer import PendingCopy
from da3_ros.engine.types import RigFrame, RigResult
from da3_ros.engine.window import ViewMeta, WindowBuffer
from da3_ros.engine.window_geometry import start_geometry
from da3_ros.errors import ConversionError
from da3_ros.model.sky import SKY_THRESHOLD

LOG = logging.getLogger(__name__)


class Engine:
    """Sliding-window DA3 over a synchronized camera rig.

    Args:
        config: validated on construction; ``model.device: auto`` is resolved here.
        predictor: the network; built from ``config.model`` when None.
    """

    def __init__(self, config: EngineConfig, predictor: Optional[Predictor] = None) -> None:
        config = dataclasses.replace(config.validate(), model=with_device(config.model))
        self.config = config
        self.device = torch.device(config.model.device)
        self.predictor = predictor if predictor is not None else build_predictor(config.model)
        self.pre = Preprocessor(self.device, config.model.process_res,
                                config.model.resize_method)
        self.post = Postprocessor(config.output, self.device)
        self.stitcher = Stitcher(config.window)
        self.window: Optional[WindowBuffer] = None
        self.undistort = {cam.name: cam.undistort for cam in config.cameras}
        self.last_stamp: Optional[float] = None
        self.last_key_odom: Optional[np.ndarray] = None
        self.since_key = 0
        self.pending_reset = True
        self.decode_errors: Dict[str, str] = {}

    @property
    def decodes_on_device(self) -> bool:
        """True when JPEG bytes handed to the engine are decoded on the GPU.

        Callers then pass ``EncodedImage`` instead of decoding on the CPU.
        """
        return self.pre.decoder.gpu is not None

    def set_output(self, output: OutputConfig) -> None:
        """Use ``output`` from the next step on (the window and the trajectory are kept).

        Raises:
            ConfigError: an invalid field.
        """
        config = dataclasses.replace(self.config, output=output).validate()
        self.config, self.post = config, Postprocessor(output, self.device)

    def reset(self) -> None:
        """Drop the window and the world frame."""
        if self.window is not None:
            self.window.reset()
        self.stitcher.reset()
        self.last_key_odom, self.since_key, self.pending_reset = None, 0, True

    def run(self, frames: Iterable[RigFrame]) -> List[RigResult]:
        """Batch form for offline use: step every frame, keep the results that exist."""
        return [r for r in (self.step(f) for f in frames) if r is not None]

    def step(self, frame: RigFrame, outputs: OutputRequest = ALL) -> Optional[RigResult]:
        """Process one timestep; None when it is not a keyframe or the delay is not filled.

        Args:
            frame: the synchronized timestep (images decoded or ``EncodedImage``).
            outputs: what to compute and copy back (default: everything the config enables).

        Raises:
            ConversionError: no camera image of an admitted frame could be decoded (single
                cameras that fail are left out and named in ``decode_errors``).
        """
        pending = self.submit(frame, outputs)
        return None if pending is None else pending.result()

    def submit(self, frame: RigFrame,
               outputs: OutputRequest = ALL) -> Optional['PendingStep']:
        """:meth:`step` up to the copy back: the device-to-host copies may still be running.

        The engine is ready for the next ``submit`` when this returns; the pending step holds
        no engine state, so ``result()`` may be called from another thread.
        """
        self.decode_errors = {}
        if not frame.cameras:
            return None
        self._check_time(frame.stamp)
        if not self._admit(frame):
            return None
        timer = StageTimer(self.device)
        with timer.stage('preprocess'):
            self._push(frame)
        span = self.window.span(self.config.window.output_delay)
        if span is None:
            return None
        cfg = self.config
        with timer.stage('forward'):
            inputs = model_inputs.model_input(
                span, cfg.window.pose_conditioning,
                gaussians_io.wants_head(cfg.model.variant, cfg.output.gaussians))
            pred = scale.metric_model_depth(self.predictor.predict(inputs), inputs.intrinsics,
                                            cfg.model.variant)
        with timer.stage('align'):
            geometry = start_geometry(span, pred, cfg.window.align_points_per_view)
        with timer.stage('postprocess'):  # the scale-free half runs while the host aligns
            started = results.start_outputs(self.post, span, pred, outputs)
        with timer.stage('align'), single_threaded_blas():
            geo, k_proc = geometry.wait()
            alignment = scale.window_alignment(geo, pred.extrinsics is not None,
                                               inputs.extrinsics is not None,
                                               self.stitcher.align, cfg.window)
        with timer.stage('postprocess'):
            parts = results.output_tensors(self.post, span, geo, k_proc, alignment, started)
            gaussians = None
            if cfg.output.gaussians:
                gaussians = gaussians_io.world_gaussians(
                    pred, inputs, span.output_indices, geo.t_gauge_cam, k_proc, parts.poses,
                    alignment.sim.scale, SKY_THRESHOLD)
        with timer.host_stage('transfer'):  # the last event; the wait in PendingStep.result adds
            copy = parts.copy.finish()
        reset, self.pending_reset = self.pending_reset, False
        return PendingStep(parts, copy, alignment, span.output_stamp, span.stamps, reset, timer,
                           gaussians)

    def _check_time(self, stamp: float) -> None:
        last, self.last_stamp = self.last_stamp, stamp
        if last is None:
            return
        if stamp <= last or stamp - last > self.config.window.max_gap_s:
            LOG.debug('time jump %.3f -> %.3f s: reset', last, stamp)
            self.reset()

    def _admit(self, frame: RigFrame) -> bool:
        cfg = self.config.window
        self.since_key += 1
        first = self.window is None or self.window.count == 0
        if not first and self.since_key < cfg.stride:
            return False
        if not first and cfg.min_keyframe_motion > 0 and frame.t_odom_base is not None \
                and self.last_key_odom is not None:
            moved = np.linalg.norm(frame.t_odom_base[:3, 3] - self.last_key_odom[:3, 3])
            if moved < cfg.min_keyframe_motion:
                return False
        self.since_key, self.last_key_odom = 0, frame.t_odom_base
        return True

    def _push(self, frame: RigFrame) -> None:
        if self.window is None:
            names = [c.name for c in self.config.cameras] or [c.name for c in frame.cameras]
            self.window = WindowBuffer(self.config.window.length, self.config.window.max_views,
                                       names, self.device)
        frame = self._decoded(frame)
        shapes = [c.image.shape[:2] for c in frame.cameras]
        if self.window.images is None or self.window.count == 0:
            self.out_hw = window_size(shapes, self.config.model.process_res,
                                      self.config.model.resize_method)
        entries = {}
        processed = self.pre.process(frame.cameras, self.out_hw, self.undistort)
        for cam, (image, tf, k_proc) in zip(frame.cameras, processed):
            entries[cam.name] = (image, ViewMeta(cam.frame_id, tf, k_proc, cam.t_base_cam))
        self.window.push(frame.stamp, entries, frame.t_odom_base)

    def _decoded(self, frame: RigFrame) -> RigFrame:
        """Return the frame with its ``EncodedImage`` cameras decoded (failed ones left out)."""
        frame, self.decode_errors = self.pre.decode(frame)
        if not frame.cameras:
            raise ConversionError('no camera image could be decoded: ' + '; '.join(
                f'{k}: {v}' for k, v in self.decode_errors.items()))
        return frame


class PendingStep:
    """A submitted step whose outputs are on their way to the host."""

    def __init__(self, parts: results.OutputParts, copy: PendingCopy, alignment: Alignment,
                 stamp: float, window_stamps: tuple, reset: bool, timer: StageTimer,
                 gaussians=None) -> None:
        self._parts, self._copy, self._alignment = parts, copy, alignment
        self._stamp, self._window_stamps, self._reset = stamp, window_stamps, reset
        self._timer, self._gaussians = timer, gaussians

    @property
    def stamp(self) -> float:
        """Stamp of the output timestep."""
        return self._stamp

    def result(self) -> RigResult:
        """Wait for the copies (the step's one synchronisation point) and build the result."""
        with self._timer.host_stage('transfer'):
            host = self._copy.wait()
        if self._copy.device_ms is not None:
            self._timer.add('copy', self._copy.device_ms)
        result = self._parts.build(host, self._alignment, self._stamp, self._window_stamps)
        result.gaussians = self._gaussians
        result.reset = result.reset or self._reset
        result.timings = dict(self._timer.ms, total=self._timer.elapsed_ms())
        return result
