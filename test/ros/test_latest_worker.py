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

"""LatestWorker: only the newest item waits, and the worker survives a failing item."""
import threading
import time

import pytest

from da3_ros.ros.latest_worker import LatestWorker


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
