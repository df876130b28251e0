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

"""DepthAnything3Net (one network) and the nested any-view + metric network (spec 0, 8).

Inputs are ImageNet-normalised images [B, S, 3, H, W] (H, W multiples of 14). The backbone
follows the caller's autocast; camera encoder/decoder, ray->pose and the nested alignment run in
fp32 with autocast disabled, as upstream does; the dense heads too unless ``head_dtype`` names a
half dtype (the GPU fast path). The Gaussian head (giant only) runs only when ``gaussians=True``
is asked for; the default forward neither computes nor returns Gaussians. ``finish=False`` /
``raw`` stop before the data-dependent steps of ``da3_ros.model.finish`` (what an exported graph
computes).
"""
from typing import Optional, Sequence, Tuple

import torch
from torch import nn

from da3_ros.errors import ConfigError
from da3_ros.model.backbone import Backbone
from da3_ros.model.camera import CameraDec, CameraEnc, decoder_cameras
from da3_ros.model.dpt import DPT
from da3_ros.model.dualdpt import DualDPT
from da3_ros.model.finish import finish_nested, finish_single
from da3_ros.model.gaussians import GaussianAdapter
from da3_ros.model.gs_head import GaussianHead
from da3_ros.model.prediction import Prediction
from da3_ros.model.variants import VariantSpec


def _fp32_region(device: torch.device):
    return torch.autocast(device_type=device.type, enabled=False)


def _head_region(device: torch.device, head_dtype: Optional[torch.dtype]):
    """fp32 (upstream's recipe) when head_dtype is None, else autocast to head_dtype.

    Under autocast the convolutions run in head_dtype while exp, LayerNorm and the reductions
    stay fp32 (autocast's fp32 op list), so only the conv stacks lose precision.
    """
    if head_dtype is None:
        return _fp32_region(device)
    return torch.autocast(device_type=device.type, dtype=head_dtype, cache_enabled=False)


class DepthAnything3Net(nn.Module):
    """Backbone + (DualDPT | DPT) head + camera encoder/decoder of one DA3 variant."""

    def __init__(self, spec: VariantSpec) -> None:
        super().__init__()
        self.spec = spec
        # None: the dense heads run in fp32 as upstream; a half dtype is the fast path.
        self.head_dtype: Optional[torch.dtype] = None
        dim = spec.backbone.embed_dim
        dim_in = 2 * dim if spec.backbone.cat_token else dim
        self.backbone = Backbone(spec.backbone)
        head_cls = DualDPT if spec.head.kind == 'dualdpt' else DPT
        self.head = head_cls(dim_in, spec.head.features, spec.head.out_channels)
        if spec.has_camera:
            self.cam_enc = CameraEnc(dim)
            self.cam_dec = CameraDec(dim_in)
        if spec.has_gs_head:
            self.gs_head = GaussianHead(dim_in, spec.head.features, spec.head.out_channels)
            self.gs_adapter = GaussianAdapter()

    def forward(self, images: torch.Tensor, extrinsics: Optional[torch.Tensor] = None,
                intrinsics: Optional[torch.Tensor] = None, *,
                export_feat_layers: Sequence[int] = (), use_ray_pose: bool = False,
                ref_view_strategy: str = 'saddle_balanced', with_ray: bool = True,
                gaussians: bool = False, finish: bool = True) -> Prediction:
        """Predict depth (and cameras, and optionally Gaussians) for images [B, S, 3, H, W].

        Args:
            images: ImageNet-normalised, H and W multiples of 14.
            extrinsics: [B, S, 4, 4] normalised OpenCV world-to-camera for pose conditioning.
            intrinsics: [B, S, 3, 3] in processed pixels; required with extrinsics.
            export_feat_layers: backbone block indices whose features go to ``aux``.
            use_ray_pose: recover cameras from the ray map instead of the camera decoder.
            ref_view_strategy: reference-view choice for S >= 3 without conditioning.
            with_ray: compute the ray map (always done with ``use_ray_pose``); without it
                ``ray`` and ``ray_conf`` are None and the head's ray branch is skipped.
            gaussians: also run the Gaussian head (ConfigError for variants without one).
            finish: apply ``finish_single`` (sky fill, ray pose); False returns the raw
                head outputs and the camera decoder's poses.
        """
        if gaussians and not self.spec.has_gs_head:
            raise ConfigError(f'{self.spec.name} has no Gaussian head; gaussians=True needs'
                              f' da3-giant or da3nested-giant-large')
        image_hw = (images.shape[-2], images.shape[-1])
        camera_tokens = None
        if extrinsics is not None and self.spec.has_camera:
            with _fp32_region(images.device):
                camera_tokens = self.cam_enc(extrinsics, intrinsics, image_hw)
        feats = self.backbone(images, camera_tokens, ref_view_strategy=ref_view_strategy,
                              export_feat_layers=export_feat_layers)
        prediction = self._heads(feats, image_hw, with_ray or use_ray_pose)
        with _fp32_region(images.device):
            if finish:
                prediction = finish_single(prediction, image_hw, use_ray_pose)
            if gaussians:
                prediction.gaussians = self._gaussians(feats, images, prediction, extrinsics)
        prediction.aux = {f'feat_layer_{i}': f.unflatten(2, (image_hw[0] // 14, -1)).float()
                          for i, f in feats.aux.items()}
        return prediction

    def _gaussians(self, feats, images, prediction: Prediction, given_extrinsics):
        """Gaussian head + adapter on the depth head's levels and the predicted cameras."""
        raw, density = self.gs_head([f.float() for f in feats.features], images.float())
        given = None if given_extrinsics is None else given_extrinsics.float()
        return self.gs_adapter(raw, density, prediction.depth, prediction.extrinsics,
                               prediction.intrinsics, given)

    def _heads(self, feats, image_hw, with_ray: bool) -> Prediction:
        """Dense heads (in ``head_dtype``) and the camera decoder (fp32): the raw outputs."""
        device = feats.features[0].device
        levels = [f.float() for f in feats.features]
        with _head_region(device, self.head_dtype):
            raw = (self.head(levels, image_hw) if self.spec.head.kind == 'dpt'
                   else self.head(levels, image_hw, with_ray))
            outputs = [None if o is None else o.float() for o in raw]
        with _fp32_region(device):
            if self.spec.head.kind == 'dpt':
                depth, sky = outputs
                return Prediction(depth=depth, sky=sky)
            depth, conf, ray, ray_conf = outputs
            encoding = self.cam_dec(feats.camera_tokens[-1])
            extrinsics, intrinsics = decoder_cameras(encoding, image_hw)
        return Prediction(depth=depth, depth_conf=conf, extrinsics=extrinsics,
                          intrinsics=intrinsics, ray=ray, ray_conf=ray_conf)


class NestedDepthAnything3Net(nn.Module):
    """Any-view giant (``da3``) scaled to metres by the metric large model (``da3_metric``)."""

    def __init__(self, anyview: VariantSpec, metric: VariantSpec) -> None:
        super().__init__()
        self.da3 = DepthAnything3Net(anyview)
        self.da3_metric = DepthAnything3Net(metric)

    def forward(self, images: torch.Tensor, extrinsics: Optional[torch.Tensor] = None,
                intrinsics: Optional[torch.Tensor] = None, *,
                export_feat_layers: Sequence[int] = (), use_ray_pose: bool = False,
                ref_view_strategy: str = 'saddle_balanced', with_ray: bool = True,
                gaussians: bool = False) -> Prediction:
        """Return same contract as DepthAnything3Net; depth and translations come out in metres.

        Gaussians come from the any-view branch before the metric alignment: they are in the
        any-view scale; multiply by ``scale_factor`` to bring them to metres.
        """
        anyview, metric = self.raw(images, extrinsics, intrinsics,
                                   export_feat_layers=export_feat_layers,
                                   ref_view_strategy=ref_view_strategy,
                                   with_ray=with_ray or use_ray_pose, gaussians=gaussians)
        with _fp32_region(images.device):
            out = finish_nested(anyview, metric, tuple(images.shape[-2:]), use_ray_pose)
        out.gaussians = anyview.gaussians
        return out

    def raw(self, images: torch.Tensor, extrinsics: Optional[torch.Tensor] = None,
            intrinsics: Optional[torch.Tensor] = None, *, export_feat_layers: Sequence[int] = (),
            ref_view_strategy: str = 'saddle_balanced', with_ray: bool = True,
            gaussians: bool = False) -> Tuple[Prediction, Prediction]:
        """(any-view, metric) predictions on the same images, before ``finish_nested``."""
        anyview = self.da3(images, extrinsics, intrinsics, export_feat_layers=export_feat_layers,
                           ref_view_strategy=ref_view_strategy, finish=False, with_ray=with_ray,
                           gaussians=gaussians)
        return anyview, self.da3_metric(images, finish=False)
