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

"""The launch files and what `ros2 launch da3_ros ...` needs installed, checked without ``launch``.

``ros2 launch da3_ros multi_cam.launch.py`` resolves the package through the ament index
(``share/ament_index/resource_index/packages/da3_ros``), reads ``share/da3_ros/launch`` and
``share/da3_ros/config``, and launch_ros' ``Node(package=..., executable='da3_node')`` runs
``lib/da3_ros/da3_node``. setup.py (data_files) and setup.cfg (install_scripts) must put them
there. The launch arguments used in README.md and in the launch files' usage lines must be
declared by the launch file or a file it includes; replay.launch.py includes multi_cam.launch.py,
declares none of its arguments again and forces only ``use_sim_time``. Where ``launch_ros`` is
importable (a ROS install) the launch descriptions are also built.
"""

import ast
import configparser
import importlib.util
import os
from pathlib import Path
import re
import runpy
import shutil
import subprocess
from typing import Dict, List, Set

import pytest
import setuptools

LAUNCH_FILES = ('multi_cam.launch.py', 'replay.launch.py')


@pytest.fixture(scope='module')
def setup_kwargs(repo_root: Path) -> Dict:
    """The keyword arguments setup.py passes to setuptools.setup, run in the repository root."""
    captured = {}
    old_setup, old_cwd = setuptools.setup, os.getcwd()
    setuptools.setup = lambda **kwargs: captured.update(kwargs)
    try:
        os.chdir(repo_root)
        runpy.run_path(str(repo_root / 'setup.py'), run_name='__main__')
    finally:
        setuptools.setup = old_setup
        os.chdir(old_cwd)
    return captured


def _installed(setup_kwargs: Dict) -> Dict[str, List[str]]:
    """Install folder -> file names (as in the source tree) from data_files."""
    installed = {}
    for folder, files in setup_kwargs['data_files']:
        installed.setdefault(folder.replace(os.sep, '/'), []).extend(files)
    return installed


def test_data_files_hold_the_ament_index_marker_and_manifest(setup_kwargs, repo_root) -> None:
    installed = _installed(setup_kwargs)
    assert installed['share/ament_index/resource_index/packages'] == ['resource/da3_ros']
    assert (repo_root / 'resource' / 'da3_ros').is_file()
    assert installed['share/da3_ros'] == ['package.xml']


def test_data_files_hold_every_launch_and_config_file(setup_kwargs, repo_root) -> None:
    installed = _installed(setup_kwargs)
    launch = sorted(p.relative_to(repo_root).as_posix()
                    for p in (repo_root / 'launch').glob('*.py'))
    assert set(LAUNCH_FILES) <= {Path(p).name for p in launch}
    assert sorted(installed['share/da3_ros/launch']) == launch
    config = sorted(p.relative_to(repo_root).as_posix()
                    for p in (repo_root / 'config').glob('*.yaml'))
    assert 'config/multi_cam.yaml' in config
    assert set(config) <= set(installed['share/da3_ros/config'])


def test_console_scripts_install_to_the_libexec_folder(setup_kwargs, repo_root) -> None:
    scripts = {line.split('=')[0].strip() for line in
               setup_kwargs['entry_points']['console_scripts']}
    assert 'da3_node' in scripts
    cfg = configparser.ConfigParser()
    cfg.read(repo_root / 'setup.cfg')
    assert cfg['install']['install_scripts'] == '$base/lib/da3_ros'
    assert cfg['develop']['script_dir'] == '$base/lib/da3_ros'


def test_console_scripts_name_a_function_that_exists(setup_kwargs, repo_root) -> None:
    """Each ``name = module:function`` entry point names a module file defining that function."""
    for line in setup_kwargs['entry_points']['console_scripts']:
        name, target = (part.strip() for part in line.split('='))
        module, function = target.split(':')
        path = repo_root.joinpath(*module.split('.')).with_suffix('.py')
        if not path.is_file():  # a package
            path = repo_root.joinpath(*module.split('.'), '__init__.py')
        assert path.is_file(), f'{name}: no module file {path} for {module}'
        defined = {node.name for node in ast.parse(path.read_text()).body
                   if isinstance(node, ast.FunctionDef)}
        assert function in defined, f'{name}: {module} defines no top-level {function}()'


def _tree(repo_root: Path, name: str) -> ast.Module:
    return ast.parse((repo_root / 'launch' / name).read_text(), filename=name)


def _declared(tree: ast.Module) -> Set[str]:
    """Names of DeclareLaunchArgument('<name>', ...) in a launch file."""
    names = set()
    for node in ast.walk(tree):
        if (isinstance(node, ast.Call)
                and getattr(node.func, 'id', None) == 'DeclareLaunchArgument'
                and node.args and isinstance(node.args[0], ast.Constant)):
            names.add(node.args[0].value)
    return names


def _constant(tree: ast.Module, name: str):
    for node in tree.body:
        targets = [getattr(t, 'id', None) for t in getattr(node, 'targets', ())]
        if isinstance(node, ast.Assign) and targets == [name]:
            return ast.literal_eval(node.value)
    raise AssertionError(f'no module-level {name} = ...')


def _nodes(tree: ast.Module) -> List[Dict[str, object]]:
    """Keyword arguments of every ``Node(...)``: constants as values, ``PACKAGE`` as a name."""
    return [{kw.arg: getattr(kw.value, 'value', getattr(kw.value, 'id', None))
             for kw in node.keywords} for node in ast.walk(tree)
            if isinstance(node, ast.Call) and getattr(node.func, 'id', None) == 'Node']


def test_node_executable_is_the_console_script(setup_kwargs, repo_root) -> None:
    tree = _tree(repo_root, 'multi_cam.launch.py')
    assert _constant(tree, 'PACKAGE') == setup_kwargs['name'] == 'da3_ros'
    nodes = {node['package']: node['executable'] for node in _nodes(tree)}
    assert nodes == {'PACKAGE': 'da3_node', 'rviz2': 'rviz2'}


def test_rviz_config_is_installed_and_shows_the_node_topics(setup_kwargs, repo_root) -> None:
    import yaml
    assert _installed(setup_kwargs)['share/da3_ros/rviz'] == ['rviz/da3.rviz']
    assert {'rviz', 'rviz_config'} <= _declared(_tree(repo_root, 'multi_cam.launch.py'))
    view = yaml.safe_load((repo_root / 'rviz' / 'da3.rviz').read_text())['Visualization Manager']
    assert view['Global Options']['Fixed Frame'] == 'base_link'
    topics = {d['Class'].split('/')[-1]: set() for d in view['Displays']}
    for display in view['Displays']:
        topics[display['Class'].split('/')[-1]].add(display.get('Topic', {}).get('Value'))
    assert '/da3_node/points' in topics['PointCloud2'] and 'TF' in topics
    config = yaml.safe_load((repo_root / 'config' / 'multi_cam.yaml').read_text())
    cameras = config['/**/da3_node']['ros__parameters']['cameras']
    assert {f'/da3_node/{cam}/depth' for cam in cameras} <= topics['Image']


def _include_arguments(tree: ast.Module) -> list:
    """The literal ``launch_arguments`` of the one IncludeLaunchDescription in a launch file."""
    (call,) = [node for node in ast.walk(tree) if isinstance(node, ast.Call)
               and getattr(node.func, 'id', None) == 'IncludeLaunchDescription']
    (arguments,) = [kw.value for kw in call.keywords if kw.arg == 'launch_arguments']
    return ast.literal_eval(arguments)


def test_replay_reuses_multi_cam_arguments_and_forces_sim_time(repo_root) -> None:
    multi_cam = _declared(_tree(repo_root, 'multi_cam.launch.py'))
    replay = _tree(repo_root, 'replay.launch.py')
    # The command line's config:=, weights:= ... reach the included file through the launch
    # context; declaring them twice would let the two defaults drift apart.
    assert _declared(replay).isdisjoint(multi_cam)
    assert _include_arguments(replay) == [('use_sim_time', 'true')]
    assert 'use_sim_time' in multi_cam


def _launch_commands(text: str) -> List[str]:
    """`ros2 launch da3_ros ...` command lines, with backslash continuations joined."""
    text = re.sub(r'\\\n\s*', ' ', text)
    return re.findall(r'ros2 launch da3_ros [^\n`]*', text)


def test_documented_launch_arguments_are_declared(repo_root) -> None:
    declared = {name: _declared(_tree(repo_root, name)) for name in LAUNCH_FILES}
    declared['replay.launch.py'] |= declared['multi_cam.launch.py']  # it includes multi_cam
    sources = {'README.md': (repo_root / 'README.md').read_text()}
    sources.update({name: (repo_root / 'launch' / name).read_text() for name in LAUNCH_FILES})
    commands = [(src, cmd) for src, text in sources.items() for cmd in _launch_commands(text)]
    assert any(src == 'README.md' for src, _ in commands)
    for src, cmd in commands:
        launch_file = cmd.split()[3]
        assert launch_file in declared, f'{src}: unknown launch file in {cmd!r}'
        used = set(re.findall(r'(\w+):=', cmd))
        assert used <= declared[launch_file], f'{src}: undeclared arguments in {cmd!r}'
        # weights:= alone keeps the parameters file's variant (da3-large in multi_cam.yaml), and a
        # checkpoint of another variant fails to load: documented commands name both.
        if 'weights' in used and not re.search(r'weights:=(parity|random)\b', cmd):
            assert 'variant' in used, f'{src}: weights:= without variant:= in {cmd!r}'


@pytest.mark.skipif(importlib.util.find_spec('launch_ros') is None,
                    reason='launch and launch_ros are not installed (colcon/apt installs only)')
@pytest.mark.parametrize('name', LAUNCH_FILES)
def test_launch_description_builds(repo_root, name) -> None:
    pytest.importorskip('ament_index_python')
    if not os.environ.get('AMENT_PREFIX_PATH'):
        pytest.skip('AMENT_PREFIX_PATH unset (scripts/ros_env.sh sets it)')
    spec = importlib.util.spec_from_file_location(name.split('.')[0], repo_root / 'launch' / name)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    description = module.generate_launch_description()
    names = {arg.name for arg in description.get_launch_arguments()}
    assert _declared(_tree(repo_root, name)) <= names
    if name == 'replay.launch.py':  # the included file's arguments show and are accepted
        assert _declared(_tree(repo_root, 'multi_cam.launch.py')) <= names


def _share_file_path(share: Path, file_name: str) -> List[Path]:
    """What ``ros2launch.api.get_share_file_path_from_package`` finds: os.walk, no followlinks."""
    return [Path(root) / name for root, _, files in os.walk(share) for name in files
            if name == file_name]


def test_make_venv_share_layout_is_found_by_ros2_launch(repo_root, tmp_path) -> None:
    make = shutil.which('make')
    assert make, 'make is needed to build the share layout'
    venv = tmp_path / 'venv'
    share = venv / 'share' / 'da3_ros'
    share.mkdir(parents=True)
    old_target = tmp_path / 'old_target'
    old_target.mkdir()
    (share / 'launch').symlink_to(old_target)  # the layout of an older make venv
    (venv / '.stamps').mkdir()
    stamp = venv / '.stamps' / 'share'
    # Only the share recipe runs: the editable install is assumed done (make --assume-old).
    subprocess.run([make, '-C', str(repo_root), f'VENV={venv}',
                    f'--assume-old={venv}/.stamps/editable', str(stamp)],
                   check=True, capture_output=True, timeout=60)
    assert not (share / 'launch').is_symlink() and not list(old_target.iterdir())
    for name in LAUNCH_FILES:
        (found,) = _share_file_path(share, name)
        assert found.resolve() == (repo_root / 'launch' / name).resolve()
    (found,) = _share_file_path(share, 'multi_cam.yaml')
    assert found.parent.name == 'config'
