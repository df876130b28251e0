# Copyright 2026 The da3_ros Authors
#
# Licensed under the Apache License, Version 2.0 (the "License");
# you may not use this file except in compliance with the License.
# You may obtain a copy of the License at
#
#     http://www.apache.org/licenses/LICENSE-2.0
#
# Unless required by applicable law or agreed to in writing, software
# distributed under the License is distributed on an "AS IS" BASIS,
# WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
# See the License for the specific language governing permissions and
# limitations under the License.

"""Data-dependent finishing steps after the network: sky fill, ray pose, nested alignment.

They count pixels, index with masks, sample above 100k values and run RANSAC, so they stay out
of exported graphs. The torch forward and the exported-model backends both apply these same
functions to the network's raw outputs, in the same order (the global torch RNG is drawn in the
same sequence). Everything here runs in fp32; shapes as in :class:`Prediction`.
"""
import dataclasses
from typing import Tuple

from da3_ros.model.metric_scale import align_scale, metric_scale_depth
from da3_ros.model.prediction import Prediction
from da3_ros.model.ray_pose import ray_to_pose
from da3_ros.model.sky import fill_sky_depth, nested_sky, SKY_THRESHOLD


def finish_single(raw: Prediction, image_hw: Tuple[int, int], use_ray_pose: bool) -> Prediction:
    """One network's output: sky fill (mono/metric) or ray-map poses (any-view, on request).

    Args:
        raw: the network's prediction before finishing (depth straight from the head).
        image_hw: processed image size (H, W).
        use_ray_pose: replace the camera decoder's poses by ``ray_to_pose`` of the ray map.
    """
    if raw.sky is not None:
        return dataclasses.replace(raw, depth=fill_sky_depth(raw.depth, raw.sky))
    if use_ray_pose and raw.ray is not None:
        extrinsics, intrinsics = ray_to_pose(raw.ray, raw.ray_conf, image_hw)
        return dataclasses.replace(raw, extrinsics=extrinsics, intrinsics=intrinsics)
    return raw


def finish_nested(anyview: Prediction, metric: Prediction, image_hw: Tuple[int, int],
                  use_ray_pose: bool) -> Prediction:
    """Scale the any-view prediction to metres with the metric model (spec 8.3).

    Args:
        anyview: raw prediction of the any-view giant.
        metric: raw prediction (depth, sky) of the metric large model on the same images.
        image_hw: processed image size (H, W).
        use_ray_pose: as in :func:`finish_single`, for the any-view prediction.
    """
    out = finish_single(anyview, image_hw, use_ray_pose)
    metric = finish_single(metric, image_hw, False)
    metric_depth = metric_scale_depth(metric.depth, out.intrinsics)
    non_sky = metric.sky < SKY_THRESHOLD
    scale = align_scale(out.depth, out.depth_conf, metric_depth, non_sky)
    depth = out.depth * scale
    extrinsics = out.extrinsics.clone()
    extrinsics[..., :3, 3] = extrinsics[..., :3, 3] * scale
    depth, conf = nested_sky(depth, out.depth_conf, non_sky)
    return Prediction(depth=depth, depth_conf=conf, extrinsics=extrinsics,
                      intrinsics=out.intrinsics, ray=out.ray, ray_conf=out.ray_conf,
                      sky=metric.sky, is_metric=True, scale_factor=scale.reshape(1),
                      aux=out.aux)
