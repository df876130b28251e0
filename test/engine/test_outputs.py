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

"""Requested outputs: what a step was not asked for is neither computed nor copied back."""
import numpy as np
import pytest

from da3_ros.config import EngineConfig, ModelConfig, OutputConfig, WindowConfig
from da3_ros.engine import postprocess
from da3_ros.engine.engine import Engine
from da3_ros.engine.outputs import ALL, CAMERA_OUTPUTS, OutputRequest
from da3_ros.errors import ConfigError
from da3_ros.synthetic.predictor import SimulatedPredictor
from da3_ros.synthetic.sequence import SyntheticRig

NAMES = ('front', 'front_left', 'back')


@pytest.fixture(scope='module')
def rig():
    return SyntheticRig((14, 28))


def _engine(rig, **output):
    cfg = EngineConfig(model=ModelConfig(device='cpu', weights='random', process_res=28),
                       window=WindowConfig(length=2),
                       output=OutputConfig(min_depth=0.0, max_depth=1e9, **output))
    return Engine(cfg, SimulatedPredictor(rig, seed=3))


def _run(rig, request, steps=2, **output):
    engine = _engine(rig, **output)
    return [engine.step(rig.frame(s, names=NAMES), request) for s in range(steps)][-1]


class Spy:
    """Counts the device work of the post-processing: resamples, clouds, copies.

    ``resamples`` holds (maps, cameras) per resample call; ``clouds`` counts unprojections.
    """

    def __init__(self, monkeypatch):
        self.resamples, self.clouds, self.fused, self.copied = [], 0, 0, []
        to_output, fused = postprocess.Postprocessor.to_output, \
            postprocess.Postprocessor.fused_cloud
        unproject = postprocess.cam_lib.unproject_depth
        to_host = postprocess.to_host

        def spy_to_output(post, maps, tf):
            self.resamples.append(tuple(maps.shape[:2]))
            return to_output(post, maps, tf)

        def spy_unproject(depth, k=None, **kwargs):
            self.clouds += 1
            return unproject(depth, k, **kwargs)

        def spy_fused(post, *args):
            self.fused += 1
            return fused(post, *args)

        def spy_to_host(tensors):
            self.copied.append([tuple(t.shape) for t in tensors])
            return to_host(tensors)

        monkeypatch.setattr(postprocess.Postprocessor, 'to_output', spy_to_output)
        monkeypatch.setattr(postprocess.Postprocessor, 'fused_cloud', spy_fused)
        monkeypatch.setattr(postprocess.cam_lib, 'unproject_depth', spy_unproject)
        monkeypatch.setattr('da3_ros.engine.transfer.to_host', spy_to_host)


def test_request_names():
    assert ALL.for_camera('any') == CAMERA_OUTPUTS and ALL.fused_cloud
    req = OutputRequest.of(['depth', 'fused_cloud'])
    assert req.for_camera('front') == {'depth'} and req.fused_cloud
    per = OutputRequest.per_camera({'front': ['cloud']}, fused_cloud=False)
    assert per.for_camera('front') == {'cloud'} and per.for_camera('back') == frozenset()
    assert not per.fused_cloud
    with pytest.raises(ConfigError, match='normals'):
        OutputRequest.of(['depth', 'normals'])
    with pytest.raises(ConfigError, match="camera 'front'"):
        OutputRequest.per_camera({'front': ['rgb']}, fused_cloud=True)


def test_subset_equals_the_full_step(rig):
    full = _run(rig, ALL)
    part = _run(rig, OutputRequest.per_camera({'front': ['depth', 'cloud'], 'back': ['sky']},
                                              fused_cloud=False))
    assert list(part.cameras) == list(NAMES)
    front, back, left = part.cameras['front'], part.cameras['back'], part.cameras['front_left']
    np.testing.assert_array_equal(front.depth, full.cameras['front'].depth)
    np.testing.assert_array_equal(front.cloud, full.cameras['front'].cloud)
    np.testing.assert_array_equal(back.sky, full.cameras['back'].sky)
    assert front.confidence is None and front.sky is None and back.depth is None
    assert back.cloud is None and left.depth is None and left.cloud is None
    for name in NAMES:  # poses and intrinsics always come back
        np.testing.assert_array_equal(part.cameras[name].t_world_cam,
                                      full.cameras[name].t_world_cam)
        np.testing.assert_array_equal(part.cameras[name].k, full.cameras[name].k)
    np.testing.assert_array_equal(part.t_world_base, full.t_world_base)
    assert full.fused_points.shape[0] > 0 and part.fused_points.shape == (0, 3)


def test_unrequested_outputs_are_not_computed(rig, monkeypatch):
    spy = Spy(monkeypatch)
    _run(rig, OutputRequest.per_camera({'front': ['depth']}, fused_cloud=False), steps=1)
    assert spy.resamples == [(1, 1)] and spy.clouds == 0 and spy.fused == 0
    assert len(spy.copied) == 2  # the window geometry's small copy, then the outputs'
    assert spy.copied[-1] == [(1, 14, 28)]  # the group of one camera's depth


def test_nothing_requested_copies_nothing(rig, monkeypatch):
    spy = Spy(monkeypatch)
    result = _run(rig, OutputRequest.of([]), steps=1)
    assert spy.resamples == [] and spy.clouds == 0 and spy.fused == 0
    assert len(spy.copied) == 2 and spy.copied[-1] == []  # after the geometry's copy
    assert all(c.depth is None and c.cloud is None for c in result.cameras.values())
    assert result.t_world_base is not None


def test_full_request_computes_everything_once(rig, monkeypatch):
    spy = Spy(monkeypatch)
    _run(rig, ALL, steps=1)
    # The three cameras share one transform and one request: one batch of three cameras.
    assert spy.resamples == [(3, 3)] and spy.fused == 1
    # One set of rays for the three cameras: the images are already at processed size, so
    # the organised clouds and the fused cloud share them.
    assert spy.clouds == 1
    # After the window geometry's copy: one copy per map of the group and the fused cloud.
    assert [shape[:1] for shape in spy.copied[-1]] == [(3,)] * 4 + [(3 * 14 * 28,)]


def test_config_still_gates_a_requested_cloud(rig, monkeypatch):
    spy = Spy(monkeypatch)
    result = _run(rig, ALL, steps=1, organized_clouds=False, fused_cloud=False)
    assert spy.clouds == 0 and spy.fused == 0 and spy.resamples == [(3, 3)]
    assert result.cameras['front'].cloud is None and result.cameras['front'].depth is not None


@pytest.mark.parametrize('resolution', ['processed', 'full'])
def test_outputs_are_float32_even_from_a_float64_prediction(rig, resolution):
    result = _run(rig, ALL, steps=1, resolution=resolution)  # the simulator predicts float64
    for camera in result.cameras.values():
        assert camera.depth.dtype == camera.confidence.dtype == camera.cloud.dtype == np.float32
    assert result.fused_points.dtype == np.float32
