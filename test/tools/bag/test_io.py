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

"""Reading bags: missing bags and topics are refused naming them; messages decode in order.

Damaged bags (truncated, corrupt messages) are tested through the tool in test_process_bad.py.
"""
import pytest

from da3_ros.tools.bag.io import BagError, InputBag, read_decoded
from da3_ros.tools.bag.sample_recording import image_topic, RecordingSpec, write_recording


@pytest.fixture(scope='module')
def recording(tmp_path_factory):
    spec = RecordingSpec(steps=2, size_hw=(28, 42), cameras=('front',))
    return spec, write_recording(tmp_path_factory.mktemp('io') / 'rec', spec)


def test_a_missing_bag_is_named(tmp_path):
    with pytest.raises(BagError, match=f"input bag '{tmp_path / 'nope'}' does not exist"):
        InputBag(tmp_path / 'nope')


def test_missing_topics_are_named_with_what_the_bag_has(recording):
    spec, path = recording
    topic = image_topic(spec, 'front')
    with InputBag(path) as bag:
        assert topic in bag.topics
        bag.require([topic], 'image')
        with pytest.raises(BagError, match=r"no odometry topic\(s\) \['/odom'\]; it has \["):
            bag.require([topic, '/odom'], 'odometry')


def test_read_decoded_yields_the_chosen_topic_in_time_order(recording):
    spec, path = recording
    topic = image_topic(spec, 'front')
    messages = list(read_decoded(path, [topic]))
    assert [m[0] for m in messages] == [topic] * spec.steps
    stamps = [m[1] for m in messages]
    assert stamps == sorted(stamps) and len(set(stamps)) == spec.steps
