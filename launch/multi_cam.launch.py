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

"""Start one da3_node with a parameters file.

    ros2 launch da3_ros multi_cam.launch.py [config:=<yaml>] [namespace:=robot1]
        [use_sim_time:=true] [weights:=<file|dir|hub id> variant:=<its variant>] [log_level:=info]
        [rviz:=true] [rviz_config:=<file.rviz>]

``weights`` alone keeps the parameters file's ``model.variant`` (da3-large in multi_cam.yaml); a
checkpoint of another variant then fails to load, so pass both, e.g.
``weights:=depth-anything/DA3-SMALL variant:=da3-small``. ``use_sim_time`` always replaces the
file's value. ``rviz:=true`` also starts RViz 2 with ``rviz/da3.rviz`` (installed in the
package's share folder), its ``/da3_node/`` topics moved under ``namespace``.

Without ``launch`` (pip-only runtime) start the same node directly:
``da3_node --ros-args --params-file config/multi_cam.yaml [-r __ns:=/robot1]``.
"""

import os
import tempfile

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


def _rviz(config: str, namespace: str, use_sim_time: bool) -> Node:
    """Start RViz 2 with ``config``; under a namespace its /da3_node/ topics move there too."""
    if namespace.strip('/'):
        with open(config, encoding='utf-8') as handle:
            text = handle.read().replace('/da3_node/', f'/{namespace.strip("/")}/da3_node/')
        with tempfile.NamedTemporaryFile('w', suffix='.rviz', delete=False) as handle:
            handle.write(text)
        config = handle.name
    return Node(package='rviz2', executable='rviz2', arguments=['-d', config],
                parameters=[{'use_sim_time': use_sim_time}], output='screen')


def _start_node(context: LaunchContext) -> list:
    """Build the node from the resolved arguments; empty weights/variant keep the file's values."""
    def arg(name: str) -> str:
        return LaunchConfiguration(name).perform(context)

    overrides = {'use_sim_time': _truthy(arg('use_sim_time'))}
    if arg('weights'):
        overrides['model.weights'] = arg('weights')
    if arg('variant'):
        overrides['model.variant'] = arg('variant')
    rviz = [_rviz(arg('rviz_config'), arg('namespace'), overrides['use_sim_time'])
            ] if _truthy(arg('rviz')) else []
    return rviz + [Node(
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
    share = get_package_share_directory(PACKAGE)
    default_config = os.path.join(share, 'config', 'multi_cam.yaml')
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
        DeclareLaunchArgument('rviz', default_value='false',
                              description='true: also start RViz 2 with rviz_config'),
        DeclareLaunchArgument('rviz_config', default_value=os.path.join(share, 'rviz', 'da3.rviz'),
                              description='RViz 2 configuration file (with rviz:=true)'),
        OpaqueFunction(function=_start_node),
    ])
