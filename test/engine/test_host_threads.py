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

import numpy as np  # noqa: F401 (loads the BLAS library whose threads are limited)
from threadpoolctl import threadpool_info

from da3_ros.engine.host_threads import single_threaded_blas


def _blas_threads():
    return [pool['num_threads'] for pool in threadpool_info() if pool['user_api'] == 'blas']


def test_blas_runs_one_thread_inside_and_its_own_setting_after():
    before = _blas_threads()
    assert before  # numpy's BLAS is found
    with single_threaded_blas():
        assert set(_blas_threads()) == {1}
    assert _blas_threads() == before
