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

"""The synthetic rig sequence: rendered depth agrees with the scene geometry; frame options.

These also exercise rig.py and scene.py together (their own files: test_rig.py, test_scene.py).
"""
import numpy as np

from da3_ros.geometry import pose as pose_lib
from da3_ros.synthetic import rig as rig_lib
from da3_ros.synthetic import scene as scene_lib
from da3_ros.synthetic.sequence import SyntheticRig


def test_rig_is_realistic_and_rendered_depth_matches_geometry():
    cams = rig_lib.driving_rig()
    assert len(cams) == 6
    for cam in cams:
        assert np.isclose(np.linalg.det(cam.t_base_cam[:3, :3]), 1.0)
        assert 1.0 < cam.t_base_cam[2, 3] < 2.0
    rig = SyntheticRig((28, 56))
    key = (rig.trajectory.stamp(7), 'front_left')
    image, depth = rig.render(key)
    assert np.isfinite(depth).mean() > 0.9
    # Unproject one pixel and cast a ray to it from another camera's centre: same surface.
    k = rig.intrinsics('front_left', (28, 56))
    p_cam = depth[14, 20] * np.linalg.inv(k) @ [20.0, 14.0, 1.0]
    p_world = pose_lib.transform_points(rig.t_world_cam(key), p_cam)
    origin = rig.t_world_cam((key[0], 'front'))[:3, 3]
    t_hit, _ = scene_lib.cast(rig.scene, origin, (p_world - origin)[None])
    assert abs(t_hit[0] - 1.0) < 1e-9


def test_frame_options_and_missing_cameras():
    rig = SyntheticRig((14, 28))
    frame = rig.frame(3, names=['front', 'back'], with_intrinsics=False, with_odometry=True)
    assert [c.name for c in frame.cameras] == ['front', 'back']
    assert frame.cameras[0].k is None and frame.cameras[0].t_base_cam is not None
    np.testing.assert_allclose(frame.t_odom_base, rig.trajectory.t_odom_base(3))
