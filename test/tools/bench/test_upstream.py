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

"""Loading upstream for the benchmark: optional upstream imports are inert, and only those.

The side-by-side runs that use it are tested in test_side_by_side.py.
"""
import importlib
import sys

import pytest

from da3_ros.tools.bench import upstream as bench_upstream


def test_inert_imports_only_for_listed_missing_modules(monkeypatch):
    monkeypatch.setattr(bench_upstream, 'OPTIONAL_UPSTREAM_IMPORTS',
                        frozenset({'da3_missing_optional_lib'}))
    with bench_upstream.inert_optional_imports():
        module = importlib.import_module('da3_missing_optional_lib.sub.deeper')
        thing = module.Anything(1, key=2)
        assert thing.method().attr[0] is not None
        with pytest.raises(ImportError):
            importlib.import_module('da3_another_missing_lib')
        assert importlib.import_module('json') is sys.modules['json']  # real ones win
    for name in [n for n in sys.modules if n.startswith('da3_missing_optional_lib')]:
        del sys.modules[name]
    with pytest.raises(ImportError):
        importlib.import_module('da3_missing_optional_lib')
