"""Random rotation matrices for the model tests (not a test module)."""
import torch

from da3_ros.model.pose_encoding import quat_to_mat


def random_rotations(n, seed=0):
    quat = torch.randn(n, 4, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    return quat_to_mat(quat)
