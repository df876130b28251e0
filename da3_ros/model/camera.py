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

"""Camera encoder (poses in -> one token per view) and decoder (token -> pose) (spec 5)."""
from typing import Tuple

import torch
from torch import nn

from da3_ros.model.layers.block import Block
from da3_ros.model.layers.mlp import Mlp
from da3_ros.model.pose_encoding import affine_inverse, decode_pose, encode_pose

CAM_ENC_DEPTH = 4
CAM_ENC_HEADS = 16


class CameraDec(nn.Module):
    """MLP on the last level's raw camera token [B, S, 2C] -> pose encoding [B, S, 9]."""

    def __init__(self, dim_in: int) -> None:
        super().__init__()
        self.backbone = nn.Sequential(
            nn.Linear(dim_in, dim_in), nn.ReLU(), nn.Linear(dim_in, dim_in), nn.ReLU())
        self.fc_t = nn.Linear(dim_in, 3)
        self.fc_qvec = nn.Linear(dim_in, 4)
        self.fc_fov = nn.Sequential(nn.Linear(dim_in, 2), nn.ReLU())

    def forward(self, token: torch.Tensor) -> torch.Tensor:
        """Decode token [B, S, 2C] (fp32) into [t, q_xyzw, fov_h, fov_w]."""
        hidden = self.backbone(token.float())
        parts = [self.fc_t(hidden), self.fc_qvec(hidden), self.fc_fov(hidden)]
        return torch.cat(parts, dim=-1)


def decoder_cameras(encoding: torch.Tensor, image_hw: Tuple[int, int]
                    ) -> Tuple[torch.Tensor, torch.Tensor]:
    """Pose encoding [B, S, 9] -> (w2c [B, S, 3, 4], K [B, S, 3, 3]) in processed pixels."""
    c2w, intrinsics = decode_pose(encoding, image_hw)
    return affine_inverse(c2w), intrinsics


class CameraEnc(nn.Module):
    """(w2c [B, S, 4, 4], K [B, S, 3, 3]) -> tokens [B, S, C]; views attend to each other."""

    def __init__(self, dim_out: int) -> None:
        super().__init__()
        self.pose_branch = Mlp(9, dim_out // 2, dim_out)
        self.token_norm = nn.LayerNorm(dim_out, eps=1e-5)
        self.trunk = nn.Sequential(*(
            Block(dim_out, CAM_ENC_HEADS, ln_eps=1e-5) for _ in range(CAM_ENC_DEPTH)))
        self.trunk_norm = nn.LayerNorm(dim_out, eps=1e-5)

    def forward(self, extrinsics: torch.Tensor, intrinsics: torch.Tensor,
                image_hw: Tuple[int, int]) -> torch.Tensor:
        """Encode normalised w2c extrinsics and processed-pixel intrinsics (fp32)."""
        c2w = affine_inverse(extrinsics.float())
        encoding = encode_pose(c2w, intrinsics.float(), image_hw)
        tokens = self.token_norm(self.pose_branch(encoding))
        return self.trunk_norm(self.trunk(tokens))
