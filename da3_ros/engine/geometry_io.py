"""Glue between the window, the predictor and the stitcher: model inputs, host geometry, outputs.

``model_input`` builds the forward's inputs (with upstream-normalised known poses when pose
conditioning applies, spec 7.4); ``window_geometry`` copies the small per-view geometry to the
host; ``output_tensors`` builds the output timestep's device tensors for one copy back.
"""
import dataclasses
from dataclasses import dataclass, field
from typing import List, Optional, Sequence, Tuple

import numpy as np
import torch

from da3_ros.config import EngineConfig
from da3_ros.engine.outputs import ALL, CLOUD, CONFIDENCE, DEPTH, OutputRequest, SKY
from da3_ros.engine.postprocess import Postprocessor, sample_pixels, to_host, view_points
from da3_ros.engine.stitch import Alignment, WindowGeometry
from da3_ros.engine.types import CameraResult, ModelInput, RigResult
from da3_ros.engine.window import View, WindowBuffer
from da3_ros.geometry import pose as pose_lib
from da3_ros.model.prediction import Prediction
from da3_ros.model.sky import SKY_THRESHOLD


def known_poses(window: WindowBuffer, views: Sequence[View]) -> List[Optional[np.ndarray]]:
    """Metric ``T_odom_cam`` [4, 4] per view (odometry composed with rig extrinsic) or None."""
    out = []
    for v in views:
        odom, ext = window.odom[v.slot], window.view_meta(v).t_base_cam
        out.append(None if odom is None or ext is None else odom @ ext)
    return out


def conditioning_poses(window: WindowBuffer, views: Sequence[View],
                       known: Sequence[Optional[np.ndarray]]) -> Optional[List[np.ndarray]]:
    """Every view's pose in one frame, or None: what pose conditioning can use.

    The metric odometry poses when every view has one; else, for the views of one timestep
    (a single-timestep window without odometry), the rig extrinsics ``T_base_cam`` (all in
    the base frame of that timestep) when every view has one.
    """
    if all(p is not None for p in known):
        return list(known)
    extrinsics = [window.view_meta(v).t_base_cam for v in views]
    if len({v.stamp for v in views}) == 1 and all(e is not None for e in extrinsics):
        return extrinsics
    return None


def normalise_extrinsics(t_world_cam: np.ndarray) -> np.ndarray:
    """Upstream ``_normalize_extrinsics``: w2c [S, 4, 4] relative to view 0, unit median range.

    The translation scale is the lower median of the camera distances to view 0 (view 0
    included), clamped at 0.1.
    """
    w2c = pose_lib.inverse(t_world_cam)
    rel = w2c @ t_world_cam[0]
    dist = np.sort(np.linalg.norm(pose_lib.inverse(rel)[:, :3, 3], axis=1))
    scale = max(float(dist[(len(dist) - 1) // 2]), 0.1)
    rel[:, :3, 3] /= scale
    return rel


def model_input(window: WindowBuffer, views: Sequence[View],
                conditioning: str) -> Tuple[ModelInput, List[Optional[np.ndarray]]]:
    """The forward's inputs and the known metric poses of the views (None entries unknown)."""
    metas = [window.view_meta(v) for v in views]
    known = known_poses(window, views)
    have_k = all(m.k_proc is not None for m in metas)
    device = window.device
    intr = torch.tensor(np.stack([m.k_proc for m in metas]), dtype=torch.float32,
                        device=device) if have_k else None
    extr, poses = None, conditioning_poses(window, views, known)
    if conditioning == 'auto' and have_k and poses is not None:
        extr = torch.tensor(normalise_extrinsics(np.stack(poses)), dtype=torch.float32,
                            device=device)
    keys = tuple((v.stamp, v.name) for v in views)
    return ModelInput(window.gather(views), extr, intr, keys), known


def window_geometry(window: WindowBuffer, views: Sequence[View], pred: Prediction,
                    known: List[Optional[np.ndarray]],
                    points_per_view: int) -> Tuple[WindowGeometry, np.ndarray]:
    """Host geometry of the window (one small copy) and per-view processed K [S, 3, 3]."""
    metas = [window.view_meta(v) for v in views]
    depth = _real(pred.depth[0])
    k_given = [m.k_proc for m in metas]
    if all(k is not None for k in k_given) or pred.intrinsics is None:
        k_np = np.stack([k if k is not None else _centred_k(depth.shape[-2:]) for k in k_given])
        k_dev = torch.tensor(k_np, dtype=depth.dtype, device=depth.device)
    else:
        k_dev = _real(pred.intrinsics[0])
    index = sample_pixels(depth.shape[-2], depth.shape[-1], max(points_per_view, 1))
    index = index.to(depth.device)
    conf = _conf(pred)[0].reshape(len(views), -1)[:, index]
    pts = view_points(depth, k_dev, index)
    extr = _real(pred.extrinsics[0]) if pred.extrinsics is not None else None
    host = to_host([pts, conf, k_dev] + ([extr] if extr is not None else []))
    pts_cam, conf_np, k_np = host[0].astype(np.float64), host[1].astype(np.float64), host[2]
    if extr is not None:
        t_gauge_cam = pose_lib.inverse(pose_lib.to_homogeneous(host[3]))
    else:
        t_gauge_cam = np.stack([_fallback_pose(p, m) for p, m in zip(known, metas)])
    weights = np.where(np.isfinite(pts_cam).all(-1) & (pts_cam[..., 2] > 0), conf_np, 0.0)
    pts_gauge = np.einsum('sij,spj->spi', t_gauge_cam[:, :3, :3], np.nan_to_num(pts_cam))
    pts_gauge += t_gauge_cam[:, None, :3, 3]
    if points_per_view == 0:
        weights = np.zeros_like(weights)
    geo = WindowGeometry(keys=[(v.stamp, v.name) for v in views], t_gauge_cam=t_gauge_cam,
                         points=pts_gauge, weights=weights, depths=pts_cam[..., 2],
                         t_base_cam=[m.t_base_cam for m in metas], t_world_cam_known=known,
                         model_metric=bool(pred.is_metric))
    return geo, k_np.astype(np.float64)


def _fallback_pose(known: Optional[np.ndarray], meta) -> np.ndarray:
    """Pose of a view when the model predicts none: known, else rig extrinsic, else identity."""
    if known is not None:
        return known
    return meta.t_base_cam if meta.t_base_cam is not None else np.eye(4)


def apply_metric_rule(pred: Prediction, intrinsics: Optional[torch.Tensor]) -> Prediction:
    """DA3-metric rule (spec 8.2): depth_m = net_output * ((fx + fy) / 2) / 300, per view.

    Needs processed-pixel intrinsics [S, 3, 3]; without them the depth stays relative.
    """
    if intrinsics is None:
        return pred
    focal = (intrinsics[:, 0, 0] + intrinsics[:, 1, 1]) / 2.0
    depth = pred.depth * (focal / 300.0).to(pred.depth)[None, :, None, None]
    return dataclasses.replace(pred, depth=depth, is_metric=True)


def _real(tensor: torch.Tensor) -> torch.Tensor:
    """float64 stays float64 (exact simulated predictors); anything else becomes float32."""
    return tensor if tensor.dtype == torch.float64 else tensor.float()


def _centred_k(hw) -> np.ndarray:
    focal = float(max(hw))
    return np.array([[focal, 0, hw[1] / 2.0], [0, focal, hw[0] / 2.0], [0, 0, 1.0]])


def _conf(pred: Prediction) -> torch.Tensor:
    """Depth confidence; NaN (not estimated) for the variants without one (mono, metric)."""
    return pred.depth_conf.float() if pred.depth_conf is not None else torch.full_like(
        pred.depth.float(), float('nan'))


@dataclass
class OutputParts:
    """Device tensors of the output timestep plus the host data to assemble a RigResult.

    ``cameras`` holds per camera (name, frame id, K, pose, names of its tensors in ``tensors``);
    the fused cloud, when built, is the last tensor.
    """

    tensors: List[torch.Tensor] = field(default_factory=list)
    cameras: List[Tuple[str, str, np.ndarray, np.ndarray, Tuple[str, ...]]] = field(
        default_factory=list)
    t_world_base: Optional[np.ndarray] = None
    world_is_odom: bool = False
    fused: bool = False

    def build(self, host: List[np.ndarray], alignment: Alignment, stamp: float,
              window_stamps: Tuple[float, ...]) -> RigResult:
        """Assemble the RigResult from the host copies (same order as ``tensors``)."""
        results, start = {}, 0
        for name, frame_id, k_out, pose, names in self.cameras:
            maps = dict(zip(names, host[start:start + len(names)]))
            start += len(names)
            results[name] = CameraResult(name, frame_id, maps.get(DEPTH), maps.get(CONFIDENCE),
                                         maps.get(SKY), k_out, pose, maps.get(CLOUD))
        fused = host[start] if self.fused else None
        return RigResult(
            stamp=stamp, cameras=results,
            fused_points=fused if fused is not None else np.zeros((0, 3), np.float32),
            t_world_base=self.t_world_base, world_is_odom=alignment.world_is_odom,
            is_metric=alignment.is_metric, scale_source=alignment.scale_source,
            scale=alignment.sim.scale, reset=alignment.reset, window_stamps=window_stamps)


def output_tensors(post: Postprocessor, window: WindowBuffer, views: Sequence[View],
                   pred: Prediction, geo: WindowGeometry, k_proc: np.ndarray,
                   alignment: Alignment, stamp: float, config: EngineConfig,
                   request: OutputRequest = ALL) -> OutputParts:
    """Per-camera maps and the fused cloud of the views at ``stamp`` (device tensors).

    Only the outputs of ``request`` are built (``engine.outputs``).
    """
    sel = [i for i, v in enumerate(views) if v.stamp == stamp]
    scale = alignment.sim.scale
    poses = [geo.t_world_cam_known[i] if geo.t_world_cam_known[i] is not None
             else alignment.sim.apply_pose(geo.t_gauge_cam[i]) for i in sel]
    depth = pred.depth[0, sel].float() * scale
    conf = _conf(pred)[0, sel]
    sky = (pred.sky[0, sel] >= SKY_THRESHOLD) if pred.sky is not None \
        else torch.zeros_like(depth, dtype=torch.bool)
    parts = OutputParts(world_is_odom=alignment.world_is_odom)
    for j, i in enumerate(sel):
        meta = window.view_meta(views[i])
        k_out = post.output_k(k_proc[i], meta.transform)
        maps = post.camera_outputs(depth[j], conf[j], sky[j], meta.transform, k_out,
                                   request.for_camera(views[i].name))
        parts.tensors.extend(maps.values())
        parts.cameras.append((views[i].name, meta.frame_id, k_out, poses[j], tuple(maps)))
    parts.t_world_base = _base_pose(window, views, sel, poses)
    if config.output.fused_cloud and request.fused_cloud:
        base = parts.t_world_base if parts.t_world_base is not None else poses[0]
        t_base_cam = np.stack([pose_lib.inverse(base) @ p for p in poses])
        k_sel = torch.tensor(k_proc[sel], dtype=torch.float32, device=depth.device)
        parts.tensors.append(post.fused_cloud(depth, conf, sky, k_sel,
                                              torch.tensor(t_base_cam, device=depth.device)))
        parts.fused = True
    return parts


def _base_pose(window: WindowBuffer, views: Sequence[View], sel: Sequence[int],
               poses: Sequence[np.ndarray]) -> Optional[np.ndarray]:
    """Base pose estimate: chordal mean of T_world_cam T_base_cam^-1 over rig cameras."""
    cand = [p @ pose_lib.inverse(window.view_meta(views[i]).t_base_cam)
            for i, p in zip(sel, poses) if window.view_meta(views[i]).t_base_cam is not None]
    return pose_lib.mean_pose(np.stack(cand)) if cand else None
