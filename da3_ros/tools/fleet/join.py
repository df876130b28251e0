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

"""Join the outputs of a bag's time shards into one output bag whose trajectory is one chain.

Each shard ran in its own world frame (the engine starts a new one at its first window). Shard
``k`` is aligned to the joined output of shards ``0..k-1`` on the stamps both produced (its input
overlaps the predecessor's last sets) with the robust Umeyama fit the engine's stitcher uses
(``geometry.align.robust_umeyama``, Huber IRLS with a RANSAC start): SE(3) when the shard's
output is metric, else Sim(3) with the scale fitted on camera centres first. Camera centres and
unit axis tips of every valid ``RigStep`` camera pose are the correspondences.

Then every message of shard ``k`` stamped inside its own interval ``[cut_k, cut_k+1)`` is
copied: ``RigStep`` camera poses and the estimated ``/tf`` transforms (children with the camera
frame prefix, or ``odom -> base`` in ``tf_mode: odom``) are mapped into the chain,
``RigStep.sequence`` is renumbered, and with a Sim(3) scale other than 1 depth images and point
clouds are rescaled. Everything else is copied byte for byte. The joined bag is written with the
single-bag tool's crash-safe writer into ``shards/<key>/joined`` and renamed onto ``bags/<key>``
when complete; the driver then removes the shard outputs (unless ``--keep-shards``).
"""
import dataclasses
import json
import os
from pathlib import Path
import shutil
import time
from typing import Any, Dict, List, Optional, Tuple

import numpy as np

from da3_ros.errors import Da3Error
from da3_ros.geometry import align as align_lib
from da3_ros.tools.bag.config import BagConfig
from da3_ros.tools.fleet.manifest import DONE
from da3_ros.tools.fleet.plan import BagPlan

JOIN_MARK = '.da3_fleet_join'
JOIN_RECORD = 'joined.json'  # beside the shards: the record of a join renamed onto bags/<key>
COMMIT_EVERY = 200  # messages per committed segment of the joined bag
Poses = Dict[int, Dict[str, np.ndarray]]  # stamp ns -> camera -> T_world_cam [4, 4]


class JoinError(Da3Error):
    """Shards cannot be joined (too little overlap, a missing shard output)."""


def join_shards(bag: BagPlan, config: BagConfig, shard_records: List[Dict[str, Any]]
                ) -> Dict[str, Any]:
    """Join ``bag``'s shard outputs into ``bag.output``; return the bag's manifest record."""
    started = time.monotonic()
    final = Path(bag.output)
    home = Path(bag.shards[0].output).parent
    saved = home / JOIN_RECORD
    if final.is_dir() and saved.is_file():  # joined and renamed by an earlier run
        return json.loads(saved.read_text())
    work = home / 'joined'
    if work.exists() and (home / JOIN_MARK).is_file():
        shutil.rmtree(work)
    (home / JOIN_MARK).write_text('joined output being written by da3_bag fleet\n')
    alignments, written = _write_joined(bag, config, work)
    rec = _record(bag, shard_records, alignments, written, time.monotonic() - started)
    tmp = saved.with_name(saved.name + '.tmp')
    tmp.write_text(json.dumps(rec, indent=1, sort_keys=True, default=str))
    os.replace(tmp, saved)
    final.parent.mkdir(parents=True, exist_ok=True)
    os.replace(work, final)
    return rec


def _write_joined(bag: BagPlan, config: BagConfig, work: Path) -> Tuple[list, int]:
    from da3_ros.tools.bag.io import InputBag, make_typestore
    from da3_ros.tools.bag.writer import SegmentedWriter
    store = make_typestore()
    writer = SegmentedWriter(work, store)
    step_topic = config.topic('rig_step')
    chain: Poses = {}
    alignments, sequence = [], 0
    for task in bag.shards:
        with InputBag(Path(task.output), store) as shard:
            if step_topic not in shard.topics:
                raise JoinError(f'shard {task.name}: no {step_topic} in {task.output};'
                                ' --shard-s needs the rig_step output')
            own, metric = _poses(shard, step_topic)
            sim, info = _align(own, chain, metric, config, task.name)
            moved = bool(chain)  # shard 0 defines the chain: its messages are copied as they are
            alignments.append(dict(info, shard=task.shard))
            chain, pending = {}, 0
            lo, hi = task.cut_ns
            for message in shard.messages():
                if not lo <= message.time_ns < hi:
                    continue
                data = message.raw
                if message.topic == step_topic:
                    msg = _map_rig_step(shard.decode(message), sim if moved else None,
                                        sequence, chain)
                    data, sequence = store.serialize_cdr(msg, message.msgtype), sequence + 1
                elif moved and _mapped(message, config, sim):
                    msg = _map_message(shard.decode(message), message.topic, config, sim)
                    data = store.serialize_cdr(msg, message.msgtype)
                writer.write(message.topic, message.msgtype, message.time_ns, data)
                pending += 1
                if pending >= COMMIT_EVERY:
                    writer.commit({'joined_shards': task.shard})
                    pending = 0
            writer.commit({'joined_shards': task.shard + 1})
    return alignments, sequence


def _poses(shard: Any, topic: str) -> Tuple[Poses, bool]:
    """Camera poses of every RigStep of a shard output, and whether all were metric."""
    from da3_ros.ros.messages.quaternion import transform_matrix
    from da3_ros.ros.messages.tf_msgs import stamp_to_ns
    poses: Poses = {}
    metric = True
    for message in shard.messages([topic]):
        msg = shard.decode(message)
        metric = metric and bool(msg.is_metric)
        p = {}
        for cam in msg.cameras:
            if cam.valid:
                pos, q = cam.pose.position, cam.pose.orientation
                p[cam.camera_name] = transform_matrix([pos.x, pos.y, pos.z],
                                                      [q.x, q.y, q.z, q.w])
        poses[stamp_to_ns(msg.header.stamp)] = p
    return poses, metric


def _align(own: Poses, chain: Poses, metric: bool, config: BagConfig,
           name: str) -> Tuple[align_lib.Sim3, Dict[str, Any]]:
    """Fit of a shard's world to the chain on the camera poses both have."""
    if not chain:
        return align_lib.Sim3.identity(), {'common_poses': 0, 'scale': 1.0, 'rms': 0.0}
    pairs = [(own[s][c], chain[s][c]) for s in sorted(set(own) & set(chain))
             for c in sorted(set(own[s]) & set(chain[s]))]
    if len(pairs) < 2:
        raise JoinError(f'shard {name} shares {len(pairs)} camera pose(s) with its'
                        ' predecessor; need >= 2 (the overlap is too short)')
    src = np.stack([p[0] for p in pairs])
    dst = np.stack([p[1] for p in pairs])
    cfg = config.engine.window
    reach = max(float(np.median(np.linalg.norm(dst[:, :3, 3] - dst[:, :3, 3].mean(0),
                                               axis=1))), 1e-6)
    robust = {'huber_delta': cfg.huber_delta * reach, 'iterations': cfg.align_iterations,
              'ransac_trials': 32 if len(pairs) >= 3 else 0}
    scale = 1.0
    if not metric:
        scale = align_lib.robust_umeyama(src[:, :3, 3], dst[:, :3, 3], **robust)[0].scale
    fit, _ = align_lib.robust_umeyama(_axis_points(src, 1.0 / scale), _axis_points(dst, 1.0),
                                      with_scale=False, fixed_scale=scale, **robust)
    rms = float(np.sqrt(np.mean(np.sum((fit.apply(src[:, :3, 3]) - dst[:, :3, 3]) ** 2, 1))))
    return fit, {'common_poses': len(pairs), 'scale': float(fit.scale), 'rms': rms,
                 'metric': metric}


def _axis_points(poses: np.ndarray, length: float) -> np.ndarray:
    """Centres and axis tips [N * 4, 3] of poses [N, 4, 4] (axes ``length`` long)."""
    tips = poses[:, None, :3, 3] + np.swapaxes(poses[:, :3, :3], 1, 2) * length
    return np.concatenate([poses[:, None, :3, 3], tips], axis=1).reshape(-1, 3)


def _map_pose(types_pose: Any, sim: align_lib.Sim3) -> Any:
    """Return a ``geometry_msgs/Pose`` mapped by ``sim``."""
    from da3_ros.ros.messages.quaternion import split_transform, transform_matrix
    pos, q = types_pose.position, types_pose.orientation
    matrix = sim.apply_pose(transform_matrix([pos.x, pos.y, pos.z], [q.x, q.y, q.z, q.w]))
    t, q2 = split_transform(matrix)
    return dataclasses.replace(
        types_pose, position=dataclasses.replace(pos, x=float(t[0]), y=float(t[1]),
                                                 z=float(t[2])),
        orientation=dataclasses.replace(q, x=float(q2[0]), y=float(q2[1]), z=float(q2[2]),
                                        w=float(q2[3])))


def _map_rig_step(msg: Any, sim: Optional[align_lib.Sim3], sequence: int,
                  chain: Poses) -> Any:
    """Get RigStep mapped by ``sim`` (None: as it is), renumbered; its poses go into ``chain``."""
    from da3_ros.ros.messages.quaternion import transform_matrix
    from da3_ros.ros.messages.tf_msgs import stamp_to_ns
    cameras, poses = [], {}
    for cam in msg.cameras:
        if cam.valid:
            if sim is not None:
                cam = dataclasses.replace(cam, pose=_map_pose(cam.pose, sim),
                                          depth=_scaled_image(cam.depth, sim.scale))
            pos, q = cam.pose.position, cam.pose.orientation
            poses[cam.camera_name] = transform_matrix([pos.x, pos.y, pos.z],
                                                      [q.x, q.y, q.z, q.w])
        cameras.append(cam)
    chain[stamp_to_ns(msg.header.stamp)] = poses
    return dataclasses.replace(msg, cameras=cameras, sequence=sequence)


def _mapped(message: Any, config: BagConfig, sim: align_lib.Sim3) -> bool:
    """Whether a message carries world poses (``/tf``) or, with a scale, metric values."""
    if message.topic == '/tf':
        return config.output.tf_mode != 'none'
    kind = message.msgtype.rsplit('/', 1)[-1]
    return sim.scale != 1.0 and (kind == 'PointCloud2' or message.topic.endswith('/depth'))


def _map_message(msg: Any, topic: str, config: BagConfig, sim: align_lib.Sim3) -> Any:
    if topic == '/tf':
        out = config.output
        return dataclasses.replace(msg, transforms=[
            _map_transform(t, sim) if t.child_frame_id.startswith(out.camera_frame_prefix) or (
                out.tf_mode == 'odom' and t.child_frame_id == out.base_frame) else t
            for t in msg.transforms])
    if msg.__msgtype__.endswith('PointCloud2'):
        return _scaled_cloud(msg, sim.scale)
    return _scaled_image(msg, sim.scale)


def _map_transform(transform: Any, sim: align_lib.Sim3) -> Any:
    from da3_ros.ros.messages.quaternion import split_transform
    from da3_ros.ros.messages.tf_msgs import transform_from_msg
    matrix = sim.apply_pose(transform_from_msg(transform)[3])
    t, q = split_transform(matrix)
    tr = transform.transform
    return dataclasses.replace(transform, transform=dataclasses.replace(
        tr, translation=dataclasses.replace(tr.translation, x=float(t[0]), y=float(t[1]),
                                            z=float(t[2])),
        rotation=dataclasses.replace(tr.rotation, x=float(q[0]), y=float(q[1]), z=float(q[2]),
                                     w=float(q[3]))))


def _scaled_image(msg: Any, scale: float) -> Any:
    """Return a depth image (32FC1 metres or 16UC1 millimetres) times ``scale``."""
    if scale == 1.0 or msg.encoding not in ('32FC1', '16UC1'):
        return msg
    dtype = np.dtype(np.float32 if msg.encoding == '32FC1' else np.uint16)
    dtype = dtype.newbyteorder('>' if msg.is_bigendian else '<')
    values = np.frombuffer(memoryview(msg.data).cast('B'), dtype).astype(np.float64) * scale
    if dtype.kind == 'u':
        values = np.clip(np.rint(values), 0, 65535)
    return dataclasses.replace(msg, data=values.astype(dtype).view(np.uint8))


def _scaled_cloud(msg: Any, scale: float) -> Any:
    """Return a PointCloud2 with float32 ``x``, ``y``, ``z`` times ``scale``."""
    data = np.frombuffer(memoryview(msg.data).cast('B'), np.uint8).copy()
    order = '>' if msg.is_bigendian else '<'
    for field in msg.fields:
        if field.name in ('x', 'y', 'z') and field.datatype == 7:  # FLOAT32
            view = np.ndarray((msg.height * msg.width,), np.dtype(order + 'f4'), data,
                              offset=field.offset, strides=(msg.point_step,))
            view *= np.float32(scale)
    return dataclasses.replace(msg, data=data)


def _record(bag: BagPlan, shards: List[Dict[str, Any]], alignments: list, steps: int,
            wall_s: float) -> Dict[str, Any]:
    drops: Dict[str, Dict[str, int]] = {}
    for rec in shards:
        for kind, counts in (rec.get('drops') or {}).items():
            merged = drops.setdefault(kind, {})
            for reason, count in counts.items():
                merged[reason] = merged.get(reason, 0) + count
    return {'name': bag.key, 'bag': bag.bag, 'shard': None, 'status': DONE, 'error': '',
            'output': bag.output, 'shards': len(bag.shards),
            'frames_in': sum(r.get('frames_in', 0) for r in shards), 'frames_out': steps,
            'drops': drops, 'messages_written': None,
            'wall_s': round(sum(r.get('wall_s', 0.0) for r in shards) + wall_s, 3),
            'gpu_s': round(sum(r.get('gpu_s', 0.0) for r in shards), 3),
            'eval': None, 'alignment': alignments, 'worker': shards[-1].get('worker', ''),
            'finished': shards[-1].get('finished', '')}
