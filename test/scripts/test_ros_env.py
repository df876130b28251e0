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

"""scripts/ros_env.sh: every terminal that sources it lands in one ROS graph.

Three shells ("terminals") start from an environment without any ROS variable, source the script
and run a node each; every node must see the other two's topics. They use the script's defaults
(domain 0, Fast DDS's default UDP + shared-memory transport), not the test session's isolated
domain and SHM-only profile, because that default is what is under test; the topic names carry a
per-run token, so other graphs on domain 0 cannot make the test pass or fail.
"""
import os
from pathlib import Path
import subprocess
import sys
import time
import uuid

import pytest

pytestmark = [pytest.mark.ros]
REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / 'scripts' / 'ros_env.sh'
NODE = r"""
import os, sys, time
import rclpy
from std_msgs.msg import String
prefix, me, others = sys.argv[1], sys.argv[2], sys.argv[3].split(',')
print('env', os.environ['ROS_DOMAIN_ID'], os.environ.get('FASTRTPS_DEFAULT_PROFILES_FILE', '-'),
      flush=True)
rclpy.init()
node = rclpy.create_node('terminal_' + me)
pub = node.create_publisher(String, f'/{prefix}/{me}', 10)
wanted = {f'/{prefix}/{o}' for o in others}
seen = False
while True:
    rclpy.spin_once(node, timeout_sec=0.2)
    names = {name for name, _ in node.get_topic_names_and_types()}
    if not seen and wanted <= names:
        print('SEES', ' '.join(sorted(wanted)), flush=True)
        seen = True
"""


def _terminal(launcher, code: str, *args: str, name: str):
    """A fresh shell without ROS variables that sources ros_env.sh, then runs ``code``."""
    shell = ('unset ROS_DOMAIN_ID FASTRTPS_DEFAULT_PROFILES_FILE ROS_LOG_DIR; '
             f'VENV={sys.prefix} . {SCRIPT} && exec "$0" -c "$1" "${{@:2}}"')
    return launcher.start(['bash', '-c', shell, sys.executable, code, *args], name=name)


def test_three_terminals_see_each_other(ros_launcher, tmp_path):
    prefix = f'da3_terminals_{uuid.uuid4().hex[:8]}'
    names = ('node', 'replay', 'rviz')
    procs = []
    for me in names:
        others = ','.join(n for n in names if n != me)
        procs.append(_terminal(ros_launcher, NODE, prefix, me, others, name=me))
    deadline = time.monotonic() + 120  # a bound for a hung discovery, not a timing assertion
    while time.monotonic() < deadline and not all('SEES' in p.output() for p in procs):
        assert all(p.poll() is None for p in procs), '\n'.join(p.output() for p in procs)
        time.sleep(0.5)
    for proc in procs:
        out = proc.output()
        assert 'env 0 -' in out, out  # the documented default domain, no SHM-only profile
        assert 'SEES' in out, out


@pytest.mark.parametrize('given, expected', [('', '0'), ('42', '42')])
def test_domain_id_is_the_users_or_the_default(given, expected):
    env = {k: v for k, v in os.environ.items() if not k.startswith(('ROS_', 'FASTRTPS_'))}
    if given:
        env['ROS_DOMAIN_ID'] = given
    env['VENV'] = sys.prefix
    out = subprocess.run(['bash', '-c', f'. {SCRIPT} && echo "$ROS_DOMAIN_ID"'], env=env,
                         capture_output=True, text=True, check=True, timeout=30).stdout
    assert out.split() == [expected]
