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

"""LockedTf: the shared TF buffer forgets dynamic transforms and keeps the latched statics."""
import threading

import numpy as np
import pytest

from da3_ros.errors import Da3Error
from da3_ros.ros.locked_tf import LockedTf
from da3_ros.ros.messages.tf_buffer import TfBuffer
from da3_ros.ros.messages.tf_msgs import tf_message, transform_stamped

NS = 1_000_000_000


@pytest.mark.parametrize('flavour', ['rclpy'], indirect=True)
def test_clear_dynamic_reinserts_only_good_statics(types):
    tf = LockedTf(TfBuffer(cache_time_ns=10 * NS))
    shift = np.eye(4)
    shift[:3, 3] = [1.0, 2.0, 3.0]
    static = tf_message(types, [transform_stamped(types, shift, 'base_link', 'cam', 0)])
    tf.add(static, static=True)
    tf.add(tf_message(types, [transform_stamped(types, np.eye(4), 'odom', 'base_link', NS)]),
           static=False)
    np.testing.assert_allclose(tf.lookup('odom', 'cam', NS), shift)
    wrong = transform_stamped(types, np.eye(4), 'base_link', 'other', 0)
    wrong.transform.rotation.w = 0.0  # not a rotation: rejected as tf2 does
    broken = tf_message(types, [wrong])
    tf.clear_dynamic([static, broken])  # the broken one was reported when it first arrived
    np.testing.assert_allclose(tf.lookup('base_link', 'cam'), shift)
    with pytest.raises(Da3Error):
        tf.lookup('base_link', 'other')
    with pytest.raises(Da3Error):
        tf.lookup('odom', 'base_link', NS)


def _odom(types, stamp_ns):
    return tf_message(types, [transform_stamped(types, np.eye(4), 'odom', 'base_link',
                                                stamp_ns)])


@pytest.mark.parametrize('flavour', ['rclpy'], indirect=True)
def test_can_transform_waits_for_odometry_that_arrives_late(types):
    tf = LockedTf(TfBuffer(cache_time_ns=10 * NS))
    tf.add(_odom(types, NS), static=False)
    late = threading.Timer(0.05, lambda: tf.add(_odom(types, 2 * NS), static=False))
    late.start()
    try:
        assert tf.can_transform('odom', 'base_link', 2 * NS, timeout_s=30.0)
    finally:
        late.cancel()
    np.testing.assert_allclose(tf.lookup('odom', 'base_link', 2 * NS), np.eye(4))


@pytest.mark.parametrize('flavour', ['rclpy'], indirect=True)
def test_can_transform_answers_at_once_when_waiting_cannot_help(types):
    tf = LockedTf(TfBuffer(cache_time_ns=10 * NS))
    tf.add(_odom(types, 5 * NS), static=False)
    # an unknown frame and a stamp older than the data: no wait (a wait would hang the test)
    assert not tf.can_transform('odom', 'nowhere', 5 * NS, timeout_s=1e9)
    assert not tf.can_transform('odom', 'base_link', NS, timeout_s=1e9)
    # data not arrived yet, nothing arrives: False once the timeout has passed
    assert not tf.can_transform('odom', 'base_link', 6 * NS, timeout_s=0.05)
