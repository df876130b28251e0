"""Rigid and similarity transforms as 4x4 numpy arrays (any leading batch shape).

Naming: ``T_a_b`` takes points from frame b to frame a, ``p_a = T_a_b @ p_b``; so
``T_world_cam`` is a camera-to-world pose and its inverse ``T_cam_world`` is the OpenCV
world-to-camera extrinsic that DA3 consumes and predicts. Quaternions are xyzw (scalar last).
"""
import numpy as np

# Rotation taking OpenCV optical-frame vectors (x right, y down, z forward) to the ROS body
# convention (x forward, y left, z up): R_body_optical.
R_ROS_OPTICAL = np.array([[0.0, 0.0, 1.0], [-1.0, 0.0, 0.0], [0.0, -1.0, 0.0]])


def make_pose(rotation: np.ndarray, translation: np.ndarray) -> np.ndarray:
    """Build [..., 4, 4] transforms from rotations [..., 3, 3] and translations [..., 3]."""
    rotation = np.asarray(rotation, dtype=np.float64)
    out = np.zeros(rotation.shape[:-2] + (4, 4))
    out[..., :3, :3] = rotation
    out[..., :3, 3] = translation
    out[..., 3, 3] = 1.0
    return out


def to_homogeneous(pose34: np.ndarray) -> np.ndarray:
    """Pad [..., 3, 4] matrices to [..., 4, 4]."""
    pose34 = np.asarray(pose34, dtype=np.float64)
    return make_pose(pose34[..., :3, :3], pose34[..., :3, 3])


def inverse(pose: np.ndarray) -> np.ndarray:
    """Inverse of rigid [..., 4, 4] transforms (uses R^T, not a general inverse)."""
    rot_t = np.swapaxes(pose[..., :3, :3], -1, -2)
    return make_pose(rot_t, -np.einsum('...ij,...j->...i', rot_t, pose[..., :3, 3]))


def sim3_matrix(scale: float, rotation: np.ndarray, translation: np.ndarray) -> np.ndarray:
    """4x4 matrix of the similarity x -> scale * R x + t."""
    return make_pose(scale * np.asarray(rotation), translation)


def apply_sim3_to_pose(scale: float, rotation: np.ndarray, translation: np.ndarray,
                       pose: np.ndarray) -> np.ndarray:
    """Map camera-to-frame poses [..., 4, 4] through a similarity; result stays rigid.

    With ``S = (s, R, t)`` taking frame a to frame b, ``T_a_cam`` becomes
    ``T_b_cam = [R R_a_cam | s R t_a_cam + t]``: the camera frame keeps unit scale, so depths
    measured in frame a must be multiplied by ``s`` to stay consistent.
    """
    rot = np.einsum('ij,...jk->...ik', rotation, pose[..., :3, :3])
    trans = scale * np.einsum('ij,...j->...i', rotation, pose[..., :3, 3]) + translation
    return make_pose(rot, trans)


def transform_points(pose: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Apply a [4, 4] transform to points [..., 3]."""
    return points @ pose[:3, :3].T + pose[:3, 3]


def skew(vec: np.ndarray) -> np.ndarray:
    """Cross-product matrices [..., 3, 3] of vectors [..., 3]."""
    vec = np.asarray(vec, dtype=np.float64)
    out = np.zeros(vec.shape[:-1] + (3, 3))
    out[..., 0, 1], out[..., 0, 2] = -vec[..., 2], vec[..., 1]
    out[..., 1, 0], out[..., 1, 2] = vec[..., 2], -vec[..., 0]
    out[..., 2, 0], out[..., 2, 1] = -vec[..., 1], vec[..., 0]
    return out


def so3_exp(rotvec: np.ndarray) -> np.ndarray:
    """Rodrigues: rotation vectors [..., 3] (radians) to rotation matrices [..., 3, 3]."""
    rotvec = np.asarray(rotvec, dtype=np.float64)
    theta = np.linalg.norm(rotvec, axis=-1)[..., None, None]
    k = skew(rotvec)
    small = theta < 1e-8
    safe = np.where(small, 1.0, theta)
    a = np.where(small, 1.0 - theta ** 2 / 6.0, np.sin(safe) / safe)
    b = np.where(small, 0.5 - theta ** 2 / 24.0, (1.0 - np.cos(safe)) / safe ** 2)
    return np.eye(3) + a * k + b * (k @ k)


def so3_log(rotation: np.ndarray) -> np.ndarray:
    """Rotation matrices [..., 3, 3] to rotation vectors [..., 3] (radians, angle < pi)."""
    quat = mat_to_quat(rotation)
    sin_half = np.linalg.norm(quat[..., :3], axis=-1)
    angle = 2.0 * np.arctan2(sin_half, quat[..., 3])
    scale = np.where(sin_half < 1e-12, 2.0, angle / np.maximum(sin_half, 1e-12))
    return quat[..., :3] * scale[..., None]


def rotation_angle(rotation: np.ndarray) -> np.ndarray:
    """Angle (radians) of rotation matrices [..., 3, 3]."""
    return np.linalg.norm(so3_log(rotation), axis=-1)


def quat_to_mat(quat: np.ndarray) -> np.ndarray:
    """Convert xyzw quaternions [..., 4] (any norm) to rotation matrices [..., 3, 3]."""
    x, y, z, w = np.moveaxis(np.asarray(quat, dtype=np.float64), -1, 0)
    s = 2.0 / np.maximum(x * x + y * y + z * z + w * w, 1e-300)
    rows = [[1 - s * (y * y + z * z), s * (x * y - z * w), s * (x * z + y * w)],
            [s * (x * y + z * w), 1 - s * (x * x + z * z), s * (y * z - x * w)],
            [s * (x * z - y * w), s * (y * z + x * w), 1 - s * (x * x + y * y)]]
    return np.stack([np.stack(row, axis=-1) for row in rows], axis=-2)


def mat_to_quat(rotation: np.ndarray) -> np.ndarray:
    """Rotation matrices [..., 3, 3] to unit xyzw quaternions [..., 4] with w >= 0."""
    r = np.asarray(rotation, dtype=np.float64)
    m00, m11, m22 = r[..., 0, 0], r[..., 1, 1], r[..., 2, 2]
    mags = np.sqrt(np.maximum(0.0, np.stack([1 + m00 + m11 + m22, 1 + m00 - m11 - m22,
                                             1 - m00 + m11 - m22, 1 - m00 - m11 + m22], -1)))
    cands = np.stack([
        np.stack([r[..., 2, 1] - r[..., 1, 2], r[..., 0, 2] - r[..., 2, 0],
                  r[..., 1, 0] - r[..., 0, 1], mags[..., 0] ** 2], -1),
        np.stack([mags[..., 1] ** 2, r[..., 1, 0] + r[..., 0, 1],
                  r[..., 0, 2] + r[..., 2, 0], r[..., 2, 1] - r[..., 1, 2]], -1),
        np.stack([r[..., 1, 0] + r[..., 0, 1], mags[..., 2] ** 2,
                  r[..., 2, 1] + r[..., 1, 2], r[..., 0, 2] - r[..., 2, 0]], -1),
        np.stack([r[..., 2, 0] + r[..., 0, 2], r[..., 2, 1] + r[..., 1, 2],
                  mags[..., 3] ** 2, r[..., 1, 0] - r[..., 0, 1]], -1)], -2)
    cands = cands / (2.0 * np.maximum(mags[..., None], 0.1))
    best = np.take_along_axis(cands, np.argmax(mags, -1)[..., None, None], -2)[..., 0, :]
    best = best / np.linalg.norm(best, axis=-1, keepdims=True)
    return np.where(best[..., 3:] < 0, -best, best)


def decode_pose_encoding(encoding: np.ndarray, height: int, width: int):
    """Decode DA3 9-d pose encodings [..., 9] = (t, q_xyzw, fov_h, fov_w).

    Returns:
        (T_world_cam [..., 4, 4], K [..., 3, 3]) with the principal point at the image centre.
    """
    enc = np.asarray(encoding, dtype=np.float64)
    pose = make_pose(quat_to_mat(enc[..., 3:7]), enc[..., :3])
    fy = (height / 2.0) / np.maximum(np.tan(enc[..., 7] / 2.0), 1e-6)
    fx = (width / 2.0) / np.maximum(np.tan(enc[..., 8] / 2.0), 1e-6)
    k = np.zeros(enc.shape[:-1] + (3, 3))
    k[..., 0, 0], k[..., 1, 1] = fx, fy
    k[..., 0, 2], k[..., 1, 2], k[..., 2, 2] = width / 2.0, height / 2.0, 1.0
    return pose, k


def optical_to_ros(pose_x_optical: np.ndarray) -> np.ndarray:
    """Re-express ``T_x_optical`` [..., 4, 4] as ``T_x_body`` of a ROS body frame at the camera."""
    body_to_optical = make_pose(R_ROS_OPTICAL.T, np.zeros(3))
    return pose_x_optical @ body_to_optical


def ros_to_optical(pose_x_body: np.ndarray) -> np.ndarray:
    """Inverse of :func:`optical_to_ros`."""
    return pose_x_body @ make_pose(R_ROS_OPTICAL, np.zeros(3))


def mean_pose(poses: np.ndarray) -> np.ndarray:
    """Chordal mean of rigid poses [N, 4, 4]: SVD-projected mean rotation, mean translation."""
    u, _, vt = np.linalg.svd(poses[:, :3, :3].sum(0))
    fix = np.diag([1.0, 1.0, np.sign(np.linalg.det(u @ vt)) or 1.0])
    return make_pose(u @ fix @ vt, poses[:, :3, 3].mean(0))
