"""DepthAnything3Net (one network) and the nested any-view + metric network (spec 0, 8).

Inputs are ImageNet-normalised images [B, S, 3, H, W] (H, W multiples of 14). The backbone
follows the caller's autocast; camera encoder/decoder, heads, ray->pose and the nested alignment
run in fp32 with autocast disabled, as upstream does.
"""
from typing import Optional, Sequence

import torch
from torch import nn

from da3_ros.model.backbone import Backbone
from da3_ros.model.camera import CameraDec, CameraEnc, decoder_cameras
from da3_ros.model.dpt import DPT
from da3_ros.model.dualdpt import DualDPT
from da3_ros.model.prediction import Prediction
from da3_ros.model.ray_pose import ray_to_pose
from da3_ros.model.sky import (align_scale, fill_sky_depth, metric_scale_depth, nested_sky,
                               SKY_THRESHOLD)
from da3_ros.model.variants import VariantSpec


def _fp32_region(device: torch.device):
    return torch.autocast(device_type=device.type, enabled=False)


class DepthAnything3Net(nn.Module):
    """Backbone + (DualDPT | DPT) head + camera encoder/decoder of one DA3 variant."""

    def __init__(self, spec: VariantSpec) -> None:
        super().__init__()
        self.spec = spec
        dim = spec.backbone.embed_dim
        dim_in = 2 * dim if spec.backbone.cat_token else dim
        self.backbone = Backbone(spec.backbone)
        head_cls = DualDPT if spec.head.kind == 'dualdpt' else DPT
        self.head = head_cls(dim_in, spec.head.features, spec.head.out_channels)
        if spec.has_camera:
            self.cam_enc = CameraEnc(dim)
            self.cam_dec = CameraDec(dim_in)

    def forward(self, images: torch.Tensor, extrinsics: Optional[torch.Tensor] = None,
                intrinsics: Optional[torch.Tensor] = None, *,
                export_feat_layers: Sequence[int] = (), use_ray_pose: bool = False,
                ref_view_strategy: str = 'saddle_balanced') -> Prediction:
        """Predict depth (and cameras) for images [B, S, 3, H, W].

        Args:
            images: ImageNet-normalised, H and W multiples of 14.
            extrinsics: [B, S, 4, 4] normalised OpenCV world-to-camera for pose conditioning.
            intrinsics: [B, S, 3, 3] in processed pixels; required with extrinsics.
            export_feat_layers: backbone block indices whose features go to ``aux``.
            use_ray_pose: recover cameras from the ray map instead of the camera decoder.
            ref_view_strategy: reference-view choice for S >= 3 without conditioning.
        """
        image_hw = (images.shape[-2], images.shape[-1])
        camera_tokens = None
        if extrinsics is not None and self.spec.has_camera:
            with _fp32_region(images.device):
                camera_tokens = self.cam_enc(extrinsics, intrinsics, image_hw)
        feats = self.backbone(images, camera_tokens, ref_view_strategy=ref_view_strategy,
                              export_feat_layers=export_feat_layers)
        with _fp32_region(images.device):
            prediction = self._heads(feats, image_hw, use_ray_pose)
        prediction.aux = {f'feat_layer_{i}': f.unflatten(2, (image_hw[0] // 14, -1)).float()
                          for i, f in feats.aux.items()}
        return prediction

    def _heads(self, feats, image_hw, use_ray_pose: bool) -> Prediction:
        levels = [f.float() for f in feats.features]
        if self.spec.head.kind == 'dpt':
            depth, sky = self.head(levels, image_hw)
            return Prediction(depth=fill_sky_depth(depth, sky), sky=sky)
        depth, conf, ray, ray_conf = self.head(levels, image_hw)
        if use_ray_pose:
            extrinsics, intrinsics = ray_to_pose(ray, ray_conf, image_hw)
        else:
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
                ref_view_strategy: str = 'saddle_balanced') -> Prediction:
        """Same contract as DepthAnything3Net; depth and translations come out in metres."""
        out = self.da3(images, extrinsics, intrinsics, export_feat_layers=export_feat_layers,
                       use_ray_pose=use_ray_pose, ref_view_strategy=ref_view_strategy)
        metric = self.da3_metric(images)
        with _fp32_region(images.device):
            metric_depth = metric_scale_depth(metric.depth, out.intrinsics)
            non_sky = metric.sky < SKY_THRESHOLD
            scale = align_scale(out.depth, out.depth_conf, metric_depth, non_sky)
            depth = out.depth * scale
            extrinsics_out = out.extrinsics.clone()
            extrinsics_out[..., :3, 3] = extrinsics_out[..., :3, 3] * scale
            depth, conf = nested_sky(depth, out.depth_conf, non_sky)
        return Prediction(depth=depth, depth_conf=conf, extrinsics=extrinsics_out,
                          intrinsics=out.intrinsics, ray=out.ray, ray_conf=out.ray_conf,
                          sky=metric.sky, is_metric=True, scale_factor=scale.reshape(1),
                          aux=out.aux)
