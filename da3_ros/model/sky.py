"""Sky handling and the nested model's metric alignment (spec 8.1, 8.3).

The >100k-sample branches use the global torch RNG exactly where upstream samples; below that
size everything is deterministic.
"""
from typing import Tuple

import torch

SKY_THRESHOLD = 0.3
MIN_REGION_PIXELS = 10
MAX_QUANTILE_SAMPLES = 100_000
METRIC_FOCAL_DIVISOR = 300.0
NESTED_SKY_DEPTH_CAP = 200.0


def _sample_with_replacement(values: torch.Tensor) -> torch.Tensor:
    if values.numel() <= MAX_QUANTILE_SAMPLES:
        return values
    index = torch.randint(0, values.numel(), (MAX_QUANTILE_SAMPLES,), device=values.device)
    return values[index]


def fill_sky_depth(depth: torch.Tensor, sky: torch.Tensor) -> torch.Tensor:
    """Mono/metric: set sky pixels (score >= 0.3) to q0.99 of the non-sky depth.

    depth, sky: [B, S, H, W]. Unchanged when either region has <= 10 pixels.
    """
    non_sky = sky < SKY_THRESHOLD
    n_non_sky = int(non_sky.sum())
    if n_non_sky <= MIN_REGION_PIXELS or non_sky.numel() - n_non_sky <= MIN_REGION_PIXELS:
        return depth
    fill = torch.quantile(_sample_with_replacement(depth[non_sky]), 0.99)
    return torch.where(non_sky, depth, fill)


def metric_scale_depth(metric_depth: torch.Tensor, intrinsics: torch.Tensor) -> torch.Tensor:
    """Return depth [B, S, H, W] * ((fx + fy) / 2) / 300 per view; K [B, S, 3, 3] in pixels."""
    focal = (intrinsics[..., 0, 0] + intrinsics[..., 1, 1]) / 2
    return metric_depth * (focal / METRIC_FOCAL_DIVISOR)[..., None, None]


def align_scale(depth: torch.Tensor, conf: torch.Tensor, metric_depth: torch.Tensor,
                non_sky: torch.Tensor) -> torch.Tensor:
    """Least-squares scalar s with s * depth ~ metric_depth on confident non-sky pixels."""
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


def nested_sky(depth: torch.Tensor, conf: torch.Tensor, non_sky: torch.Tensor
               ) -> Tuple[torch.Tensor, torch.Tensor]:
    """Sky pixels get depth min(q0.99(non-sky depth), 200) and confidence 1.0 (the minimum)."""
    fill = torch.clamp(torch.quantile(_sample_with_replacement(depth[non_sky]), 0.99),
                       max=NESTED_SKY_DEPTH_CAP)
    depth = torch.where(non_sky, depth, fill)
    conf = torch.where(non_sky, conf, torch.ones_like(conf))
    return depth, conf
