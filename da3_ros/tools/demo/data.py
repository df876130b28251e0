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

"""What the demo page shows, read back from the bags: the node's output and the recording.

Everything comes from the messages the node (here ``da3_bag``) published, so the page shows what
a subscriber would see: ``<ns>/da3_node/rig_step`` (per camera depth, confidence and
``T_world_cam``), ``<ns>/da3_node/points`` (the fused rig cloud in ``base_link``), and from the
recording the camera images and, where it has them, ``<cam>/depth_gt``. The true trajectory and
the rig extrinsics are the sample rig's (``bag.sample_recording``), which the recording's ``/tf``
and ``/tf_static`` carry.
"""
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from da3_ros.geometry import align
from da3_ros.geometry.pose import inverse, make_pose, quat_to_mat
from da3_ros.ros.messages.cloud import cloud_to_arrays
from da3_ros.ros.messages.compressed import compressed_to_rgb
from da3_ros.ros.messages.image import image_to_depth, image_to_rgb
from da3_ros.ros.messages.tf_msgs import stamp_to_ns
from da3_ros.tools.bag import sample_recording as rec
from da3_ros.tools.bag.io import read_decoded

NODE = 'da3_node'


@dataclass
class StepOutput:
    """One published RigStep: stamp (ns), metric flag, per camera depth/confidence/pose."""

    stamp_ns: int
    is_metric: bool
    depth: Dict[str, np.ndarray] = field(default_factory=dict)       # [H, W] m or units
    confidence: Dict[str, np.ndarray] = field(default_factory=dict)  # [H, W]
    t_world_cam: Dict[str, np.ndarray] = field(default_factory=dict)  # [4, 4] OpenCV optical


def _stamp(msg) -> int:
    return stamp_to_ns(msg.header.stamp)


def image_rgb(msg) -> np.ndarray:
    """RGB [H, W, 3] uint8 of an ``Image`` or ``CompressedImage`` message."""
    if msg.__msgtype__.endswith('CompressedImage'):
        return compressed_to_rgb(msg)
    return image_to_rgb(msg)


def _is(topic: str, suffix: str) -> bool:
    """Whether ``topic`` is the node's ``suffix`` topic in any namespace."""
    return topic.endswith(f'/{NODE}/{suffix}')


def _pose(pose) -> np.ndarray:
    quat = np.array([pose.orientation.x, pose.orientation.y, pose.orientation.z,
                     pose.orientation.w])
    return make_pose(quat_to_mat(quat), [pose.position.x, pose.position.y, pose.position.z])


def read_steps(output: Path) -> List[StepOutput]:
    """Every RigStep of the output bag, in order; invalid cameras are left out."""
    steps = []
    for topic, _, msg in read_decoded(output):
        if not _is(topic, 'rig_step'):
            continue
        step = StepOutput(_stamp(msg), bool(msg.is_metric))
        for cam in msg.cameras:
            if not cam.valid:
                continue
            step.depth[cam.camera_name] = image_to_depth(cam.depth)
            if cam.confidence.height:
                step.confidence[cam.camera_name] = image_to_depth(cam.confidence)
            step.t_world_cam[cam.camera_name] = _pose(cam.pose)
        steps.append(step)
    return steps


def last_fused_cloud(output: Path) -> Tuple[np.ndarray, str]:
    """Return the last fused rig cloud ``<ns>/da3_node/points`` as xyz [N, 3] and its frame id."""
    last = None
    for topic, _, msg in read_decoded(output):
        if _is(topic, 'points'):
            last = msg
    if last is None:
        return np.zeros((0, 3), np.float32), ''
    fields = cloud_to_arrays(last)
    xyz = np.stack([fields['x'], fields['y'], fields['z']], axis=-1).reshape(-1, 3)
    return xyz[np.isfinite(xyz).all(axis=1)], last.header.frame_id


def read_inputs(recording: Path, spec: rec.RecordingSpec, cameras: Sequence[str]
                ) -> Tuple[Dict[str, Dict[int, np.ndarray]], Dict[str, Dict[int, np.ndarray]]]:
    """Camera images ``{cam: {stamp: rgb}}`` and ground-truth depth ``{cam: {stamp: m}}``."""
    image_of = {rec.image_topic(spec, c): c for c in cameras}
    gt_of = {rec.depth_gt_topic(spec, c): c for c in cameras}
    images: Dict[str, Dict[int, np.ndarray]] = {c: {} for c in cameras}
    truth: Dict[str, Dict[int, np.ndarray]] = {c: {} for c in cameras}
    for topic, _, msg in read_decoded(recording, list(image_of) + list(gt_of)):
        if topic in gt_of:
            truth[gt_of[topic]][_stamp(msg)] = image_to_depth(msg)
        else:
            images[image_of[topic]][_stamp(msg)] = image_rgb(msg)
    return images, truth


def nearest(frames: Dict[int, np.ndarray], stamp: int, tolerance_ns: int
            ) -> Optional[np.ndarray]:
    """Get the frame closest to ``stamp`` within ``tolerance_ns`` (cameras fire a little apart)."""
    if not frames:
        return None
    key = min(frames, key=lambda s: abs(s - stamp))
    return frames[key] if abs(key - stamp) <= tolerance_ns else None


def rig_extrinsics(spec: rec.RecordingSpec, cameras: Sequence[str]) -> Dict[str, np.ndarray]:
    """``T_base_cam`` [4, 4] of each camera of the sample rig."""
    rig = rec.make_rig(spec)
    return {name: rig.cameras[name].t_base_cam for name in cameras}


def trajectories(steps: Sequence[StepOutput], spec: rec.RecordingSpec,
                 extrinsics: Dict[str, np.ndarray]) -> Tuple[np.ndarray, np.ndarray]:
    """Estimated base positions aligned to the truth, and the true ones, both [N, 3] in odom.

    The estimate is ``T_world_cam @ inv(T_base_cam)`` of the first valid camera; one SE(3)
    (metric output) or Sim(3) fit over the run maps it into odom, as ``--eval``'s ATE does.
    """
    est, true = [], []
    for step in steps:
        name = next((n for n in extrinsics if n in step.t_world_cam), None)
        if name is None:
            continue
        est.append((step.t_world_cam[name] @ inverse(extrinsics[name]))[:3, 3])
        index = int(round((step.stamp_ns - rec.START_NS) * spec.rate / 1e9))
        true.append(rec.ground_truth_poses(spec, [index])[0][:3, 3])
    if len(est) < 2:
        return np.zeros((0, 3)), np.zeros((0, 3))
    est_a, true_a = np.array(est), np.array(true)
    metric = all(s.is_metric for s in steps)
    fit = align.umeyama(est_a, true_a, with_scale=not metric)
    return fit.apply(est_a), true_a
