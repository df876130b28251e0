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

"""The replay tool imports message packages only from its allow-list."""
import sys

import pytest

from da3_ros.tools.bag.io import BagError
from da3_ros.tools.replay import allowed, message_class


@pytest.fixture
def planted_package(tmp_path, monkeypatch):
    """An importable package ``planted_msgs`` whose import creates a file."""
    marker = tmp_path / 'imported'
    package = tmp_path / 'planted_msgs' / 'msg'
    package.mkdir(parents=True)
    (tmp_path / 'planted_msgs' / '__init__.py').write_text(
        f'open({str(marker)!r}, "w").close()\n')
    (package / '__init__.py').write_text('Thing = object\n')
    monkeypatch.syspath_prepend(str(tmp_path))
    yield marker
    for name in ('planted_msgs', 'planted_msgs.msg'):
        sys.modules.pop(name, None)


def test_a_bag_naming_another_package_imports_nothing(planted_package):
    with pytest.raises(BagError, match='planted_msgs/msg/Thing.*not played'):
        message_class('planted_msgs/msg/Thing')
    assert not planted_package.exists()
    assert 'planted_msgs' not in sys.modules


@pytest.mark.parametrize('msgtype', ['os/msg/System', 'sensor_msgs.msg/Image',
                                     'sensor_msgs/msg/Image/../x', 'sensor_msgs/srv/Image'])
def test_malformed_or_foreign_types_are_not_allowed(msgtype):
    assert not allowed(msgtype)


def test_the_package_types_are_allowed():
    assert allowed('sensor_msgs/msg/CompressedImage') and allowed('tf2_msgs/msg/TFMessage')
    assert allowed('da3_ros_msgs/msg/RigStep') and allowed('rosgraph_msgs/msg/Clock')
    assert message_class('std_msgs/msg/Header').__name__ == 'Header'
