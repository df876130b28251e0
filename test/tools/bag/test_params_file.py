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

"""The bag tool reads a params file as the node does: unknown keys are an error."""
from pathlib import Path

import pytest

from da3_ros.errors import ConfigError
from da3_ros.tools.bag.cli import main
from da3_ros.tools.bag.config import load_config
from da3_ros.tools.bag.params_file import FileParameters

PARAMS = """/**/da3_node:
  ros__parameters:
    use_sim_time: true
    cameras: [front]
    camera:
      front: {{image_topic: /cam_front/image_raw}}
    output: {{{key}: 5.0}}
"""
PRESETS = ('multi_cam.yaml', 'mono.yaml', 'stereo.yaml')


def _params(tmp_path: Path, key: str) -> Path:
    path = tmp_path / 'params.yaml'
    path.write_text(PARAMS.format(key=key))
    return path


def test_a_known_key_is_read(tmp_path):
    assert load_config(_params(tmp_path, 'max_depth')).engine.output.max_depth == 5.0


def test_a_misspelt_key_is_named_with_the_closest_valid_one(tmp_path):
    with pytest.raises(ConfigError, match=r"'output.max_dpeth' \(did you mean"
                                          r" 'output.max_depth'\?\)"):
        load_config(_params(tmp_path, 'max_dpeth'))


def test_the_cli_says_it_in_one_line(tmp_path, capsys):
    assert main(['process', str(tmp_path / 'in'), str(tmp_path / 'out'), '--config',
                 str(_params(tmp_path, 'max_dpeth'))]) == 2
    err = capsys.readouterr().err
    assert err.count('\n') == 1 and 'output.max_dpeth' in err and 'output.max_depth' in err


@pytest.mark.parametrize('preset', PRESETS)
def test_every_preset_is_valid_and_defaults_to_device_auto(preset):
    path = Path(__file__).parents[3] / 'config' / preset
    assert load_config(path).engine.model.device == 'auto'


def test_the_block_of_an_unlisted_camera_is_unused_but_still_checked(tmp_path):
    """A shared file, or an override listing fewer cameras, keeps blocks of cameras not in use."""
    spare = """da3_node:
  ros__parameters:
    camera:
      spare: {{{key}: /cam_spare/image_raw, extrinsics: [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0]}}
"""
    path = tmp_path / 'params.yaml'
    path.write_text(PARAMS.format(key='max_depth') + spare.format(key='image_topic'))
    assert [c.name for c in load_config(path).engine.cameras] == ['front']
    path.write_text(PARAMS.format(key='max_depth') + spare.format(key='image_topc'))
    with pytest.raises(ConfigError, match="'camera.spare.image_topc'"):
        load_config(path)


# Block keys of the rules in params_file's docstring; each case is read by ours and by rcl.
RULE_CASES = {
    'wildcard_then_node': '/**:\n  ros__parameters: {a: 2, b: 2}\n'
                          '/**/da3_node:\n  ros__parameters: {a: 1}\n',
    'node_then_wildcard': '/**/da3_node:\n  ros__parameters: {a: 1}\n'
                          '/**:\n  ros__parameters: {a: 2, b: 2}\n',
    'relative_name': 'da3_node:\n  ros__parameters: {a: 1}\n',
    'absolute_name': '/da3_node:\n  ros__parameters: {a: 1}\n',
    'namespace_in_key': '/robot1/da3_node:\n  ros__parameters: {a: 1}\n',
    'namespace_as_parent': 'robot1:\n  da3_node:\n    ros__parameters: {a: 1}\n',
    'one_token_wildcard': '/*/da3_node:\n  ros__parameters: {a: 1}\n',
    'wildcard_inside': '/robot1/**/da3_node:\n  ros__parameters: {a: 1}\n',
    'other_node_ignored': 'other_node:\n  ros__parameters: {a: 1}\n'
                          '/**/da3_node:\n  ros__parameters: {b: 1, cam: {front: {topic: t}}}\n',
}


def _rcl_values(path: Path, namespace: str):
    """What rcl gives a ``da3_node`` in ``namespace`` from ``--params-file path``, or None."""
    import rclpy
    from rclpy.impl.implementation_singleton import rclpy_implementation
    from rclpy.node import Node
    context = rclpy.Context()
    try:
        rclpy.init(context=context, args=['--ros-args', '--params-file', str(path)])
    except rclpy_implementation.RCLError:  # rcl rejects the file
        return None
    try:
        node = Node('da3_node', namespace=namespace, context=context,
                    automatically_declare_parameters_from_overrides=True)
        values = {name: p.value for name, p in node.get_parameters_by_prefix('').items()}
        node.destroy_node()
    finally:
        rclpy.shutdown(context=context)
    return {k: v for k, v in values.items()
            if k not in ('use_sim_time', 'start_type_description_service')}


def _our_values(path: Path, namespace):
    """Our values, {} when no block applies, None for a file rcl rejects too."""
    try:
        return FileParameters.from_yaml(path, namespace).values
    except ConfigError as err:
        return {} if 'no ros__parameters block' in str(err) else None


@pytest.mark.ros
@pytest.mark.parametrize('namespace', ['/', '/robot1', '/robot1/arm'])
def test_block_selection_agrees_with_rcl(tmp_path, ros_env, namespace):
    cases = dict(RULE_CASES, partial_wildcard='/**/da3_*:\n  ros__parameters: {a: 1}\n')
    for name, text in cases.items():
        path = tmp_path / f'{name}.yaml'
        path.write_text(text)
        assert _our_values(path, namespace) == _rcl_values(path, namespace), name


def test_without_namespace_a_block_of_any_namespace_applies(tmp_path):
    """The bag tool has no namespace: what rcl would give da3_node in some namespace."""
    for name in ('relative_name', 'namespace_in_key', 'namespace_as_parent',
                 'one_token_wildcard', 'wildcard_inside'):
        path = tmp_path / f'{name}.yaml'
        path.write_text(RULE_CASES[name])
        assert FileParameters.from_yaml(path).values == {'a': 1}, name
    path = tmp_path / 'elsewhere.yaml'
    path.write_text('/**/da3_node/extra:\n  ros__parameters: {a: 1}\n')
    with pytest.raises(ConfigError, match='no ros__parameters block'):
        FileParameters.from_yaml(path)
