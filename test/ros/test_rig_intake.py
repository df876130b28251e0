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

"""RigIntake: messages into the synchroniser and worker, clock-policy resets, TF intake."""
import threading
from types import SimpleNamespace

import numpy as np
import pytest

from da3_ros.errors import Da3Error
from da3_ros.ros.diagnostics import NodeStats
from da3_ros.ros.locked_tf import LockedTf
from da3_ros.ros.messages.tf_buffer import TfBuffer
from da3_ros.ros.messages.tf_msgs import tf_message, transform_stamped
from da3_ros.ros.rig_intake import RigIntake

NS = 1_000_000_000
CAMERAS = ('front', 'back')


def _msg(stamp_ns: int, tag: str = '') -> SimpleNamespace:
    """Image or CameraInfo stand-in: only the header stamp matters to the intake."""
    stamp = SimpleNamespace(sec=stamp_ns // NS, nanosec=stamp_ns % NS)
    return SimpleNamespace(header=SimpleNamespace(stamp=stamp), tag=tag)


class Recorder:
    """Worker, logger and clock stand-ins that record what the intake does."""

    def __init__(self):
        self.submitted, self.cleared, self.warnings, self.infos, self.once = [], 0, [], [], []
        self.reset_requested = threading.Event()

    def submit(self, synced):
        self.submitted.append(synced)

    def clear(self):
        self.cleared += 1

    def warning(self, text):
        self.warnings.append(text)

    def info(self, text):
        self.infos.append(text)


def _intake(tf_message_cls=None):
    rec = Recorder()
    stats = NodeStats(CAMERAS)
    tf = LockedTf(TfBuffer(cache_time_ns=10 * NS))
    clock = SimpleNamespace(ros_time_is_active=False,
                            now=lambda: SimpleNamespace(nanoseconds=0))
    intake = RigIntake(stats=stats, tf=tf, tf_message=tf_message_cls, clock=clock, logger=rec,
                       log_once=rec.once.append)
    options = SimpleNamespace(cameras=CAMERAS, sync_slop_s=0.02, sync_queue_size=10,
                              sync_timeout_s=0.0, sync_min_period_s=0.0)
    intake.start(options, rec, rec)
    return intake, rec, stats


def _feed(intake, stamp_ns, cameras=CAMERAS):
    for camera in cameras:
        intake.info(camera, _msg(stamp_ns))
        intake.image(camera, _msg(stamp_ns, camera))


def test_paired_images_of_every_camera_make_one_set():
    intake, rec, _ = _intake()
    _feed(intake, 100 * NS)
    assert len(rec.submitted) == 1
    synced = rec.submitted[0]
    assert [pair.image.tag for pair in synced.messages] == list(CAMERAS)
    assert rec.warnings == [] and not rec.reset_requested.is_set()


def test_the_rig_jumping_back_resets_everything_once():
    intake, rec, stats = _intake()
    for step in range(3):
        _feed(intake, (100 + step) * NS)
    assert len(rec.submitted) == 3
    for camera in CAMERAS:  # a bag looped without /clock: every camera jumps back 90 s
        intake.image(camera, _msg(10 * NS, camera))
    assert len(rec.warnings) == 1 and 'resetting synchroniser' in rec.warnings[0]
    assert rec.cleared == 1 and rec.reset_requested.is_set()
    assert intake.held == {}
    for camera in CAMERAS:
        intake.info(camera, _msg(10 * NS))
    # the first camera's image, held while it jumped alone, is in the first set after the reset
    assert len(rec.submitted) == 4
    assert [p.image.tag for p in rec.submitted[-1].messages] == list(CAMERAS)
    assert rec.submitted[-1].stamps_ns == (10 * NS, 10 * NS)


def test_a_camera_with_a_bad_clock_is_excluded_and_announced():
    intake, rec, stats = _intake()
    _feed(intake, 100 * NS)
    intake.image('back', _msg(0))  # stamp 0: driver not synced
    assert stats.drops['excluded_by_clock:back'] == 1
    assert rec.warnings == ['camera back: bad clock: image stamp is 0 (driver not synced);'
                            ' excluded']


@pytest.mark.parametrize('flavour', ['rclpy'], indirect=True)
def test_bad_transforms_are_logged_and_statics_survive_a_reset(types):
    intake, rec, _ = _intake(types.TFMessage)
    good = transform_stamped(types, np.eye(4), 'base_link', 'front_optical', 0)
    bad = transform_stamped(types, np.eye(4), 'base_link', 'back_optical', 0)
    bad.transform.rotation.w = 0.0  # zero quaternion
    intake.transforms(tf_message(types, [good, bad]), True)
    assert list(intake.statics) == ['front_optical']
    assert len(rec.once) == 1 and rec.once[0].startswith('bad transform on /tf_static: ')
    intake.reset('test')
    np.testing.assert_allclose(intake.tf.lookup('base_link', 'front_optical'), np.eye(4))
    with pytest.raises(Da3Error):
        intake.tf.lookup('base_link', 'back_optical')


def test_a_bad_clock_that_lags_instead_is_never_called_good_in_between():
    """Stamps 0, then 2 s behind: the first lagging stamps look like the camera's own jump."""
    intake, rec, stats = _intake()
    step = NS // 10
    for k in range(10):
        _feed(intake, 100 * NS + k * step)
    for k in range(10, 26):
        intake.info('front', _msg(100 * NS + k * step))
        intake.image('front', _msg(100 * NS + k * step, 'front'))
        back_ns = 0 if k < 18 else 100 * NS + k * step - 2 * NS
        intake.image('back', _msg(back_ns, 'back'))
    assert rec.infos == [], rec.infos  # no "clock good again" while it waits after the jump
    # one warning when it turns bad; its diagnostics status follows the current reason
    assert len(rec.warnings) == 1 and 'image stamp is 0' in rec.warnings[0], rec.warnings
    assert 'behind' in stats.bad_clocks['back'] and not rec.reset_requested.is_set()
