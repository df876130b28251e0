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

"""The sample recording: the synthetic six-camera drive written as a rosbag2 (mcap or sqlite3).

Everything comes from :mod:`da3_ros.synthetic` (no third-party data): per camera an image topic
(``sensor_msgs/CompressedImage`` jpeg or ``sensor_msgs/Image`` rgb8), ``CameraInfo`` and a
ground-truth depth topic (32FC1 metres, NaN sky); ``/tf_static`` with ``base_link`` to each
optical frame and ``/tf`` with ``odom`` to ``base_link`` per timestep. Each camera fires a few
milliseconds after the rig trigger (``TRIGGER_OFFSET_NS`` times its index), as real rigs do, so the
node's approximate-time sync has work to do. Time starts at ``START_NS`` (never 0, which TF reads
as "latest").

Topics and frames follow ``config/multi_cam.yaml`` (``<prefix>`` defaults to ``/cam_``):
``<prefix><cam>/image_raw`` or ``<prefix><cam>/image_raw/compressed``,
``<prefix><cam>/camera_info``, ``<prefix><cam>/depth_gt``, ``/tf``, ``/tf_static``; optical frames
``cam_<cam>_optical_frame``.
"""
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Sequence, Tuple

import numpy as np

from da3_ros.synthetic.rig import Trajectory
from da3_ros.synthetic.sequence import SyntheticRig
from da3_ros.tools.bag.io import make_typestore, msg_types
from da3_ros.tools.bag.writer import offered_qos as writer_qos

START_NS = 1_700_000_000 * 1_000_000_000
TRIGGER_OFFSET_NS = 1_000_000
BASE_FRAME = 'base_link'
ODOM_FRAME = 'odom'
TRANSPORTS = ('compressed', 'raw')
STORAGES = ('mcap', 'sqlite3')


@dataclass(frozen=True)
class RecordingSpec:
    """What the sample recording contains.

    Attributes:
        steps: number of timesteps.
        size_hw: image size (height, width).
        rate: timestep rate (Hz).
        cameras: camera names (a subset of the six-camera rig), empty for all six.
        transport: ``'compressed'`` (jpeg CompressedImage) or ``'raw'`` (rgb8 Image).
        storage: ``'mcap'`` or ``'sqlite3'``.
        prefix: topic prefix of the camera topics.
        depth_gt: write ``<cam>/depth_gt`` topics.
        jpeg_quality: JPEG quality of compressed images.
    """

    steps: int = 20
    size_hw: Tuple[int, int] = (90, 160)
    rate: float = 10.0
    cameras: Tuple[str, ...] = ()
    transport: str = 'compressed'
    storage: str = 'mcap'
    prefix: str = '/cam_'
    depth_gt: bool = True
    jpeg_quality: int = 90


def image_topic(spec: RecordingSpec, name: str) -> str:
    """Image topic of camera ``name`` under ``spec``'s transport."""
    base = f'{spec.prefix}{name}/image_raw'
    return base + '/compressed' if spec.transport == 'compressed' else base


def info_topic(spec: RecordingSpec, name: str) -> str:
    """Return the CameraInfo topic of camera ``name``."""
    return f'{spec.prefix}{name}/camera_info'


def depth_gt_topic(spec: RecordingSpec, name: str) -> str:
    """Ground-truth depth topic of camera ``name``."""
    return f'{spec.prefix}{name}/depth_gt'


def optical_frame(name: str) -> str:
    """Optical frame id of camera ``name``."""
    return f'cam_{name}_optical_frame'


def step_stamp_ns(spec: RecordingSpec, step: int) -> int:
    """Rig trigger time (ns) of timestep ``step``."""
    return START_NS + int(round(step * 1e9 / spec.rate))


def make_rig(spec: RecordingSpec) -> SyntheticRig:
    """Return the synthetic rig that renders ``spec``."""
    return SyntheticRig(spec.size_hw, trajectory=Trajectory(rate=spec.rate), cache_size=8)


def camera_names(spec: RecordingSpec, rig: SyntheticRig) -> Tuple[str, ...]:
    """Return the recorded cameras in rig order."""
    names = tuple(spec.cameras) or tuple(rig.cameras)
    unknown = [n for n in names if n not in rig.cameras]
    if unknown:
        raise ValueError(f'unknown cameras {unknown}; the rig has {list(rig.cameras)}')
    return names


def topic_types(spec: RecordingSpec, names: Sequence[str]) -> dict:
    """``{topic: message type}`` of every topic of the recording."""
    image_type = ('sensor_msgs/msg/CompressedImage' if spec.transport == 'compressed'
                  else 'sensor_msgs/msg/Image')
    out = {'/tf_static': 'tf2_msgs/msg/TFMessage', '/tf': 'tf2_msgs/msg/TFMessage'}
    for name in names:
        out[image_topic(spec, name)] = image_type
        out[info_topic(spec, name)] = 'sensor_msgs/msg/CameraInfo'
        if spec.depth_gt:
            out[depth_gt_topic(spec, name)] = 'sensor_msgs/msg/Image'
    return out


def static_tf(types: Any, rig: SyntheticRig, names: Sequence[str]) -> Any:
    """``/tf_static``: ``base_link`` to each optical frame."""
    from da3_ros.ros.messages.tf_msgs import tf_message, transform_stamped
    return tf_message(types, [transform_stamped(types, rig.cameras[n].t_base_cam, BASE_FRAME,
                                                optical_frame(n), START_NS) for n in names])


def step_messages(types: Any, spec: RecordingSpec, rig: SyntheticRig, names: Sequence[str],
                  step: int) -> Iterator[Tuple[str, int, Any]]:
    """``(topic, log time ns, message)`` of one timestep, in time order."""
    from da3_ros.ros.messages.compressed import rgb_to_compressed
    from da3_ros.ros.messages.image import array_to_image, depth_to_image
    from da3_ros.ros.messages.rig_output import camera_info
    from da3_ros.ros.messages.tf_msgs import tf_message, transform_stamped
    trigger = step_stamp_ns(spec, step)
    odom = rig.trajectory.t_odom_base(step)
    yield '/tf', trigger, tf_message(types, [transform_stamped(types, odom, ODOM_FRAME,
                                                               BASE_FRAME, trigger)])
    for index, name in enumerate(names):
        stamp = trigger + index * TRIGGER_OFFSET_NS
        frame = optical_frame(name)
        image, depth = rig.render((rig.trajectory.stamp(step), name))
        if spec.transport == 'compressed':
            msg = rgb_to_compressed(types, image, stamp, frame, quality=spec.jpeg_quality)
        else:
            msg = array_to_image(types, image, 'rgb8', stamp, frame)
        yield info_topic(spec, name), stamp, camera_info(
            types, rig.intrinsics(name, spec.size_hw), spec.size_hw, stamp, frame)
        yield image_topic(spec, name), stamp, msg
        if spec.depth_gt:
            yield depth_gt_topic(spec, name), stamp, depth_to_image(types, depth, stamp, frame)


def offered_qos(topic: str) -> list:
    """Get the output bags' offered QoS of ``topic`` (``writer.offered_qos``) as rosbags ``Qos``.

    ``ros2 bag play`` offers what the bag recorded; ``/tf_static`` must be transient-local
    (as tf2's static broadcaster offers it) or latched subscribers such as da3_node's never
    connect and get no extrinsics. One definition serves the recording and the output bags.
    """
    from rosbags.interfaces import (Qos, QosDurability, QosHistory, QosLiveliness,
                                    QosReliability, QosTime)

    def duration(value: dict) -> QosTime:
        return QosTime(sec=value['sec'], nsec=value['nsec'])

    return [Qos(history=QosHistory[p['history'].upper()], depth=p['depth'],
                reliability=QosReliability[p['reliability'].upper()],
                durability=QosDurability[p['durability'].upper()],
                deadline=duration(p['deadline']), lifespan=duration(p['lifespan']),
                liveliness=QosLiveliness[p['liveliness'].upper()],
                liveliness_lease_duration=duration(p['liveliness_lease_duration']),
                avoid_ros_namespace_conventions=p['avoid_ros_namespace_conventions'])
            for p in writer_qos(topic)]


def write_recording(path: Path, spec: RecordingSpec = RecordingSpec()) -> Path:
    """Render ``spec`` into a new rosbag2 folder at ``path``; return ``path``.

    Raises:
        ValueError: unknown camera, transport or storage, or ``path`` exists.
    """
    from rosbags.rosbag2 import StoragePlugin, Writer
    if spec.transport not in TRANSPORTS or spec.storage not in STORAGES:
        raise ValueError(f'transport {spec.transport!r} / storage {spec.storage!r}: use one of'
                         f' {TRANSPORTS} / {STORAGES}')
    if Path(path).exists():  # rosbags' own WriterError is no ValueError: callers catch this one
        raise ValueError(f'{path} exists already; the recording needs a new folder')
    store = make_typestore()
    types = msg_types(store)
    rig = make_rig(spec)
    names = camera_names(spec, rig)
    plugin = StoragePlugin.MCAP if spec.storage == 'mcap' else StoragePlugin.SQLITE3
    with Writer(Path(path), version=9, storage_plugin=plugin) as writer:
        conns = {topic: writer.add_connection(topic, msgtype, typestore=store,
                                              offered_qos_profiles=offered_qos(topic))
                 for topic, msgtype in topic_types(spec, names).items()}

        def put(topic: str, time_ns: int, msg: Any) -> None:
            conn = conns[topic]
            writer.write(conn, time_ns, store.serialize_cdr(msg, conn.msgtype))

        put('/tf_static', START_NS, static_tf(types, rig, names))
        for step in range(spec.steps):
            for topic, time_ns, msg in step_messages(types, spec, rig, names, step):
                put(topic, time_ns, msg)
    return Path(path)


def ground_truth_poses(spec: RecordingSpec, steps: Sequence[int]) -> np.ndarray:
    """``T_odom_base`` [N, 4, 4] of the given timesteps."""
    traj = Trajectory(rate=spec.rate)
    return np.stack([traj.t_odom_base(step) for step in steps])
