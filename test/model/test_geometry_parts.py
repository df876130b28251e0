"""Unit tests of the model's small parts: RoPE, pose encoding, QL, ray->pose, view order."""
import math

import pytest
import torch

from da3_ros.errors import ConfigError
from da3_ros.model.layers.patch_embed import interpolate_pos_embed
from da3_ros.model.layers.rope import apply_rope, patch_positions, rope_tables
from da3_ros.model.pose_encoding import (affine_inverse, decode_pose, encode_pose, mat_to_quat,
                                         quat_to_mat)
from da3_ros.model.ray_pose import ql_decomposition, ray_to_pose
from da3_ros.model.reference_view import (inverse_order, reference_order,
                                          select_reference_view)


def random_rotations(n, seed=0):
    quat = torch.randn(n, 4, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    return quat_to_mat(quat)


def test_rope_is_relative():
    """q.k after RoPE depends only on the position difference."""
    gen = torch.Generator().manual_seed(0)
    q, k = torch.randn(1, 1, 1, 64, generator=gen), torch.randn(1, 1, 1, 64, generator=gen)

    def score(pq, pk):
        tq = rope_tables(torch.tensor([pq]), 64)
        tk = rope_tables(torch.tensor([pk]), 64)
        return float((apply_rope(q, tq) * apply_rope(k, tk)).sum())

    assert score((3, 5), (1, 2)) == pytest.approx(score((7, 9), (5, 6)), abs=1e-4)
    assert score((3, 5), (1, 2)) != pytest.approx(score((3, 5), (2, 2)), abs=1e-3)
    rotated = apply_rope(q, rope_tables(torch.tensor([(4, 11)]), 64))
    assert float(rotated.norm()) == pytest.approx(float(q.norm()), rel=1e-5)


def test_patch_positions_row_major_from_one():
    pos = patch_positions(2, 3, torch.device('cpu'))
    assert pos.tolist() == [[0, 0], [1, 1], [1, 2], [1, 3], [2, 1], [2, 2], [2, 3]]


def test_pos_embed_shortcut_only_for_square_518():
    table = torch.randn(1, 1370, 8)
    assert interpolate_pos_embed(table, 37, 37, True) is table
    assert interpolate_pos_embed(table, 37, 37, False).shape == (1, 1370, 8)
    assert interpolate_pos_embed(table, 9, 13, False).shape == (1, 1 + 9 * 13, 8)


def test_quaternion_round_trip_and_sign():
    rot = random_rotations(64)
    quat = mat_to_quat(rot)
    assert torch.all(quat[:, 3] >= 0)
    assert torch.allclose(quat.norm(dim=-1), torch.ones(64, dtype=torch.float64))
    assert torch.allclose(quat_to_mat(quat), rot, atol=1e-12)
    # Non-unit quaternions decode to the same rotation.
    assert torch.allclose(quat_to_mat(quat * 3.0), rot, atol=1e-12)


def test_quaternions_match_scipy():
    """The torch copies (kept: bit for bit with upstream, batched on the GPU) agree with scipy."""
    from scipy.spatial.transform import Rotation
    rot = random_rotations(64, seed=4)
    quat = mat_to_quat(rot)
    expect = Rotation.from_matrix(rot.numpy()).as_quat(canonical=True)
    torch.testing.assert_close(quat, torch.from_numpy(expect), atol=1e-12, rtol=0)
    raw = torch.randn(64, 4, generator=torch.Generator().manual_seed(5), dtype=torch.float64)
    torch.testing.assert_close(quat_to_mat(raw),
                               torch.from_numpy(Rotation.from_quat(raw.numpy()).as_matrix()),
                               atol=1e-12, rtol=0)


def test_pose_encoding_round_trip_centred_principal_point():
    rot = random_rotations(4, seed=1)
    c2w = torch.cat([rot, torch.randn(4, 3, 1, dtype=torch.float64)], dim=-1)
    k = torch.tensor([[300.0, 0, 91], [0, 280.0, 63], [0, 0, 1]], dtype=torch.float64)
    enc = encode_pose(c2w, k.expand(4, 3, 3), (126, 182))
    c2w_back, k_back = decode_pose(enc, (126, 182))
    assert torch.allclose(c2w_back, c2w, atol=1e-10)
    assert torch.allclose(k_back, k.expand(4, 3, 3), atol=1e-9)
    w2c = affine_inverse(c2w)
    assert torch.allclose(affine_inverse(w2c), c2w, atol=1e-12)


def test_ql_decomposition_is_orthogonal_times_lower():
    mat = torch.randn(3, 3, generator=torch.Generator().manual_seed(5))
    q, low = ql_decomposition(mat)
    assert torch.allclose(q @ low, mat, atol=1e-5)
    assert torch.allclose(q @ q.T, torch.eye(3), atol=1e-5)
    assert torch.allclose(torch.triu(low, diagonal=1), torch.zeros(3, 3))
    assert torch.all(torch.diagonal(low) > 0)


def test_ray_pose_recovers_a_centred_camera():
    """Exact rays d = R K^-1 p and origin C give back R, C and the focal lengths."""
    rows, cols, height, width = 24, 32, 42, 56
    rot = random_rotations(1, seed=2)[0].float()
    centre = torch.tensor([0.3, -0.2, 1.5])
    fx_n, fy_n = 1.2, 1.1  # focal in units of half the image size
    xs = (2 * torch.arange(cols) + 1) / cols - 1
    ys = (2 * torch.arange(rows) + 1) / rows - 1
    yy, xx = torch.meshgrid(ys, xs, indexing='ij')
    cam = torch.stack([xx / fx_n, yy / fy_n, torch.ones_like(xx)], dim=-1)
    direction = cam @ rot.T
    ray = torch.cat([direction, centre.expand(rows, cols, 3)], dim=-1)[None, None]
    torch.manual_seed(0)
    w2c, k = ray_to_pose(ray, torch.ones(1, 1, rows, cols), (height, width))
    assert torch.allclose(w2c[0, 0, :, :3], rot.T, atol=1e-4)
    assert torch.allclose(-rot @ w2c[0, 0, :, 3], centre, atol=1e-4)
    assert k[0, 0, 0, 0].item() == pytest.approx(fx_n * width / 2, rel=1e-4)
    assert k[0, 0, 1, 1].item() == pytest.approx(fy_n * height / 2, rel=1e-4)
    assert k[0, 0, 0, 2].item() == pytest.approx(width / 2, abs=1e-3)


def test_reference_view_strategies():
    tokens = torch.tensor([[1.0, 0.0, 0.0], [0.9, 0.1, 0.0], [0.0, 1.0, 0.0], [0.5, 0.5, 0.1]])
    assert select_reference_view(tokens, 'first') == 0
    assert select_reference_view(tokens, 'middle') == 2
    assert 0 <= select_reference_view(tokens, 'saddle_balanced') < 4
    assert 0 <= select_reference_view(tokens, 'saddle_sim_range') < 4
    with pytest.raises(ConfigError, match='bogus'):
        select_reference_view(tokens, 'bogus')
    for ref in range(5):
        order = reference_order(5, torch.tensor(ref))
        expected = [ref] + [v for v in range(5) if v != ref]
        assert order.tolist() == expected
        assert order[inverse_order(5, torch.tensor(ref))].tolist() == list(range(5))


def test_saddle_balanced_picks_the_balanced_view():
    """A view in the middle of the similarity, norm and variance ranges wins."""
    base = torch.tensor([1.0, 0.0, 0.0, 0.0])
    tokens = torch.stack([base * 1.0, base * 3.0 + torch.tensor([0, 1.0, 0, 0]),
                          base * 5.0 + torch.tensor([0, 3.0, 2.0, 0])])
    scores = select_reference_view(tokens, 'saddle_balanced')
    assert scores == 1
    assert math.isfinite(float(tokens.norm()))
