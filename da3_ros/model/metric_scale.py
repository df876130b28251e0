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

"""Metric depth from the DA3 metric model, and the nested model's alignment to it (spec 8.2, 8.3).

Two facts live here, because both the model (nested forward, as upstream computes it) and the
engine (the stand-alone metric variant) apply them; the model layer is the lower of the two, so
the engine imports them from here:

- the focal rule: the metric network predicts depth for a canonical focal length of
  ``METRIC_FOCAL_DIVISOR`` pixels, so metres = output * ((fx + fy) / 2) / 300 per view, with the
  focal length in processed-image pixels;
- the nested alignment: one least-squares scalar takes the any-view depth onto the metric
  model's depth on confident non-sky pixels.
"""
import torch

from da3_ros.model.sky import MAX_QUANTILE_SAMPLES, MIN_REGION_PIXELS

METRIC_FOCAL_DIVISOR = 300.0  # pixels: the canonical focal length of the metric network


def metric_focal_factor(intrinsics: torch.Tensor) -> torch.Tensor:
    """Per-view factor ((fx + fy) / 2) / 300 [...] of intrinsics [..., 3, 3] in pixels."""
    return (intrinsics[..., 0, 0] + intrinsics[..., 1, 1]) / 2 / METRIC_FOCAL_DIVISOR


def metric_scale_depth(metric_depth: torch.Tensor, intrinsics: torch.Tensor) -> torch.Tensor:
    """Return depth [B, S, H, W] * ((fx + fy) / 2) / 300 per view; K [B, S, 3, 3] in pixels."""
    return metric_depth * metric_focal_factor(intrinsics)[..., None, None]


def align_scale(depth: torch.Tensor, conf: torch.Tensor, metric_depth: torch.Tensor,
                non_sky: torch.Tensor) -> torch.Tensor:
    """Least-squares scalar s with s * depth ~ metric_depth on confident non-sky pixels.

    Confident: confidence at or above its median over the non-sky pixels (a random subset of
    ``MAX_QUANTILE_SAMPLES`` when larger, drawn as upstream draws it); pixels with metric
    depth <= 1 cm or depth <= 1e-3 are left out.
    """
    if int(non_sky.sum()) <= MIN_REGION_PIXELS:
        raise ValueError(f'nested alignment needs > {MIN_REGION_PIXELS} non-sky pixels, '
                         f'got {int(non_sky.sum())}')
    conf_values = conf[non_sky]
    if conf_values.numel() > MAX_QUANTILE_SAMPLES:
        pick = torch.randperm(conf_values.numel(), device=conf.device)[:MAX_QUANTILE_SAMPLES]
        conf_values = conf_values[pick]
    median = torch.quantile(conf_values, 0.5)
    mask = (conf >= median) & non_sky & (metric_depth > 1e-2) & (depth > 1e-3)
    target, source = metric_depth[mask], depth[mask]
    return (target * source).sum() / torch.clamp((source * source).sum(), min=1e-12)
