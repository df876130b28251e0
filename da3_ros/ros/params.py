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

"""ROS parameters of ``da3_node``: declared with descriptors and ranges, read back into configs.

Names mirror the config dataclasses one to one (``model.variant``, ``window.length``,
``output.max_depth``, ...; descriptions come from the dataclass docstrings), plus the node's own
options (``NodeOptions``) and one block per camera (``camera.<name>.image_topic`` ...) for every
name in ``cameras``. Structural parameters (model, cameras, topics, QoS, sync, frames) are
read-only at run time. The others are validated on update (an invalid value is rejected with the
``ConfigError`` text as the reason) and applied by the running node: output, TF and publish
options with the next set, ``window.*`` with an engine reset, ``diagnostics_period_s`` at once.

Frames: ``camera.<name>.extrinsics`` is ``T_base_cam`` as ``[x, y, z, qx, qy, qz, qw]`` (camera
optical frame, OpenCV x right / y down / z forward, into the ROS body frame ``base_frame``); leave
it out to resolve the camera's optical frame to ``base_frame`` through ``/tf_static``.
"""
import dataclasses
import re
from typing import Any, Callable, Iterable, Sequence

import numpy as np
from rcl_interfaces.msg import (FloatingPointRange, IntegerRange, ParameterDescriptor,
                                SetParametersResult)
from rclpy.exceptions import ParameterUninitializedException
from rclpy.node import Node
from rclpy.parameter import Parameter

from da3_ros import config as cfg_lib
from da3_ros.errors import ConfigError, ConversionError, did_you_mean
from da3_ros.ros.messages.camera_info import camera_info_topic, is_rectified_topic
from da3_ros.ros.messages.quaternion import transform_matrix
from da3_ros.ros.messages.rig_input import CameraSource, TRANSPORTS
from da3_ros.ros.messages.rig_output import DEPTH_ENCODINGS, OutputOptions, TF_MODES

QOS_CHOICES = ('sensor_data', 'reliable')
_SECTIONS = (('model', cfg_lib.ModelConfig), ('window', cfg_lib.WindowConfig),
             ('output', cfg_lib.OutputConfig))
_CHOICES = {
    'model.variant': cfg_lib.VARIANTS, 'model.dtype': cfg_lib.DTYPES,
    'model.backend': cfg_lib.BACKENDS,
    'model.ref_view_strategy': cfg_lib.REF_VIEW_STRATEGIES,
    'model.resize_method': cfg_lib.RESIZE_METHODS,
    'window.pose_conditioning': cfg_lib.POSE_CONDITIONING,
    'window.scale_source': cfg_lib.SCALE_SOURCES,
    'output.resolution': cfg_lib.OUTPUT_RESOLUTIONS, 'output.upsample': cfg_lib.UPSAMPLE_MODES,
    'tf_mode': TF_MODES, 'depth_encoding': DEPTH_ENCODINGS, 'qos': QOS_CHOICES,
}
_RANGES = {  # name -> (low, high); ints use IntegerRange, floats FloatingPointRange
    'model.process_res': (14, 4096), 'window.length': (1, 64), 'window.stride': (1, 100),
    'window.max_views': (1, 512), 'window.output_delay': (0, 63),
    'window.align_points_per_view': (0, 100000), 'window.align_iterations': (0, 100),
    'window.min_keyframe_motion': (0.0, 100.0), 'window.scale_gain': (0.0, 1.0),
    'window.max_gap_s': (0.0, 3600.0), 'window.align_pose_weight': (0.0, 1.0),
    'window.huber_delta': (0.0, 10.0), 'output.min_depth': (0.0, 1000.0),
    'output.max_depth': (0.0, 10000.0), 'output.min_confidence': (0.0, 1000.0),
    'output.voxel_size': (0.0, 100.0),
    'sync.slop_s': (0.0, 10.0), 'sync.timeout_s': (0.0, 60.0), 'sync.queue_size': (1, 1000),
    'sync.min_period_s': (0.0, 10.0), 'diagnostics_period_s': (0.1, 60.0),
    'tf_cache_s': (1.0, 600.0),
}


@dataclasses.dataclass(frozen=True)
class NodeOptions:
    """Options of the ROS adapter itself (not the engine).

    Attributes:
        cameras: camera names in rig order (each has a ``camera.<name>.*`` block).
        base_frame: rig body frame (ROS x forward) of extrinsics, odometry and the fused cloud.
        odom_frame: odometry frame; odometry is looked up as ``odom_frame -> base_frame``.
        use_odometry: look up ``odom_frame -> base_frame`` on /tf at each set's stamp.
        tf_mode: none (robot has odometry), odom (publish DA3 odometry) or cameras.
        camera_frame_prefix: prefix of estimated camera frames in tf_mode cameras.
        depth_encoding: 32FC1 metres or 16UC1 millimetres.
        qos: QoS of the image and camera_info subscriptions: sensor_data or reliable.
        sync.slop_s: maximum stamp spread of a synchronised set.
        sync.queue_size: per-camera queue of the synchroniser.
        sync.timeout_s: emit a partial set when a camera is this late (0 = wait forever).
        sync.min_period_s: lower bound between two images of one camera (0 = unknown).
        publish.depth: publish <cam>/depth and <cam>/depth/camera_info.
        publish.confidence: publish <cam>/confidence.
        publish.cloud_rgb: add rgb to <cam>/points.
        publish.cloud_confidence: add confidence to <cam>/points.
        publish.rig_step: publish rig_step (da3_ros_msgs/RigStep).
        diagnostics_period_s: period of /diagnostics in wall (steady) seconds.
        tf_cache_s: how long dynamic /tf data is kept for lookups.
        autostart: configure and activate at start-up (plain-node mode); false waits for a
            lifecycle manager.
    """

    cameras: tuple = ()
    base_frame: str = 'base_link'
    odom_frame: str = 'odom'
    use_odometry: bool = True
    tf_mode: str = 'none'
    camera_frame_prefix: str = 'da3/'
    depth_encoding: str = '32FC1'
    qos: str = 'sensor_data'
    sync_slop_s: float = 0.02
    sync_queue_size: int = 10
    sync_timeout_s: float = 0.25
    sync_min_period_s: float = 0.0
    publish_depth: bool = True
    publish_confidence: bool = True
    publish_cloud_rgb: bool = False
    publish_cloud_confidence: bool = False
    publish_rig_step: bool = True
    diagnostics_period_s: float = 1.0
    tf_cache_s: float = 10.0
    autostart: bool = True


_NODE_NAMES = {f.name: re.sub(r'^(sync|publish)_', r'\1.', f.name)
               for f in dataclasses.fields(NodeOptions) if f.name != 'cameras'}
_CAMERA_FIELDS = {
    'image_topic': ('', 'image topic (sensor_msgs/Image or CompressedImage)'),
    'info_topic': ('', 'sensor_msgs/CameraInfo topic; empty: <image topic namespace>/camera_info'),
    'transport': ('raw', 'raw (sensor_msgs/Image) or compressed (sensor_msgs/CompressedImage)'),
    'frame_id': ('', 'optical frame; empty: the image header frame'),
    'undistort': (True, 'undistort with the CameraInfo model before inference'),
}
# Parameters every rclpy node declares itself (a params file may set them).
ROS_PARAMETERS = ('use_sim_time', 'start_type_description_service')
ROS_PARAMETER_PREFIXES = ('qos_overrides.',)
_UNUSED_CAMERA = re.compile(r'^camera\.[^.]+\.(%s)$' % '|'.join((*_CAMERA_FIELDS, 'extrinsics')))
_READ_ONLY = re.compile(r'^(model\.|camera\.|cameras$|qos$|sync\.|base_frame$|odom_frame$|'
                        r'use_odometry$|tf_cache_s$|autostart$)')


def attribute_docs(cls: type) -> dict[str, str]:
    """``{attribute: description}`` parsed from a Google-style ``Attributes:`` docstring."""
    text = (cls.__doc__ or '').split('Attributes:', 1)[-1]
    docs, name = {}, None
    for line in text.splitlines():
        match = re.match(r'^\s{8}([\w.]+): (.*)$', line)
        if match:
            name = match.group(1)
            docs[name] = match.group(2).strip()
        elif name and line.startswith(' ' * 12):
            docs[name] += ' ' + line.strip()
    return docs


def descriptor(name: str, description: str, value: Any) -> ParameterDescriptor:
    """Return a descriptor with the description, choices, range and read-only flag of ``name``."""
    text = description
    if name in _CHOICES:
        text += f' One of {list(_CHOICES[name])}.'
    desc = ParameterDescriptor(name=name, description=text,
                               read_only=bool(_READ_ONLY.match(name)))
    low_high = _RANGES.get(name)
    if low_high and isinstance(value, int) and not isinstance(value, bool):
        desc.integer_range = [IntegerRange(from_value=low_high[0], to_value=low_high[1], step=1)]
    elif low_high and isinstance(value, float):
        desc.floating_point_range = [FloatingPointRange(from_value=float(low_high[0]),
                                                        to_value=float(low_high[1]), step=0.0)]
    return desc


def declare_all(node: Node) -> None:
    """Declare every parameter (engine sections, node options, per-camera blocks)."""
    for section, cls in _SECTIONS:
        docs = attribute_docs(cls)
        for f in dataclasses.fields(cls):
            name, value = f'{section}.{f.name}', getattr(cls(), f.name)
            node.declare_parameter(name, value, descriptor(name, docs.get(f.name, ''), value))
    docs = attribute_docs(NodeOptions)
    node.declare_parameter('cameras', Parameter.Type.STRING_ARRAY,
                           descriptor('cameras', docs['cameras'], None))
    defaults = NodeOptions()
    for attr, name in _NODE_NAMES.items():
        value = getattr(defaults, attr)
        node.declare_parameter(name, value, descriptor(name, docs.get(name, ''), value))
    for cam in camera_names(node):
        for key, (value, text) in _CAMERA_FIELDS.items():
            name = f'camera.{cam}.{key}'
            node.declare_parameter(name, value, descriptor(name, text, value))
        name = f'camera.{cam}.extrinsics'
        node.declare_parameter(name, Parameter.Type.DOUBLE_ARRAY, descriptor(
            name, 'T_base_cam as [x, y, z, qx, qy, qz, qw]; leave out to use /tf_static', None))


def check_known(given: Iterable[str], declared: Iterable[str]) -> None:
    """Raise ConfigError naming every given key that is not a declared parameter.

    A misspelt key (``output.max_dpeth``) would otherwise be ignored and its default stay in
    force; the message names the closest declared key (``difflib``). The block of a camera not
    listed in ``cameras`` is not in use (a shared file, an override listing fewer cameras) and
    is accepted when its keys are camera keys.
    """
    known = set(declared) | set(ROS_PARAMETERS)
    unknown = sorted(k for k in given if k not in known and not k.startswith(
        ROS_PARAMETER_PREFIXES) and not _UNUSED_CAMERA.match(k))
    if not unknown:
        return
    parts = []
    for key in unknown:
        parts.append(f'{key!r}{did_you_mean(key, known)}')
    raise ConfigError(f'unknown parameter {", ".join(parts)}; every parameter is listed in the'
                      ' README, "Parameters"')


def check_node_overrides(node: Node) -> None:
    """:func:`check_known` for a node's ``--params-file`` and ``-p`` values.

    rclpy keeps them, declared or not, in ``Node._parameter_overrides`` and has no public
    accessor for the undeclared ones (which it otherwise ignores silently).
    """
    check_known(getattr(node, '_parameter_overrides', {}), node.get_parameters_by_prefix(''))


def camera_names(node: Node) -> tuple[str, ...]:
    """Return the ``cameras`` parameter.

    Raises:
        ConfigError: when it is unset or empty.
    """
    names = _optional(node, 'cameras')
    if not names:
        raise ConfigError('cameras: list at least one camera name in the parameters file')
    return tuple(names)


def read_engine_config(node: Node) -> cfg_lib.EngineConfig:
    """Parameters -> validated ``EngineConfig``.

    Raises:
        ConfigError: naming the first invalid field.
    """
    sections = {}
    for section, cls in _SECTIONS:
        values = {f.name: node.get_parameter(f'{section}.{f.name}').value
                  for f in dataclasses.fields(cls)}
        sections[section] = cls(**values)
    cameras = tuple(cfg_lib.CameraConfig(
        name=name, image_topic=_camera(node, name, 'image_topic'),
        info_topic=info_topic(_camera(node, name, 'image_topic'),
                              _camera(node, name, 'info_topic')),
        frame_id=_camera(node, name, 'frame_id'), undistort=_camera(node, name, 'undistort'))
        for name in camera_names(node))
    for cam in cameras:
        if not cam.image_topic:
            raise ConfigError(f'camera.{cam.name}.image_topic: must be set')
    return cfg_lib.EngineConfig(cameras=cameras, **sections).validate()


def read_node_options(node: Node) -> NodeOptions:
    """Parameters -> ``NodeOptions`` (validated by ``output_options``)."""
    values = {attr: node.get_parameter(name).value for attr, name in _NODE_NAMES.items()}
    options = NodeOptions(cameras=camera_names(node), **values)
    output_options(options, cfg_lib.OutputConfig(), '')
    if options.qos not in QOS_CHOICES:
        raise ConfigError(f'qos: {options.qos!r} is not one of {QOS_CHOICES}')
    return options


def camera_sources(node: Node) -> list[CameraSource]:
    """Per-camera read options (transport, frame override, extrinsics from parameters)."""
    sources = []
    for name in camera_names(node):
        transport = _camera(node, name, 'transport')
        if transport not in TRANSPORTS:
            raise ConfigError(f'camera.{name}.transport: {transport!r} is not one of'
                              f' {TRANSPORTS}')
        sources.append(CameraSource(name=name, transport=transport,
                                    frame_id=_camera(node, name, 'frame_id'),
                                    t_base_cam=_extrinsics(node, name),
                                    rectified=is_rectified_topic(
                                        _camera(node, name, 'image_topic'))))
    return sources


def output_options(options: NodeOptions, output: cfg_lib.OutputConfig,
                   variant: str) -> OutputOptions:
    """Get what ``rig_output`` publishes, from the node options and the engine's output config."""
    return OutputOptions(
        base_frame=options.base_frame, odom_frame=options.odom_frame, tf_mode=options.tf_mode,
        camera_frame_prefix=options.camera_frame_prefix, depth_encoding=options.depth_encoding,
        depth=options.publish_depth, confidence=options.publish_confidence,
        camera_clouds=output.organized_clouds, cloud_rgb=options.publish_cloud_rgb,
        cloud_confidence=options.publish_cloud_confidence, fused_cloud=output.fused_cloud,
        rig_step=options.publish_rig_step, model_variant=variant)


def engine_output_options(options: NodeOptions, config: cfg_lib.EngineConfig) -> OutputOptions:
    """``output_options`` for a whole engine config; cameras not undistorted keep raw colours."""
    out = output_options(options, config.output, config.model.variant)
    return dataclasses.replace(
        out, raw_cameras=tuple(c.name for c in config.cameras if not c.undistort))


def info_topic(image_topic: str, info: str) -> str:
    """``info`` or, when empty, ``camera_info.camera_info_topic`` (image_transport's rule)."""
    if info or not image_topic:
        return info
    return camera_info_topic(image_topic)


def update_validator(node: Node) -> Callable[[Sequence[Parameter]], SetParametersResult]:
    """Return an ``add_on_set_parameters_callback`` that rejects invalid updates with the reason.

    The candidate values are merged into the current ones and validated like a start-up
    configuration (read-only parameters are rejected by rclpy before this runs).
    """
    def callback(params: Sequence[Parameter]) -> SetParametersResult:
        try:
            _validate_candidate(node, {p.name: p.value for p in params})
        except (ConfigError, TypeError) as err:
            return SetParametersResult(successful=False, reason=str(err))
        return SetParametersResult(successful=True)
    return callback


def _validate_candidate(node: Node, changes: dict) -> None:
    for section, cls in _SECTIONS:
        values = {}
        for f in dataclasses.fields(cls):
            name = f'{section}.{f.name}'
            values[f.name] = changes.get(name, node.get_parameter(name).value)
        cfg_lib.EngineConfig(**{section: cls(**values)}).validate()
    values = {attr: changes.get(name, node.get_parameter(name).value)
              for attr, name in _NODE_NAMES.items()}
    output_options(NodeOptions(**values), cfg_lib.OutputConfig(), '')
    if values['qos'] not in QOS_CHOICES:
        raise ConfigError(f'qos: {values["qos"]!r} is not one of {QOS_CHOICES}')


def _camera(node: Node, camera: str, key: str) -> Any:
    return node.get_parameter(f'camera.{camera}.{key}').value


def _optional(node: Node, name: str) -> Any:
    try:
        return node.get_parameter(name).value
    except ParameterUninitializedException:
        return None


def _extrinsics(node: Node, camera: str) -> np.ndarray | None:
    values = _optional(node, f'camera.{camera}.extrinsics')
    if values is None or len(values) == 0:
        return None
    if len(values) != 7:
        raise ConfigError(f'camera.{camera}.extrinsics: needs 7 values [x, y, z, qx, qy, qz,'
                          f' qw], got {list(values)}')
    try:
        return transform_matrix(values[:3], values[3:])
    except ConversionError as err:
        raise ConfigError(f'camera.{camera}.extrinsics: {err}') from err
