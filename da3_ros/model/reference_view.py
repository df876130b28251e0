"""Reference-view selection on backbone token 0 (spec 3).

The chosen view is moved first so it receives the reference camera token; its camera frame
becomes the world frame of the prediction.
"""
import torch

from da3_ros.errors import ConfigError

STRATEGIES = ('first', 'middle', 'saddle_balanced', 'saddle_sim_range')
MIN_VIEWS_FOR_SELECTION = 3


def _minmax(values: torch.Tensor) -> torch.Tensor:
    return (values - values.min()) / (values.max() - values.min() + 1e-8)


def select_reference_view(token0: torch.Tensor, strategy: str) -> int:
    """Pick the reference view from token0 [S, C] (raw, any dtype); returns its index."""
    views = token0.shape[0]
    if strategy == 'first':
        return 0
    if strategy == 'middle':
        return views // 2
    tokens = token0.float()
    unit = tokens / tokens.norm(dim=-1, keepdim=True)
    sims = unit @ unit.T
    if strategy == 'saddle_balanced':
        sim = (sims.sum(dim=-1) - 1.0) / (views - 1)
        norms = tokens.norm(dim=-1)
        spread = unit.var(dim=-1, unbiased=True)
        score = ((_minmax(sim) - 0.5).abs() + (_minmax(norms) - 0.5).abs()
                 + (_minmax(spread) - 0.5).abs())
        return int(torch.argmin(score))
    if strategy == 'saddle_sim_range':
        sims = sims - torch.eye(views, device=sims.device)
        value_range = sims.max(dim=-1).values - sims.min(dim=-1).values
        return int(torch.argmax(value_range))
    raise ConfigError(f'unknown ref_view_strategy {strategy!r}; known: {", ".join(STRATEGIES)}')


def reference_order(views: int, ref: int) -> list:
    """View order that puts ``ref`` first and keeps the others in order."""
    return [ref] + [v for v in range(views) if v != ref]


def inverse_order(order: list) -> list:
    """Inverse permutation of ``order``."""
    inverse = [0] * len(order)
    for new, old in enumerate(order):
        inverse[old] = new
    return inverse
