"""The bag tool reads a params file as the node does: unknown keys are an error."""
from pathlib import Path

import pytest

from da3_ros.errors import ConfigError
from da3_ros.tools.bag.cli import main
from da3_ros.tools.bag.config import load_config

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
