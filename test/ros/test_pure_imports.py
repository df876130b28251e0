"""The building blocks the offline bag tool reuses import without rclpy or torch."""
import subprocess
import sys

MODULES = ['sync', 'camera_sync', 'tf_buffer', 'tf_msgs', 'quaternion', 'msgtypes', 'convert',
           'compressed', 'camera_info', 'cloud']


def test_ros_building_blocks_import_without_rclpy_or_torch():
    code = ('import sys\n'
            + ''.join(f'import da3_ros.ros.{m}\n' for m in MODULES)
            + "print(sorted(m for m in ('rclpy', 'torch', 'sensor_msgs') if m in sys.modules))")
    out = subprocess.run([sys.executable, '-c', code], check=True, capture_output=True,
                         text=True).stdout
    assert out.strip() == '[]'
