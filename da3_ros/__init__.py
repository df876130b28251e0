"""da3_ros: Depth Anything 3 for ROS 2 multi-camera rigs.

Importing the package imports neither torch nor rclpy; each layer pulls in what it needs.
"""
