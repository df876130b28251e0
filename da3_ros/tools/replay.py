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

"""A small bag player on ``rosbags`` + rclpy: ``python -m da3_ros.tools.replay BAG [options]``.

Stands in for ``ros2 bag play BAG --clock [--loop]`` where ``ros2 bag`` is not installable (the
pip-only runtime): publishes every message of the bag (raw CDR, unchanged) on its topic at its
recorded pace times ``--rate``, and with ``--clock`` publishes ``/clock`` at the message times
first, so nodes with ``use_sim_time`` follow the bag. ``--loops N`` plays the bag N times; each
loop starts the clock again at the bag's start, which a sim-time node sees as a backwards jump.
``/tf_static`` is published transient-local (latched), everything else reliable with a deep
queue. ``--wait-topic`` holds playback until something subscribes to that topic.

A bag names the message type of each topic, and the player imports that type's Python package:
only packages of ``msgtypes.KNOWN_PACKAGES`` (the ones da3_ros reads or writes) are imported;
topics of any other type are not played and are listed once.
"""
import argparse
import importlib
from pathlib import Path
import re
import sys
import time
from typing import Any, Dict, List, Optional, Sequence, Tuple

from da3_ros.ros.messages.msgtypes import KNOWN_PACKAGES
from da3_ros.tools.bag.io import BagError, InputBag

CLOCK_TOPIC = '/clock'
STATIC_TOPICS = ('/tf_static',)


_MSGTYPE = re.compile(r'^([a-z][a-z0-9_]*)/msg/([A-Z][A-Za-z0-9]*)$')


def allowed(msgtype: str) -> bool:
    """Whether ``'pkg/msg/Name'`` is well-formed and its package is in the allow-list."""
    match = _MSGTYPE.match(msgtype)
    return match is not None and match.group(1) in KNOWN_PACKAGES


def message_class(msgtype: str) -> Any:
    """Return the rclpy class of ``'pkg/msg/Name'`` (only packages of ``KNOWN_PACKAGES``).

    Raises:
        BagError: a malformed type or a package outside the allow-list (nothing is imported).
    """
    if not allowed(msgtype):
        raise BagError(f'message type {msgtype!r} is not played: only the packages'
                       f' {sorted(KNOWN_PACKAGES)} are imported')
    package, _, name = msgtype.split('/')
    return getattr(importlib.import_module(f'{package}.msg'), name)


def load(path: Path, topics: Optional[Sequence[str]] = None) -> Tuple[Dict[str, str], list,
                                                                      Dict[str, str]]:
    """(``{topic: msgtype}``, ``[(time_ns, topic, raw bytes)]``, skipped ``{topic: msgtype}``).

    Records are in time order; topics whose type is not :func:`allowed` are skipped.
    """
    with InputBag(Path(path)) as bag:
        chosen = {t: m for t, m in bag.topics.items() if not topics or t in topics}
        types = {t: m for t, m in chosen.items() if allowed(m)}
        skipped = {t: m for t, m in chosen.items() if t not in types}
        records = [(m.time_ns, m.topic, m.raw) for m in bag.messages(list(types))]
    return types, records, skipped


class Player:
    """Publishes recorded messages with rclpy.

    Args:
        node: the rclpy node that owns the publishers.
        types: ``{topic: msgtype}``.
        clock: publish ``/clock``.
    """

    def __init__(self, node: Any, types: Dict[str, str], *, clock: bool = True) -> None:
        from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy
        reliable = QoSProfile(depth=100, reliability=ReliabilityPolicy.RELIABLE)
        latched = QoSProfile(depth=100, reliability=ReliabilityPolicy.RELIABLE,
                             durability=DurabilityPolicy.TRANSIENT_LOCAL)
        self.node = node
        self.pubs = {topic: node.create_publisher(
            message_class(msgtype), topic, latched if topic in STATIC_TOPICS else reliable)
            for topic, msgtype in types.items()}
        self.clock_pub = None
        if clock:
            from rosgraph_msgs.msg import Clock
            self.clock_cls = Clock
            self.clock_pub = node.create_publisher(Clock, CLOCK_TOPIC, 10)

    def publish_clock(self, time_ns: int) -> None:
        """Publish ``/clock`` = ``time_ns``."""
        if self.clock_pub is not None:
            from builtin_interfaces.msg import Time
            stamp = Time(sec=time_ns // 1_000_000_000, nanosec=time_ns % 1_000_000_000)
            self.clock_pub.publish(self.clock_cls(clock=stamp))

    def play(self, records: List[tuple], *, rate: float = 1.0, loops: int = 1,
             on_loop: Any = None) -> int:
        """Play ``records`` ``loops`` times at ``rate``; return the messages published."""
        count = 0
        for loop in range(loops):
            if on_loop is not None:
                on_loop(loop)
            start_wall, start_bag = time.monotonic(), records[0][0] if records else 0
            for time_ns, topic, raw in records:
                due = start_wall + (time_ns - start_bag) / 1e9 / rate
                delay = due - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                self.publish_clock(time_ns)
                self.pubs[topic].publish(raw)
                count += 1
        return count


def wait_for_subscriber(node: Any, topic: str, timeout_s: float) -> bool:
    """Wait until ``topic`` has a subscriber (True) or ``timeout_s`` passes (False)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if node.count_subscribers(topic) > 0:
            return True
        time.sleep(0.1)
    return False


def main(argv: Optional[List[str]] = None) -> int:
    """Console entry point (ROS arguments after ``--ros-args`` go to rclpy)."""
    import rclpy
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('bag', type=Path)
    parser.add_argument('--rate', type=float, default=1.0)
    parser.add_argument('--loops', type=int, default=1, help='times to play the bag')
    parser.add_argument('--clock', action='store_true', help='publish /clock')
    parser.add_argument('--topics', nargs='*', default=None, help='only these topics')
    parser.add_argument('--wait-topic', default='', help='wait for a subscriber on this topic')
    parser.add_argument('--wait-s', type=float, default=60.0)
    argv = list(sys.argv[1:] if argv is None else argv)
    ros_args = argv[argv.index('--ros-args'):] if '--ros-args' in argv else []
    args = parser.parse_args(argv[:len(argv) - len(ros_args)])
    types, records, skipped = load(args.bag, args.topics)
    for topic, msgtype in sorted(skipped.items()):
        print(f'replay: not playing {topic} ({msgtype}): message package not in the allow-list'
              f' {sorted(KNOWN_PACKAGES)}', file=sys.stderr)
    rclpy.init(args=['replay'] + ros_args)
    node = rclpy.create_node('da3_replay')
    try:
        player = Player(node, types, clock=args.clock)
        if args.wait_topic and not wait_for_subscriber(node, args.wait_topic, args.wait_s):
            print(f'replay: nobody subscribed to {args.wait_topic} in {args.wait_s} s',
                  file=sys.stderr)
            return 1
        count = player.play(records, rate=args.rate, loops=args.loops,
                            on_loop=lambda i: print(f'LOOP {i}', flush=True))
        print(f'DONE {count} messages', flush=True)
        time.sleep(0.5)  # let reliable writers deliver the tail
    finally:
        node.destroy_node()
        rclpy.try_shutdown()
    return 0


if __name__ == '__main__':
    sys.exit(main())
