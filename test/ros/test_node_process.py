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

"""da3_node between real processes: player -> node (params file, sim time) -> this subscriber.

The node is started as launch/multi_cam.launch.py starts it (``--ros-args --params-file
config/multi_cam.yaml``) plus an override file for a CPU run with the deterministic parity
weights of da3-small at 56 x 98. The player (``rig_player.py``) publishes the six-camera rig.
"""
import json
from pathlib import Path
import sys
import time

import numpy as np
import pytest
from ros.ros_collector import TopicCollector  # test/ is on sys.path

from da3_ros.ros.messages.cloud import cloud_to_arrays
from da3_ros.ros.messages.image import image_to_array, image_to_depth
from da3_ros.ros.messages.tf_msgs import stamp_to_ns, transform_from_msg

pytestmark = [pytest.mark.ros, pytest.mark.slow]
NAMES = ('front', 'front_left', 'front_right', 'back', 'back_left', 'back_right')
NS = 1_000_000_000
H, W = 56, 98
OVERRIDE = """/**/da3_node:
  ros__parameters:
    use_sim_time: true
    tf_mode: {tf_mode}
    model: {{variant: da3-small, weights: parity, device: cpu, dtype: fp32,
            process_res: 98{model}}}
    window: {{length: 1{window}}}
    sync: {{timeout_s: 0.25}}
    diagnostics_period_s: 0.5
"""


def output_topics(types) -> dict:
    """Every output topic of da3_node with the six-camera rig (absolute names)."""
    topics = {'/da3_node/points': types.PointCloud2, '/da3_node/rig_step': types.RigStep,
              '/tf': types.TFMessage, '/diagnostics': types.DiagnosticArray}
    for cam in NAMES:
        topics.update({f'/da3_node/{cam}/depth': types.Image,
                       f'/da3_node/{cam}/depth/camera_info': types.CameraInfo,
                       f'/da3_node/{cam}/confidence': types.Image,
                       f'/da3_node/{cam}/points': types.PointCloud2})
    return topics


def output_collector() -> TopicCollector:
    """A collector of every output of da3_node."""
    from da3_ros.ros.messages.msgtypes import rclpy_types
    return TopicCollector(output_topics(rclpy_types()))


def _run(ros_launcher, tmp_path: Path, scenario: dict, tf_mode: str = 'none', model: str = '',
         window: str = '', timeout: float = 240):
    """Start node, collector and player; return (collector, player stamps, node log)."""
    override = tmp_path / 'override.yaml'
    override.write_text(OVERRIDE.format(tf_mode=tf_mode, model=model, window=window))
    (tmp_path / 'scenario.json').write_text(json.dumps(scenario))
    node = ros_launcher.module('da3_ros.ros.node', '--ros-args', '--params-file',
                               'config/multi_cam.yaml', '--params-file', str(override),
                               name='da3_node', env={'OMP_NUM_THREADS': '2'})
    collector = output_collector()
    first = ['/da3_node/rig_step', '/diagnostics'] + [f'/da3_node/{c}/depth' for c in NAMES]
    unmatched = collector.wait_matched(first, timeout_s=300)  # the node loads its model first
    assert not unmatched, (unmatched, node.output())
    player = ros_launcher.start([sys.executable, str(Path(__file__).with_name('rig_player.py')),
                                 str(tmp_path / 'scenario.json')], name='player')
    try:
        player.wait(timeout=timeout)
        time.sleep(1.0)
    finally:
        collector.close()
    assert node.poll() is None, node.output()  # still running after every fault
    assert node.stop() == 0, node.output()  # Ctrl-C: a clean exit, no crash in teardown
    assert 'DONE' in player.output(), player.output() + node.output()
    phases = [line.split() for line in player.output().splitlines() if line.startswith('PHASE')]
    return collector, {p[1]: (int(p[2]), int(p[3])) for p in phases}, node.output()


def _check_camera(c: TopicCollector, cam: str, stamps: set) -> None:
    depths = {stamp_to_ns(m.header.stamp): m for m in c.msgs[f'/da3_node/{cam}/depth']}
    clouds = {stamp_to_ns(m.header.stamp): m for m in c.msgs[f'/da3_node/{cam}/points']}
    infos = c.msgs[f'/da3_node/{cam}/depth/camera_info']
    assert depths and set(depths) <= stamps, cam
    for stamp, depth in depths.items():
        assert (depth.encoding, depth.height, depth.width) == ('32FC1', H, W)
        assert depth.header.frame_id == f'cam_{cam}_optical_frame'
        z = image_to_depth(depth)
        assert np.isfinite(z).mean() > 0.5 and np.nanmin(z) > 0
        if stamp in clouds:
            cloud = clouds[stamp]
            assert (cloud.height, cloud.width, cloud.point_step, cloud.row_step) == (
                H, W, 12, 12 * W)
            xyz = cloud_to_arrays(cloud)
            ok = np.isfinite(xyz['z'])
            np.testing.assert_allclose(xyz['z'][ok], z[ok], rtol=1e-5)
            info = next(i for i in infos if stamp_to_ns(i.header.stamp) == stamp)
            k = np.reshape(info.k, (3, 3))
            u = k[0, 0] * xyz['x'][ok] / xyz['z'][ok] + k[0, 2]
            np.testing.assert_allclose(u, np.nonzero(ok)[1], atol=1e-2)
    info = infos[-1]
    assert (info.height, info.width, info.header.frame_id) == (H, W, f'cam_{cam}_optical_frame')
    conf = c.msgs[f'/da3_node/{cam}/confidence'][-1]
    assert conf.encoding == '32FC1' and image_to_array(conf).shape == (H, W)


def _status(c: TopicCollector, name: str):
    for array in reversed(c.msgs['/diagnostics']):
        for status in array.status:
            if status.name == f'da3_node: {name}':
                return status, {kv.key: kv.value for kv in status.values}
    raise AssertionError(f'no diagnostics status {name!r}')


def _in(msg, phase) -> bool:
    return phase[0] <= stamp_to_ns(msg.header.stamp) <= phase[1]


def test_rig_outputs_dropout_late_camera_and_clock_jump(ros_launcher, tmp_path):
    scenario = {'period_s': 0.2, 'distinct_images': 3, 'phases': [
        {'name': 'late', 'absent': ['back_right'], 'min_results': 1},
        {'name': 'full', 'min_results': 2},
        {'name': 'dropout', 'absent': ['front_left'], 'min_results': 2},
        {'name': 'back', 'min_results': 1},
        {'name': 'jump', 'restart': True, 'min_results': 2}]}
    c, phases, log = _run(ros_launcher, tmp_path, scenario, tf_mode='cameras')
    published = {s for lo, hi in phases.values() for s in range(lo, hi + 1, NS // 10)}
    for cam in NAMES:
        _check_camera(c, cam, published)
    steps = c.msgs['/da3_node/rig_step']
    assert steps and [x.camera_name for x in steps[0].cameras] == list(NAMES)
    seq = [x.sequence for x in steps]
    assert seq == sorted(seq)
    stamp_seq = [stamp_to_ns(x.header.stamp) for x in steps]
    jump = next(i for i in range(1, len(steps)) if stamp_seq[i] < stamp_seq[i - 1])
    before, after = steps[:jump], steps[jump:]
    # late camera: sets before it arrived are partial, later ones include it
    late = [x for x in before if _in(x, phases['late'])]
    assert late and all(not x.cameras[5].valid and x.cameras[0].valid for x in late)
    assert all(x.cameras[5].valid for x in before if _in(x, phases['full']))
    # dropout: front_left missing while the others keep publishing, then back
    dropped = [x for x in before if _in(x, phases['dropout'])]
    assert dropped and all(not x.cameras[1].valid and x.cameras[0].valid for x in dropped)
    assert 'missing' in dropped[0].cameras[1].error
    assert any(x.cameras[1].valid for x in before if _in(x, phases['back']))
    # clock jump backwards: outputs resume with the restarted stamps, node kept running
    assert len([x for x in after if _in(x, phases['jump'])]) >= 2
    assert all(all(d.valid for d in x.cameras) for x in after if _in(x, phases['jump']))
    assert 'clock jumped backwards' in log, log  # /clock's jump callback, not the fallback
    _, pipeline = _status(c, 'pipeline')
    assert int(pipeline['resets']) >= 1 and pipeline['depth'] == 'metric'
    assert float(pipeline['inference_latency_p50_ms']) > 0
    _, fl = _status(c, 'camera front_left')
    assert int(fl['missing_from_sets']) > 0
    # fused cloud in base_link, stamped like the set; TF equals the engine's camera poses
    fused = c.msgs['/da3_node/points'][-1]
    assert fused.header.frame_id == 'base_link' and fused.height == 1 and fused.width > 0
    assert stamp_to_ns(fused.header.stamp) in published
    _check_tf(c, steps)


def test_onnxruntime_backend_serves_the_rig(ros_launcher, tmp_path):
    """model.backend onnxruntime: the node exports its window shape once and publishes.

    Poses are not fed to the model, so every window has one shape (6 views, 56 x 98) and the
    node never stops in the middle of a second export; shape changes are covered by
    test/engine/backends/test_ort_predictor.py.
    """
    cache = tmp_path / 'onnx_cache'
    scenario = {'period_s': 0.2, 'distinct_images': 2,
                'phases': [{'name': 'full', 'min_results': 3, 'max_steps': 3000}]}
    c, phases, log = _run(ros_launcher, tmp_path, scenario, tf_mode='cameras',
                          model=f', backend: onnxruntime, cache_dir: {cache}',
                          window=', pose_conditioning: never', timeout=800)
    lo, hi = phases['full']
    for cam in NAMES:
        _check_camera(c, cam, set(range(lo, hi + 1, NS // 10)))
    steps = c.msgs['/da3_node/rig_step']
    assert len(steps) >= 3 and all(all(d.valid for d in x.cameras) for x in steps[-3:])
    exports = sorted(p.name for p in cache.glob('*.onnx'))
    assert any(p.startswith('da3-small_s6_56x98-') for p in exports), exports
    assert all((cache / (p + '.json')).is_file() for p in exports)
    _check_tf(c, steps)


def _check_tf(c: TopicCollector, steps) -> None:
    poses = {(stamp_to_ns(x.header.stamp), d.camera_name): d.pose for x in steps
             for d in x.cameras if d.valid}
    checked = 0
    for msg in c.msgs['/tf']:
        for t in msg.transforms:
            parent, child, stamp, matrix = transform_from_msg(t)
            if not child.startswith('da3/'):
                continue
            assert parent == 'odom'
            name = child[len('da3/cam_'):-len('_optical_frame')]
            pose = poses.get((stamp, name))
            if pose is None:
                continue
            np.testing.assert_allclose(matrix[:3, 3], [pose.position.x, pose.position.y,
                                                       pose.position.z], atol=1e-6)
            checked += 1
    assert checked >= 6


def test_faulty_cameras_keep_the_others(ros_launcher, tmp_path):
    faults = {'front_right': 'frame', 'back': 'encoding', 'back_left': 'size',
              'back_right': 'nan'}
    scenario = {'period_s': 0.2, 'faults': faults, 'distinct_images': 2,
                'phases': [{'name': 'faults', 'min_results': 3}]}
    c, phases, log = _run(ros_launcher, tmp_path, scenario)
    lo, hi = phases['faults']
    for cam in ('front', 'front_left'):
        _check_camera(c, cam, set(range(lo, hi + 1, NS // 10)))
    for cam in faults:
        assert not c.msgs[f'/da3_node/{cam}/depth'], cam
        status, values = _status(c, f'camera {cam}')
        assert values['last_error'], (cam, values)
        errors = [line for line in log.splitlines()
                  if '[ERROR]' in line and f'camera {cam}:' in line]
        assert len(errors) == 1, (cam, errors)
    _, values = _status(c, 'camera back')
    assert 'encoding' in values['last_error']
    _, values = _status(c, 'camera back_left')
    assert 'CameraInfo' in values['last_error']
    _, values = _status(c, 'camera back_right')
    assert 'not finite' in values['last_error']
    _, values = _status(c, 'camera front_right')
    assert 'nowhere_optical_frame' in values['last_error']
