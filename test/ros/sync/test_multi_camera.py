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

"""Image + CameraInfo pairing (ExactTime first, documented fallback) and multi-camera sync."""
import pytest

from da3_ros.errors import SyncError
from da3_ros.ros.sync.multi_camera import ImageInfoPairer, MultiCameraSync

MS = 1_000_000
PERIOD = 100 * MS


def test_exact_stamps_pair_in_either_arrival_order():
    pairer = ImageInfoPairer('front')
    assert pairer.add_image(PERIOD, 'img1') == []
    (frame,) = pairer.add_info(PERIOD, 'info1')
    assert (frame.image, frame.info, frame.info_exact) == ('img1', 'info1', True)
    assert pairer.add_info(2 * PERIOD, 'info2') == []
    (frame,) = pairer.add_image(2 * PERIOD, 'img2')
    assert (frame.camera, frame.stamp_ns, frame.info) == ('front', 2 * PERIOD, 'info2')


def test_latched_camera_info_falls_back_once_a_newer_image_arrives():
    pairer = ImageInfoPairer('front')
    pairer.add_info(0, 'latched')
    assert pairer.add_image(PERIOD, 'img1') == [], 'the exact info may still come'
    (frame,) = pairer.add_image(2 * PERIOD, 'img2')
    assert (frame.image, frame.info, frame.info_exact) == ('img1', 'latched', False)
    assert frame.info_stamp_ns == 0


def test_offset_camera_info_uses_newest_not_after_the_image():
    pairer = ImageInfoPairer('front')
    pairer.add_info(PERIOD - MS, 'info_a')
    pairer.add_image(PERIOD, 'img1')
    (frame,) = pairer.add_info(2 * PERIOD - MS, 'info_b')
    assert (frame.image, frame.info) == ('img1', 'info_a')


def test_only_later_camera_info_uses_the_closest():
    pairer = ImageInfoPairer('front')
    pairer.add_image(PERIOD, 'img1')
    (frame,) = pairer.add_info(PERIOD + MS, 'later')
    assert (frame.info, frame.info_exact) == ('later', False)


def test_images_without_camera_info_are_bounded_and_counted():
    pairer = ImageInfoPairer('front', queue_size=3)
    for k in range(5):
        assert pairer.add_image(k * PERIOD, k) == []
    assert pairer.drops[('front', 'no_camera_info')] == 2
    frames = pairer.add_info(4 * PERIOD, 'info')
    assert [f.image for f in frames] == [2, 3, 4]


def test_reset_forgets_pending_images_and_camera_infos():
    pairer = ImageInfoPairer('front')
    pairer.add_image(100 * PERIOD, 'old')
    pairer.reset()  # the clock policy's decision
    assert pairer.drops[('front', 'clock_reset')] == 1
    (frame,) = pairer.add_image(PERIOD, 'new') + pairer.add_info(PERIOD, 'new_info')
    assert (frame.image, frame.info) == ('new', 'new_info')


def test_images_out_of_stamp_order_are_all_paired():
    pairer = ImageInfoPairer('front')
    frames = []
    for k in (1, 0, 3, 2):
        frames += pairer.add_info(k * PERIOD, f'info{k}') + pairer.add_image(k * PERIOD, k)
    assert sorted((f.image, f.info, f.info_exact) for f in frames) == [
        (k, f'info{k}', True) for k in range(4)]
    assert not pairer.drops


def test_camera_info_older_than_the_bound_is_not_paired():
    pairer = ImageInfoPairer('front', max_info_age_ns=5 * PERIOD)
    pairer.add_info(0, 'stale')
    pairer.add_image(10 * PERIOD, 'img10')
    assert pairer.add_image(11 * PERIOD, 'img11') == []
    assert pairer.drops[('front', 'stale_camera_info')] == 1
    (frame,) = pairer.add_info(11 * PERIOD, 'fresh')
    assert (frame.image, frame.info) == ('img11', 'fresh')


def _camera_events(sync, camera, stamp, offset=0):
    return (sync.add_info(camera, stamp + offset, f'{camera}_info@{stamp}')
            + sync.add_image(camera, stamp + offset, f'{camera}@{stamp}'))


def test_multi_camera_sync_emits_image_pairs():
    sync = MultiCameraSync(['left', 'right'], slop_ns=10 * MS, min_period_ns=50 * MS)
    assert _camera_events(sync, 'left', PERIOD) == []
    (out,) = _camera_events(sync, 'right', PERIOD, offset=2 * MS)
    left, right = out.messages
    assert (left.image, right.image) == (f'left@{PERIOD}', f'right@{PERIOD}')
    assert left.info_exact and right.info_exact and out.spread_ns == 2 * MS


def test_multi_camera_sync_timeout_marks_the_dead_camera():
    sync = MultiCameraSync(['left', 'right'], slop_ns=10 * MS, timeout_ns=150 * MS,
                           min_period_ns=50 * MS)
    out = []
    for k in range(5):
        out += _camera_events(sync, 'left', k * PERIOD)
    assert [s.missing for s in out] == [('right',)] * 3
    assert [s.messages[0].stamp_ns for s in out] == [0, PERIOD, 2 * PERIOD]
    assert sync.drops == {}


def test_multi_camera_sync_unknown_camera():
    with pytest.raises(SyncError, match='back'):
        MultiCameraSync(['front'], slop_ns=0).add_image('back', 0, None)
