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

"""DA3 backbone: DINOv2 ViT/14 with alternating per-view and cross-view attention (spec 2).

Attribute names mirror upstream (``backbone.pretrained.*``) so checkpoints load unrenamed.
Shapes: B batch, S views, h x w patch grid, N = h * w, C embed dim.
"""
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

import torch
from torch import nn

from da3_ros.model.layers.block import Block
from da3_ros.model.layers.patch_embed import interpolate_pos_embed, PATCH_SIZE, PatchEmbed
from da3_ros.model.layers.rope import global_positions, patch_positions, rope_tables
from da3_ros.model.reference_view import (inverse_order, MIN_VIEWS_FOR_SELECTION,
                                          reference_order, select_reference_view)
from da3_ros.model.variants import BackboneSpec


@dataclass
class BackboneOutput:
    """Four feature levels in the ORIGINAL view order, plus exported block features.

    features: per out layer, patch features [B, S, N, C'] (C' = 2C with cat_token).
    camera_tokens: per out layer, raw token 0 [B, S, C'].
    aux: block index -> final-normed patch tokens [B, S, N, C] in the (possibly reordered)
        order the blocks saw (an upstream quirk kept for parity).
    """

    features: List[torch.Tensor]
    camera_tokens: List[torch.Tensor]
    aux: Dict[int, torch.Tensor] = field(default_factory=dict)


class VisionTransformer(nn.Module):
    """The ViT itself (upstream ``DinoVisionTransformer``), parameters only plus the schedule."""

    def __init__(self, spec: BackboneSpec) -> None:
        super().__init__()
        self.spec = spec
        dim = spec.embed_dim
        self.patch_embed = PatchEmbed(dim)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, dim))
        self.pos_embed = nn.Parameter(torch.zeros(1, 1 + 37 * 37, dim))
        if spec.alt_start != -1:
            self.camera_token = nn.Parameter(torch.zeros(1, 2, dim))
        self.blocks = nn.ModuleList(
            Block(dim, spec.num_heads, ffn=spec.ffn,
                  qk_norm=spec.qknorm_start != -1 and i >= spec.qknorm_start)
            for i in range(spec.depth))
        self.norm = nn.LayerNorm(dim, eps=1e-5)
        self._position_cache: Dict[tuple, Tuple[tuple, torch.Tensor]] = {}

    def embed(self, images: torch.Tensor) -> torch.Tensor:
        """Embed images [B, S, 3, H, W] into tokens [B, S, 1 + N, C] (cls + position added)."""
        batch, views, _, height, width = images.shape
        patches = self.patch_embed(images.flatten(0, 1))
        cls = self.cls_token.expand(patches.shape[0], -1, -1)
        tokens = torch.cat([cls, patches], dim=1)
        tokens = tokens + self.position_table(height // PATCH_SIZE, width // PATCH_SIZE,
                                              height == width)
        return tokens.reshape(batch, views, tokens.shape[1], -1)

    def position_table(self, h: int, w: int, square: bool) -> torch.Tensor:
        """Return the position embedding resized to an h x w grid: [1, 1 + h*w, C].

        The bicubic resize costs about 1 ms on a GPU and depends only on the shape and the
        weights, so inference reuses it, one table per grid, replaced when the parameter's
        storage or version changes (a new checkpoint). A table is never dropped for another
        grid: a captured CUDA graph reads its memory at every replay. Traced or training
        forwards compute it every time.
        """
        if torch.compiler.is_compiling() or not torch.is_inference_mode_enabled():
            return interpolate_pos_embed(self.pos_embed, h, w, square)
        pos = self.pos_embed
        # Inference tensors (a model built under inference_mode) carry no version counter.
        version = None if pos.is_inference() else pos._version
        grid, weights = (h, w, square, pos.device), (pos.data_ptr(), version)
        cached = self._position_cache.get(grid)
        if cached is None or cached[0] != weights:
            cached = (weights, interpolate_pos_embed(self.pos_embed, h, w, square))
            self._position_cache[grid] = cached
        return cached[1]

    def is_global(self, index: int) -> bool:
        """Whether block ``index`` attends across views."""
        start = self.spec.alt_start
        return start != -1 and index >= start and index % 2 == 1

    def uses_rope(self, index: int) -> bool:
        """Whether block ``index`` rotates q/k."""
        return self.spec.rope_start != -1 and index >= self.spec.rope_start


class Backbone(nn.Module):
    """Runs the layer schedule of spec 2.8 and returns the head's inputs (spec 2.9)."""

    def __init__(self, spec: BackboneSpec) -> None:
        super().__init__()
        self.pretrained = VisionTransformer(spec)

    def forward(self, images: torch.Tensor, camera_tokens: Optional[torch.Tensor] = None, *,
                ref_view_strategy: str = 'saddle_balanced',
                export_feat_layers: Sequence[int] = ()) -> BackboneOutput:
        """Encode images [B, S, 3, H, W]; camera_tokens [B, S, C] from the camera encoder."""
        vit = self.pretrained
        spec = vit.spec
        batch, views, _, height, width = images.shape
        grid = (height // PATCH_SIZE, width // PATCH_SIZE)
        x = vit.embed(images)
        ropes = self._rope_tables(grid, views, images.device)
        local_x = x
        ref: Optional[torch.Tensor] = None
        collected: List[Tuple[torch.Tensor, torch.Tensor]] = []
        aux: Dict[int, torch.Tensor] = {}
        select = (spec.alt_start != -1 and views >= MIN_VIEWS_FOR_SELECTION
                  and camera_tokens is None)
        for index, block in enumerate(vit.blocks):
            if select and index == spec.alt_start - 1:
                # Upstream's API runs one scene per call (B = 1); batch element 0 decides.
                ref = select_reference_view(x[0, :, 0], ref_view_strategy)
                order = reference_order(views, ref)
                x, local_x = x.index_select(1, order), local_x.index_select(1, order)
            if index == spec.alt_start:
                x = self._inject_camera_token(x, camera_tokens)
            x = self._run_block(block, index, x, ropes)
            if not vit.is_global(index):
                local_x = x
            if index in spec.out_layers:
                collected.append(self._collect(x, local_x))
            if index in export_feat_layers:
                aux[index] = vit.norm(x)[:, :, 1:]
        return self._finish(collected, aux, ref)

    def _rope_tables(self, grid: Tuple[int, int], views: int, device: torch.device) -> dict:
        head_dim = self.pretrained.spec.embed_dim // self.pretrained.spec.num_heads
        local = rope_tables(patch_positions(grid[0], grid[1], device), head_dim)
        glob = rope_tables(global_positions(grid[0] * grid[1], views, device), head_dim)
        return {'local': local, 'global': glob}

    def _inject_camera_token(self, x: torch.Tensor,
                             camera_tokens: Optional[torch.Tensor]) -> torch.Tensor:
        x = x.clone()
        if camera_tokens is not None:
            x[:, :, 0] = camera_tokens.to(x.dtype)
            return x
        token = self.pretrained.camera_token.to(x.dtype)
        x[:, 0, 0] = token[:, 0]
        x[:, 1:, 0] = token[:, 1].unsqueeze(1)
        return x

    def _run_block(self, block: Block, index: int, x: torch.Tensor, ropes: dict) -> torch.Tensor:
        vit = self.pretrained
        batch, views, length, dim = x.shape
        if vit.is_global(index):
            rope = ropes['global'] if vit.uses_rope(index) else None
            out = block(x.reshape(batch, views * length, dim), rope)
        else:
            rope = ropes['local'] if vit.uses_rope(index) else None
            out = block(x.reshape(batch * views, length, dim), rope)
        return out.reshape(batch, views, length, dim)

    def _collect(self, x: torch.Tensor,
                 local_x: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        norm = self.pretrained.norm
        if self.pretrained.spec.cat_token:
            features = torch.cat([local_x, norm(x)], dim=-1)
            camera = torch.cat([local_x[:, :, 0], x[:, :, 0]], dim=-1)
        else:
            features = norm(x)
            camera = x[:, :, 0]
        return features[:, :, 1:], camera

    def _finish(self, collected: list, aux: dict,
                ref: Optional[torch.Tensor]) -> BackboneOutput:
        features = [f for f, _ in collected]
        cameras = [c for _, c in collected]
        if ref is not None:
            restore = inverse_order(features[0].shape[1], ref)
            features = [f.index_select(1, restore) for f in features]
            cameras = [c.index_select(1, restore) for c in cameras]
        return BackboneOutput(features, cameras, aux)
