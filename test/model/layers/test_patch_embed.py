"""The position-embedding table is resampled to the patch grid (upstream's square-518 shortcut)."""
import torch

from da3_ros.model.layers.patch_embed import interpolate_pos_embed


def test_pos_embed_shortcut_only_for_square_518():
    table = torch.randn(1, 1370, 8)
    assert interpolate_pos_embed(table, 37, 37, True) is table
    assert interpolate_pos_embed(table, 37, 37, False).shape == (1, 1370, 8)
    assert interpolate_pos_embed(table, 9, 13, False).shape == (1, 1 + 9 * 13, 8)
