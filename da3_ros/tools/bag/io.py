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

"""Reading bags with ``rosbags``: the Jazzy typestore plus ``da3_ros_msgs``, and input checks.

``make_typestore()`` is ``get_typestore(Stores.ROS2_JAZZY)`` (which has ``tf2_msgs`` and
``diagnostic_msgs``) with the package's own messages registered from their ``.msg`` files, so the
bag tool reads and writes ``da3_ros_msgs/msg/RigStep`` without a ROS installation.
``InputBag`` opens a rosbag2 folder (sqlite3 or mcap) or a bare ``.mcap`` / ``.db3`` file and
turns the library's failures into :class:`BagError` with the path and the reason.
"""
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Iterator, Optional, Sequence, Tuple

from da3_ros.errors import Da3Error
from da3_ros.ros.messages.msgtypes import MsgTypes, register_da3_msgs, rosbags_types


class BagError(Da3Error):
    """A bag cannot be read or written (missing, truncated, missing topic, bad message)."""


def make_typestore() -> Any:
    """Jazzy typestore with ``da3_ros_msgs`` registered (``msgtypes.register_da3_msgs``).

    Raises:
        BagError: the ``da3_ros_msgs`` definitions are not installed.
    """
    from rosbags.typesys import get_typestore, Stores
    try:
        return register_da3_msgs(get_typestore(Stores.ROS2_JAZZY))
    except FileNotFoundError as err:
        raise BagError(str(err)) from err


def msg_types(store: Any) -> MsgTypes:
    """Get the ``MsgTypes`` bundle of ``store`` (for the shared converters and ``rig_output``)."""
    return rosbags_types(store)


@dataclass(frozen=True)
class BagMessage:
    """One input message: its index in read order, topic, type, log time and decoded value."""

    index: int
    topic: str
    msgtype: str
    time_ns: int
    raw: bytes
    connection: Any


class InputBag:
    """A read-only input bag (rosbag2 folder, ``.mcap`` or ``.db3``).

    Args:
        path: the bag.
        store: typestore used to deserialise (default :func:`make_typestore`).

    Raises:
        BagError: the path is missing or the bag cannot be opened (truncated, not a bag).
    """

    def __init__(self, path: Path, store: Optional[Any] = None) -> None:
        from rosbags.highlevel import AnyReader
        self.path = Path(path)
        self.store = store or make_typestore()
        if not self.path.exists():
            raise BagError(f'input bag {str(self.path)!r} does not exist')
        try:
            self.reader = AnyReader([self.path], default_typestore=self.store)
            self.reader.open()
        except Exception as err:  # noqa: B902 - rosbags raises several unrelated types
            raise BagError(f'cannot open bag {str(self.path)!r}: {type(err).__name__}:'
                           f' {err}') from err

    def close(self) -> None:
        """Close the reader."""
        self.reader.close()

    def __enter__(self) -> 'InputBag':
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def topics(self) -> Dict[str, str]:
        """``{topic: message type}`` of the bag."""
        return {conn.topic: conn.msgtype for conn in self.reader.connections}

    def require(self, topics: Sequence[str], what: str) -> None:
        """Raise BagError naming every topic of ``topics`` that the bag lacks."""
        missing = [t for t in topics if t not in self.topics]
        if missing:
            raise BagError(f'bag {str(self.path)!r} has no {what} topic(s) {missing}; it has'
                           f' {sorted(self.topics)}')

    def messages(self, topics: Optional[Sequence[str]] = None) -> Iterator[BagMessage]:
        """Messages in log-time order (all topics, or ``topics``), raw CDR bytes.

        Raises:
            BagError: the file ends early or a record is corrupt.
        """
        conns = [c for c in self.reader.connections if topics is None or c.topic in topics]
        index = 0
        try:
            for conn, time_ns, raw in self.reader.messages(connections=conns):
                yield BagMessage(index, conn.topic, conn.msgtype, int(time_ns), bytes(raw), conn)
                index += 1
        except Exception as err:  # noqa: B902 - storage plugins raise many unrelated types
            raise BagError(f'bag {str(self.path)!r} is unreadable after {index} messages'
                           f' (truncated or corrupt): {type(err).__name__}: {err}') from err

    def decode(self, message: BagMessage) -> Any:
        """Deserialise one message.

        Raises:
            BagError: the CDR bytes do not match the message type.
        """
        try:
            return self.store.deserialize_cdr(message.raw, message.msgtype)
        except Exception as err:  # noqa: B902 - the CDR decoder raises many unrelated types
            raise BagError(f'{message.topic} message {message.index} ({message.msgtype}) does'
                           f' not deserialise: {type(err).__name__}: {err}') from err


def read_decoded(path: Path, topics: Optional[Sequence[str]] = None
                 ) -> Iterator[Tuple[str, int, Any]]:
    """``(topic, log time ns, message)`` of every message of a bag (tests, demo, eval)."""
    with InputBag(path) as bag:
        for message in bag.messages(topics):
            yield message.topic, message.time_ns, bag.decode(message)
