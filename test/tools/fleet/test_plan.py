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

"""Fleet planning: bag discovery, unique output names, time shards cut between camera triggers."""
import dataclasses
from pathlib import Path

import pytest
from tools.bag import fixtures as bf  # test/ is on sys.path

from da3_ros.tools.bag.io import InputBag
from da3_ros.tools.bag.sample_recording import RecordingSpec, step_stamp_ns
from da3_ros.tools.fleet import plan


SPEC = RecordingSpec(steps=16, cameras=('front', 'back'), size_hw=(24, 32), depth_gt=False)


@pytest.fixture(scope='module')
def recording(tmp_path_factory) -> Path:
    return bf.make_recording(tmp_path_factory.mktemp('plan') / 'drive', SPEC)


def test_discover_bags_files_and_folders(tmp_path, recording):
    nested = tmp_path / 'fleet' / 'day1'
    nested.mkdir(parents=True)
    (nested / 'loose.mcap').write_bytes(b'')
    (nested / 'notes.txt').write_text('not a bag')
    (tmp_path / 'empty').mkdir()
    found = plan.discover([tmp_path / 'fleet', recording, tmp_path / 'empty',
                           tmp_path / 'missing'])
    # the mcap segments inside the recording folder are part of it, not bags of their own
    assert found.bags == [nested / 'loose.mcap', recording, tmp_path / 'missing']
    assert list(found.errors) == [str(tmp_path / 'empty')]
    assert plan.discover([recording.parent]).bags == [recording]


def test_keys_are_unique():
    keys = plan.keys([Path('/a/drive'), Path('/b/drive'), Path('/c/other.mcap')])
    assert len(set(keys)) == 3 and keys[2] == 'other'
    assert keys[0].startswith('drive-') and keys[1].startswith('drive-')


def test_shards_cut_between_sets(recording, tmp_path):
    config = _with_gain(bf.small_config(SPEC), 1.0)
    [bag] = plan.plan([recording], tmp_path, config, shard_s=0.7)
    shards = bag.shards
    assert len(shards) == 2  # 1.5 s of recording
    assert shards[0].start_ns is None and shards[-1].stop_ns is None
    assert shards[0].cut_ns[0] == 0 and shards[-1].cut_ns[1] == 2 ** 63 - 1
    cut = shards[1].cut_ns[0]
    assert shards[0].cut_ns[1] == cut
    triggers = [step_stamp_ns(SPEC, k) for k in range(SPEC.steps)]
    with InputBag(recording) as reader:
        images = [m.time_ns for m in reader.messages([c.image_topic
                                                      for c in config.engine.cameras])]
    # the cut sits in the middle of the gap between two sets' images (0.1 s period) ...
    assert min(abs(t - cut) for t in images) > 40_000_000
    # ... so every set (one trigger and its cameras' stamps) lies on one side of it
    for trigger in triggers:
        stamps = [t for t in images if trigger <= t < trigger + 50_000_000]
        assert all(t < cut for t in stamps) or all(t >= cut for t in stamps)
    # the second shard starts early enough to fill its window and overlap its predecessor
    window = config.engine.window
    needed = (window.length - 1) * window.stride + 1 + plan.ALIGN_SETS
    assert needed <= sum(shards[1].start_ns <= t < cut for t in triggers) <= needed + 1


def _with_gain(config, gain):
    window = dataclasses.replace(config.engine.window, scale_gain=gain)
    return dataclasses.replace(config, engine=dataclasses.replace(config.engine, window=window))


def test_scale_memory_follows_the_gain():
    config = bf.small_config(SPEC)
    assert plan.scale_memory(_with_gain(config, 1.0)) == 0
    memory = plan.scale_memory(_with_gain(config, 0.2))
    assert 0.8 ** memory <= plan.SCALE_TOL < 0.8 ** (memory - 1)


def test_short_or_unreadable_bags_run_whole(tmp_path, recording):
    config = bf.small_config(SPEC)
    missing = tmp_path / 'missing'
    plans = plan.plan([recording, missing], tmp_path / 'out', config, shard_s=60.0)
    assert [p.shards for p in plans] == [(), ()]
    assert plans[1].whole().output == str(tmp_path / 'out' / 'bags' / 'missing')


def test_a_bag_keeps_its_cuts_across_runs(tmp_path, recording):
    config = _with_gain(bf.small_config(SPEC), 1.0)
    out = tmp_path / 'fleet'
    [first] = plan.plan([recording], out, config, shard_s=0.7)
    [again] = plan.plan([recording], out, config, shard_s=0.7)
    assert again == first and not first.error and len(first.shards) == 2
    [other] = plan.plan([recording], out, config, shard_s=0.5)
    assert other.shards == () and 'other shards' in other.error
    [whole] = plan.plan([recording], out, config)
    assert whole.shards == () and str(out / 'shards' / 'drive') in whole.error
    fresh = tmp_path / 'fleet2'
    (fresh / 'bags' / 'drive').mkdir(parents=True)  # a whole-bag run was interrupted here
    [late] = plan.plan([recording], fresh, config, shard_s=0.7)
    assert late.shards == () and 'unfinished whole-bag output' in late.error
