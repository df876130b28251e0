"""Start one da3_node with a parameters file.

    ros2 launch da3_ros multi_cam.launch.py [config:=<yaml>] [namespace:=robot1]
        [use_sim_time:=true] [weights:=<file|dir|hub id> variant:=<its variant>] [log_level:=info]

``weights`` alone keeps the parameters file's ``model.variant`` (da3-large in multi_cam.yaml); a
checkpoint of another variant then fails to load, so pass both, e.g.
``weights:=depth-anything/DA3-SMALL variant:=da3-small``. ``use_sim_time`` always replaces the
file's value.

Without ``launch`` (pip-only runtime) start the same node directly:
``da3_node --ros-args --params-file config/multi_cam.yaml [-r __ns:=/robot1]``.
"""

import os

from ament_index_python.packages import get_package_share_directory
from launch import LaunchContext
from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument
from launch.actions import OpaqueFunction
from launch.actions import Shutdown
from launch.substitutions import LaunchConfiguration
from launch_ros.actions import Node

PACKAGE = 'da3_ros'


def _truthy(text: str) -> bool:
    return text.strip().lower() in ('true', '1', 'yes', 'on')


def _start_node(context: LaunchContext) -> list:
    """Build the node from the resolved arguments; empty weights/variant keep the file's values."""
    def arg(name: str) -> str:
        return LaunchConfiguration(name).perform(context)

    overrides = {'use_sim_time': _truthy(arg('use_sim_time'))}
    if arg('weights'):
        overrides['model.weights'] = arg('weights')
    if arg('variant'):
        overrides['model.variant'] = arg('variant')
    return [Node(
        package=PACKAGE,
        executable='da3_node',
        namespace=arg('namespace'),
        # Later entries win: the overrides come after the parameters file.
        parameters=[arg('config'), overrides],
        ros_arguments=['--log-level', arg('log_level')],
        output='screen',
        emulate_tty=True,
        # The node is the launch's only job: when it exits (a failed configure, a crash) the
        # launch ends too, instead of idling with nothing running.
        on_exit=Shutdown(reason='da3_node exited'),
    )]


def generate_launch_description() -> LaunchDescription:
    default_config = os.path.join(get_package_share_directory(PACKAGE), 'config', 'multi_cam.yaml')
    return LaunchDescription([
        DeclareLaunchArgument('config', default_value=default_config,
                              description='ros__parameters file of the node'),
        DeclareLaunchArgument('namespace', default_value='',
                              description='namespace of the node and its topics'),
        DeclareLaunchArgument('use_sim_time', default_value='false',
                              description='use /clock (true for bag replay)'),
        DeclareLaunchArgument('weights', default_value='',
                              description='checkpoint file, folder or hub id; empty: from config. '
                              'Set variant too unless the config names the same variant'),
        DeclareLaunchArgument('variant', default_value='',
                              description='model variant of the weights, e.g. da3-small; '
                              'empty: from config'),
        DeclareLaunchArgument('log_level', default_value='info',
                              description='debug, info, warn, error or fatal'),
        OpaqueFunction(function=_start_node),
    ])
