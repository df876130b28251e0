"""ROS messages <-> arrays and engine types, without rclpy.

Every builder takes a ``MsgTypes`` bundle (``msgtypes``), so the node publishes rclpy messages
and the offline bag tool writes rosbags dataclasses from the same code: images (``image``,
``compressed``), ``CameraInfo`` (``camera_info``), clouds (``cloud``), TF messages and the
tf2-like buffer they fill (``tf_msgs``, ``quaternion``, ``tf_buffer``), and the rig as a whole
(``rig_input``: a synchronised set -> engine ``RigFrame``; ``rig_output``: ``RigResult`` ->
messages). Nothing here imports rclpy (test/ros/test_pure_imports.py).
"""
