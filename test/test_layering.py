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

"""Layering rules of docs/architecture.md ("Layers"), checked twice.

Importing: each layer's modules are found with ``pkgutil.walk_packages`` (test/layering_probe.py),
so new files are covered as soon as they exist; a fresh interpreter imports them one by one and
reports what each import added to ``sys.modules``; a forbidden module is named with its culprit.
This sees third-party modules pulled in indirectly (torch, rclpy), but not an import inside a
function that never ran.

Reading: an ``ast`` walk over every module file of the package reads every import statement,
those in function bodies included (and ``importlib.import_module`` of a literal name), and checks
the one-way order of ``ALLOWED``: tools -> (ros, synthetic) -> engine -> (model, geometry,
render) -> core, with render on model's Gaussians. A package directory without a rule fails.
"""

import ast
import json
import os
from pathlib import Path
import subprocess
import sys
from typing import Callable, Dict, Iterator, List, Optional, Set, Tuple

import pytest

PROBE = Path(__file__).with_name('layering_probe.py')
MARKER = '@@LAYERING@@'

Rule = Tuple[str, Callable[[str], bool]]


def _is_ros(name: str) -> bool:
    """Whether a module is ROS: rclpy, rcl_*, rmw*, rosidl*, ``*_msgs``, ``*_interfaces``, ros/."""
    top = name.split('.')[0]
    return (top.startswith(('rclpy', 'rcl_', 'rmw', 'rosidl'))
            or top.endswith(('_msgs', '_interfaces'))
            or name == 'da3_ros.ros' or name.startswith('da3_ros.ros.'))


def _is_torch(name: str) -> bool:
    return name.split('.')[0] == 'torch'


def _under(*packages: str) -> Callable[[str], bool]:
    """Predicate: the module is one of ``packages`` or inside one of them."""
    def check(name: str) -> bool:
        return any(name == p or name.startswith(p + '.') for p in packages)
    return check


# layer id -> (roots, walk mode, rules as (description, predicate that flags a forbidden module))
LAYERS: Dict[str, Tuple[List[str], str, List[Rule]]] = {
    # da3_ros itself and its top-level modules (config.py, errors.py, ...): no torch, no ROS.
    'core': (['da3_ros'], 'top', [('torch', _is_torch), ('ROS', _is_ros)]),
    'model': (['da3_ros.model'], 'tree', [
        ('ROS', _is_ros),
        ('engine/geometry/ros/synthetic/tools',
         _under('da3_ros.engine', 'da3_ros.geometry', 'da3_ros.ros', 'da3_ros.synthetic',
                'da3_ros.tools')),
    ]),
    'geometry': (['da3_ros.geometry'], 'tree', [
        ('ROS', _is_ros),
        ('model/engine/ros/synthetic/tools',
         _under('da3_ros.model', 'da3_ros.engine', 'da3_ros.ros', 'da3_ros.synthetic',
                'da3_ros.tools')),
    ]),
    # render: Gaussian rasterizers; may use model's Gaussians/SH, nothing above or beside.
    'render': (['da3_ros.render'], 'tree', [
        ('ROS', _is_ros),
        ('geometry/engine/ros/synthetic/tools',
         _under('da3_ros.geometry', 'da3_ros.engine', 'da3_ros.ros', 'da3_ros.synthetic',
                'da3_ros.tools')),
    ]),
    'engine': (['da3_ros.engine'], 'tree', [
        ('ROS', _is_ros),
        ('ros/synthetic/tools', _under('da3_ros.ros', 'da3_ros.synthetic', 'da3_ros.tools')),
    ]),
    # synthetic: maths and rendering of the test and demo scenes; engine types, never ROS.
    'synthetic': (['da3_ros.synthetic'], 'tree', [
        ('ROS', _is_ros),
        ('ros/tools', _under('da3_ros.ros', 'da3_ros.tools')),
    ]),
    # ros: the node and its converters; the offline tools and the test scenes sit beside or above.
    'ros': (['da3_ros.ros'], 'tree', [
        ('synthetic/tools', _under('da3_ros.synthetic', 'da3_ros.tools')),
    ]),
}

# Static rules: layer -> the other layers it may import. ``core`` is the package's top-level
# modules (config.py, errors.py, ...); every subpackage directory needs an entry here.
ALLOWED: Dict[str, Set[str]] = {
    'core': set(),
    'model': {'core'},
    'geometry': {'core'},
    'render': {'model', 'core'},
    'engine': {'model', 'geometry', 'render', 'core'},
    'synthetic': {'engine', 'model', 'geometry', 'render', 'core'},
    'ros': {'engine', 'model', 'geometry', 'render', 'core'},
    'tools': {'ros', 'synthetic', 'engine', 'model', 'geometry', 'render', 'core'},
}
# Third-party rules of the static check: layer -> (description, predicate on a module name).
THIRD_PARTY: Dict[str, List[Rule]] = {
    'core': [('torch', _is_torch), ('ROS', _is_ros)],
    'model': [('ROS', _is_ros)],
    'geometry': [('ROS', _is_ros)],
    'render': [('ROS', _is_ros)],
    'engine': [('ROS', _is_ros)],
    'synthetic': [('ROS', _is_ros)],
}


def import_in_fresh_interpreter(roots: List[str], mode: str) -> dict:
    """Run the probe in a new interpreter; returns ``{'added': {...}, 'errors': {...}}``."""
    proc = subprocess.run([sys.executable, str(PROBE), json.dumps(roots), mode],
                          capture_output=True, text=True, timeout=600, check=False)
    lines = [line for line in proc.stdout.splitlines() if line.startswith(MARKER)]
    assert proc.returncode == 0 and lines, (
        f'layer probe crashed (exit {proc.returncode}):\n'
        f'{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}')
    return json.loads(lines[-1][len(MARKER):])


def _violations(report: dict, rules: List[Rule]) -> List[str]:
    problems = [f'{name} does not import:\n{trace}' for name, trace in report['errors'].items()]
    for culprit, new_modules in report['added'].items():
        for rule, forbidden in rules:
            bad = [m for m in new_modules if forbidden(m) and m != culprit]
            if bad:
                more = f' (+{len(bad) - 8} more)' if len(bad) > 8 else ''
                problems.append(f'{culprit} pulls in {rule}: {", ".join(bad[:8])}{more}')
    return problems


@pytest.mark.parametrize('layer', sorted(LAYERS))
def test_layer_imports_stay_in_their_lane(layer: str) -> None:
    roots, mode, rules = LAYERS[layer]
    report = import_in_fresh_interpreter(roots, mode)
    assert report['added'], f'nothing imported for layer {layer}'
    problems = _violations(report, rules)
    assert not problems, f'layer {layer} ({", ".join(roots)}):\n' + '\n'.join(problems)


def test_probe_flags_a_forbidden_import(tmp_path: Path) -> None:
    """The probe itself: a module deep in a fake layer that imports sensor_msgs is named."""
    layer = tmp_path / 'fake_layer'
    (layer / 'sub').mkdir(parents=True)
    (layer / '__init__.py').write_text('import json\n')
    (layer / 'sub' / '__init__.py').write_text('')
    (layer / 'sub' / 'deep.py').write_text('from sensor_msgs.msg import Image\n')
    env = dict(os.environ, PYTHONPATH=str(tmp_path))
    proc = subprocess.run([sys.executable, str(PROBE), json.dumps(['fake_layer']), 'tree'],
                          capture_output=True, text=True, timeout=300, check=False, env=env)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout.splitlines()[-1][len(MARKER):])
    problems = _violations(report, [('ROS', _is_ros)])
    assert len(problems) == 1, problems
    assert problems[0].startswith('fake_layer.sub.deep pulls in ROS: '), problems


def _module_name(path: Path, root: Path) -> str:
    """Dotted name of the module file ``path`` of the package at ``root``."""
    parts = [root.name, *path.relative_to(root).with_suffix('').parts]
    return '.'.join(parts[:-1] if parts[-1] == '__init__' else parts)


def _imported_names(tree: ast.Module, module: str, is_package: bool) -> Iterator[Tuple[int, str]]:
    """``(line, dotted name)`` of every import in ``tree``, at any depth; relative ones resolved.

    ``from a.b import c`` yields ``a.b.c`` (``c`` may be a submodule); a literal
    ``importlib.import_module('x')`` yields ``x``.
    """
    package = module.split('.') if is_package else module.split('.')[:-1]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ''
            if node.level:
                anchor = package[:len(package) - node.level + 1]
                base = '.'.join(anchor + ([node.module] if node.module else []))
            for alias in node.names:
                yield node.lineno, f'{base}.{alias.name}' if alias.name != '*' else base
        elif (isinstance(node, ast.Call) and getattr(node.func, 'attr', None) == 'import_module'
              and node.args and isinstance(node.args[0], ast.Constant)
              and isinstance(node.args[0].value, str)):
            yield node.lineno, node.args[0].value


def _layer(name: str, package: str, root: Path) -> Optional[str]:
    """Layer of module ``name`` of ``package``; None for a subpackage that has no rule."""
    parts = name.split('.')
    if len(parts) < 2 or not (root / parts[1]).is_dir():
        return 'core'  # the package itself or a top-level module (or a name imported from one)
    return parts[1] if parts[1] in ALLOWED else None


def static_violations(root: Path) -> List[str]:
    """Imports that break ``ALLOWED`` or ``THIRD_PARTY`` anywhere under the package at ``root``.

    Args:
        root: the package directory (its name is the package name), e.g. ``<repo>/da3_ros``.

    Returns:
        One line per offence, ``path:line: module imports name (layer a -> layer b)``, and one
        per subpackage without a rule.
    """
    package = root.name
    problems = [f'{package}.{d.name}: a package directory with no layer rule in ALLOWED'
                for d in sorted(root.iterdir())
                if d.is_dir() and (d / '__init__.py').is_file() and d.name not in ALLOWED]
    for path in sorted(root.rglob('*.py')):
        module = _module_name(path, root)
        source = _layer(module, package, root)
        if source is None:
            continue
        tree = ast.parse(path.read_text(), filename=str(path))
        where = f'{path.relative_to(root.parent)}'
        for line, name in _imported_names(tree, module, path.name == '__init__.py'):
            if name == package or name.startswith(package + '.'):
                target = _layer(name, package, root)
                if target is not None and target != source and target not in ALLOWED[source]:
                    problems.append(f'{where}:{line}: {module} imports {name}'
                                    f' ({source} -> {target})')
                continue
            for rule, forbidden in THIRD_PARTY.get(source, []):
                if forbidden(name):
                    problems.append(f'{where}:{line}: {module} imports {name}'
                                    f' ({source} -> {rule})')
    return problems


def test_no_import_points_upward_not_even_inside_a_function(repo_root: Path) -> None:
    root = repo_root / 'da3_ros'
    modules = list(root.rglob('*.py'))
    assert len(modules) > 100, f'only {len(modules)} module files under {root}'
    problems = static_violations(root)
    assert not problems, 'imports against docs/architecture.md, "Layers":\n' + '\n'.join(problems)


def _plant(root: Path, files: Dict[str, str]) -> Path:
    """Write a package tree ``{relative path: source}`` under ``root``; return ``root``."""
    for relative, source in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(source)
    return root


CLEAN_TREE = {
    '__init__.py': '', 'errors.py': 'class Da3Error(Exception):\n    pass\n',
    'config.py': 'from pkg.errors import Da3Error\n',
    'model/__init__.py': 'import torch\nfrom pkg import errors\n',
    'engine/__init__.py': '', 'engine/run.py': 'from ..model import Network\n',
    'ros/__init__.py': '', 'ros/node.py': 'import rclpy\nfrom pkg.engine.run import go\n',
    'synthetic/__init__.py': '', 'synthetic/scene.py': 'from pkg.engine import run\n',
    'tools/__init__.py': '',
    'tools/cli.py': 'from pkg.ros import node\nfrom pkg import synthetic\n',
}


def test_static_check_passes_a_clean_planted_tree(tmp_path: Path) -> None:
    assert static_violations(_plant(tmp_path / 'pkg', CLEAN_TREE)) == []


@pytest.mark.parametrize('relative, source, offence', [
    # an upward import inside a function body: invisible to the importing probe
    ('engine/late.py', 'def f():\n    from pkg.ros.node import main\n',
     'pkg/engine/late.py:2: pkg.engine.late imports pkg.ros.node.main (engine -> ros)'),
    # a relative one, resolved against the module's package
    ('ros/cv.py', 'def f():\n    from ..tools import cli\n',
     'pkg/ros/cv.py:2: pkg.ros.cv imports pkg.tools.cli (ros -> tools)'),
    ('ros/scene.py', 'from pkg.synthetic.scene import Scene\n',
     'pkg/ros/scene.py:1: pkg.ros.scene imports pkg.synthetic.scene.Scene (ros -> synthetic)'),
    ('synthetic/bag.py', 'import os\n\n\ndef f():\n    import pkg.tools.cli\n',
     'pkg/synthetic/bag.py:5: pkg.synthetic.bag imports pkg.tools.cli (synthetic -> tools)'),
    ('synthetic/msgs.py', 'def f():\n    from sensor_msgs.msg import Image\n',
     'pkg/synthetic/msgs.py:2: pkg.synthetic.msgs imports sensor_msgs.msg.Image'
     ' (synthetic -> ROS)'),
    ('model/up.py', 'import importlib\nM = importlib.import_module("pkg.engine.run")\n',
     'pkg/model/up.py:2: pkg.model.up imports pkg.engine.run (model -> engine)'),
    ('helpers.py', 'def f():\n    import torch\n',
     'pkg/helpers.py:2: pkg.helpers imports torch (core -> torch)'),
    ('extra/__init__.py', '',
     'pkg.extra: a package directory with no layer rule in ALLOWED'),
])
def test_static_check_fails_on_a_planted_offence(tmp_path: Path, relative: str, source: str,
                                                 offence: str) -> None:
    root = _plant(tmp_path / 'pkg', {**CLEAN_TREE, relative: source})
    assert static_violations(root) == [offence]
