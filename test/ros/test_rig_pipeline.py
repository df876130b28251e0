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

"""RigPipeline around the engine: demand, GPU decode hand-off, latency, overlap, updates."""
import threading

import numpy as np
import pytest
from ros import rig_messages as rm  # test/ros helper (test/ is on sys.path)

from da3_ros.config import EngineConfig, ModelConfig, WindowConfig
from da3_ros.engine.decode import EncodedImage, ImageDecoder
from da3_ros.engine.engine import Engine
from da3_ros.errors import ConfigError
from da3_ros.ros.diagnostics import NodeStats
from da3_ros.ros.locked_tf import LockedTf
from da3_ros.ros.messages.rig_input import build_rig_input, CameraSource
from da3_ros.ros.messages.rig_output import OutputOptions
from da3_ros.ros.messages.tf_buffer import TfBuffer
from da3_ros.ros.rig_pipeline import RigPipeline
from da3_ros.synthetic.predictor import SimulatedPredictor
from da3_ros.synthetic.sequence import SyntheticRig

NAMES = ('front', 'front_left', 'back')


@pytest.fixture(scope='module')
def rig():
    return SyntheticRig((28, 42))


class FakeGpu:
    """Stands in for nvJPEG: Pillow behind the batched interface, calls recorded."""

    def __init__(self):
        self.calls = []

    def __call__(self, batch):
        import io
        from PIL import Image
        import torch
        self.calls.append(len(batch))
        return [torch.from_numpy(np.asarray(Image.open(io.BytesIO(t.numpy().tobytes()))
                                            .convert('RGB')).copy()).permute(2, 0, 1)
                for t in batch]


def _pipeline(rig, types, *, transport='raw', demand=None, overlap=False, gpu=None, tf=None,
              odometry_wait_s=0.2):
    config = EngineConfig(model=ModelConfig(device='cpu', weights='random', process_res=28),
                          window=WindowConfig(length=2))
    engine = Engine(config, SimulatedPredictor(rig, seed=2))
    if gpu is not None:
        engine.pre.decoder = ImageDecoder('cpu', gpu_decode=gpu)
    published, errors = [], []
    stats = NodeStats(NAMES)
    pipeline = RigPipeline(
        engine, types=types, sources=[CameraSource(n, transport, t_base_cam=rig.cameras[n]
                                                   .t_base_cam) for n in NAMES],
        tf=tf, options=OutputOptions(), stats=stats, publish=published.append,
        use_odometry=tf is not None, log_error=errors.append, demand=demand,
        clock_ns=lambda: 10 * rm.NS, overlap=overlap, odometry_wait_s=odometry_wait_s)
    return pipeline, published, errors, stats


def _run(pipeline, types, rig, steps=3, transport='raw'):
    for step in range(steps):
        pipeline(rm.synced_set(types, rig, step, NAMES, transport=transport))
    pipeline.close()


@pytest.mark.parametrize('flavour', ['rclpy'], indirect=True)
def test_only_subscribed_topics_are_built(types, rig):
    pipeline, published, _, _ = _pipeline(rig, types, demand=lambda: {'front/depth', 'points'})
    _run(pipeline, types, rig)
    assert len(published) == 3
    assert [t for t, _ in published[-1]] == ['front/depth', 'points']


@pytest.mark.parametrize('flavour', ['rclpy'], indirect=True)
def test_overlap_publishes_the_same_messages_in_order(types, rig):
    serial, published, _, _ = _pipeline(rig, types)
    _run(serial, types, rig)
    overlapped, published_ov, _, _ = _pipeline(rig, types, overlap=True)
    _run(overlapped, types, rig)
    assert [[t for t, _ in m] for m in published] == [[t for t, _ in m] for m in published_ov]
    for a, b in zip(published, published_ov):
        for (topic, ma), (_, mb) in zip(a, b):
            if topic.endswith('/depth'):
                np.testing.assert_array_equal(np.asarray(ma.data), np.asarray(mb.data))


@pytest.mark.parametrize('flavour', ['rclpy'], indirect=True)
def test_end_to_end_latency_is_reported(types, rig):
    pipeline, _, _, stats = _pipeline(rig, types)
    _run(pipeline, types, rig)
    p50, p90 = stats.end_to_end_ms()
    # clock at 10 s, image stamps at 0.0, 0.1, 0.2 s: latencies 10000, 9900, 9800 ms
    assert p50 == pytest.approx(9900.0) and p90 == pytest.approx(9980.0)
    values = stats.reports()[0].values
    assert values['end_to_end_latency_p50_ms'] == '9900.0'
    assert values['end_to_end_latency_p90_ms'] == '9980.0'


@pytest.mark.parametrize('flavour', ['rclpy'], indirect=True)
def test_compressed_bytes_go_to_a_gpu_decoding_engine(types, rig):
    gpu = FakeGpu()
    pipeline, published, errors, _ = _pipeline(rig, types, transport='compressed', gpu=gpu)
    reference, published_ref, _, _ = _pipeline(rig, types, transport='compressed')
    _run(pipeline, types, rig, transport='compressed')
    _run(reference, types, rig, transport='compressed')
    assert errors == [] and len(published) == 3
    assert gpu.calls == []  # PNG: the device decoder takes JPEG only, Pillow decodes PNG
    for a, b in zip(published[-1], published_ref[-1]):
        if a[0].endswith('/depth'):
            np.testing.assert_array_equal(np.asarray(a[1].data), np.asarray(b[1].data))


@pytest.mark.parametrize('flavour', ['rclpy'], indirect=True)
def test_encoded_input_is_checked_against_camera_info(types, rig):
    synced = rm.synced_set(types, rig, 0, NAMES, transport='compressed')
    synced.messages[1].info.width += 2
    out = build_rig_input(synced, [CameraSource(n, 'compressed') for n in NAMES], None,
                          base_frame='', encoded=True)
    assert list(out.errors) == ['front_left'] and 'CameraInfo' in out.errors['front_left']
    assert all(isinstance(c.image, EncodedImage) for c in out.frame.cameras)
    assert out.frame.cameras[0].image.shape == (28, 42, 3)
    raw = build_rig_input(rm.synced_set(types, rig, 0, NAMES), [CameraSource(n) for n in NAMES],
                          None, base_frame='', encoded=True)
    assert all(isinstance(c.image, np.ndarray) for c in raw.frame.cameras)


@pytest.mark.parametrize('flavour', ['rclpy'], indirect=True)
def test_undecodable_bytes_are_a_camera_error(types, rig):
    pipeline, published, errors, stats = _pipeline(rig, types, transport='compressed',
                                                   gpu=FakeGpu())
    synced = rm.synced_set(types, rig, 0, NAMES, transport='compressed')
    data = bytes(synced.messages[1].image.data)
    synced.messages[1].image.data = data[:len(data) - 40]  # header intact, pixels cut
    pipeline(synced)
    pipeline.close()
    assert 'front_left' in stats.camera_errors
    assert any('front_left' in e for e in errors)


@pytest.mark.parametrize('flavour', ['rclpy'], indirect=True)
def test_overlapped_publish_errors_are_reported_not_raised(types, rig):
    pipeline, _, errors, stats = _pipeline(rig, types, overlap=True)

    def broken(messages):
        raise RuntimeError('publisher context is invalid')

    pipeline.publish = broken
    pipeline(rm.synced_set(types, rig, 0, NAMES))
    pipeline.close()  # the node's teardown: must not raise
    assert stats.drops['publish_error'] == 1
    assert any('publisher context is invalid' in e for e in errors)


def _bare_pipeline():
    from da3_ros.config import OutputConfig
    from da3_ros.synthetic.predictor import Distortion
    config = EngineConfig(model=ModelConfig(device='cpu', weights='random', process_res=28),
                          window=WindowConfig(length=2), output=OutputConfig(max_depth=80.0))
    engine = Engine(config, SimulatedPredictor(SyntheticRig((28, 42)), Distortion()))
    return RigPipeline(engine, types=None, sources=[], tf=None, options=OutputOptions(),
                       stats=NodeStats([]), publish=lambda messages: None,
                       use_odometry=False, log_error=lambda text: None)


def test_run_time_update_keeps_or_restarts_the_engine():
    import dataclasses
    pipeline = _bare_pipeline()
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


@pytest.mark.parametrize('flavour', ['rclpy'], indirect=True)
@pytest.mark.parametrize('arrives', [True, False])
def test_odometry_later_than_the_images_is_waited_for(types, rig, arrives):
    """/tf for the set's instant comes after the images (a loaded machine): waited for, as tf2."""
    tf = LockedTf(TfBuffer())
    tf.add(rm.static_tf(types, rig, NAMES), static=True)
    tf.add(rm.odom_tf(types, rig, 0), static=False)
    pipeline, published, errors, _ = _pipeline(rig, types, tf=tf,
                                               odometry_wait_s=30.0 if arrives else 0.05)
    late = threading.Timer(0.05, lambda: tf.add(rm.odom_tf(types, rig, 1), static=False))
    if arrives:
        late.start()
    try:
        pipeline(rm.synced_set(types, rig, 1, NAMES))
    finally:
        late.cancel()
        pipeline.close()
    odometry_errors = [e for e in errors if 'odometry' in e and 'future' in e]
    assert len(odometry_errors) == (0 if arrives else 1), errors
    assert len(published) == 1  # the set is never lost, with or without its odometry
