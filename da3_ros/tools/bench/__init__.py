"""Benchmarks (``python -m da3_ros.tools.bench``, ``da3_bench``).

``cli`` times the engine, ``side_by_side`` and ``upstream`` time upstream's network next to ours
(``--upstream``), ``ros_side`` times the ROS side of the node (``python -m
da3_ros.tools.bench.ros_side``). Importing the package imports none of them.
"""
