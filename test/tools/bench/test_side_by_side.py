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

"""Side-by-side benchmark helpers (images, frames, cases, step case) without GPU or upstream."""
import numpy as np
import pytest
import torch

from da3_ros.config import EngineConfig, ModelConfig, OutputConfig, WindowConfig
from da3_ros.engine.decode import EncodedImage
from da3_ros.engine.engine import Engine
from da3_ros.tools.bench import side_by_side as sbs
from da3_ros.tools.bench import upstream as bench_upstream


def test_smooth_images_are_not_flat_and_have_the_size():
    images = sbs.smooth_images(3, (90, 160), seed=1)
    assert len(images) == 3 and images[0].shape == (90, 160, 3)
    assert images[0].dtype == np.uint8 and images[0].std() > 10
    assert not np.array_equal(images[0], images[1])


def test_rig_frames_group_cameras_per_timestep():
    images = sbs.smooth_images(4, (28, 42), seed=2)
    frames = sbs.rig_frames(images, cameras=2, window=2)
    assert [len(f.cameras) for f in frames] == [2, 2]
    assert frames[1].cameras[1].image is images[3]
    assert frames[0].stamp < frames[1].stamp


def test_upstream_run_refuses_without_the_package(monkeypatch):
    monkeypatch.setattr(bench_upstream, 'available', lambda: False)
    with pytest.raises(SystemExit, match='depth_anything_3'):
        sbs.run('bf16', 'bf16', True, 2, 1)


def test_every_issue_case_has_a_target():
    assert {c.stage for c in sbs.CASES} == {'forward', 'step'}
    assert all(c.target_ratio or c.target_ms for c in sbs.CASES)
    assert all(c.height % 14 == 0 and c.width % 14 == 0 for c in sbs.CASES
               if c.stage == 'forward')


def test_jpeg_frames_carry_encoded_images_of_the_right_size():
    images = sbs.smooth_images(2, (56, 84), seed=3)
    frames = sbs.rig_frames([EncodedImage.inspect(sbs.jpeg_bytes(i)) for i in images], 2, 1)
    first = frames[0].cameras[0]
    assert first.image.codec == 'jpeg' and first.image.shape == (56, 84, 3)
    assert first.k[0, 2] == pytest.approx(84 / 2 - 0.5)


class _FakeUpstream:
    def __init__(self):
        self.calls = []

    def inference(self, images):
        self.calls.append([i.shape for i in images])


class _CpuBench:
    """VariantBench's step-case surface on the CPU: our engine, a recording upstream."""

    def __init__(self):
        self.upstream = _FakeUpstream()

    def engine(self, cameras, window):
        cfg = EngineConfig(
            model=ModelConfig(variant='da3-small', weights='random', device='cpu',
                              dtype='fp32', process_res=56),
            window=WindowConfig(length=window, max_views=cameras * window),
            output=OutputConfig(resolution='full'))
        return Engine(cfg)


@pytest.fixture
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def test_step_case_times_our_engine_and_upstream_on_the_same_images(one_thread):
    bench = _CpuBench()
    case = sbs.Case('tiny_jpeg', 'da3-small', 4, 56, 84, 'step', cameras=2, target_ratio=5.0,
                    jpeg=True)
    out = sbs.step_case(bench, case, iters=2, warmup=1)
    assert out['ours_ms'] > 0 and out['upstream_ms'] >= 0
    assert set(out['stages_ms']) >= {'forward', 'total'}
    # upstream saw the same four decoded images every time
    assert bench.upstream.calls and all(c == [(56, 84, 3)] * 4 for c in bench.upstream.calls)


def test_a_case_is_met_by_its_ratio_and_its_ceiling():
    ratio_case = sbs.Case('r', 'da3-small', 1, 14, 14, 'forward', target_ratio=5.0)
    ceiling_case = sbs.Case('c', 'da3-small', 6, 14, 14, 'step', cameras=6,
                            target_ms=10.0)
    assert sbs._meets(ratio_case, 10.0, 50.0)
    assert not sbs._meets(ratio_case, 10.0, 49.0)
    assert sbs._meets(ceiling_case, 10.0, 11.0)
    assert not sbs._meets(ceiling_case, 10.5, 100.0)


def test_case_entry_reports_each_ratio_against_its_target():
    forward = sbs.Case('f', 'da3-large', 12, 280, 504, 'forward', target_ratio=3.0)
    entry = sbs.case_entry(forward, 10.0, {'ours_ms': 25.0, 'upstream_ms': 87.5,
                                           'ours_with_ray_ms': 35.0})
    assert entry['variant'] == 'da3-large' and entry['views'] == 12
    assert entry['ratio'] == pytest.approx(3.5) and entry['met']
    assert entry['ratio_with_ray'] == pytest.approx(2.5)
    assert 'ratio_pipelined' not in entry
    assert not sbs.case_entry(forward, 10.0, {'ours_ms': 30.0, 'upstream_ms': 87.5})['met']
    step = sbs.Case('s', 'da3-small', 6, 900, 1600, 'step', cameras=6, target_ms=10.0)
    entry = sbs.case_entry(step, 1.0, {'ours_ms': 10.5, 'upstream_ms': 110.0,
                                       'ours_pipelined_ms': 8.0})
    assert not entry['met'] and entry['met_pipelined']
    assert entry['ratio_pipelined'] == pytest.approx(13.75)
    assert 'ratio_with_ray' not in entry
