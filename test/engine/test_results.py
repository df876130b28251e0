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

"""results: one sky threshold, confidence NaN, grouped camera outputs equal per-camera ones.

What the model fills as sky is what is masked; cameras built in groups (shared transform and
request) give the same tensors as one camera at a time.
"""
import numpy as np
import pytest
import torch

from da3_ros.config import EngineConfig, ModelConfig, OutputConfig, WindowConfig
from da3_ros.engine.engine import Engine
from da3_ros.engine.outputs import CAMERA_OUTPUTS, OutputRequest
from da3_ros.engine.postprocess import Postprocessor
from da3_ros.engine.preprocess import common_transform, processed_size
from da3_ros.engine.results import scaled_camera_outputs, start_outputs
from da3_ros.engine.window import View, ViewMeta, WindowSpan
from da3_ros.geometry import camera as cam_lib
from da3_ros.model.prediction import Prediction
from da3_ros.model.sky import fill_sky_depth, SKY_THRESHOLD
from da3_ros.synthetic.sequence import SyntheticRig

NAMES = ['front', 'back']


class SkyPredictor:
    """A mono-like prediction: sky score just above the fill threshold in the top half."""

    def predict(self, inputs):
        views, _, h, w = inputs.images.shape
        depth = torch.linspace(2.0, 6.0, h * w).reshape(1, 1, h, w).repeat(1, views, 1, 1)
        sky = torch.zeros_like(depth)
        sky[..., :h // 2, :] = SKY_THRESHOLD + 0.1  # below the engine's former 0.5
        return Prediction(depth=fill_sky_depth(depth, sky), sky=sky)


def test_sky_the_model_filled_is_masked_and_mono_is_not_confidence_filtered():
    cfg = EngineConfig(model=ModelConfig(variant='da3mono-large', weights='random', device='cpu',
                                         dtype='fp32', process_res=28),
                       window=WindowConfig(length=1),
                       output=OutputConfig(min_depth=0.0, max_depth=1e9, min_confidence=1.1,
                                           resolution='processed'))
    res = Engine(cfg, SkyPredictor()).step(SyntheticRig((28, 28)).frame(0, names=NAMES))
    cam = res.cameras['front']
    h = cam.depth.shape[0]
    assert cam.sky[:h // 2].all() and not cam.sky[h // 2:].any()
    assert np.isnan(cam.cloud[:h // 2]).all(), 'filled sky never reaches a cloud'
    assert np.isfinite(cam.cloud[h // 2:]).all(), 'no confidence output: not filtered by it'
    assert np.isnan(cam.confidence).all()
    assert len(res.fused_points) == len(NAMES) * cam.sky[h // 2:].size  # no voxel grid


# Two transforms to one processed size (28 x 56); per camera its transform and its request.
TF_A = processed_size((56, 112), 56, 'upper_bound_resize')
TF_B = common_transform((42, 84), (28, 56))
CAMERAS = (('front', TF_A, CAMERA_OUTPUTS), ('left', TF_A, CAMERA_OUTPUTS),
           ('back', TF_B, {'cloud', 'confidence'}), ('right', TF_A, {'depth', 'sky'}),
           ('rear', TF_B, {'cloud', 'confidence'}), ('top', TF_A, set()))


def _output_inputs(post, seed=0):
    """Span, processed maps [V, 28, 56] (NaN, out-of-range, sky pixels) and K_out per view."""
    gen = torch.Generator().manual_seed(seed)
    count = len(CAMERAS)
    depth = torch.rand(count, 28, 56, generator=gen) * 20.0
    depth[:, 3, 5:9] = float('nan')
    conf = torch.rand(count, 28, 56, generator=gen) * 3.0
    sky = torch.rand(count, 28, 56, generator=gen) > 0.8
    views = tuple(View(j, j, 0.0, name) for j, (name, _, _) in enumerate(CAMERAS))
    metas = tuple(ViewMeta(f'{name}_optical', tf, None, None) for name, tf, _ in CAMERAS)
    span = WindowSpan(None, views, metas, (None,) * count, 0.0)
    k_src = [cam_lib.intrinsics_matrix(40.0 + 5 * j, 42.0 + 5 * j, tf.src_hw[1] / 2 - j,
                                       tf.src_hw[0] / 2 + j)
             for j, (_, tf, _) in enumerate(CAMERAS)]
    k_out = [post.output_k(tf.intrinsics(k), tf) for k, (_, tf, _) in zip(k_src, CAMERAS)]
    return span, depth, conf, sky, k_out


def _grouped(post, span, depth, conf, sky, k_out, request, scale):
    """Both halves of the outputs on the CPU: per output camera name -> host array."""
    pred = Prediction(depth=depth[None], depth_conf=conf[None], sky=sky.float()[None])
    started = start_outputs(post, span, pred, request)
    scaled_camera_outputs(post, started, scale, k_out)
    host = started.copy.finish().wait()
    return [{name: host[place][row] for name, (place, row) in index.items()}
            for index in started.index]


@pytest.mark.parametrize('resolution, upsample',
                         [('processed', 'nearest'), ('full', 'nearest'), ('full', 'bilinear')])
@pytest.mark.parametrize('organized_clouds', [True, False])
@pytest.mark.parametrize('scale', [1.0, 2.5])
def test_grouped_camera_outputs_equal_the_per_camera_ones(resolution, upsample,
                                                          organized_clouds, scale):
    post = Postprocessor(OutputConfig(resolution=resolution, upsample=upsample, min_depth=1.0,
                                      max_depth=15.0, min_confidence=1.0,
                                      organized_clouds=organized_clouds), 'cpu')
    span, depth, conf, sky, k_out = _output_inputs(post)
    request = OutputRequest.per_camera({name: wanted for name, _, wanted in CAMERAS},
                                       fused_cloud=False)
    grouped = _grouped(post, span, depth, conf, sky, k_out, request, scale)
    # Scaled after the (linear) resample: equal to resampling the scaled depth up to rounding,
    # exactly so where nothing is interpolated.
    exact = upsample == 'nearest' or scale == 1.0
    for j, (name, tf, wanted) in enumerate(CAMERAS):
        alone = {name: batch[0].numpy() for name, batch in post.batch_outputs(
            depth[j:j + 1] * scale, conf[j:j + 1], sky[j:j + 1], tf, k_out[j][None],
            wanted).items()}
        assert sorted(grouped[j]) == sorted(alone), name  # the same outputs
        for output, array in grouped[j].items():
            np.testing.assert_allclose(array, alone[output], rtol=0 if exact else 1e-6,
                                       atol=0 if exact else 1e-5, equal_nan=True)
    assert grouped[5] == {}
    assert ('cloud' in grouped[2]) == organized_clouds and 'depth' not in grouped[2]
    full_a = TF_A.src_hw if resolution == 'full' else TF_A.out_hw
    full_b = TF_B.src_hw if resolution == 'full' else TF_B.out_hw
    assert grouped[0]['depth'].shape == full_a and grouped[4]['confidence'].shape == full_b
