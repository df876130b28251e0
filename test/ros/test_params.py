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

"""params: descriptors, read-back of the params file, rejected updates, unknown keys."""
import numpy as np
import pytest
import yaml

from da3_ros.errors import ConfigError

pytestmark = pytest.mark.ros


@pytest.fixture
def node(repo_root, ros_env):
    import rclpy
    from rclpy.node import Node
    from da3_ros.ros import params
    ctx = rclpy.Context()
    rclpy.init(context=ctx, args=['--ros-args', '--params-file',
                                  str(repo_root / 'config' / 'multi_cam.yaml'), '-p',
                                  'camera.front.extrinsics:=[1.0, 0.0, 2.0, 0.0, 0.0, 0.0, 1.0]'])
    node = Node('da3_node', context=ctx)
    params.declare_all(node)
    node.add_on_set_parameters_callback(params.update_validator(node))
    yield node
    node.destroy_node()
    rclpy.shutdown(context=ctx)


def test_params_file_reads_back(node, repo_root):
    from da3_ros.ros import params
    config = params.read_engine_config(node)
    text = yaml.safe_load((repo_root / 'config' / 'multi_cam.yaml').read_text())
    expected = text['/**/da3_node']['ros__parameters']
    assert [c.name for c in config.cameras] == expected['cameras']
    assert config.cameras[0].image_topic == '/cam_front/image_raw'
    assert config.cameras[0].info_topic == '/cam_front/camera_info'
    assert config.model.variant == expected['model']['variant']
    assert config.output.voxel_size == expected['output']['voxel_size']
    options = params.read_node_options(node)
    assert options.tf_mode == 'none' and options.sync_slop_s == expected['sync']['slop_s']
    sources = params.camera_sources(node)
    np.testing.assert_allclose(sources[0].t_base_cam[:3, 3], [1.0, 0.0, 2.0])
    assert sources[1].t_base_cam is None and sources[1].transport == 'raw'


def test_descriptors_have_descriptions_and_ranges(node):
    desc = node.describe_parameter('window.length')
    assert desc.description and desc.integer_range[0].from_value == 1
    desc = node.describe_parameter('output.max_depth')
    assert 'farther' in desc.description and desc.floating_point_range
    assert 'One of' in node.describe_parameter('tf_mode').description
    assert node.describe_parameter('model.weights').read_only


def test_invalid_updates_are_rejected_with_reason(node):
    from rclpy.parameter import Parameter
    bad = node.set_parameters([Parameter('tf_mode', value='map')])[0]
    assert not bad.successful and 'tf_mode' in bad.reason
    bad = node.set_parameters([Parameter('output.min_depth', value=500.0)])[0]
    assert not bad.successful and 'max_depth' in bad.reason
    bad = node.set_parameters([Parameter('window.length', value=0)])[0]
    assert not bad.successful
    ro = node.set_parameters([Parameter('model.variant', value='da3-giant')])[0]
    assert not ro.successful
    ok = node.set_parameters([Parameter('tf_mode', value='cameras')])[0]
    assert ok.successful and node.get_parameter('tf_mode').value == 'cameras'


def test_missing_cameras_is_a_config_error(ros_env):
    import rclpy
    from rclpy.node import Node
    from da3_ros.ros import params
    ctx = rclpy.Context()
    rclpy.init(context=ctx, args=[])
    node = Node('bare', context=ctx)
    try:
        with pytest.raises(ConfigError, match='cameras'):
            params.declare_all(node)
    finally:
        node.destroy_node()
        rclpy.shutdown(context=ctx)


def test_unknown_keys_are_named_with_the_closest_valid_one(repo_root, ros_env):
    import rclpy
    from rclpy.node import Node
    from da3_ros.ros import params
    ctx = rclpy.Context()
    rclpy.init(context=ctx, args=['--ros-args', '--params-file',
                                  str(repo_root / 'config' / 'multi_cam.yaml'), '-p',
                                  'output.max_dpeth:=5.0', '-p', 'camera.front.image_topc:=/x'])
    node = Node('da3_node', context=ctx)
    try:
        params.declare_all(node)
        with pytest.raises(ConfigError) as caught:
            params.check_node_overrides(node)
        text = str(caught.value)
        assert "'output.max_dpeth' (did you mean 'output.max_depth'?)" in text
        assert "'camera.front.image_topc' (did you mean 'camera.front.image_topic'?)" in text
    finally:
        node.destroy_node()
        rclpy.shutdown(context=ctx)


def test_the_presets_have_no_unknown_keys(repo_root, ros_env):
    import rclpy
    from rclpy.node import Node
    from da3_ros.ros import params
    for preset in ('multi_cam.yaml', 'mono.yaml', 'stereo.yaml'):
        ctx = rclpy.Context()
        rclpy.init(context=ctx, args=['--ros-args', '--params-file',
                                      str(repo_root / 'config' / preset)])
        node = Node('da3_node', context=ctx)
        try:
            params.declare_all(node)
            params.check_node_overrides(node)
            assert params.read_engine_config(node).model.device == 'auto', preset
        finally:
            node.destroy_node()
            rclpy.shutdown(context=ctx)
