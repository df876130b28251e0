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

"""Tests mirror the source tree: ``da3_ros/<pkg>/<mod>.py`` -> ``test/<pkg>/test_<mod>.py``.

Every module has a test file of its own name, so the tests of a module are found where it is.
``__init__.py`` and ``__main__.py`` are left out (they re-export or call ``main``). Modules
covered only by integration tests of several modules are listed in ``INTEGRATION_ONLY`` with
the reason; an entry whose mirrored file now exists is stale and fails too, so the list only
shrinks.
"""
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PACKAGE = REPO / 'da3_ros'
NOT_MODULES = {'__init__.py', '__main__.py'}

INTEGRATION_ONLY = {
    # OnnxSource and GraphPredictor are driven through the onnxruntime backend (export, cache
    # keys, refusals) in test/engine/backends/test_ort_predictor.py and by test_trt_predictor.py.
    'engine/backends/graph.py': 'integration: test/engine/backends/test_ort_predictor.py',
    # Dataclasses only (RigFrame, CameraFrame, ModelInput, RigResult ...): no behaviour of their
    # own; every engine test builds and reads them.
    'engine/types.py': 'data only: exercised by every test under test/engine',
    # The run state of one bag: it needs an open bag, the segmented writer and an engine, so it
    # is driven through process_bag in test/tools/bag/test_process.py (outputs, resume),
    # test_process_bad.py (skips and errors per set) and test_state.py (its resume state).
    'tools/bag/pipeline.py': 'integration: test/tools/bag/test_process{,_bad}.py, test_state.py',
}


def mirrored_test(module: Path) -> Path:
    """``da3_ros/a/b.py`` -> ``test/a/test_b.py`` (``da3_ros/b.py`` -> ``test/test_b.py``)."""
    rel = module.relative_to(PACKAGE)
    return REPO / 'test' / rel.parent / f'test_{rel.name}'


def modules() -> list:
    """Paths of the modules under da3_ros/, relative to it, as strings with '/'."""
    return sorted(p.relative_to(PACKAGE).as_posix() for p in PACKAGE.rglob('*.py')
                  if p.name not in NOT_MODULES)


def test_mirrored_path():
    assert mirrored_test(PACKAGE / 'model' / 'sh.py') == REPO / 'test' / 'model' / 'test_sh.py'
    assert mirrored_test(PACKAGE / 'errors.py') == REPO / 'test' / 'test_errors.py'


def test_the_walk_sees_the_package():
    found = modules()
    assert 'errors.py' in found and 'model/layers/rope.py' in found
    assert not any(Path(m).name in NOT_MODULES for m in found)


def test_every_module_has_its_mirrored_test_file():
    missing = [m for m in modules()
               if m not in INTEGRATION_ONLY and not mirrored_test(PACKAGE / m).is_file()]
    wanted = [f'da3_ros/{m} -> {mirrored_test(PACKAGE / m).relative_to(REPO)}' for m in missing]
    assert not missing, ('modules without their mirrored test file (add it, or list the module in'
                         ' INTEGRATION_ONLY with the file that covers it): ' + ', '.join(wanted))


def test_the_integration_only_list_is_current():
    known = set(modules())
    gone = sorted(m for m in INTEGRATION_ONLY if m not in known)
    assert not gone, f'INTEGRATION_ONLY names modules that no longer exist: {gone}'
    stale = sorted(m for m in INTEGRATION_ONLY if mirrored_test(PACKAGE / m).is_file())
    assert not stale, f'INTEGRATION_ONLY names modules that now have their test file: {stale}'
