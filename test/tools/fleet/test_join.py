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

"""Join helpers: the overlap fit recovers a known Sim(3) / SE(3); depth and clouds rescale."""
import numpy as np
from tools.bag import fixtures as bf  # test/ is on sys.path

from da3_ros.geometry import pose as pose_lib
from da3_ros.geometry.align import Sim3
from da3_ros.ros.messages.cloud import cloud_to_arrays, organized_cloud
from da3_ros.ros.messages.image import depth_to_image, image_to_depth
from da3_ros.tools.bag.io import make_typestore, msg_types
from da3_ros.tools.fleet import join

CONFIG = bf.small_config()
REL_BOUND = 2e-3  # docs/fleet.md: a relative chain's depth and camera centres after the join


def _chain(count=6, cams=('front', 'back')):
    rng = np.random.default_rng(4)
    poses = {}
    for k in range(count):
        poses[1000 + k] = {name: pose_lib.make_pose(pose_lib.so3_exp(rng.normal(size=3)),
                                                    rng.normal(scale=3.0, size=3))
                           for name in cams}
    return poses


def _moved(poses, sim):
    return {s: {c: sim.apply_pose(p) for c, p in cams.items()} for s, cams in poses.items()}


def test_fit_recovers_sim3_and_se3():
    chain = _chain()
    truth = Sim3(1.7, pose_lib.so3_exp(np.array([0.2, -0.4, 0.9])), np.array([3.0, -1.0, 2.0]))
    own = _moved(chain, truth.inverse())
    fit, info = join._align(own, chain, False, CONFIG, 'x#001')
    assert abs(fit.scale - 1.7) < 1e-9 and info['rms'] < 1e-9
    assert np.allclose(fit.matrix(), truth.matrix(), atol=1e-8)
    rigid = Sim3(1.0, truth.rotation, truth.translation)
    fit, info = join._align(_moved(chain, rigid.inverse()), chain, True, CONFIG, 'x#001')
    assert fit.scale == 1.0 and np.allclose(fit.matrix(), rigid.matrix(), atol=1e-8)


def test_too_little_overlap_is_an_error():
    chain = _chain(count=1, cams=('front',))
    try:
        join._align(chain, chain, True, CONFIG, 'x#002')
    except join.JoinError as err:
        assert 'x#002' in str(err) and 'overlap' in str(err)
    else:
        raise AssertionError('one shared pose must not be enough')


def test_depth_and_cloud_rescale():
    types = msg_types(make_typestore())
    depth = np.array([[1.0, np.nan], [2.5, 10.0]], np.float32)
    scaled = image_to_depth(join._scaled_image(depth_to_image(types, depth, 5, 'cam'), 2.0))
    assert np.array_equal(scaled, depth * 2, equal_nan=True)
    mm = depth_to_image(types, depth, 5, 'cam', encoding='16UC1')
    assert np.allclose(image_to_depth(join._scaled_image(mm, 0.5)), [[0.5, np.nan],
                                                                     [1.25, 5.0]],
                       equal_nan=True, atol=1e-3)
    points = np.arange(12, dtype=np.float32).reshape(2, 2, 3)
    cloud = organized_cloud(types, points, 5, 'cam', confidence=np.full((2, 2), 3.0))
    out = cloud_to_arrays(join._scaled_cloud(cloud, 3.0))
    assert np.array_equal(np.stack([out['x'], out['y'], out['z']], -1), points * 3)
    assert np.array_equal(out['confidence'], np.full((2, 2), 3.0, np.float32))


def test_relative_chain_joins_with_sim3(tmp_path):
    """scale_source none: shards start at scale 1, the join fits Sim(3) and rescales depth.

    Runs the worker's task function and the join directly (no Ray) on 3 shards with the parity
    network, against one sequential run at the same torch thread count.
    """
    import dataclasses

    import torch

    from da3_ros.tools.bag.sample_recording import RecordingSpec
    from da3_ros.tools.bag.process import build_engine, process_bag
    from da3_ros.tools.fleet import plan, work

    spec = RecordingSpec(steps=16, cameras=('front', 'back'), size_hw=(48, 64))
    rec = bf.make_recording(tmp_path / 'drive', spec)
    cfg = bf.small_config(spec)
    window = dataclasses.replace(cfg.engine.window, scale_source='none')
    cfg = dataclasses.replace(cfg, engine=dataclasses.replace(cfg.engine, window=window))
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        process_bag(rec, tmp_path / 'sequential', cfg, progress=False)
        [bag] = plan.plan([rec], tmp_path / 'fleet', cfg, shard_s=0.5)
        assert len(bag.shards) == 3
        predictor = build_engine(cfg).predictor
        records = [work.run_task(t, cfg, predictor, work.TaskOptions()) for t in bag.shards]
    finally:
        torch.set_num_threads(threads)
    assert [r['status'] for r in records] == ['done'] * 3, records
    result = join.join_shards(bag, cfg, records)
    scales = [a['scale'] for a in result['alignment'][1:]]
    assert all(not a['metric'] for a in result['alignment'][1:])
    assert max(abs(s - 1.0) for s in scales) > 1e-3, scales  # a shard restarted at another scale
    seq = bf.comparable(bf.messages(tmp_path / 'sequential'))
    got = bf.comparable(bf.messages(tmp_path / 'fleet' / 'bags' / 'drive'))
    assert {t: len(m) for t, m in seq.items()} == {t: len(m) for t, m in got.items()}
    worst = 0.0
    for topic in [t for t in seq if t.endswith('/depth')]:
        for (_, a), (_, b) in zip(seq[topic], got[topic]):
            da, db = image_to_depth(a), image_to_depth(b)
            ok = np.isfinite(da) & np.isfinite(db)
            worst = max(worst, float(np.max(np.abs(db[ok] / da[ok] - 1.0))))
    assert worst < REL_BOUND, worst  # docs/fleet.md: measured 5.1e-4

    def centres(records):
        return np.array([[[c.pose.position.x, c.pose.position.y, c.pose.position.z]
                          for c in msg.cameras] for _, msg in records])

    ref, est = centres(seq['/da3_node/rig_step']), centres(got['/da3_node/rig_step'])
    extent = np.ptp(ref.reshape(-1, 3), axis=0).max()
    assert np.abs(est - ref).max() < REL_BOUND * extent, (np.abs(est - ref).max(), extent)
