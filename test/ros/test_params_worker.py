"""params (descriptors, read-back, rejected updates), the latest-only worker and NodeStats."""
import threading
import time

import numpy as np
import pytest
import yaml

from da3_ros.errors import ConfigError
from da3_ros.ros.diagnostics import NodeStats
from da3_ros.ros.worker import LatestWorker

pytestmark = pytest.mark.ros


@pytest.fixture
def node(repo_root, ros_env):
    import rclpy
    from rclpy.node import Node
    from da3_ros.ros import params
    ctx = rclpy.Context()
    rclpy.init(context=ctx, args=['--ros-args', '--params-file',
                                  str(repo_root / 'config' / 'multi_cam.yaml'), '-p',
                                  'camera.front.extrinsics:=[1.0, 0.0, 2.0, 0.0, 0.0, 0.0, 1.0]'])
    node = Node('da3_node', context=ctx)
    params.declare_all(node)
    node.add_on_set_parameters_callback(params.update_validator(node))
    yield node
    node.destroy_node()
    rclpy.shutdown(context=ctx)


def test_params_file_reads_back(node, repo_root):
    from da3_ros.ros import params
    config = params.read_engine_config(node)
    text = yaml.safe_load((repo_root / 'config' / 'multi_cam.yaml').read_text())
    expected = text['/**/da3_node']['ros__parameters']
    assert [c.name for c in config.cameras] == expected['cameras']
    assert config.cameras[0].image_topic == '/cam_front/image_raw'
    assert config.cameras[0].info_topic == '/cam_front/camera_info'
    assert config.model.variant == expected['model']['variant']
    assert config.output.voxel_size == expected['output']['voxel_size']
    options = params.read_node_options(node)
    assert options.tf_mode == 'none' and options.sync_slop_s == expected['sync']['slop_s']
    sources = params.camera_sources(node)
    np.testing.assert_allclose(sources[0].t_base_cam[:3, 3], [1.0, 0.0, 2.0])
    assert sources[1].t_base_cam is None and sources[1].transport == 'raw'


def test_descriptors_have_descriptions_and_ranges(node):
    desc = node.describe_parameter('window.length')
    assert desc.description and desc.integer_range[0].from_value == 1
    desc = node.describe_parameter('output.max_depth')
    assert 'farther' in desc.description and desc.floating_point_range
    assert 'One of' in node.describe_parameter('tf_mode').description
    assert node.describe_parameter('model.weights').read_only


def test_invalid_updates_are_rejected_with_reason(node):
    from rclpy.parameter import Parameter
    bad = node.set_parameters([Parameter('tf_mode', value='map')])[0]
    assert not bad.successful and 'tf_mode' in bad.reason
    bad = node.set_parameters([Parameter('output.min_depth', value=500.0)])[0]
    assert not bad.successful and 'max_depth' in bad.reason
    bad = node.set_parameters([Parameter('window.length', value=0)])[0]
    assert not bad.successful
    ro = node.set_parameters([Parameter('model.variant', value='da3-giant')])[0]
    assert not ro.successful
    ok = node.set_parameters([Parameter('tf_mode', value='cameras')])[0]
    assert ok.successful and node.get_parameter('tf_mode').value == 'cameras'


def test_missing_cameras_is_a_config_error(ros_env):
    import rclpy
    from rclpy.node import Node
    from da3_ros.ros import params
    ctx = rclpy.Context()
    rclpy.init(context=ctx, args=[])
    node = Node('bare', context=ctx)
    try:
        with pytest.raises(ConfigError, match='cameras'):
            params.declare_all(node)
    finally:
        node.destroy_node()
        rclpy.shutdown(context=ctx)


def test_latest_worker_keeps_only_the_newest():
    started, release, seen, drops = threading.Event(), threading.Event(), [], []

    def process(item):
        started.set()
        release.wait(5)
        seen.append(item)

    worker = LatestWorker(process, on_drop=drops.append, on_error=pytest.fail)
    worker.start()
    worker.submit(0)
    assert started.wait(5)
    for item in range(1, 6):  # busy: each replaces the waiting one
        worker.submit(item)
    release.set()
    deadline = time.monotonic() + 5
    while len(seen) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    worker.stop()
    assert seen == [0, 5] and drops == ['busy'] * 4


def test_worker_survives_exceptions():
    errors, seen = [], []

    def process(item):
        if item == 'bad':
            raise RuntimeError('boom')
        seen.append(item)

    worker = LatestWorker(process, on_drop=lambda r: None, on_error=errors.append)
    worker.start()
    worker.submit('bad')
    time.sleep(0.2)
    worker.submit('good')
    time.sleep(0.2)
    worker.stop()
    assert seen == ['good'] and str(errors[0]) == 'boom'


def test_node_stats_reports():
    now = [0.0]
    stats = NodeStats(['a', 'b'], name='n', clock=lambda: now[0])
    for _ in range(11):
        stats.image('a')
        stats.synced(['b'])
        now[0] += 0.1
    for ms in (10.0, 20.0, 30.0, 40.0):
        stats.result(ms, True, None)
    assert stats.error('ConversionError: bad', 'b')
    assert not stats.error('ConversionError: bad', 'b')
    stats.drop('busy', 3)
    reports = {r.name: r for r in stats.reports({('b', 'queue_overflow'): 2})}
    pipe = reports['n: pipeline'].values
    assert pipe['inference_latency_p50_ms'] == '25.0' and pipe['depth'] == 'metric'
    assert pipe['dropped.busy'] == '3' and pipe['dropped.sync:queue_overflow:b'] == '2'
    assert float(reports['n: camera a'].values['input_rate_hz']) == pytest.approx(10.0, 0.1)
    assert reports['n: camera b'].level == 'ERROR'
    assert reports['n: camera b'].values['missing_from_sets'] == '11'


def test_errors_are_logged_per_distinct_error_and_rate_limited():
    now = [0.0]
    stats = NodeStats(['a'], name='n', clock=lambda: now[0], log_period_s=10.0)
    faults = [f'ConversionError: fault {chr(97 + i)}' for i in range(14)]
    assert all(stats.error(text, 'a') for text in faults), 'each distinct fault gets its line'
    stats.camera_ok('a')
    assert not stats.error(faults[0], 'a'), 'a flapping fault is rate-limited too'
    logged = 0
    for k in range(66):  # two alternating TF errors at 6 Hz for 11 s
        now[0] += 1 / 6
        stamp = 100 + k
        text = (f'ExtrapolationException: requested {stamp}.5 s, latest {stamp - 1}.2 s'
                if k % 2 else 'LookupException: "cam_x" does not exist')
        logged += stats.error(text)
    assert logged == 2 + 2, 'each once at first, each once more after the period'


def _pipeline():
    from da3_ros.config import EngineConfig, ModelConfig, OutputConfig, WindowConfig
    from da3_ros.engine.engine import Engine
    from da3_ros.ros.rig_output import OutputOptions
    from da3_ros.ros.worker import RigPipeline
    from da3_ros.synthetic.predictor import Distortion, SimulatedPredictor
    from da3_ros.synthetic.sequence import SyntheticRig
    config = EngineConfig(model=ModelConfig(device='cpu', weights='random', process_res=28),
                          window=WindowConfig(length=2), output=OutputConfig(max_depth=80.0))
    engine = Engine(config, SimulatedPredictor(SyntheticRig((28, 42)), Distortion()))
    return RigPipeline(engine, types=None, sources=[], tf=None, options=OutputOptions(),
                       stats=NodeStats([]), publish=lambda messages: None,
                       use_odometry=False, log_error=lambda text: None)


def test_run_time_update_keeps_or_restarts_the_engine():
    import dataclasses
    pipeline = _pipeline()
    engine, config = pipeline.engine, pipeline.engine.config
    options = dataclasses.replace(pipeline.options, tf_mode='cameras')
    output = dataclasses.replace(config.output, max_depth=40.0)
    pipeline.update(options, dataclasses.replace(config, output=output))
    assert pipeline.options.tf_mode == 'none'  # applied by the worker, before its next set
    pipeline._apply_pending()
    assert pipeline.options.tf_mode == 'cameras'
    assert pipeline.engine is engine  # output only: window and trajectory kept
    assert engine.config.output.max_depth == 40.0 and engine.post.cfg.max_depth == 40.0
    window = dataclasses.replace(config.window, length=3)
    pipeline.update(options, dataclasses.replace(config, output=output, window=window))
    pipeline._apply_pending()
    assert pipeline.engine is not engine and pipeline.engine.predictor is engine.predictor
    assert pipeline.engine.config.window.length == 3
    assert pipeline.engine.config.output.max_depth == 40.0
    with pytest.raises(ConfigError, match='max_depth'):
        engine.set_output(dataclasses.replace(output, max_depth=-1.0))


def test_unknown_keys_are_named_with_the_closest_valid_one(repo_root, ros_env):
    import rclpy
    from rclpy.node import Node
    from da3_ros.ros import params
    ctx = rclpy.Context()
    rclpy.init(context=ctx, args=['--ros-args', '--params-file',
                                  str(repo_root / 'config' / 'multi_cam.yaml'), '-p',
                                  'output.max_dpeth:=5.0', '-p', 'camera.front.image_topc:=/x'])
    node = Node('da3_node', context=ctx)
    try:
        params.declare_all(node)
        with pytest.raises(ConfigError) as caught:
            params.check_node_overrides(node)
        text = str(caught.value)
        assert "'output.max_dpeth' (did you mean 'output.max_depth'?)" in text
        assert "'camera.front.image_topc' (did you mean 'camera.front.image_topic'?)" in text
    finally:
        node.destroy_node()
        rclpy.shutdown(context=ctx)


def test_the_presets_have_no_unknown_keys(repo_root, ros_env):
    import rclpy
    from rclpy.node import Node
    from da3_ros.ros import params
    for preset in ('multi_cam.yaml', 'mono.yaml', 'stereo.yaml'):
        ctx = rclpy.Context()
        rclpy.init(context=ctx, args=['--ros-args', '--params-file',
                                      str(repo_root / 'config' / preset)])
        node = Node('da3_node', context=ctx)
        try:
            params.declare_all(node)
            params.check_node_overrides(node)
            assert params.read_engine_config(node).model.device == 'auto', preset
        finally:
            node.destroy_node()
            rclpy.shutdown(context=ctx)
