"""Random rotation matrices for the model tests (not a test module)."""
import torch

from da3_ros.model.pose_encoding import quat_to_mat


def random_rotations(n, seed=0):
    quat = torch.randn(n, 4, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    return quat_to_mat(quat)


def rotation(seed: int) -> torch.Tensor:
    """A random proper rotation [3, 3] (float64)."""
    q, r = torch.linalg.qr(torch.randn(3, 3, generator=torch.Generator().manual_seed(seed),
                                       dtype=torch.float64))
    q = q * torch.sign(torch.diagonal(r))
    return q if torch.det(q) > 0 else -q
