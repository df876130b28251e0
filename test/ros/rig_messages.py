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

"""Synthetic rig timesteps as ROS messages (Image/CompressedImage, CameraInfo, TF) for tests.

Camera ``<name>`` has optical frame ``<name>_optical``; ``T_base_cam`` comes from
``da3_ros.synthetic.rig``; odometry ``odom -> base_link`` from the synthetic trajectory.
"""
import struct
from typing import Any, Sequence
import zlib

import numpy as np

from da3_ros.ros.messages.compressed import rgb_to_compressed
from da3_ros.ros.messages.image import array_to_image
from da3_ros.ros.messages.msgtypes import MsgTypes
from da3_ros.ros.messages.tf_msgs import make_header, tf_message, transform_stamped
from da3_ros.ros.sync.approximate_time import SyncedSet
from da3_ros.ros.sync.multi_camera import ImagePair
from da3_ros.synthetic.sequence import SyntheticRig

NS = 1_000_000_000
BASE, ODOM = 'base_link', 'odom'


def camera_info(types: MsgTypes, k: np.ndarray, width: int, height: int, stamp_ns: int,
                frame_id: str) -> Any:
    """Return a CameraInfo without distortion."""
    p = np.concatenate([k, np.zeros((3, 1))], axis=1)
    return types.CameraInfo(
        header=make_header(types, stamp_ns, frame_id), height=height, width=width,
        distortion_model='plumb_bob', d=np.zeros(5), k=np.asarray(k, float).reshape(-1),
        r=np.eye(3).reshape(-1), p=p.reshape(-1), binning_x=0, binning_y=0,
        roi=types.RegionOfInterest(x_offset=0, y_offset=0, height=0, width=0,
                                   do_rectify=False))


def image_msg(types: MsgTypes, rgb: np.ndarray, stamp_ns: int, frame_id: str,
              transport: str = 'raw', encoding: str = 'rgb8') -> Any:
    """``rgb`` as an Image of ``encoding`` (rgb8, bgr8, mono8) or a PNG CompressedImage."""
    if transport == 'compressed':
        return rgb_to_compressed(types, rgb, stamp_ns, frame_id, codec='png')
    if encoding == 'bgr8':
        rgb = np.ascontiguousarray(rgb[..., ::-1])
    elif encoding == 'mono8':
        rgb = np.ascontiguousarray(rgb[..., 0])
    return array_to_image(types, rgb, encoding, stamp_ns, frame_id)


def static_tf(types: MsgTypes, rig: SyntheticRig, names: Sequence[str] | None = None) -> Any:
    """``/tf_static``: ``base_link -> <name>_optical`` for every camera."""
    names = list(names or rig.cameras)
    return tf_message(types, [transform_stamped(types, rig.cameras[n].t_base_cam, BASE,
                                                f'{n}_optical', 0) for n in names])


def odom_tf(types: MsgTypes, rig: SyntheticRig, step: int) -> Any:
    """``/tf``: ``odom -> base_link`` at timestep ``step``."""
    stamp_ns = int(round(rig.trajectory.stamp(step) * NS))
    return tf_message(types, [transform_stamped(types, rig.trajectory.t_odom_base(step), ODOM,
                                                BASE, stamp_ns)])


def synced_set(types: MsgTypes, rig: SyntheticRig, step: int, names: Sequence[str], *,
               missing: Sequence[str] = (), transport: str = 'raw') -> SyncedSet:
    """Return a SyncedSet as ``MultiCameraSync`` emits it for timestep ``step``."""
    stamp_ns = int(round(rig.trajectory.stamp(step) * NS))
    stamps, messages = [], []
    h, w = rig.size_hw
    for name in names:
        if name in missing:
            stamps.append(None)
            messages.append(None)
            continue
        rgb, _ = rig.render((rig.trajectory.stamp(step), name))
        frame_id = f'{name}_optical'
        image = image_msg(types, rgb, stamp_ns, frame_id, transport)
        info = camera_info(types, rig.intrinsics(name, rig.size_hw), w, h, stamp_ns, frame_id)
        stamps.append(stamp_ns)
        messages.append(ImagePair(name, stamp_ns, image, info, stamp_ns))
    return SyncedSet(tuple(names), tuple(stamps), tuple(messages))


def png_header_only(width: int, height: int) -> bytes:
    """Return a PNG whose header claims ``width`` x ``height`` grey pixels (a few hundred bytes).

    The IDAT holds one compressed row: enough for Pillow to open it, far from enough to decode.
    """
    def chunk(kind: bytes, body: bytes) -> bytes:
        return (struct.pack('>I', len(body)) + kind + body
                + struct.pack('>I', zlib.crc32(kind + body) & 0xFFFFFFFF))

    ihdr = struct.pack('>IIBBBBB', width, height, 8, 0, 0, 0, 0)
    idat = zlib.compress(b'\x00' * (width + 1))
    return b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', ihdr) + chunk(b'IDAT', idat) + chunk(b'IEND',
                                                                                      b'')
