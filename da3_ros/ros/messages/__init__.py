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

"""ROS messages <-> arrays and engine types, without rclpy.

Every builder takes a ``MsgTypes`` bundle (``msgtypes``), so the node publishes rclpy messages
and the offline bag tool writes rosbags dataclasses from the same code: images (``image``,
``compressed``), ``CameraInfo`` (``camera_info``), clouds (``cloud``), TF messages and the
tf2-like buffer they fill (``tf_msgs``, ``quaternion``, ``tf_buffer``), and the rig as a whole
(``rig_input``: a synchronised set -> engine ``RigFrame``; ``rig_output``: ``RigResult`` ->
messages). Nothing here imports rclpy (test/ros/test_pure_imports.py).
"""
