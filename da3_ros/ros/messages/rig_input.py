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

"""A synchronised camera set plus a TF buffer -> the engine RigFrame (shared with the bag tool).

Used by the live node and by the offline bag tool alike: both feed ``MultiCameraSync`` and a
``TfBuffer`` and hand every emitted ``SyncedSet`` to :func:`build_rig_input`. Nothing here needs
rclpy; messages are read by field name, so rclpy messages and rosbags dataclasses both work.

Per camera: the image is decoded by transport (``raw`` sensor_msgs/Image or ``compressed``
sensor_msgs/CompressedImage) to RGB (for an engine that decodes on the GPU, a CompressedImage is
only inspected and its bytes go to the engine as ``EncodedImage``), the CameraInfo is validated
(``camera_from_info``) and must match the image size (from the header when not decoded), and
``T_base_cam`` comes from the parameters or from TF (``lookup(base, optical frame, image
stamp)``, static links valid at any time). A camera that
fails any of these is left out of the frame with its reason in ``RigInput.errors``; the other
cameras are never lost because of it.

Frames: camera frames are OpenCV optical frames (x right, y down, z forward); ``base`` is the
ROS body frame of the rig (x forward, y left, z up); ``T_base_cam`` maps camera points into the
base frame and ``T_odom_base`` base points into the odometry frame. The set's reference stamp is
its OLDEST image stamp: the fused cloud is stamped with it and odometry is looked up at it (an
extrapolation is reported in ``RigInput.odom_error``, never guessed).

Each camera is placed with the odometry at its OWN image stamp: a camera captured ``dt`` after
the reference stamp gets the extrinsic ``T_base(ref)_cam = T_odom_base(ref)^-1 T_odom_base(t)
T_base_cam``, so its points land in the base frame of the reference stamp where they were
seen (at 10 m/s a 20 ms spread is 0.2 m). The engine, the fused cloud and the camera poses all
use that extrinsic. A camera whose own stamp has no odometry keeps the rigid extrinsic and the
reason is added to ``odom_error``.
"""
from dataclasses import dataclass, field, replace
from typing import Any, Mapping, Sequence

import numpy as np

from da3_ros.engine.decode import EncodedImage
from da3_ros.engine.types import CameraFrame, RigFrame
from da3_ros.errors import ConfigError, Da3Error
from da3_ros.geometry.pose import inverse
from da3_ros.ros.messages.camera_info import camera_from_info
from da3_ros.ros.messages.compressed import check_header, compressed_to_rgb, inspect, parse_format
from da3_ros.ros.messages.image import image_to_rgb
from da3_ros.ros.messages.tf_buffer import TfBuffer
from da3_ros.ros.sync.approximate_time import SyncedSet

TRANSPORTS = ('raw', 'compressed')
_NS_PER_S = 1e9


@dataclass(frozen=True)
class CameraSource:
    """How one camera's messages are read.

    Attributes:
        name: camera name (the sync input name).
        transport: ``'raw'`` (sensor_msgs/Image) or ``'compressed'`` (sensor_msgs/CompressedImage).
        frame_id: optical frame to use; empty for the image header's frame.
        t_base_cam: [4, 4] ``T_base_cam`` from the parameters, or None to look it up in TF.
        rectified: the image is rectified (``image_rect*``): read with ``P`` and ``R`` of its
            CameraInfo instead of ``K`` and ``D`` (``camera_info.CameraModel``).
    """

    name: str
    transport: str = 'raw'
    frame_id: str = ''
    t_base_cam: np.ndarray | None = None
    rectified: bool = False

    def __post_init__(self) -> None:
        if self.transport not in TRANSPORTS:
            raise ConfigError(f'camera {self.name!r}: transport {self.transport!r} is not one of'
                              f' {TRANSPORTS}')


@dataclass(frozen=True)
class RigInput:
    """What one synchronised set became.

    Attributes:
        frame: the engine input, or None when no camera was usable.
        stamp_ns: reference stamp of the set (its oldest image), integer ns.
        stamps_ns: image stamp per usable camera.
        frame_ids: optical frame per usable camera.
        missing: cameras absent from the (partial) set.
        errors: camera name -> why it was left out (conversion, size, TF).
        odom_error: why ``T_odom_base`` is unknown ('' when found or not requested).
    """

    frame: RigFrame | None
    stamp_ns: int
    stamps_ns: Mapping[str, int] = field(default_factory=dict)
    frame_ids: Mapping[str, str] = field(default_factory=dict)
    missing: tuple[str, ...] = ()
    errors: Mapping[str, str] = field(default_factory=dict)
    odom_error: str = ''


def decode_image(msg: Any, transport: str, expected_wh: tuple[int, int] | None = None,
                 encoded: bool = False) -> np.ndarray | EncodedImage:
    """Decode an Image (``raw``) or CompressedImage (``compressed``) to ``[H, W, 3]`` uint8 RGB.

    A compressed image whose header gives another size than ``expected_wh`` (width, height; the
    CameraInfo's) is refused before its pixels are decoded. With ``encoded`` a CompressedImage
    is only inspected (format string and header: codec, size, mode, the same checks) and its
    bytes go to the engine, which decodes them on the GPU.

    Raises:
        ConversionError: unsupported encoding/format, a refused header or undecodable data.
    """
    if transport == 'compressed' and encoded:
        parse_format(msg.format)
        check_header(inspect(msg), expected_wh)
        return EncodedImage.inspect(msg.data)
    return compressed_to_rgb(msg, expected_wh) if transport == 'compressed' \
        else image_to_rgb(msg)


def stamp_seconds(stamp_ns: int) -> float:
    """Engine time (float seconds) of an integer-ns stamp."""
    return stamp_ns / _NS_PER_S


def camera_frame(source: CameraSource, image_msg: Any, info_msg: Any, stamp_ns: int,
                 tf: TfBuffer | None, base_frame: str, encoded: bool = False) -> CameraFrame:
    """One camera's engine input (``encoded``: see :func:`decode_image`).

    Raises:
        ConversionError: undecodable image, invalid CameraInfo or a size mismatch.
        SyncError: ``T_base_cam`` cannot be looked up (unknown frame, unconnected trees).
    """
    model = camera_from_info(info_msg)
    if source.transport != 'compressed':  # sizes first, pixels after (a compressed header too)
        model.check_image_size(image_msg.width, image_msg.height)
    rgb = decode_image(image_msg, source.transport, (model.width, model.height), encoded)
    model.check_image_size(rgb.shape[1], rgb.shape[0])
    frame_id = source.frame_id or image_msg.header.frame_id or model.frame_id
    t_base_cam = source.t_base_cam
    if t_base_cam is None and base_frame and tf is not None:
        t_base_cam = tf.lookup(base_frame, frame_id, stamp_ns)
    k, distortion, coeffs = model.K, model.distortion_model, tuple(model.D.tolist())
    if not coeffs:
        distortion = 'none'
    if source.rectified:
        k, t_cam_rect = model.rectified_view()
        distortion, coeffs = 'none', ()
        t_base_cam = None if t_base_cam is None else np.asarray(t_base_cam) @ t_cam_rect
    return CameraFrame(name=source.name, image=rgb, frame_id=frame_id, k=k,
                       distortion_model=distortion, distortion=coeffs,
                       t_base_cam=None if t_base_cam is None else np.asarray(t_base_cam))


def build_rig_input(synced: SyncedSet, sources: Sequence[CameraSource], tf: TfBuffer | None, *,
                    base_frame: str, odom_frame: str = '', encoded: bool = False) -> RigInput:
    """Turn a ``SyncedSet`` of ``sync.multi_camera.ImagePair`` messages into a ``RigInput``.

    Never raises for one bad camera: its reason goes to ``errors``.

    Args:
        synced: a set from ``MultiCameraSync`` (messages carry ``image`` and ``info``).
        sources: per-camera read options in rig order; cameras not listed are ignored.
        tf: TF buffer for extrinsics and odometry, or None.
        base_frame: rig body frame; empty: no extrinsics from TF.
        odom_frame: odometry frame; empty: no odometry.
        encoded: hand CompressedImage bytes to the engine (``Engine.decodes_on_device``)
            after checking their header against CameraInfo, instead of decoding them here.
    """
    present = {name: msg for name, msg in zip(synced.inputs, synced.messages) if msg is not None}
    frames, stamps, frame_ids, errors = [], {}, {}, {}
    for source in sources:
        msg = present.get(source.name)
        if msg is None:
            continue
        try:
            cam = camera_frame(source, msg.image, msg.info, msg.stamp_ns, tf, base_frame,
                               encoded)
        except Da3Error as err:
            errors[source.name] = f'{type(err).__name__}: {err}'
            continue
        frames.append(cam)
        stamps[source.name], frame_ids[source.name] = msg.stamp_ns, cam.frame_id
    stamp_ns = min(stamps.values()) if stamps else min(
        s for s in synced.stamps_ns if s is not None)
    t_odom_base, odom_error = _odometry(tf, odom_frame, base_frame, stamp_ns)
    if t_odom_base is not None:
        frames, moved_error = _at_own_stamps(frames, stamps, t_odom_base, stamp_ns,
                                             lambda t: _odometry(tf, odom_frame, base_frame, t))
        odom_error = odom_error or moved_error
    missing = tuple(name for name in synced.missing if name in {s.name for s in sources})
    frame = RigFrame(stamp=stamp_seconds(stamp_ns), cameras=tuple(frames),
                     t_odom_base=t_odom_base) if frames else None
    return RigInput(frame=frame, stamp_ns=stamp_ns, stamps_ns=stamps, frame_ids=frame_ids,
                    missing=missing, errors=errors, odom_error=odom_error)


def _at_own_stamps(frames: list[CameraFrame], stamps: Mapping[str, int],
                   t_odom_base: np.ndarray, ref_ns: int,
                   odometry: Any) -> tuple[list[CameraFrame], str]:
    """Motion-compensate each camera's extrinsic to its own stamp (see the module docstring)."""
    out, errors = [], []
    for cam in frames:
        stamp_ns = stamps[cam.name]
        if cam.t_base_cam is None or stamp_ns == ref_ns:
            out.append(cam)
            continue
        t_odom_base_cam, error = odometry(stamp_ns)
        if t_odom_base_cam is None:
            errors.append(f'{cam.name} at its own stamp: {error}')
            out.append(cam)
            continue
        moved = inverse(t_odom_base) @ t_odom_base_cam @ cam.t_base_cam
        out.append(replace(cam, t_base_cam=moved))
    return out, '; '.join(errors)


def _odometry(tf: TfBuffer | None, odom_frame: str, base_frame: str,
              stamp_ns: int) -> tuple[np.ndarray | None, str]:
    """``(T_odom_base at stamp_ns, '')`` or ``(None, reason)``; ``(None, '')`` when not asked."""
    if not odom_frame or not base_frame or tf is None:
        return None, ''
    try:
        return tf.lookup(odom_frame, base_frame, stamp_ns), ''
    except Da3Error as err:
        return None, f'{type(err).__name__}: {err}'
