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

"""Live virtual cameras: the set's 3D Gaussians rendered from poses no real camera has.

Parameters (read at configure; ``config/virtual_cameras.yaml`` has a bird's-eye and a chase
preset)::

    virtual_cameras: [birdseye]              # names; empty: no virtual camera
    virtual_render_backend: auto             # auto (gsplat on CUDA if installed) | reference
    virtual.birdseye.frame: ''               # TF frame (OpenCV optical) to render from, or ''
    virtual.birdseye.pose: [x, y, z, roll, pitch, yaw]   # used when frame is '': camera body
                                             # frame (ROS, x forward) in base_frame, metres/rad
    virtual.birdseye.size: [width, height]
    virtual.birdseye.fov_deg: 90.0           # horizontal; square pixels, centred
    virtual.birdseye.intrinsics: [fx, fy, cx, cy]        # optional, overrides fov_deg

Per processed set the node publishes ``~/virtual/<name>/image`` (rgb8),
``~/virtual/<name>/depth`` (the node's depth encoding; NaN / 0 where less than half covered)
and ``~/virtual/<name>/camera_info``, stamped with the set's stamp. Their frame is ``frame``, or
``<camera_frame_prefix>virtual/<name>`` for a fixed pose. Virtual cameras turn
``output.gaussians`` on: the giant models render their Gaussian head, the others one splat per
pixel. Depth is in the units of the node's depth output (metres when metric).
"""
from dataclasses import dataclass
import math
from typing import Any, Callable, Dict, Optional, Sequence, Tuple

import numpy as np
from rclpy.exceptions import ParameterUninitializedException
from rclpy.node import Node
from rclpy.parameter import Parameter
import torch

from da3_ros.engine.types import RigResult
from da3_ros.errors import ConfigError, Da3Error
from da3_ros.geometry import pose as pose_lib
from da3_ros.render import BACKENDS, render, RenderCameras
from da3_ros.ros.messages.image import array_to_image, depth_to_image
from da3_ros.ros.messages.msgtypes import MsgTypes
from da3_ros.ros.messages.rig_input import RigInput
from da3_ros.ros.messages.rig_output import camera_info
from da3_ros.ros.publishers import OUTPUT_QOS

MIN_COVERAGE = 0.5


@dataclass(frozen=True)
class VirtualCamera:
    """One virtual pinhole camera.

    Attributes:
        name: topic name below ``~/virtual/``.
        frame: TF frame (OpenCV optical) to render from; '' uses ``pose``.
        pose: (x, y, z, roll, pitch, yaw) of the camera body frame (ROS: x forward, y left,
            z up) in ``base_frame``.
        width: image width in pixels.
        height: image height in pixels.
        fov_deg: horizontal field of view when ``intrinsics`` is empty.
        intrinsics: (fx, fy, cx, cy) in pixels, or () to derive them from ``fov_deg``.
    """

    name: str
    frame: str = ''
    pose: Tuple[float, ...] = (0.0, 0.0, 0.0, 0.0, 0.0, 0.0)
    width: int = 320
    height: int = 240
    fov_deg: float = 90.0
    intrinsics: Tuple[float, ...] = ()

    def __post_init__(self) -> None:
        where = f'virtual.{self.name}'
        if len(self.pose) != 6 or not all(math.isfinite(v) for v in self.pose):
            raise ConfigError(f'{where}.pose: need 6 finite numbers, got {list(self.pose)}')
        if self.width <= 0 or self.height <= 0:
            raise ConfigError(f'{where}.size: {self.width}x{self.height} is empty')
        if self.intrinsics and (len(self.intrinsics) != 4 or min(self.intrinsics[:2]) <= 0):
            raise ConfigError(f'{where}.intrinsics: need [fx>0, fy>0, cx, cy], got '
                              f'{list(self.intrinsics)}')
        if not self.intrinsics and not 0.0 < self.fov_deg < 180.0:
            raise ConfigError(f'{where}.fov_deg: {self.fov_deg} is not in (0, 180)')

    def k(self) -> np.ndarray:
        """Intrinsics [3, 3] in pixels."""
        if self.intrinsics:
            fx, fy, cx, cy = self.intrinsics
        else:
            fx = fy = self.width / 2.0 / math.tan(math.radians(self.fov_deg) / 2.0)
            cx, cy = self.width / 2.0, self.height / 2.0
        return np.array([[fx, 0.0, cx], [0.0, fy, cy], [0.0, 0.0, 1.0]])

    def t_base_optical(self) -> np.ndarray:
        """Return fixed pose of the optical frame in ``base_frame`` [4, 4]."""
        x, y, z, roll, pitch, yaw = self.pose
        rot = pose_lib.so3_exp(np.array([0.0, 0.0, yaw])) @ pose_lib.so3_exp(
            np.array([0.0, pitch, 0.0])) @ pose_lib.so3_exp(np.array([roll, 0.0, 0.0]))
        return pose_lib.ros_to_optical(pose_lib.make_pose(rot, np.array([x, y, z])))


@dataclass
class VirtualView:
    """A rendered virtual camera: rgb [H, W, 3] uint8, depth [H, W] float32 (NaN uncovered)."""

    rgb: np.ndarray
    depth: np.ndarray
    k: np.ndarray


def base_pose(result: RigResult) -> Optional[np.ndarray]:
    """``T_world_base``, else the first camera's body frame standing in for the base."""
    if result.t_world_base is not None:
        return result.t_world_base
    for cam in result.cameras.values():
        return pose_lib.optical_to_ros(cam.t_world_cam)
    return None


def render_views(result: RigResult, cameras: Sequence[VirtualCamera],
                 t_base_optical: Dict[str, np.ndarray], backend: str = 'auto'
                 ) -> Dict[str, VirtualView]:
    """Render ``result.gaussians`` into every virtual camera with a known pose."""
    t_world_base = base_pose(result)
    if result.gaussians is None or t_world_base is None:
        return {}
    device = result.gaussians.means.device
    views = {}
    for cam in cameras:
        if cam.name not in t_base_optical:
            continue
        w2c = np.linalg.inv(t_world_base @ t_base_optical[cam.name])
        cams = RenderCameras(torch.tensor(w2c, dtype=torch.float32, device=device)[None],
                             torch.tensor(cam.k(), dtype=torch.float32, device=device)[None],
                             cam.width, cam.height)
        out = render(result.gaussians, cams, backend)
        rgb = (out.colour[0].clamp(0.0, 1.0) * 255.0 + 0.5).to(torch.uint8).cpu().numpy()
        depth = torch.where(out.alpha[0] >= MIN_COVERAGE, out.depth[0],
                            torch.full_like(out.depth[0], float('nan')))
        views[cam.name] = VirtualView(rgb, depth.float().cpu().numpy(), cam.k())
    return views


def view_messages(types: MsgTypes, name: str, view: VirtualView, stamp_ns: int, frame_id: str,
                  depth_encoding: str) -> list:
    """``(topic, message)`` pairs of one rendered virtual camera (topics relative)."""
    base = f'virtual/{name}'
    return [(f'{base}/image', array_to_image(types, view.rgb, 'rgb8', stamp_ns, frame_id)),
            (f'{base}/depth', depth_to_image(types, view.depth, stamp_ns, frame_id,
                                             encoding=depth_encoding)),
            (f'{base}/camera_info', camera_info(types, view.k, view.rgb.shape[:2], stamp_ns,
                                                frame_id))]


def _param(node: Node, name: str, default: Any) -> Any:
    if not node.has_parameter(name):
        node.declare_parameter(name, default)
    try:
        value = node.get_parameter(name).value
    except ParameterUninitializedException:
        return None
    return default if value is None else value


def read_virtual_cameras(node: Node) -> Tuple[Tuple[VirtualCamera, ...], str]:
    """Declare and read the virtual camera parameters: (cameras, render backend).

    Raises:
        ConfigError: an invalid value, naming the parameter.
    """
    names = _param(node, 'virtual_cameras', Parameter.Type.STRING_ARRAY) or []
    backend = _param(node, 'virtual_render_backend', 'auto')
    if backend not in BACKENDS:
        raise ConfigError(f'virtual_render_backend: {backend!r} is not one of {BACKENDS}')
    cameras = []
    for name in names:
        key = f'virtual.{name}.'
        size = list(_param(node, key + 'size', [320, 240]))
        if len(size) != 2:
            raise ConfigError(f'{key}size: need [width, height], got {size}')
        intrinsics = _param(node, key + 'intrinsics', Parameter.Type.DOUBLE_ARRAY)
        cameras.append(VirtualCamera(
            name=name, frame=_param(node, key + 'frame', ''),
            pose=tuple(float(v) for v in _param(node, key + 'pose', [0.0] * 6)),
            width=int(size[0]), height=int(size[1]),
            fov_deg=float(_param(node, key + 'fov_deg', 90.0)),
            intrinsics=tuple(float(v) for v in intrinsics) if intrinsics is not None else ()))
    return tuple(cameras), backend


class VirtualCameras:
    """Publishers of the virtual cameras and the per-set hook that renders and publishes them.

    Args:
        node: creates the publishers.
        cameras: the virtual cameras.
        lookup: ``(target, source, stamp_ns) -> T_target_source`` (TF) for ``frame`` cameras.
        base_frame, frame_prefix, depth_encoding, backend: node options.
        log_error: reports a failed render or lookup (the node rate-limits it).
    """

    def __init__(self, node: Node, types: MsgTypes, cameras: Sequence[VirtualCamera], *,
                 lookup: Callable[[str, str, int], np.ndarray], base_frame: str,
                 frame_prefix: str, depth_encoding: str, backend: str,
                 log_error: Callable[[str], None]) -> None:
        self.node, self.types, self.cameras = node, types, tuple(cameras)
        self.lookup, self.base_frame, self.backend = lookup, base_frame, backend
        self.frame_prefix, self.depth_encoding, self.log_error = (frame_prefix, depth_encoding,
                                                                  log_error)
        self.pubs = {}
        for cam in self.cameras:
            for topic, cls in (('image', types.Image), ('depth', types.Image),
                               ('camera_info', types.CameraInfo)):
                name = f'virtual/{cam.name}/{topic}'
                self.pubs[name] = node.create_publisher(cls, '~/' + name, OUTPUT_QOS)

    def frame_id(self, cam: VirtualCamera) -> str:
        """Header frame of a virtual camera's messages."""
        return cam.frame or f'{self.frame_prefix}virtual/{cam.name}'

    def __call__(self, result: RigResult, rig_input: RigInput) -> None:
        """Render and publish every virtual camera for one engine result."""
        poses = {}
        for cam in self.cameras:
            try:
                poses[cam.name] = (self.lookup(self.base_frame, cam.frame, rig_input.stamp_ns)
                                   if cam.frame else cam.t_base_optical())
            except Da3Error as err:
                self.log_error(f'virtual camera {cam.name}: {err}')
        try:
            views = render_views(result, self.cameras, poses, self.backend)
        except (Da3Error, RuntimeError) as err:
            self.log_error(f'virtual cameras: {type(err).__name__}: {err}')
            return
        for cam in self.cameras:
            if cam.name in views:
                for topic, msg in view_messages(self.types, cam.name, views[cam.name],
                                                rig_input.stamp_ns, self.frame_id(cam),
                                                self.depth_encoding):
                    self.pubs[topic].publish(msg)

    def destroy(self) -> None:
        """Destroy the publishers."""
        for pub in self.pubs.values():
            self.node.destroy_publisher(pub)
        self.pubs.clear()
