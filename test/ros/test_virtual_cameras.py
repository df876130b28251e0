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

"""Virtual cameras: pose and intrinsics conventions, rendering a result, parameter errors."""
import numpy as np
import pytest
import torch

from da3_ros.engine.types import CameraResult, RigResult
from da3_ros.errors import ConfigError
from da3_ros.render.splats import depth_splats
from da3_ros.ros.virtual_cameras import render_views, VirtualCamera


def test_pose_and_intrinsics_conventions():
    down = VirtualCamera('bev', pose=(1.0, 2.0, 10.0, 0.0, np.pi / 2, 0.0), width=40, height=30,
                         fov_deg=90.0)
    t = down.t_base_optical()
    np.testing.assert_allclose(t[:3, 3], [1.0, 2.0, 10.0])
    np.testing.assert_allclose(t[:3, 2], [0.0, 0.0, -1.0], atol=1e-9)  # optical z looks down
    np.testing.assert_allclose(t[:3, 1], [-1.0, 0.0, 0.0], atol=1e-9)  # image down = backwards
    ahead = VirtualCamera('front', width=40, height=30).t_base_optical()
    np.testing.assert_allclose(ahead[:3, 2], [1.0, 0.0, 0.0], atol=1e-9)  # looks along base x
    np.testing.assert_allclose(down.k(), [[20.0, 0, 20.0], [0, 20.0, 15.0], [0, 0, 1]])
    given = VirtualCamera('k', intrinsics=(30.0, 31.0, 10.0, 12.0))
    np.testing.assert_allclose(given.k()[:2], [[30.0, 0, 10.0], [0, 31.0, 12.0]])
    for bad in ({'pose': (0.0,) * 5}, {'width': 0}, {'fov_deg': 180.0},
                {'intrinsics': (0.0, 1.0, 1.0, 1.0)}):
        with pytest.raises(ConfigError, match='virtual.x'):
            VirtualCamera('x', **bad)


def test_a_virtual_camera_at_a_real_camera_sees_its_depth():
    """A wall 4 m ahead of the base, seen by a virtual camera placed 1 m behind the base."""
    k = np.array([[20.0, 0.0, 16.0], [0.0, 20.0, 12.0], [0.0, 0.0, 1.0]])
    cam_pose = VirtualCamera('real').t_base_optical()  # a real camera at the base, looking ahead
    depth = torch.full((1, 24, 32), 4.0)
    rgb = torch.full((1, 24, 32, 3), 0.5)
    gaussians = depth_splats(depth, rgb, torch.tensor(k[None], dtype=torch.float32),
                             torch.tensor(cam_pose[None], dtype=torch.float32))
    real = CameraResult('real', 'f', depth[0].numpy(), np.ones((24, 32), np.float32),
                        np.zeros((24, 32), bool), k, cam_pose)
    result = RigResult(1.0, {'real': real}, np.zeros((0, 3), np.float32), np.eye(4), False,
                       True, 'rig', 1.0, False, (1.0,), gaussians=gaussians)
    behind = VirtualCamera('behind', pose=(-1.0, 0.0, 0.0, 0.0, 0.0, 0.0), width=16, height=12,
                           fov_deg=40.0)
    views = render_views(result, [behind], {'behind': behind.t_base_optical()}, 'reference')
    view = views['behind']
    assert view.rgb.shape == (12, 16, 3) and view.rgb.dtype == np.uint8
    np.testing.assert_allclose(view.depth, 5.0, rtol=1e-3)  # 4 m + the 1 m set-back
    assert np.all(np.abs(view.rgb.astype(int) - 128) <= 2)
    assert render_views(result, [behind], {}, 'reference') == {}  # no pose: nothing rendered
