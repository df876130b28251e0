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

"""Publisher process for the node tests: a synthetic six-camera rig on real topics.

Publishes ``/clock``, ``/tf_static`` (``base_link -> cam_<name>_optical_frame``, transient
local), ``/tf`` (``odom -> base_link``) and per camera ``/cam_<name>/image_raw`` +
``/cam_<name>/camera_info`` (topics and frames of ``config/multi_cam.yaml``). Stamps are
``100 s + 0.1 s * k``; a phase with ``restart`` starts again at k = 0 (a looping bag).

Usage: python test/ros/rig_player.py SCENARIO.json; the JSON keys are documented in ``main``.
Each phase runs until the node has published ``min_results`` RigSteps stamped inside it (or
``max_steps``), so the test adapts to a slow CPU. Prints ``READY`` once the node subscribes,
``PHASE <name> <first stamp_ns> <last stamp_ns> <results>`` per phase, then ``DONE``.
"""
import json
import sys
import time

import numpy as np
import rclpy
from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy
from rosgraph_msgs.msg import Clock

from da3_ros.ros.messages.image import array_to_image
from da3_ros.ros.messages.msgtypes import rclpy_types
from da3_ros.ros.messages.tf_msgs import ns_to_stamp, stamp_to_ns, tf_message, transform_stamped
from da3_ros.synthetic.sequence import SyntheticRig

NS = 1_000_000_000
BASE_NS = 100 * NS
RELIABLE = QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE)
STATIC = QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE,
                    durability=DurabilityPolicy.TRANSIENT_LOCAL)


def frame_of(name: str) -> str:
    return f'cam_{name}_optical_frame'


def camera_info(types, k, width, height, stamp_ns, frame_id):
    p = np.concatenate([k, np.zeros((3, 1))], axis=1)
    return types.CameraInfo(header=types.Header(stamp=ns_to_stamp(types, stamp_ns),
                                                frame_id=frame_id),
                            height=height, width=width, distortion_model='plumb_bob',
                            d=[0.0] * 5, k=k.reshape(-1).tolist(),
                            r=np.eye(3).reshape(-1).tolist(), p=p.reshape(-1).tolist())


class Player:
    """Publishes one scenario (see ``main`` for the keys)."""

    def __init__(self, node, scenario: dict) -> None:
        self.node, self.sc, self.types = node, scenario, rclpy_types()
        self.rig = SyntheticRig(tuple(scenario.get('size_hw', (56, 98))))
        self.names = list(self.rig.cameras)
        self.images = {(s, n): self.rig.render((self.rig.trajectory.stamp(s), n))[0]
                       for s in range(scenario.get('distinct_images', 4)) for n in self.names}
        self.clock = node.create_publisher(Clock, '/clock', 10)
        self.tf = node.create_publisher(self.types.TFMessage, '/tf', RELIABLE)
        self.tf_static = node.create_publisher(self.types.TFMessage, '/tf_static', STATIC)
        self.results: list[int] = []
        self.held: list = []  # (image, info) of a camera delivering out of order
        node.create_subscription(self.types.RigStep, '/da3_node/rig_step',
                                 lambda m: self.results.append(stamp_to_ns(m.header.stamp)),
                                 RELIABLE)
        self.pubs = {n: (node.create_publisher(self.types.Image, f'/cam_{n}/image_raw',
                                               RELIABLE),
                         node.create_publisher(self.types.CameraInfo,
                                               f'/cam_{n}/camera_info', RELIABLE))
                     for n in self.names}

    def wait_for_node(self, timeout_s: float = 60.0) -> None:
        end = time.monotonic() + timeout_s
        while time.monotonic() < end:
            if all(p.get_subscription_count() for p, _ in self.pubs.values()):
                return
            time.sleep(0.1)
        raise SystemExit('node never subscribed')

    def publish_static(self, loop: bool = False) -> None:
        """Get rig's static transforms; ``loop`` makes base_link a child of cam_front's frame."""
        transforms = [transform_stamped(self.types, self.rig.cameras[n].t_base_cam, 'base_link',
                                        frame_of(n), BASE_NS) for n in self.names]
        if loop:
            transforms = [transform_stamped(self.types, np.eye(4), frame_of('front'),
                                            'base_link', BASE_NS)]
        self.tf_static.publish(tf_message(self.types, transforms))

    def step(self, k: int, phase: dict) -> int:
        stamp_ns = BASE_NS + k * NS // 10
        self.clock.publish(Clock(clock=ns_to_stamp(self.types, stamp_ns)))
        self.tf.publish(tf_message(self.types, [transform_stamped(
            self.types, self.rig.trajectory.t_odom_base(k), 'odom', 'base_link', stamp_ns)]))
        for name in self.names:
            if name in phase.get('absent', []):
                continue
            clock = phase.get('clock', {}).get(name, '')
            image, info = self._messages(name, k, {'zero': 0, 'lag': stamp_ns - 2 * NS}.get(
                clock, stamp_ns))
            if name in phase.get('swap', []) and k % 2 == 0:
                self.held.append((image, info))  # step k goes out after step k + 1
                continue
            self.pubs[name][1].publish(info)
            self.pubs[name][0].publish(image)
            for image, info in self.held if name in phase.get('swap', []) else []:
                self.pubs[name][1].publish(info)
                self.pubs[name][0].publish(image)
            if name in phase.get('swap', []):
                self.held.clear()
        return stamp_ns

    def wait_for_result(self, stamp_ns: int, timeout_s: float) -> None:
        """Spin until a RigStep stamped at or after ``stamp_ns`` arrived (or the timeout)."""
        end = time.monotonic() + timeout_s
        while time.monotonic() < end and not any(s >= stamp_ns for s in self.results):
            rclpy.spin_once(self.node, timeout_sec=0.02)

    def run_phase(self, phase: dict, k: int) -> int:
        """Publish steps k, k+1, ... until enough results; returns the next k."""
        k = 0 if phase.get('restart') else k
        first, results = BASE_NS + k * NS // 10, []
        if 'tf_static' in phase:
            self.publish_static(loop=phase['tf_static'] == 'loop')
        self.results.clear()
        for _ in range(phase.get('steps', phase.get('max_steps', 150))):
            last = self.step(k, phase)
            k += 1
            if 'wait_lag' in phase:  # lockstep: the node's answer to step k - wait_lag first
                self.wait_for_result(last - phase['wait_lag'] * NS // 10,
                                     self.sc.get('step_timeout_s', 30.0))
            end = time.monotonic() + self.sc.get('period_s', 0.2)
            while time.monotonic() < end:
                rclpy.spin_once(self.node, timeout_sec=0.02)
            results = [s for s in self.results if first <= s <= last]
            if 'steps' not in phase and len(results) >= phase.get('min_results', 1):
                break
        print('PHASE', phase['name'], first, last, len(results), flush=True)
        return k

    def _messages(self, name: str, k: int, stamp_ns: int):
        """Image and CameraInfo of camera ``name`` at step ``k``, stamped ``stamp_ns``."""
        rgb = self.images[(k % self.sc.get('distinct_images', 4), name)]
        fault = self.sc.get('faults', {}).get(name, '')
        frame_id = 'nowhere_optical_frame' if fault == 'frame' else frame_of(name)
        image = array_to_image(self.types, rgb, 'rgb8', stamp_ns, frame_id)
        if fault == 'encoding':
            image.encoding = 'bayer_rggb8'
        k_matrix = self.rig.intrinsics(name, rgb.shape[:2]).copy()
        if fault == 'nan':
            k_matrix[0, 0] = np.nan
        width = rgb.shape[1] + (2 if fault == 'size' else 0)
        return image, camera_info(self.types, k_matrix, width, rgb.shape[0], stamp_ns, frame_id)


def main() -> None:
    """Play the scenario file named on the command line.

    Keys: phases [{name, absent: [camera], restart, min_results, max_steps}], period_s,
    faults {camera: encoding|size|nan|frame}, size_hw, distinct_images, settle_s, start_k (first
    step index, so a second player can continue the stamps of the first). A phase may also
    have ``steps`` (exactly that many steps), ``wait_lag`` (lockstep: after publishing step k
    wait up to ``step_timeout_s`` for a RigStep stamped at step k - wait_lag or later),
    ``clock`` ({camera: zero|lag}: stamps 0 or 2 s behind), ``swap`` ([camera]: its steps go
    out in pairs, k + 1 before k) and ``tf_static`` (loop|good: republished at the start).
    """
    scenario = json.loads(open(sys.argv[1]).read())
    rclpy.init()
    node = rclpy.create_node('rig_player')
    try:
        player = Player(node, scenario)
        player.publish_static()
        player.wait_for_node()
        time.sleep(scenario.get('settle_s', 1.0))
        print('READY', flush=True)
        k = scenario.get('start_k', 0)
        for phase in scenario['phases']:
            k = player.run_phase(phase, k)
        print('DONE', flush=True)
        time.sleep(scenario.get('linger_s', 3.0))
    finally:
        node.destroy_node()
        rclpy.try_shutdown()


if __name__ == '__main__':
    main()
