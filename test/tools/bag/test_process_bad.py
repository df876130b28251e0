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

"""Bad input bags: a clear BagError, or a per-set skip with its reason, never a silent gap."""
import dataclasses
from pathlib import Path
import shutil
from typing import Callable

import pytest
from tools.bag import fixtures as bf  # test/ is on sys.path

from da3_ros.tools.bag.io import BagError, InputBag, make_typestore
from da3_ros.tools.bag.pipeline import DIAG_NAME
from da3_ros.tools.bag.process import process_bag
from da3_ros.tools.bag.sample_recording import (image_topic, RecordingSpec, step_stamp_ns,
                                                TRIGGER_OFFSET_NS)

SPEC = RecordingSpec(steps=5, cameras=('front', 'back'), transport='raw')


@pytest.fixture(scope='module')
def good(tmp_path_factory) -> Path:
    return bf.make_recording(tmp_path_factory.mktemp('good') / 'rec', SPEC)


def rewrite(src: Path, dst: Path, edit: Callable) -> Path:
    """Copy a bag message by message; ``edit(topic, time, msg)`` returns a message or bytes."""
    from rosbags.rosbag2 import StoragePlugin, Writer
    store = make_typestore()
    with InputBag(src, store) as bag, Writer(dst, version=9,
                                             storage_plugin=StoragePlugin.MCAP) as out:
        conns = {t: out.add_connection(t, m, typestore=store) for t, m in bag.topics.items()}
        for message in bag.messages():
            new = edit(message.topic, message.time_ns, bag.decode(message))
            data = new if isinstance(new, bytes) else store.serialize_cdr(new, new.__msgtype__)
            out.write(conns[message.topic], message.time_ns, data)
    return dst


def config():
    return bf.small_config(SPEC)


def test_missing_bag(tmp_path):
    with pytest.raises(BagError, match='does not exist'):
        process_bag(tmp_path / 'nothing', tmp_path / 'out', config(), progress=False)


def test_missing_topic(good, tmp_path):
    wider = bf.small_config(RecordingSpec(cameras=('front', 'back', 'front_left')))
    with pytest.raises(BagError, match='/cam_front_left/image_raw'):
        process_bag(good, tmp_path / 'out', wider, progress=False)
    assert not (tmp_path / 'out').exists()


def test_transport_mismatch(good, tmp_path):
    jpeg = dataclasses.replace(config(), transports=('compressed',) * len(SPEC.cameras))
    with pytest.raises(BagError, match='CompressedImage'):
        process_bag(good, tmp_path / 'out', jpeg, progress=False)


@pytest.mark.parametrize('bare', [False, True], ids=['folder', 'bare-mcap'])
def test_truncated_file(good, tmp_path, bare):
    folder = tmp_path / 'cut'
    shutil.copytree(good, folder)
    mcap = next(folder.glob('*.mcap'))
    data = mcap.read_bytes()
    mcap.write_bytes(data[:len(data) // 2])
    with pytest.raises(BagError, match='cannot open|truncated'):
        process_bag(mcap if bare else folder, tmp_path / 'out', config(), progress=False)


def test_corrupt_message_is_a_clear_error_and_keeps_what_was_written(good, tmp_path):
    bad_stamp = step_stamp_ns(SPEC, 3)

    def edit(topic, time_ns, msg):
        return b'\x00\x01\x00\x00\xff' if topic == image_topic(SPEC, 'back') and \
            time_ns > bad_stamp else msg

    rec = rewrite(good, tmp_path / 'bad', edit)
    out = tmp_path / 'out'
    with pytest.raises(BagError, match='/cam_back/image_raw message .* does not deserialise'):
        process_bag(rec, out, config(), progress=False, split_sets=1)
    steps = bf.comparable(bf.messages(out))['/da3_node/rig_step']
    assert 1 <= len(steps) <= 3


def test_unknown_encoding_skips_camera_then_set_with_reasons(good, tmp_path):
    one_bad, all_bad = step_stamp_ns(SPEC, 1), step_stamp_ns(SPEC, 3)

    def edit(topic, time_ns, msg):
        step_ns = time_ns - (time_ns - all_bad) % 100_000_000  # the rig trigger of the image
        if topic.endswith('/image_raw') and (
                step_ns == all_bad or (step_ns == one_bad and 'front' in topic)):
            return type(msg)(**{**msg.__dict__, 'encoding': 'weird16'})
        return msg

    rec = rewrite(good, tmp_path / 'enc', edit)
    summary = process_bag(rec, tmp_path / 'out', config(), progress=False)
    assert summary.sets_total == SPEC.steps
    assert summary.sets_processed == SPEC.steps - 1
    (reason, count), = summary.skipped.items()
    assert count == 1 and 'no usable camera' in reason and 'weird16' in reason
    assert sum(summary.camera_errors.values()) == 3
    assert all('weird16' in key for key in summary.camera_errors)
    back = bf.comparable(bf.messages(tmp_path / 'out'))
    steps = dict(back['/da3_node/rig_step'])
    assert all_bad not in steps
    one_bad += TRIGGER_OFFSET_NS  # without front, the set's stamp is back's (the oldest left)
    front = steps[one_bad].cameras[0]
    assert front.camera_name == 'front' and not front.valid and 'weird16' in front.error
    records = bf.comparable(bf.messages(tmp_path / 'out'), drop_timings=False)
    diag = {t: m.status[0] for t, m in records['/diagnostics']}
    assert diag[all_bad].name == DIAG_NAME and diag[all_bad].level == 2
    assert 'weird16' in diag[all_bad].message
    assert sorted(diag) == sorted({step_stamp_ns(SPEC, i) for i in range(SPEC.steps)}
                                  - {one_bad - TRIGGER_OFFSET_NS} | {one_bad})
    assert diag[one_bad].level == 1 and 'weird16' in str(diag[one_bad].values)


def test_decompression_bomb_leaves_one_camera_out_and_the_run_goes_on(tmp_path):
    """A PNG claiming 20000 x 20000 pixels in one compressed image: that camera, that set."""
    import numpy as np
    from ros import rig_messages as rm  # test/ros helper
    from tools.bag.stub import StubPredictor
    spec = RecordingSpec(steps=3, cameras=('front', 'back'))
    rec = bf.make_recording(tmp_path / 'rec', spec)
    bomb_ns = step_stamp_ns(spec, 1)

    def edit(topic, time_ns, msg):
        if topic == image_topic(spec, 'back') and abs(time_ns - bomb_ns) < 50_000_000:
            return type(msg)(**{**msg.__dict__, 'format': 'png',
                                'data': np.frombuffer(rm.png_header_only(20000, 20000),
                                                      np.uint8)})
        return msg

    bad = rewrite(rec, tmp_path / 'bomb', edit)
    summary = process_bag(bad, tmp_path / 'out', bf.small_config(spec), progress=False,
                          predictor=StubPredictor())
    assert summary.sets_processed == summary.sets_total == spec.steps, summary.text()
    (key, count), = summary.camera_errors.items()
    assert count == 1 and key.startswith('back:') and 'DecompressionBombError' in key


def test_static_tf_loop_is_rejected_counted_and_loses_nothing(good, tmp_path):
    def edit(topic, time_ns, msg):
        if topic != '/tf_static':
            return msg
        first = msg.transforms[0]
        header = type(first.header)(stamp=first.header.stamp, frame_id=first.child_frame_id)
        loop = type(first)(header=header, child_frame_id=first.header.frame_id,
                           transform=first.transform)
        return type(msg)(transforms=[*msg.transforms, loop])

    rec = rewrite(good, tmp_path / 'loop', edit)
    summary = process_bag(rec, tmp_path / 'out', config(), progress=False)
    assert summary.sets_processed == summary.sets_total == SPEC.steps
    assert not summary.camera_errors
    assert summary.sync_drops.get('/tf_static: InvalidArgumentException') == 1
