"""The Gaussian head (DPT-style, 37 raw channels per pixel plus a density).

Its use inside the whole model is in test_da3.py; the adapter that turns its output into
Gaussians in test_gaussians.py.
"""
import torch

from da3_ros.model.gs_head import GaussianHead


def test_head_chunks_frames_like_a_single_pass():
    torch.manual_seed(0)
    head = GaussianHead(8, 16, (8, 8, 16, 16)).eval()
    tokens = [torch.randn(1, 9, 4, 8) for _ in range(4)]
    images = torch.randn(1, 9, 3, 28, 28)
    with torch.no_grad():
        raw, density = head(tokens, images)
        one_raw, one_density = head([t[:, 8:] for t in tokens], images[:, 8:])
    assert raw.shape == (1, 9, 28, 28, 37) and density.shape == (1, 9, 28, 28)
    assert torch.allclose(raw[:, 8:], one_raw, atol=1e-6)
    assert torch.allclose(density[:, 8:], one_density)
    assert bool(((density > 0) & (density < 1)).all())
