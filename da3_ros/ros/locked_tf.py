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

"""The TF buffer shared by the executor thread (inserts) and the inference worker (lookups).

``can_transform`` waits, like tf2_ros ``Buffer.can_transform(..., timeout)`` and the
``tf2_ros.MessageFilter`` in front of Nav2's sensors, for a transform whose newest data is older
than the stamp asked for: on a loaded machine the ``/tf`` message of an image's instant can arrive
after the image. Only that case waits (bounded, woken by every insert); a frame that does not
exist, a loop or a stamp older than the data answer at once, so a rig without odometry is never
slowed down.
"""
import threading
import time
from typing import Any, Sequence

from da3_ros.ros.messages.tf_buffer import ExtrapolationException, TfBuffer, TransformException


class LockedTf:
    """A ``TfBuffer`` shared between the executor (inserts) and the worker (lookups)."""

    def __init__(self, buffer: TfBuffer) -> None:
        self.buffer, self.lock = buffer, threading.Lock()
        self._inserted = threading.Condition(self.lock)

    def lookup(self, target: str, source: str, stamp_ns: int = 0):
        with self.lock:
            return self.buffer.lookup(target, source, stamp_ns)

    def can_transform(self, target: str, source: str, stamp_ns: int, timeout_s: float,
                      clock=time.monotonic) -> bool:
        """Whether ``lookup(target, source, stamp_ns)`` answers within ``timeout_s`` (wall time).

        It waits only while the obstacle is data not yet arrived (see the module docstring).
        """
        deadline = clock() + timeout_s
        with self.lock:
            while True:
                try:
                    self.buffer.lookup(target, source, stamp_ns)
                    return True
                except ExtrapolationException as err:
                    left = deadline - clock()
                    if not err.future or left <= 0:
                        return False
                    self._inserted.wait(left)
                except TransformException:
                    return False

    def add(self, msg: Any, *, static: bool) -> None:
        with self.lock:
            try:
                self.buffer.add_tf_message(msg, static=static)
            finally:
                self._inserted.notify_all()

    def clear_dynamic(self, statics: Sequence[Any]) -> None:
        """Forget everything, then re-insert the latched static messages (clock jump)."""
        with self.lock:
            self.buffer.clear()
            for msg in statics:
                try:
                    self.buffer.add_tf_message(msg, static=True)
                except TransformException:  # reported when it first arrived
                    continue
