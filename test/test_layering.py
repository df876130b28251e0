"""Layering rules of docs/architecture.md ("Layers"), one fresh interpreter per layer.

Each layer's modules are found with ``pkgutil.walk_packages`` (test/layering_probe.py), so new
files are covered as soon as they exist. The child interpreter imports them one by one and reports
what each import added to ``sys.modules``; a forbidden module is named with its culprit.
"""

import json
import os
from pathlib import Path
import subprocess
import sys
from typing import Callable, Dict, List, Tuple

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
        ('engine/geometry/ros/tools',
         _under('da3_ros.engine', 'da3_ros.geometry', 'da3_ros.ros', 'da3_ros.tools')),
    ]),
    'geometry': (['da3_ros.geometry'], 'tree', [
        ('ROS', _is_ros),
        ('model/engine/ros/tools',
         _under('da3_ros.model', 'da3_ros.engine', 'da3_ros.ros', 'da3_ros.tools')),
    ]),
    # render: Gaussian rasterizers; may use model's Gaussians/SH, nothing above or beside.
    'render': (['da3_ros.render'], 'tree', [
        ('ROS', _is_ros),
        ('geometry/engine/ros/tools',
         _under('da3_ros.geometry', 'da3_ros.engine', 'da3_ros.ros', 'da3_ros.tools')),
    ]),
    'engine': (['da3_ros.engine'], 'tree', [
        ('ROS', _is_ros),
        ('ros/tools', _under('da3_ros.ros', 'da3_ros.tools')),
    ]),
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
