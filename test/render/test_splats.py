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

"""Moving Gaussians with the scene keeps every rendered pixel; depth splats reproduce depth."""
import math

import torch

from da3_ros.model.gaussians import Gaussians
from da3_ros.render import render, RenderCameras
from da3_ros.render.splats import depth_splats, transform_gaussians


def scene(count=40, seed=0) -> Gaussians:
    """Anisotropic Gaussians with view-dependent colour in front of the origin camera."""
    gen = torch.Generator().manual_seed(seed)
    means = torch.rand(count, 3, generator=gen) * torch.tensor([2.0, 1.5, 2.0]) \
        - torch.tensor([1.0, 0.75, -2.0])
    scales = torch.rand(count, 3, generator=gen) * 0.2 + 0.02
    quats = torch.nn.functional.normalize(torch.randn(count, 4, generator=gen), dim=-1)
    harmonics = torch.randn(count, 3, 9, generator=gen) * torch.tensor([1.0] + [0.3] * 8)
    opacities = torch.rand(count, generator=gen) * 0.8 + 0.1
    return Gaussians(means[None], scales[None], quats[None], harmonics[None], opacities[None])


def cams(w2c: torch.Tensor) -> RenderCameras:
    k = torch.tensor([[20.0, 0.0, 12.0], [0.0, 20.0, 9.0], [0.0, 0.0, 1.0]])
    return RenderCameras(w2c[None], k[None], 24, 18)


def test_rigid_motion_of_scene_and_camera_leaves_the_image_unchanged():
    angle = 0.7
    rot = torch.tensor([[math.cos(angle), 0.0, math.sin(angle)], [0.0, 1.0, 0.0],
                        [-math.sin(angle), 0.0, math.cos(angle)]])
    rot = rot @ torch.tensor([[1.0, 0.0, 0.0], [0.0, math.cos(0.4), -math.sin(0.4)],
                              [0.0, math.sin(0.4), math.cos(0.4)]])
    trans = torch.tensor([0.3, -0.2, 1.5])
    g = scene()
    before = render(g, cams(torch.eye(4)), 'reference')
    moved = transform_gaussians(g, 2.0, rot, trans)
    motion = torch.eye(4)
    motion[:3, :3], motion[:3, 3] = rot, trans
    w2c = torch.linalg.inv(motion)  # the camera moves with the scene; x2 units: depth x2
    after = render(moved, cams(w2c), 'reference')
    assert before.alpha.max() > 0.5
    assert torch.allclose(after.alpha, before.alpha, atol=1e-4)
    assert torch.allclose(after.colour, before.colour, atol=1e-4)
    drawn = before.alpha > 0.01
    assert torch.allclose(after.depth[drawn], 2.0 * before.depth[drawn], rtol=1e-4)


def test_depth_splats_render_back_their_depth_and_colour():
    depth = torch.full((1, 18, 24), 3.0)
    depth[0, :, 12:] = 5.0
    rgb = torch.zeros(1, 18, 24, 3)
    rgb[..., 0] = 0.8
    rgb[0, :, 12:] = torch.tensor([0.1, 0.6, 0.3])
    k = torch.tensor([[20.0, 0.0, 12.0], [0.0, 20.0, 9.0], [0.0, 0.0, 1.0]])
    pose = torch.eye(4)
    pose[:3, 3] = torch.tensor([1.0, 0.0, 0.0])
    splats = depth_splats(depth, rgb, k[None], pose[None])
    assert splats.means.shape == (1, 18 * 24, 3)
    w2c = torch.linalg.inv(pose)
    out = render(splats, cams(w2c), 'reference')
    inner = (slice(2, 16), slice(2, 10))  # away from the image border and the depth edge
    assert torch.allclose(out.depth[0][inner], torch.full((14, 8), 3.0), rtol=1e-3)
    assert torch.allclose(out.colour[0][inner], torch.tensor([0.8, 0.0, 0.0]).expand(14, 8, 3),
                          atol=0.03)
    keep = torch.zeros(1, 18, 24, dtype=torch.bool)
    keep[0, :4] = True
    assert depth_splats(depth, rgb, k[None], pose[None], keep).means.shape[1] == 4 * 24


def test_quaternion_product_matches_scipy_composition():
    from scipy.spatial.transform import Rotation

    from da3_ros.render.splats import quat_multiply_wxyz
    gen = torch.Generator().manual_seed(1)
    a, b = (torch.nn.functional.normalize(torch.randn(16, 4, generator=gen,
                                                      dtype=torch.float64), dim=-1)
            for _ in range(2))
    composed = Rotation.from_quat(a.numpy(), scalar_first=True) \
        * Rotation.from_quat(b.numpy(), scalar_first=True)
    torch.testing.assert_close(quat_multiply_wxyz(a, b),
                               torch.from_numpy(composed.as_quat(scalar_first=True)),
                               atol=1e-12, rtol=0)
