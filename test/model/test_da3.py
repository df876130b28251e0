"""Forward contract on CPU with parity-rule weights: shapes, precision, conditioning, families."""
import pytest
import torch

from da3_ros.model import build_model
from da3_ros.model.weight_rule import rule_state_dict
from da3_ros.model.weights import load_state_dict_strict


@pytest.fixture(scope='module')
def small():
    with torch.device('meta'):
        model = build_model('da3-small')
    load_state_dict_strict(model, rule_state_dict('da3-small'))
    return model.eval()


def images(views, height=56, width=84, seed=0):
    return torch.randn(1, views, 3, height, width, generator=torch.Generator().manual_seed(seed))


def test_anyview_shapes_and_ranges(small):
    with torch.inference_mode():
        pred = small(images(4))
    assert pred.depth.shape == (1, 4, 56, 84) and pred.depth.dtype == torch.float32
    assert torch.all(pred.depth > 0) and torch.all(pred.depth_conf >= 1)
    assert pred.extrinsics.shape == (1, 4, 3, 4) and pred.intrinsics.shape == (1, 4, 3, 3)
    assert pred.ray.shape == (1, 4, 32, 48, 6) and pred.ray_conf.shape == (1, 4, 32, 48)
    assert pred.sky is None and not pred.is_metric
    rot = pred.extrinsics[0, :, :, :3]
    assert torch.allclose(rot @ rot.transpose(-1, -2), torch.eye(3).expand(4, 3, 3), atol=1e-4)


def test_bf16_autocast_keeps_heads_fp32_and_close(small):
    with torch.inference_mode():
        ref = small(images(2))
        with torch.autocast('cpu', dtype=torch.bfloat16):
            low = small(images(2))
    assert low.depth.dtype == torch.float32 and low.extrinsics.dtype == torch.float32
    rel = ((low.depth - ref.depth).abs() / ref.depth).median()
    assert rel < 0.1


def test_pose_conditioning_changes_the_prediction(small):
    w2c = torch.eye(4).repeat(1, 3, 1, 1)
    w2c[0, 1, 0, 3], w2c[0, 2, 1, 3] = 1.0, 1.0
    k = torch.tensor([[60.0, 0, 42], [0, 60.0, 28], [0, 0, 1]]).repeat(1, 3, 1, 1)
    with torch.inference_mode():
        free = small(images(3))
        cond = small(images(3), w2c, k)
        cond_again = small(images(3), w2c, k)
    assert torch.equal(cond.depth, cond_again.depth)
    assert not torch.allclose(free.depth, cond.depth)


def test_ray_pose_option_returns_cameras(small):
    torch.manual_seed(0)
    with torch.inference_mode():
        pred = small(images(2), use_ray_pose=True)
    assert pred.extrinsics.shape == (1, 2, 3, 4) and torch.isfinite(pred.extrinsics).all()


def test_view_order_equivariance_without_selection(small):
    """With S = 2 (no reference selection) swapping views swaps the per-view depths' roles."""
    x = images(2)
    with torch.inference_mode():
        a = small(x, ref_view_strategy='first')
        b = small(x.flip(1), ref_view_strategy='first')
    assert a.depth.shape == b.depth.shape
    assert not torch.allclose(a.depth[0, 0], b.depth[0, 1])  # the reference token differs
