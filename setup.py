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

"""Packaging of da3_ros: an ament_python package for colcon and a plain pip package alike."""

from glob import glob
import os

from setuptools import find_packages
from setuptools import setup

PACKAGE = 'da3_ros'

# Pinned ROS 2 Jazzy wheels for pip users (docs/pip-runtime.md): the ros-jazzy-* meta packages pin
# every ros-* dependency with ==, so this never resolves to Kilted. apt ROS installs use rosdep.
ROS_JAZZY_WHEELS = [
    'ros-jazzy-rclpy[fastrtps]==7.1.6',
    'ros-jazzy-sensor-msgs==5.3.6',
    'ros-jazzy-geometry-msgs==5.3.6',
    'ros-jazzy-std-msgs==5.3.6',
    'ros-jazzy-diagnostic-msgs==5.3.6',
]

LINT = [
    'flake8',
    'flake8-blind-except',
    'flake8-builtins',
    'flake8-comprehensions',
    'flake8-docstrings',
    'flake8-import-order',
    'flake8-quotes',
]

setup(
    name=PACKAGE,
    version='0.1.0',
    description='Depth Anything 3 depth, point clouds and poses for ROS 2 multi-camera rigs',
    license='Apache-2.0',
    maintainer='da3_ros developers',
    maintainer_email='dev@example.com',
    python_requires='>=3.10',
    packages=find_packages(include=[PACKAGE, PACKAGE + '.*']),
    data_files=[
        ('share/ament_index/resource_index/packages', ['resource/' + PACKAGE]),
        (os.path.join('share', PACKAGE), ['package.xml']),
        (os.path.join('share', PACKAGE, 'launch'), sorted(glob('launch/*.py'))),
        (os.path.join('share', PACKAGE, 'config'),
         sorted(glob('config/*.yaml') + glob('config/*.xml'))),
        (os.path.join('share', PACKAGE, 'rviz'), sorted(glob('rviz/*.rviz'))),
    ],
    install_requires=[
        'setuptools',
        'numpy',
        'scipy',  # rotations, quaternions (da3_ros.geometry.pose, da3_ros.ros.messages.quaternion)
        'torch',
        'safetensors',
        'huggingface_hub',
        'pyyaml',
        'pillow',
        'threadpoolctl',  # one BLAS thread in the engine's host alignment (engine.host_threads)
    ],
    extras_require={
        'ros': ROS_JAZZY_WHEELS,
        # opencv: the reference that test/geometry/test_distortion.py checks our maps against
        'test': ['pytest', 'pytest-timeout', 'opencv-python-headless'] + LINT,
        # offline tools: the bag tool (tqdm draws its progress bar), and the demo (plotly ships
        # the JS of its 3D view)
        'bag': ['rosbags', 'mcap', 'mcap-ros2-support', 'tqdm', 'plotly'],
        # da3_bag fleet (da3_ros.tools.fleet.driver); the single-bag tool never imports ray.
        'fleet': ['ray[data]'],
        'gs': ['gsplat'],  # CUDA Gaussian rasterizer; compiles its kernels on first import
        # ONNX export and the onnxruntime backend (TensorRT comes from JetPack / NVIDIA's index).
        'onnx': ['onnx', 'onnxruntime', 'onnxscript'],
    },
    zip_safe=False,
    entry_points={
        'console_scripts': [
            'da3_node = da3_ros.ros.node:main',
            'da3_bag = da3_ros.tools.bag.cli:main',
            'da3_parity = da3_ros.tools.parity:main',
            'da3_bench = da3_ros.tools.bench.cli:main',
            'da3_export = da3_ros.tools.export:main',
        ],
    },
)
