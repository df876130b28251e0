"""Reference-view selection on backbone token 0 (spec 3).

The chosen view is moved first so it receives the reference camera token; its camera frame
becomes the world frame of the prediction. Everything stays on the device (index tensors, no
``int()`` of a device value), so the forward never waits for the host: it can be captured as a
CUDA graph and exported to ONNX with argmin/gather instead of control flow.
"""
import torch

from da3_ros.errors import ConfigError

STRATEGIES = ('first', 'middle', 'saddle_balanced', 'saddle_sim_range')
MIN_VIEWS_FOR_SELECTION = 3


def _minmax(values: torch.Tensor) -> torch.Tensor:
    return (values - values.min()) / (values.max() - values.min() + 1e-8)


def select_reference_view(token0: torch.Tensor, strategy: str) -> torch.Tensor:
    """Pick the reference view from token0 [S, C] (raw, any dtype): 0-dim int64 index tensor."""
    views = token0.shape[0]
    if strategy in ('first', 'middle'):
        return torch.full((), 0 if strategy == 'first' else views // 2, dtype=torch.long,
                          device=token0.device)
    tokens = token0.float()
    unit = tokens / tokens.norm(dim=-1, keepdim=True)
    sims = unit @ unit.T
    if strategy == 'saddle_balanced':
        sim = (sims.sum(dim=-1) - 1.0) / (views - 1)
        norms = tokens.norm(dim=-1)
        spread = unit.var(dim=-1, unbiased=True)
        score = ((_minmax(sim) - 0.5).abs() + (_minmax(norms) - 0.5).abs()
                 + (_minmax(spread) - 0.5).abs())
        return torch.argmin(score)
    if strategy == 'saddle_sim_range':
        sims = sims - torch.eye(views, device=sims.device)
        value_range = sims.max(dim=-1).values - sims.min(dim=-1).values
        return torch.argmax(value_range)
    raise ConfigError(f'unknown ref_view_strategy {strategy!r}; known: {", ".join(STRATEGIES)}')


def reference_order(views: int, ref: torch.Tensor) -> torch.Tensor:
    """View order [S] (int64, ref's device) that puts ``ref`` first and keeps the others' order."""
    index = torch.arange(views, device=ref.device)
    return torch.argsort(torch.where(index == ref, -1, index))


def inverse_order(order: torch.Tensor) -> torch.Tensor:
    """Inverse permutation of ``order`` [S]."""
    return torch.argsort(order)
