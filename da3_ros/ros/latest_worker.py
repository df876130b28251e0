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

"""Inference off the executor thread: a latest-only slot and one worker thread.

While the engine is busy only the newest synchronised set waits: submitting a new set replaces
the waiting one (reported as a ``busy`` drop), so there is never a backlog or an unbounded queue.
"""
import threading
from typing import Any, Callable


class LatestWorker:
    """Runs ``process(item)`` on one thread; a new item replaces a waiting one.

    Args:
        process: called on the worker thread; exceptions are passed to ``on_error``.
        on_drop: called with the reason when a waiting item is replaced.
        on_error: called with an unexpected exception (the worker keeps running).
    """

    def __init__(self, process: Callable[[Any], None], *, on_drop: Callable[[str], None],
                 on_error: Callable[[BaseException], None]) -> None:
        self._process, self._on_drop, self._on_error = process, on_drop, on_error
        self._cond = threading.Condition()
        self._item: Any = None
        self._has_item = self._stopping = self.busy = False
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name='da3_inference', daemon=True)
        self._thread.start()

    def submit(self, item: Any) -> None:
        with self._cond:
            if self._has_item:
                self._on_drop('busy')
            self._item, self._has_item = item, True
            self._cond.notify()

    def clear(self) -> None:
        """Forget the waiting item (not counted as a drop)."""
        with self._cond:
            self._item, self._has_item = None, False

    def stop(self, timeout_s: float = 30.0) -> None:
        with self._cond:
            self._stopping = True
            self._cond.notify()
        if self._thread is not None:
            self._thread.join(timeout_s)
            self._thread = None

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._has_item and not self._stopping:
                    self._cond.wait()
                if self._stopping:
                    return
                item, self._item, self._has_item = self._item, None, False
                self.busy = True
            try:
                self._process(item)
            except Exception as err:  # noqa: B902 - the worker must survive any one set
                self._on_error(err)
            finally:
                self.busy = False
