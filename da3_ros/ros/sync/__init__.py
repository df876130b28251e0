"""Putting the rig's messages together in time, without rclpy.

``approximate_time``: message_filters' ApproximateTime policy over N topics;
``multi_camera``: each camera's image paired with its CameraInfo, then the cameras synchronised
(partial sets after a timeout); ``clock_policy``: the one judge of time jumps and bad camera
clocks. Nothing here imports rclpy (test/ros/test_pure_imports.py).
"""
