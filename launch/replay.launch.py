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

"""Replay a bag with ``ros2 bag play --clock`` into da3_node running on sim time.

    ros2 launch da3_ros replay.launch.py bag:=<bag folder or .mcap> [rate:=0.5]
        [start_delay:=5.0] [config:=<yaml>] [namespace:=...] [weights:=... variant:=...]
        [log_level:=info]

Without a running graph, ``da3_bag`` processes a bag offline (bag in, bag out) instead.
"""

import os

from ament_index_python.packages import get_package_share_directory
from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument
from launch.actions import ExecuteProcess
from launch.actions import IncludeLaunchDescription
from launch.actions import TimerAction
from launch.launch_description_sources import PythonLaunchDescriptionSource
from launch.substitutions import LaunchConfiguration

PACKAGE = 'da3_ros'


def generate_launch_description() -> LaunchDescription:
    share = get_package_share_directory(PACKAGE)
    # multi_cam declares the node's arguments (config, namespace, weights, variant, log_level);
    # the command line's values reach it through the launch context, so only sim time is forced.
    multi_cam = IncludeLaunchDescription(
        PythonLaunchDescriptionSource(os.path.join(share, 'launch', 'multi_cam.launch.py')),
        launch_arguments=[('use_sim_time', 'true')],
    )
    # The bag path goes before --clock: --clock takes an optional frequency.
    play = ExecuteProcess(
        cmd=['ros2', 'bag', 'play', LaunchConfiguration('bag'), '--clock',
             '--rate', LaunchConfiguration('rate')],
        output='screen',
    )
    return LaunchDescription([
        DeclareLaunchArgument('bag', description='bag folder or .mcap file to play'),
        DeclareLaunchArgument('rate', default_value='1.0', description='playback rate'),
        DeclareLaunchArgument('start_delay', default_value='5.0',
                              description='seconds between node start and playback (model load)'),
        multi_cam,
        TimerAction(period=LaunchConfiguration('start_delay'), actions=[play]),
    ])
