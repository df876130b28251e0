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

"""Engine configuration: frozen, flat dataclasses with defaults (stdlib only).

The ROS node and the offline tools read one YAML file into these classes; every field is a plain
scalar, string or tuple so that it maps onto a ROS parameter one to one. ``validate()`` raises
:class:`da3_ros.errors.ConfigError` naming the offending field and value.

Frames: ``world`` is the engine's running frame (the odometry frame when odometry is given),
``base`` is the rig body frame (ROS convention, x forward), camera frames are OpenCV optical
frames (x right, y down, z forward).
"""
from dataclasses import dataclass, field
from typing import Tuple

from da3_ros.errors import ConfigError

VARIANTS = ('da3-small', 'da3-base', 'da3-large', 'da3-giant', 'da3metric-large',
            'da3mono-large', 'da3nested-giant-large')
DTYPES = ('fp32', 'fp16', 'bf16')
BACKENDS = ('torch', 'onnxruntime', 'tensorrt')
REF_VIEW_STRATEGIES = ('first', 'middle', 'saddle_balanced', 'saddle_sim_range')
RESIZE_METHODS = ('upper_bound_resize', 'upper_bound_crop', 'lower_bound_resize',
                  'lower_bound_crop')
POSE_CONDITIONING = ('auto', 'never')
SCALE_SOURCES = ('auto', 'rig', 'none')
OUTPUT_RESOLUTIONS = ('full', 'processed')
UPSAMPLE_MODES = ('nearest', 'bilinear')
# Placeholder weights: the one meaning of each word for the node, the bag tool, the demo and the
# bench. Both run the whole pipeline without a checkpoint and their output means nothing.
PARITY_WEIGHTS = 'parity'  # the deterministic parity-rule weights: every run gives the same output
RANDOM_WEIGHTS = 'random'  # PyTorch's own initialisation, not seeded by da3_ros
PLACEHOLDER_WEIGHTS = (PARITY_WEIGHTS, RANDOM_WEIGHTS)


def placeholder_notice(weights: str) -> str:
    """Return the warning to show for placeholder ``weights`` ('' for a real checkpoint)."""
    kinds = {PARITY_WEIGHTS: 'deterministic parity-rule placeholder weights',
             RANDOM_WEIGHTS: 'randomly initialised (untrained) weights'}
    if weights not in kinds:
        return ''
    return (f'weights={weights}: {kinds[weights]}, NOT a trained model; depth, confidence, '
            'clouds, poses and evaluation numbers are MEANINGLESS (they only show that the '
            'pipeline runs end to end)')


@dataclass(frozen=True)
class ModelConfig:
    """Which network runs and how.

    Attributes:
        variant: one of ``VARIANTS``.
        weights: checkpoint source (directory, ``.safetensors`` file or hub id), or a
            placeholder word: ``'random'`` keeps the initialisation, ``'parity'`` means the
            deterministic parity-rule weights (``model.weight_rule``, loaded by
            ``engine.predictor.load_network``).
        device: ``'auto'`` (CUDA when present, else CPU with one warning) or a torch device
            string, e.g. ``'cuda'``, ``'cuda:1'``, ``'cpu'``.
        dtype: autocast dtype of the backbone (``'fp32'`` disables autocast).
        head_dtype: dtype of the dense depth/ray heads: ``'fp32'`` (upstream's recipe),
            ``'fp16'`` (the GPU fast path: convolutions at half-precision speed with little
            added error) or ``'bf16'``; camera decoding, sky and alignment stay fp32.
        use_ray_pose: decode poses from the ray head instead of the camera decoder.
        ref_view_strategy: reference-view choice as upstream offers it.
        process_res: target side length in pixels before rounding to a multiple of 14.
        resize_method: which side ``process_res`` bounds and how the multiple of 14 is reached.
        compile: wrap the model in ``torch.compile``.
        cuda_graph: replay the forward as a CUDA graph per input shape (CUDA only; any-view
            variants without ``use_ray_pose``; others run eagerly with a warning).
        backend: ``torch`` (eager/compiled network), ``onnxruntime`` or ``tensorrt`` (exported
            graph per window shape; same outputs, see "Deployment backends").
        model_file: exported ``.onnx`` (onnxruntime) or ``.engine`` (tensorrt) for one window
            shape; empty, or other shapes: exported/built into the cache on first use.
        cache_dir: export/engine cache folder; empty: ``$DA3_ROS_CACHE`` or
            ``~/.cache/da3_ros``.
    """

    variant: str = 'da3-large'
    weights: str = 'depth-anything/DA3-LARGE'
    device: str = 'auto'
    dtype: str = 'bf16'
    use_ray_pose: bool = False
    ref_view_strategy: str = 'saddle_balanced'
    process_res: int = 504
    resize_method: str = 'upper_bound_resize'
    compile: bool = False  # noqa: A003 (the YAML key; never shadows the builtin in use)
    head_dtype: str = 'fp32'
    cuda_graph: bool = False
    backend: str = 'torch'
    model_file: str = ''
    cache_dir: str = ''


@dataclass(frozen=True)
class CameraConfig:
    """One camera of the rig (topics are used by the ROS layer only).

    Attributes:
        name: unique camera name, the key of per-camera results.
        image_topic: sensor_msgs/Image (or CompressedImage) topic.
        info_topic: sensor_msgs/CameraInfo topic; empty for ``<image ns>/camera_info``.
        frame_id: optical frame of the camera; empty to use the image header's frame.
        undistort: undistort with the CameraInfo model before inference.
    """

    name: str = 'cam'
    image_topic: str = ''
    info_topic: str = ''
    frame_id: str = ''
    undistort: bool = True


@dataclass(frozen=True)
class WindowConfig:
    """Sliding window over timesteps and its chaining into one world frame.

    Attributes:
        length: timesteps T per window (T x cameras views in one forward).
        stride: admit every ``stride``-th timestep as a keyframe.
        min_keyframe_motion: also require this base translation (m, or units when relative)
            since the last keyframe; 0 disables the test.
        max_views: cap on views per forward; the oldest timesteps are dropped first.
        output_delay: output the timestep ``output_delay`` steps before the newest (more context,
            more latency); must be < ``length``.
        pose_conditioning: ``'auto'`` feeds known metric poses to the camera encoder.
        scale_source: ``'auto'`` uses every metric source, ``'rig'`` only rig extrinsics,
            ``'none'`` keeps relative scale.
        scale_gain: weight of the absolute (rig) scale against the scale chained from the
            previous window (median depth ratio on shared views), in (0, 1]; 1 re-anchors fully
            at every window, smaller values average the absolute source over windows.
        max_gap_s: a larger gap between timesteps resets the window and the world frame.
        align_points_per_view: depth points per view used to align windows (0: poses only).
        align_pose_weight: share of the alignment weight carried by camera centres.
        huber_delta: Huber threshold of the robust alignment, as a fraction of the median
            camera-to-point distance.
        align_iterations: IRLS iterations of the robust alignment.
    """

    length: int = 3
    stride: int = 1
    min_keyframe_motion: float = 0.0
    max_views: int = 24
    output_delay: int = 0
    pose_conditioning: str = 'auto'
    scale_source: str = 'auto'
    scale_gain: float = 0.2
    max_gap_s: float = 1.0
    align_points_per_view: int = 256
    align_pose_weight: float = 0.5
    huber_delta: float = 0.05
    align_iterations: int = 5


@dataclass(frozen=True)
class OutputConfig:
    """What the engine returns and how clouds are filtered.

    Attributes:
        resolution: ``'full'`` maps depth back to each camera's image size, ``'processed'``
            keeps the network resolution.
        upsample: interpolation used to map depth and confidence back.
        min_depth: points closer than this (m or units) are invalid.
        max_depth: points farther than this are invalid.
        min_confidence: points with lower confidence are invalid. DA3's confidence is
            1 + exp(logit) >= 1, so 1.0 means none; the default 1.1 drops the pixels the
            network gives (almost) no confidence (logit < ln 0.1), e.g. the nested model's sky
            fill (confidence 1.0). Variants without a confidence output (mono, metric) are not
            filtered by it.
        voxel_size: fused-cloud voxel edge (m); 0 disables downsampling.
        fused_cloud: build the fused cloud in the base frame.
        organized_clouds: build per-camera organized clouds (camera frame, NaN invalid).
        gaussians: return the output timestep's 3D Gaussians in the world frame (Gaussian
            head of da3-giant / nested, else one splat per pixel) for virtual cameras.
    """

    resolution: str = 'full'
    upsample: str = 'nearest'
    min_depth: float = 0.1
    max_depth: float = 80.0
    min_confidence: float = 1.1
    voxel_size: float = 0.0
    fused_cloud: bool = True
    organized_clouds: bool = True
    gaussians: bool = False


@dataclass(frozen=True)
class EngineConfig:
    """Everything the engine needs; cameras are listed in rig order."""

    model: ModelConfig = field(default_factory=ModelConfig)
    cameras: Tuple[CameraConfig, ...] = ()
    window: WindowConfig = field(default_factory=WindowConfig)
    output: OutputConfig = field(default_factory=OutputConfig)

    def validate(self) -> 'EngineConfig':
        """Check every field; return self so calls chain.

        Raises:
            ConfigError: naming the first invalid field and its value.
        """
        validate_model(self.model)
        validate_window(self.window)
        validate_output(self.output)
        names = [cam.name for cam in self.cameras]
        if len(set(names)) != len(names):
            raise ConfigError(f'cameras: duplicate camera names {names!r}')
        if any(not name for name in names):
            raise ConfigError(f'cameras: empty camera name in {names!r}')
        return self


def _choice(name: str, value: str, allowed: Tuple[str, ...]) -> None:
    if value not in allowed:
        raise ConfigError(f'{name}: {value!r} is not one of {allowed!r}')


def _check(name: str, value: object, ok: bool, rule: str) -> None:
    if not ok:
        raise ConfigError(f'{name}: {value!r} must be {rule}')


def validate_model(cfg: ModelConfig) -> None:
    """Raise ConfigError on an invalid ModelConfig field."""
    _choice('model.variant', cfg.variant, VARIANTS)
    _choice('model.dtype', cfg.dtype, DTYPES)
    _choice('model.head_dtype', cfg.head_dtype, DTYPES)
    _choice('model.backend', cfg.backend, BACKENDS)
    _choice('model.ref_view_strategy', cfg.ref_view_strategy, REF_VIEW_STRATEGIES)
    _choice('model.resize_method', cfg.resize_method, RESIZE_METHODS)
    _check('model.process_res', cfg.process_res, cfg.process_res >= 14, '>= 14')
    _check('model.device', cfg.device, bool(cfg.device), 'a torch device string')
    _check('model.weights', cfg.weights, bool(cfg.weights),
           f'a path, hub id or one of {PLACEHOLDER_WEIGHTS}')


def validate_window(cfg: WindowConfig) -> None:
    """Raise ConfigError on an invalid WindowConfig field."""
    _check('window.length', cfg.length, cfg.length >= 1, '>= 1')
    _check('window.stride', cfg.stride, cfg.stride >= 1, '>= 1')
    _check('window.min_keyframe_motion', cfg.min_keyframe_motion,
           cfg.min_keyframe_motion >= 0.0, '>= 0')
    _check('window.max_views', cfg.max_views, cfg.max_views >= 1, '>= 1')
    _check('window.output_delay', cfg.output_delay,
           0 <= cfg.output_delay < cfg.length, f'in [0, window.length={cfg.length})')
    _choice('window.pose_conditioning', cfg.pose_conditioning, POSE_CONDITIONING)
    _choice('window.scale_source', cfg.scale_source, SCALE_SOURCES)
    _check('window.scale_gain', cfg.scale_gain, 0.0 < cfg.scale_gain <= 1.0, 'in (0, 1]')
    _check('window.max_gap_s', cfg.max_gap_s, cfg.max_gap_s > 0.0, '> 0')
    _check('window.align_points_per_view', cfg.align_points_per_view,
           cfg.align_points_per_view >= 0, '>= 0')
    _check('window.align_pose_weight', cfg.align_pose_weight,
           0.0 < cfg.align_pose_weight <= 1.0, 'in (0, 1]')
    _check('window.huber_delta', cfg.huber_delta, cfg.huber_delta > 0.0, '> 0')
    _check('window.align_iterations', cfg.align_iterations, cfg.align_iterations >= 0, '>= 0')


def validate_output(cfg: OutputConfig) -> None:
    """Raise ConfigError on an invalid OutputConfig field."""
    _choice('output.resolution', cfg.resolution, OUTPUT_RESOLUTIONS)
    _choice('output.upsample', cfg.upsample, UPSAMPLE_MODES)
    _check('output.min_depth', cfg.min_depth, cfg.min_depth >= 0.0, '>= 0')
    _check('output.max_depth', cfg.max_depth, cfg.max_depth > cfg.min_depth,
           f'> output.min_depth={cfg.min_depth}')
    _check('output.voxel_size', cfg.voxel_size, cfg.voxel_size >= 0.0, '>= 0')
