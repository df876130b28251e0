"""The ``da3_node`` command line outside ROS arguments: ``--help`` prints usage and exits 0.

The node as a ROS process is tested in test_node_process.py (topics, outputs),
test_node_lifecycle.py, test_node_faults.py and test_node_configure.py.
"""
import subprocess
import sys

import pytest

pytestmark = [pytest.mark.ros]


@pytest.mark.parametrize('flag', ['--help', '-h'])
def test_help_prints_usage(flag):
    result = subprocess.run([sys.executable, '-m', 'da3_ros.ros.node', flag],
                            capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith('usage: da3_node') and '--params-file' in result.stdout
    assert 'Error' not in result.stderr
