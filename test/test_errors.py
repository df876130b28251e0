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

"""Typed errors: their hierarchy, and ``did_you_mean`` naming the closest known word."""
import pytest

from da3_ros.errors import (ConfigError, ConversionError, Da3Error, did_you_mean, SyncError,
                            WeightsError)


def test_did_you_mean_names_the_closest_key():
    known = ['input_qos', 'output_qos', 'max_views']
    assert did_you_mean('max_veiws', known) == " (did you mean 'max_views'?)"
    assert did_you_mean('output_qs', known) == " (did you mean 'output_qos'?)"


def test_did_you_mean_is_empty_when_nothing_is_close():
    assert did_you_mean('zzzz', ['input_qos', 'max_views']) == ''
    assert did_you_mean('anything', []) == ''


@pytest.mark.parametrize('error', [ConfigError, ConversionError, SyncError, WeightsError])
def test_every_error_is_a_da3_error(error):
    assert issubclass(error, Da3Error)


def test_value_errors_are_still_value_errors():
    """Callers that catch ValueError keep catching invalid configs and conversions."""
    assert issubclass(ConfigError, ValueError) and issubclass(ConversionError, ValueError)
    assert not issubclass(WeightsError, ValueError) and not issubclass(SyncError, ValueError)
