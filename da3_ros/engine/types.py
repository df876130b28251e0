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

"""Engine inputs and outputs: plain dataclasses of numpy arrays, names, stamps and timings.

Frames: camera frames are OpenCV optical (x right, y down, z forward); ``base`` is the rig body
frame (ROS, x forward); ``world`` is the engine's running frame, equal to the odometry frame
when ``RigResult.world_is_odom``. ``T_a_b`` takes points from frame b to frame a.
"""
from dataclasses import dataclass, field
from typing import Any, Dict, Optional, Tuple

import numpy as np
import torch

from da3_ros.model.gaussians import Gaussians

ViewKey = Tuple[float, str]  # (timestep stamp in seconds, camera name)


@dataclass(frozen=True)
class CameraFrame:
    """One camera image of a synchronized timestep.

    Attributes:
        name: camera name (rig order is the order of ``RigFrame.cameras``).
        image: uint8 RGB image [H, W, 3], any size: a numpy array, a tensor on any device, or
            a ``decode.EncodedImage`` (JPEG/PNG bytes, decoded inside the engine step).
        frame_id: optical frame id, passed through to the result.
        k: intrinsics [3, 3] at image resolution, or None (the model estimates them).
        distortion_model: ``'none'``, ``'plumb_bob'``, ``'rational_polynomial'`` or
            ``'equidistant'`` (CameraInfo names).
        distortion: distortion coefficients in CameraInfo order.
        t_base_cam: rig extrinsic [4, 4] (camera to base), or None when unknown.
    """

    name: str
    image: Any
    frame_id: str = ''
    k: Optional[np.ndarray] = None
    distortion_model: str = 'none'
    distortion: Tuple[float, ...] = ()
    t_base_cam: Optional[np.ndarray] = None


@dataclass(frozen=True)
class RigFrame:
    """One synchronized timestep; cameras may be missing (dead or late).

    Attributes:
        stamp: capture time in seconds (the set's reference stamp).
        cameras: the cameras present at this timestep.
        t_odom_base: odometry pose [4, 4] of the base at ``stamp`` (metric), or None.
    """

    stamp: float
    cameras: Tuple[CameraFrame, ...]
    t_odom_base: Optional[np.ndarray] = None


@dataclass(frozen=True)
class ModelInput:
    """What a predictor receives: S views on the device, in window order.

    Attributes:
        images: [S, 3, h, w] float32, ImageNet-normalised, h and w multiples of 14.
        extrinsics: [S, 4, 4] normalised OpenCV world-to-camera poses, or None.
        intrinsics: [S, 3, 3] in processed pixels, or None.
        keys: (stamp, camera name) of each view; predictors may ignore them.
        gaussians: also run the model's Gaussian head (only for variants that have one).
    """

    images: torch.Tensor
    extrinsics: Optional[torch.Tensor] = None
    intrinsics: Optional[torch.Tensor] = None
    keys: Tuple[ViewKey, ...] = ()
    gaussians: bool = False


@dataclass
class CameraResult:
    """Per-camera output of the output timestep, at output resolution (H, W).

    Maps and the cloud are None when the step's ``OutputRequest`` did not ask for them
    (``engine.outputs``); by default every one is computed.

    Attributes:
        name: camera name.
        frame_id: optical frame id from the input.
        depth: [H, W] float32 z-depth, metres when ``RigResult.is_metric`` else model units.
        confidence: [H, W] float32 (DA3 confidence, >= 1 for any-view models).
        sky: [H, W] bool sky mask (all False when the model has no sky output).
        k: [3, 3] intrinsics at output resolution (undistorted pinhole).
        t_world_cam: [4, 4] camera-to-world pose.
        cloud: [H, W, 3] float32 organised cloud in the camera frame, NaN where invalid,
            or None when disabled or not requested.
    """

    name: str
    frame_id: str
    depth: Optional[np.ndarray]
    confidence: Optional[np.ndarray]
    sky: Optional[np.ndarray]
    k: np.ndarray
    t_world_cam: np.ndarray
    cloud: Optional[np.ndarray] = None


@dataclass
class RigResult:
    """Engine output for one timestep.

    Attributes:
        stamp: stamp of the output timestep (newest unless ``output_delay`` > 0).
        cameras: per-camera results in rig order, keyed by name.
        fused_points: [M, 3] float32 filtered points in the base frame (empty when disabled
            or not requested).
        t_world_base: [4, 4] base pose estimate in the world frame, or None without rig
            extrinsics.
        world_is_odom: True when the world frame is the odometry frame.
        is_metric: True when depth and translations are in metres.
        scale_source: ``'pose_conditioning'`` (known poses fed to the camera encoder),
            ``'odometry'`` (known poses, aligned after the forward), ``'rig'``, ``'model'`` or
            ``'none'`` (relative scale).
        scale: factor applied to the model's depth for this window (model units to output).
        reset: True when the world frame restarted at this timestep.
        window_stamps: stamps of the timesteps in the forward, oldest first.
        timings: milliseconds per stage (``engine.timing``: device time of the stages on CUDA,
            wall clock on the CPU), ``transfer`` (host time enqueuing and waiting for the copy
            back), ``copy`` (device time of the copies, CUDA) and ``total`` (wall clock from
            submit to result).
        gaussians: the output timestep's Gaussians in the world frame, on the engine's device
            (``output.gaussians``), else None.
    """

    stamp: float
    cameras: Dict[str, CameraResult]
    fused_points: np.ndarray
    t_world_base: Optional[np.ndarray]
    world_is_odom: bool
    is_metric: bool
    scale_source: str
    scale: float
    reset: bool
    window_stamps: Tuple[float, ...]
    timings: Dict[str, float] = field(default_factory=dict)
    gaussians: Optional[Gaussians] = None
