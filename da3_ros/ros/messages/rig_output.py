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

"""Engine ``RigResult`` -> ROS messages, for the node and the bag tool (shared, no rclpy).

:func:`result_messages` returns ``(topic, message)`` pairs built through a ``MsgTypes`` bundle,
so the node publishes rclpy messages and the bag tool writes rosbags dataclasses from the same
code. Topics are relative (resolved in the node's namespace) except ``/tf``:

- ``<cam>/depth`` 32FC1 metres (or 16UC1 millimetres), ``<cam>/depth/camera_info`` (undistorted
  pinhole at the depth resolution), ``<cam>/confidence`` 32FC1, ``<cam>/points`` organised cloud
  (x, y, z float32, optional rgb and confidence, NaN invalid). Headers: the camera's input image
  stamp and its optical frame (OpenCV: x right, y down, z forward).
- ``points``: fused cloud in the base frame (ROS body frame), stamped with the set's oldest
  image; invalid points are left out (the engine already filters sky, depth range, confidence
  and voxels).
- ``rig_step``: ``da3_ros_msgs/RigStep`` (poses ``T_world_cam``; missing cameras invalid).
- ``/tf``: by ``tf_mode``: ``none`` nothing; ``odom`` ``T_odom_base`` from the engine's world
  frame (which then IS the odometry frame); ``cameras`` ``T_world_cam`` as ``<prefix><frame>``
  children of the world frame (``odom_frame`` when the engine's world is odometry, else
  ``<prefix>world``), so they never fight the URDF's camera frames.
"""
from dataclasses import dataclass
import functools
from typing import Any, Container, Mapping, Sequence

import numpy as np

from da3_ros.engine.decode import decode_cpu, EncodedImage
from da3_ros.engine.types import CameraResult, RigResult
from da3_ros.errors import ConfigError
from da3_ros.geometry import distortion as dist_lib
from da3_ros.ros.messages.cloud import organized_cloud, unorganized_cloud
from da3_ros.ros.messages.image import array_to_image, depth_to_image
from da3_ros.ros.messages.msgtypes import MsgTypes
from da3_ros.ros.messages.quaternion import split_transform
from da3_ros.ros.messages.rig_input import RigInput
from da3_ros.ros.messages.tf_msgs import make_header, tf_message, transform_stamped

TF_MODES = ('none', 'odom', 'cameras')
DEPTH_ENCODINGS = ('32FC1', '16UC1')
TF_TOPIC = '/tf'


class _Everything:
    """A container that holds every topic (``topics=None``)."""

    def __contains__(self, topic: object) -> bool:
        return True


EVERYTHING: Container[str] = _Everything()


@dataclass(frozen=True)
class OutputOptions:
    """What is published and in which frames.

    Attributes:
        base_frame: rig body frame of the fused cloud and of ``odom`` TF.
        odom_frame: odometry frame (engine world frame when odometry is used or published).
        tf_mode: one of ``TF_MODES``.
        camera_frame_prefix: prefix of the estimated camera frames in ``cameras`` mode.
        depth_encoding: ``'32FC1'`` (metres) or ``'16UC1'`` (millimetres).
        depth: publish ``<cam>/depth`` and ``<cam>/depth/camera_info``.
        confidence: publish ``<cam>/confidence``.
        camera_clouds: publish ``<cam>/points``.
        cloud_rgb: add an ``rgb`` field to the per-camera clouds.
        cloud_confidence: add a ``confidence`` field to the per-camera clouds.
        fused_cloud: publish ``points``.
        raw_cameras: cameras the engine does not undistort (``undistort: false``); their
            cloud colours are the input pixels as they are.
        rig_step: publish ``rig_step``.
        model_variant: written into ``RigStep.model_variant``.
    """

    base_frame: str = 'base_link'
    odom_frame: str = 'odom'
    tf_mode: str = 'none'
    camera_frame_prefix: str = 'da3/'
    depth_encoding: str = '32FC1'
    depth: bool = True
    confidence: bool = True
    camera_clouds: bool = True
    cloud_rgb: bool = False
    cloud_confidence: bool = False
    fused_cloud: bool = True
    raw_cameras: tuple = ()
    rig_step: bool = True
    model_variant: str = ''

    def __post_init__(self) -> None:
        if self.tf_mode not in TF_MODES:
            raise ConfigError(f'tf_mode: {self.tf_mode!r} is not one of {TF_MODES}')
        if self.depth_encoding not in DEPTH_ENCODINGS:
            raise ConfigError(f'depth_encoding: {self.depth_encoding!r} is not one of'
                              f' {DEPTH_ENCODINGS}')
        if self.tf_mode == 'cameras' and not self.camera_frame_prefix:
            raise ConfigError('camera_frame_prefix must be non-empty with tf_mode cameras'
                              ' (estimated frames would fight the URDF)')


def world_frame(result: RigResult, options: OutputOptions) -> str:
    """Frame id of the engine's world frame for this result."""
    if result.world_is_odom or options.tf_mode == 'odom':
        return options.odom_frame
    return options.camera_frame_prefix + 'world'


def result_messages(types: MsgTypes, result: RigResult, rig_input: RigInput,
                    options: OutputOptions, *, camera_names: Sequence[str] = (),
                    sequence: int = 0,
                    topics: Container[str] | None = None) -> list[tuple[str, Any]]:
    """All messages of one engine result, in a stable order.

    Args:
        result: the engine output.
        rig_input: the input set that produced ``result.stamp`` (stamps, frames, errors).
        camera_names: the rig's cameras in order (for ``RigStep``); default: result order.
        sequence: ``RigStep.sequence``.
        topics: build only these topics (those with subscribers); None: every enabled one.
            ``demand.output_request`` asks the engine for what they need.

    Raises:
        ConversionError: a message class needed by ``options`` is missing from ``types``.
    """
    topics = EVERYTHING if topics is None else topics
    out: list[tuple[str, Any]] = []
    for name, cam in result.cameras.items():
        stamp_ns = rig_input.stamps_ns.get(name, rig_input.stamp_ns)
        frame_id = rig_input.frame_ids.get(name, cam.frame_id)
        rgb = _cloud_rgb(rig_input, cam, options) if options.camera_clouds \
            and f'{name}/points' in topics else None
        out.extend(camera_messages(types, cam, stamp_ns, frame_id, options, rgb=rgb,
                                   topics=topics))
    if options.fused_cloud and 'points' in topics:
        out.append(('points', unorganized_cloud(types, result.fused_points, rig_input.stamp_ns,
                                                options.base_frame)))
    if options.rig_step and 'rig_step' in topics:
        names = list(camera_names) or list(result.cameras)
        built = dict(out)  # depth/confidence images already built are shared, not rebuilt
        out.append(('rig_step', rig_step(types, result, rig_input, options, names, sequence,
                                         images=built)))
    transforms = tf_transforms(types, result, rig_input, options) if TF_TOPIC in topics else []
    if transforms:
        out.append((TF_TOPIC, tf_message(types, transforms)))
    return out


def camera_messages(types: MsgTypes, cam: CameraResult, stamp_ns: int, frame_id: str,
                    options: OutputOptions, *, rgb: np.ndarray | None = None,
                    topics: Container[str] | None = None) -> list[tuple[str, Any]]:
    """Depth, its CameraInfo, confidence and the organised cloud of one camera.

    ``topics`` as in :func:`result_messages`.
    """
    topics = EVERYTHING if topics is None else topics
    out = []
    if options.depth and f'{cam.name}/depth' in topics:
        out.append((f'{cam.name}/depth', depth_to_image(types, cam.depth, stamp_ns, frame_id,
                                                        encoding=options.depth_encoding)))
    if options.depth and f'{cam.name}/depth/camera_info' in topics:
        out.append((f'{cam.name}/depth/camera_info',
                    camera_info(types, cam.k, cam.depth.shape, stamp_ns, frame_id)))
    if options.confidence and f'{cam.name}/confidence' in topics:
        out.append((f'{cam.name}/confidence', array_to_image(
            types, cam.confidence.astype(np.float32), '32FC1', stamp_ns, frame_id)))
    if options.camera_clouds and cam.cloud is not None and f'{cam.name}/points' in topics:
        use_rgb = options.cloud_rgb and rgb is not None and rgb.shape[:2] == cam.cloud.shape[:2]
        out.append((f'{cam.name}/points', organized_cloud(
            types, cam.cloud, stamp_ns, frame_id, rgb=rgb if use_rgb else None,
            confidence=cam.confidence if options.cloud_confidence else None)))
    return out


def camera_info(types: MsgTypes, k: np.ndarray, shape_hw: tuple[int, ...], stamp_ns: int,
                frame_id: str) -> Any:
    """Get undistorted pinhole ``sensor_msgs/CameraInfo`` (``plumb_bob``, zero D, P = [K | 0])."""
    types.require('CameraInfo', 'RegionOfInterest')
    k = np.asarray(k, dtype=np.float64).reshape(3, 3)
    p = np.concatenate([k, np.zeros((3, 1))], axis=1)
    roi = types.RegionOfInterest(x_offset=0, y_offset=0, height=0, width=0, do_rectify=False)
    return types.CameraInfo(
        header=make_header(types, stamp_ns, frame_id), height=int(shape_hw[0]),
        width=int(shape_hw[1]), distortion_model='plumb_bob', d=np.zeros(5),
        k=k.reshape(-1).copy(), r=np.eye(3).reshape(-1), p=p.reshape(-1), binning_x=0,
        binning_y=0, roi=roi)


def tf_transforms(types: MsgTypes, result: RigResult, rig_input: RigInput,
                  options: OutputOptions) -> list[Any]:
    """Return the ``TransformStamped`` list for ``options.tf_mode`` (empty when there is none)."""
    if options.tf_mode == 'odom' and result.t_world_base is not None:
        return [transform_stamped(types, result.t_world_base, options.odom_frame,
                                  options.base_frame, rig_input.stamp_ns)]
    if options.tf_mode != 'cameras':
        return []
    parent = world_frame(result, options)
    return [transform_stamped(types, cam.t_world_cam, parent,
                              options.camera_frame_prefix + rig_input.frame_ids.get(
                                  name, cam.frame_id),
                              rig_input.stamps_ns.get(name, rig_input.stamp_ns))
            for name, cam in result.cameras.items()]


def rig_step(types: MsgTypes, result: RigResult, rig_input: RigInput, options: OutputOptions,
             camera_names: Sequence[str], sequence: int, *,
             images: Mapping[str, Any] | None = None) -> Any:
    """Return the package's ``da3_ros_msgs/RigStep`` for one result.

    ``images``: messages already built for the ``<cam>/depth`` (when 32FC1) and
    ``<cam>/confidence`` topics; the same message objects are used inside the RigStep.
    """
    types.require('RigStep', 'CameraDepth', 'Pose', 'Point')
    images = dict(images or {})
    if options.depth_encoding != '32FC1':  # RigStep depth is always 32FC1 metres
        images = {t: m for t, m in images.items() if not t.endswith('/depth')}
    cameras = [_camera_depth(types, name, result, rig_input, images) for name in camera_names]
    stamps = list(result.window_stamps)
    index = stamps.index(result.stamp) if result.stamp in stamps else len(stamps) - 1
    return types.RigStep(
        header=make_header(types, rig_input.stamp_ns, world_frame(result, options)),
        cameras=cameras, is_metric=bool(result.is_metric), scale_source=result.scale_source,
        window_size=len(stamps), window_index=max(index, 0), sequence=int(sequence),
        inference_ms=float(result.timings.get('forward', result.timings.get('total', 0.0))),
        model_variant=options.model_variant)


def _camera_depth(types: MsgTypes, name: str, result: RigResult, rig_input: RigInput,
                  images: Mapping[str, Any]) -> Any:
    cam = result.cameras.get(name)
    if cam is None:
        reason = rig_input.errors.get(name) or (
            'missing from the synchronised set' if name in rig_input.missing else 'no result')
        empty = _empty_image(types, rig_input.stamp_ns, '')
        return types.CameraDepth(
            camera_name=name, depth=empty, confidence=empty,
            camera_info=camera_info(types, np.eye(3), (0, 0), rig_input.stamp_ns, ''),
            pose=_pose(types, np.eye(4)), valid=False, error=reason)
    stamp_ns = rig_input.stamps_ns.get(name, rig_input.stamp_ns)
    frame_id = rig_input.frame_ids.get(name, cam.frame_id)
    depth = images.get(f'{name}/depth')
    if depth is None:
        depth = depth_to_image(types, cam.depth, stamp_ns, frame_id)
    confidence = images.get(f'{name}/confidence')
    if confidence is None:
        confidence = array_to_image(types, cam.confidence.astype(np.float32), '32FC1', stamp_ns,
                                    frame_id)
    return types.CameraDepth(
        camera_name=name, depth=depth, confidence=confidence,
        camera_info=camera_info(types, cam.k, cam.depth.shape, stamp_ns, frame_id),
        pose=_pose(types, cam.t_world_cam), valid=True, error='')


def _pose(types: MsgTypes, matrix: np.ndarray) -> Any:
    translation, q = split_transform(matrix)
    return types.Pose(
        position=types.Point(x=float(translation[0]), y=float(translation[1]),
                             z=float(translation[2])),
        orientation=types.Quaternion(x=float(q[0]), y=float(q[1]), z=float(q[2]), w=float(q[3])))


def _empty_image(types: MsgTypes, stamp_ns: int, frame_id: str) -> Any:
    return types.Image(header=make_header(types, stamp_ns, frame_id), height=0, width=0,
                       encoding='', is_bigendian=0, step=0,
                       data=types.blob(np.zeros(0, np.uint8)))


def _cloud_rgb(rig_input: RigInput, cam: CameraResult,
               options: OutputOptions) -> np.ndarray | None:
    """Return the input colours at the organised cloud's pixels ``[h, w, 3]`` uint8, or None.

    The cloud is the undistorted pinhole camera ``cam.k``; its colours are sampled from the
    distorted input image through the CameraInfo distortion (nearest pixel), so colour and
    x/y/z refer to the same ray. Cameras in ``options.raw_cameras`` are not undistorted by the
    engine, so their input pixels are used as they are.
    """
    if rig_input.frame is None or cam.cloud is None or not options.cloud_rgb:
        return None
    src = next((c for c in rig_input.frame.cameras if c.name == cam.name), None)
    if src is None:
        return None
    image = decode_cpu(src.image) if isinstance(src.image, EncodedImage) else src.image
    out_hw = tuple(cam.cloud.shape[:2])
    if src.k is None or cam.name in options.raw_cameras or dist_lib.is_identity(
            src.distortion_model, src.distortion):
        return image if tuple(image.shape[:2]) == out_hw else None
    rows, cols = _sample_index(tuple(np.asarray(src.k, np.float64).ravel()),
                               tuple(image.shape[:2]), src.distortion_model,
                               tuple(src.distortion), tuple(np.asarray(cam.k).ravel()), out_hw)
    return image[rows, cols]


@functools.lru_cache(maxsize=16)
def _sample_index(k_src: tuple, src_hw: tuple, model: str, coeffs: tuple, k_out: tuple,
                  out_hw: tuple) -> tuple[np.ndarray, np.ndarray]:
    """Nearest source pixel (rows, cols) of each output pixel (cached per calibration)."""
    grid = dist_lib.remap_grid(np.reshape(k_src, (3, 3)), src_hw, model, coeffs,
                               np.reshape(k_out, (3, 3)), out_hw)
    cols = np.clip(np.rint((grid[..., 0] + 1.0) / 2.0 * src_hw[1] - 0.5), 0, src_hw[1] - 1)
    rows = np.clip(np.rint((grid[..., 1] + 1.0) / 2.0 * src_hw[0] - 0.5), 0, src_hw[0] - 1)
    return rows.astype(np.intp), cols.astype(np.intp)
