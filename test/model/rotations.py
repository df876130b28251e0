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

"""Random rotation matrices for the model tests (not a test module)."""
import torch

from da3_ros.model.pose_encoding import quat_to_mat


def random_rotations(n, seed=0):
    quat = torch.randn(n, 4, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    return quat_to_mat(quat)


def rotation(seed: int) -> torch.Tensor:
    """Return a random proper rotation [3, 3] (float64)."""
    q, r = torch.linalg.qr(torch.randn(3, 3, generator=torch.Generator().manual_seed(seed),
                                       dtype=torch.float64))
    q = q * torch.sign(torch.diagonal(r))
    return q if torch.det(q) > 0 else -q
