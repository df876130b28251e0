"""The TF buffer shared by the executor thread (inserts) and the inference worker (lookups)."""
import threading
from typing import Any, Sequence

from da3_ros.ros.messages.tf_buffer import TfBuffer, TransformException


class LockedTf:
    """A ``TfBuffer`` shared between the executor (inserts) and the worker (lookups)."""

    def __init__(self, buffer: TfBuffer) -> None:
        self.buffer, self.lock = buffer, threading.Lock()

    def lookup(self, target: str, source: str, stamp_ns: int = 0):
        with self.lock:
            return self.buffer.lookup(target, source, stamp_ns)

    def add(self, msg: Any, *, static: bool) -> None:
        with self.lock:
            self.buffer.add_tf_message(msg, static=static)

    def clear_dynamic(self, statics: Sequence[Any]) -> None:
        """Forget everything, then re-insert the latched static messages (clock jump)."""
        with self.lock:
            self.buffer.clear()
            for msg in statics:
                try:
                    self.buffer.add_tf_message(msg, static=True)
                except TransformException:  # reported when it first arrived
                    continue
