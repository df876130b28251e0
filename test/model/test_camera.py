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

"""Camera encoder and decoder: the decoder's encoding inverts to w2c; views inform each other."""
from model.rotations import random_rotations  # test/model helper (test/ is on sys.path)
import torch

from da3_ros.model.camera import CameraEnc, decoder_cameras
from da3_ros.model.pose_encoding import affine_inverse, encode_pose


def test_decoder_cameras_are_world_to_camera():
    c2w = torch.cat([random_rotations(3, seed=7), torch.randn(3, 3, 1, dtype=torch.float64)],
                    dim=-1)
    k = torch.tensor([[50.0, 0, 21], [0, 40.0, 14], [0, 0, 1]], dtype=torch.float64)
    k = k.expand(3, 3, 3)
    w2c, k_back = decoder_cameras(encode_pose(c2w, k, (28, 42)), (28, 42))
    assert torch.allclose(w2c, affine_inverse(c2w), atol=1e-9)
    assert torch.allclose(k_back, k, atol=1e-9)


def test_each_view_token_depends_on_the_other_views():
    torch.manual_seed(0)
    encoder = CameraEnc(32).eval()
    w2c = torch.eye(4).repeat(1, 2, 1, 1)
    k = torch.tensor([[30.0, 0, 21], [0, 30.0, 14], [0, 0, 1]]).expand(1, 2, 3, 3)
    moved = w2c.clone()
    moved[0, 1, 0, 3] = 2.0  # only view 1 moves
    with torch.no_grad():
        before, after = encoder(w2c, k, (28, 42)), encoder(moved, k, (28, 42))
    assert before.shape == (1, 2, 32)
    assert not torch.allclose(before[0, 0], after[0, 0], atol=1e-4)  # view 0 noticed
