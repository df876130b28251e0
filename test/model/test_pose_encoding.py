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

"""Quaternions (xyzw, w >= 0), the 9-number pose encoding and the affine inverse."""
from model.rotations import random_rotations  # test/model helper (test/ is on sys.path)
import torch

from da3_ros.model.pose_encoding import (affine_inverse, decode_pose, encode_pose, mat_to_quat,
                                         quat_to_mat)


def test_quaternion_round_trip_and_sign():
    rot = random_rotations(64)
    quat = mat_to_quat(rot)
    assert torch.all(quat[:, 3] >= 0)
    assert torch.allclose(quat.norm(dim=-1), torch.ones(64, dtype=torch.float64))
    assert torch.allclose(quat_to_mat(quat), rot, atol=1e-12)
    # Non-unit quaternions decode to the same rotation.
    assert torch.allclose(quat_to_mat(quat * 3.0), rot, atol=1e-12)


def test_quaternions_match_scipy():
    """The torch copies (kept: bit for bit with upstream, batched on the GPU) agree with scipy."""
    from scipy.spatial.transform import Rotation
    rot = random_rotations(64, seed=4)
    quat = mat_to_quat(rot)
    expect = Rotation.from_matrix(rot.numpy()).as_quat(canonical=True)
    torch.testing.assert_close(quat, torch.from_numpy(expect), atol=1e-12, rtol=0)
    raw = torch.randn(64, 4, generator=torch.Generator().manual_seed(5), dtype=torch.float64)
    torch.testing.assert_close(quat_to_mat(raw),
                               torch.from_numpy(Rotation.from_quat(raw.numpy()).as_matrix()),
                               atol=1e-12, rtol=0)


def test_pose_encoding_round_trip_centred_principal_point():
    rot = random_rotations(4, seed=1)
    c2w = torch.cat([rot, torch.randn(4, 3, 1, dtype=torch.float64)], dim=-1)
    k = torch.tensor([[300.0, 0, 91], [0, 280.0, 63], [0, 0, 1]], dtype=torch.float64)
    enc = encode_pose(c2w, k.expand(4, 3, 3), (126, 182))
    c2w_back, k_back = decode_pose(enc, (126, 182))
    assert torch.allclose(c2w_back, c2w, atol=1e-10)
    assert torch.allclose(k_back, k.expand(4, 3, 3), atol=1e-9)
    w2c = affine_inverse(c2w)
    assert torch.allclose(affine_inverse(w2c), c2w, atol=1e-12)
