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

"""``sensor_msgs/CameraInfo`` parsed once into a validated camera (no image_geometry).

Why it exists: ``image_geometry`` (``PinholeCameraModel.fromCameraInfo``) ships with the ROS
vision stack, which is not installable on the pip-only ROS 2 runtime (docs/pip-runtime.md).
Like ``fromCameraInfo`` this reads ``K`` (row-major 3x3), ``D``, the distortion model, width,
height and the frame; unlike it, it validates instead of producing NaNs later:
non-finite values, a zero or negative focal length (an uncalibrated camera publishes all-zero
K), wrong ``D`` lengths for the model, binning, and a size that differs from the image.

Distortion must also be plausible over the image (``check_distortion``): along a ray's
undistorted radius the distorted radius must grow monotonically until it reaches the image
corner (no fold), and the corner's undistorted radius must be at least
``MIN_CORNER_RADIUS_RATIO`` of its distorted one (real lenses, barrel or pincushion, stay far
from that; coefficients like ``D = [1e6, -1e6, 1e6, 0, 0]`` compress the whole image into a
pinhole of a few pixels and are rejected).

``R`` and ``P`` are read too (an all-zero ``R`` or ``P``, as monocular drivers send, means
identity and ``[K | 0]``). A *rectified* image (image_proc's ``image_rect*`` topics, see
``is_rectified_topic``) is described by ``P[:3, :3]`` without distortion, in the rectified
frame ``X_rect = R X_cam``; ``rectified_view`` gives its intrinsics and ``T_cam_rect``. (For the
second camera of a stereo pair ``P[0, 3] = -fx' B`` places it in the first camera's rectified
frame; with each camera's own optical frame in TF only ``P[:3, :3]`` and ``R`` are needed.)

Models and coefficient order follow ``da3_ros.geometry.distortion``: ``plumb_bob`` (5),
``rational_polynomial`` (8), ``equidistant`` (4); an empty model with all-zero ``D`` is
``'none'``, and a model with an empty ``D`` gets zero coefficients. Intrinsics are in pixels
of the OpenCV optical frame (x right, y down, z forward).
"""
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from da3_ros.errors import ConversionError
from da3_ros.geometry.distortion import COEFFICIENT_COUNTS, distort
from da3_ros.ros.messages.tf_msgs import stamp_to_ns

TRANSPORT_SUFFIXES = ('compressed',)  # image_transport sub-topics this package reads


def camera_info_topic(image_topic: str) -> str:
    """Return the CameraInfo topic of an image topic, by image_transport's rule.

    The info topic is ``camera_info`` in the namespace of the *base* image topic; a transport
    sub-topic is not the base: ``/ns/image_raw`` and ``/ns/image_raw/compressed`` both give
    ``/ns/camera_info``. The node and the bag tool both use this one rule.
    """
    parts = image_topic.rstrip('/').split('/')
    if len(parts) > 2 and parts[-1] in TRANSPORT_SUFFIXES:
        parts = parts[:-1]
    return '/'.join(parts[:-1] + ['camera_info'])


MIN_CORNER_RADIUS_RATIO = 0.25
_RAYS = np.tan(np.radians(np.linspace(0.0, 89.5, 2000)))  # undistorted radii up to 89.5 deg

DISTORTION_SIZES = COEFFICIENT_COUNTS


@dataclass(frozen=True)
class CameraModel:
    """Calibration of one camera at its published resolution.

    Attributes:
        frame_id: optical frame (OpenCV convention) from the CameraInfo header.
        stamp_ns: CameraInfo stamp.
        width: image width in pixels.
        height: image height in pixels.
        K: [3, 3] float64 intrinsics (fx, fy, cx, cy in pixels).
        D: [n] float64 distortion coefficients of ``distortion_model``.
        distortion_model: one of ``DISTORTION_SIZES``.
        R: [3, 3] rectification rotation (identity when the message leaves it zero).
        P: [3, 4] projection of the rectified image (``[K | 0]`` when left zero).
    """

    frame_id: str
    stamp_ns: int
    width: int
    height: int
    K: np.ndarray
    D: np.ndarray
    distortion_model: str
    R: np.ndarray = field(default_factory=lambda: np.eye(3))
    P: np.ndarray = field(default_factory=lambda: np.zeros((3, 4)))

    def rectified_view(self) -> tuple[np.ndarray, np.ndarray]:
        """``(K_rect [3, 3], T_cam_rect [4, 4])`` of the rectified image (no distortion)."""
        t_cam_rect = np.eye(4)
        t_cam_rect[:3, :3] = self.R.T
        return self.P[:, :3].copy(), t_cam_rect

    def check_image_size(self, width: int, height: int) -> None:
        """Raise ``ConversionError`` unless an image of this size belongs to this calibration."""
        if (int(width), int(height)) != (self.width, self.height):
            raise ConversionError(f'image is {width}x{height} but CameraInfo of'
                                  f' [{self.frame_id}] is {self.width}x{self.height}')


def camera_from_info(msg: Any) -> CameraModel:
    """Validate a CameraInfo-like object (rclpy or rosbags) and return its ``CameraModel``.

    Raises:
        ConversionError: naming the field and value that is invalid.
    """
    width, height = int(msg.width), int(msg.height)
    if width <= 0 or height <= 0:
        raise ConversionError(f'CameraInfo of [{msg.header.frame_id}] has size'
                              f' {width}x{height}')
    for name in ('binning_x', 'binning_y'):
        if int(getattr(msg, name, 0)) > 1:
            raise ConversionError(f'CameraInfo {name}={getattr(msg, name)} is not supported')
    k = _finite('k', msg.k, msg.header.frame_id).reshape(3, 3)
    if k[0, 0] <= 0 or k[1, 1] <= 0:
        raise ConversionError(f'CameraInfo of [{msg.header.frame_id}] has focal lengths'
                              f' fx={k[0, 0]}, fy={k[1, 1]} (uncalibrated?)')
    if not np.allclose(k[2], [0.0, 0.0, 1.0]) or k[1, 0] != 0.0:
        raise ConversionError(f'CameraInfo K of [{msg.header.frame_id}] is not upper'
                              f' triangular with K[2] = [0, 0, 1]: {k.tolist()}')
    model, d = _distortion(msg)
    check_distortion(model, d, k, width, height, msg.header.frame_id)
    r, p = _rectification(msg, k)
    return CameraModel(frame_id=msg.header.frame_id, stamp_ns=stamp_to_ns(msg.header.stamp),
                       width=width, height=height, K=k, D=d, distortion_model=model, R=r, P=p)


def is_rectified_topic(image_topic: str) -> bool:
    """Whether the image is rectified, by image_proc's topic names (``image_rect*``)."""
    parts = image_topic.rstrip('/').split('/')
    if len(parts) > 1 and parts[-1] in TRANSPORT_SUFFIXES:
        parts = parts[:-1]
    return parts[-1].startswith('image_rect')


def _rectification(msg: Any, k: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return validated ``R`` (rotation) and ``P`` (``P[:3, :3]`` a camera matrix)."""
    frame_id = msg.header.frame_id
    r = _finite('r', getattr(msg, 'r', np.zeros(9)), frame_id)
    p = _finite('p', getattr(msg, 'p', np.zeros(12)), frame_id)
    if r.size != 9 or p.size != 12:
        raise ConversionError(f'CameraInfo of [{frame_id}] has {r.size} R and {p.size} P'
                              ' values, not 9 and 12')
    r = np.eye(3) if not np.any(r) else r.reshape(3, 3)
    p = np.concatenate([k, np.zeros((3, 1))], 1) if not np.any(p) else p.reshape(3, 4)
    if not np.allclose(r @ r.T, np.eye(3), atol=1e-4) or np.linalg.det(r) < 0:
        raise ConversionError(f'CameraInfo R of [{frame_id}] is not a rotation: {r.tolist()}')
    if p[0, 0] <= 0 or p[1, 1] <= 0 or not np.allclose(p[2, :3], [0.0, 0.0, 1.0]):
        raise ConversionError(f'CameraInfo P of [{frame_id}] is not a projection: {p.tolist()}')
    return r, p


def check_distortion(model: str, d: np.ndarray, k: np.ndarray, width: int, height: int,
                     frame_id: str = '') -> None:
    """Raise ``ConversionError`` when the distortion is implausible (module docstring)."""
    if model == 'none' or not np.any(d):
        return
    corners = np.array([[0.0, 0.0], [width, 0.0], [0.0, height], [width, height]])
    corner = float(np.max(np.hypot((corners[:, 0] - k[0, 2]) / k[0, 0],
                                   (corners[:, 1] - k[1, 2]) / k[1, 1])))
    radial = distort(np.stack([_RAYS, np.zeros_like(_RAYS)], -1), model, d)[:, 0]
    reach = int(np.argmax(radial >= corner)) if np.any(radial >= corner) else len(radial) - 1
    if np.any(np.diff(radial[:reach + 1]) <= 0):
        fold = float(_RAYS[int(np.argmax(np.diff(radial[:reach + 1]) <= 0))])
        raise ConversionError(f'CameraInfo D of [{frame_id}] is implausible: {model}'
                              f' {d.tolist()} folds the image back at undistorted radius'
                              f' {fold:.3g}, inside the image (corner radius {corner:.3g})')
    if radial[reach] >= corner and _RAYS[reach] < MIN_CORNER_RADIUS_RATIO * corner:
        raise ConversionError(f'CameraInfo D of [{frame_id}] is implausible: {model}'
                              f' {d.tolist()} maps the image corner (radius {corner:.3g}) to'
                              f' undistorted radius {_RAYS[reach]:.3g}')


def _finite(name: str, values: Any, frame_id: str) -> np.ndarray:
    array = np.asarray(values, dtype=np.float64).reshape(-1)
    if name == 'k' and array.size != 9:
        raise ConversionError(f'CameraInfo k of [{frame_id}] has {array.size} values, not 9')
    if not np.all(np.isfinite(array)):
        raise ConversionError(f'CameraInfo {name} of [{frame_id}] is not finite:'
                              f' {array.tolist()}')
    return array


def _distortion(msg: Any) -> tuple[str, np.ndarray]:
    frame_id = msg.header.frame_id
    d = _finite('d', msg.d, frame_id)
    model = msg.distortion_model or 'none'
    if model == 'none' and np.any(d):
        raise ConversionError(f'CameraInfo of [{frame_id}] has D={d.tolist()} but no'
                              ' distortion_model')
    if model == 'none':
        return model, np.zeros(0)
    if model not in DISTORTION_SIZES:
        raise ConversionError(f'CameraInfo of [{frame_id}] has unsupported distortion_model'
                              f' {model!r}; supported: {sorted(DISTORTION_SIZES)}')
    if d.size == 0:  # some drivers name a model but send no coefficients: no distortion
        return model, np.zeros(DISTORTION_SIZES[model])
    if d.size != DISTORTION_SIZES[model]:
        raise ConversionError(f'CameraInfo of [{frame_id}]: {model} needs'
                              f' {DISTORTION_SIZES[model]} coefficients, got {d.size}')
    return model, d
