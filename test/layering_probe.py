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

"""Child process of test_layering.py: import a layer module by module, report what each added.

Usage: ``python layering_probe.py '<json list of roots>' tree|top``. ``tree`` imports each root
and every submodule (pkgutil.walk_packages); ``top`` imports each root and its direct non-package
modules only. Prints one line
``@@LAYERING@@{"added": {module: [new modules]}, "errors": {module: traceback}}``.
"""

import importlib
import json
import pkgutil
import sys
import traceback

MARKER = '@@LAYERING@@'


class Probe:
    """Imports modules one at a time and records which modules each import added."""

    def __init__(self) -> None:
        self.before = set(sys.modules)
        self.added = {}
        self.errors = {}

    def load(self, name: str):
        """Import ``name``; any failure is recorded, never raised."""
        module = None
        try:
            module = importlib.import_module(name)
        except Exception:  # noqa: B902  (a broken module is reported, the walk goes on)
            self.errors[name] = traceback.format_exc(limit=3)
        now = set(sys.modules)
        self.added[name] = sorted(now - self.before)
        self.before = now
        return module

    def on_error(self, name: str) -> None:
        self.errors.setdefault(name, traceback.format_exc(limit=3))

    def walk(self, root: str, mode: str) -> None:
        """Import ``root`` and, by ``mode``, its submodules."""
        package = self.load(root)
        if package is None or not hasattr(package, '__path__'):
            return
        if mode == 'top':
            for info in pkgutil.iter_modules(package.__path__, root + '.'):
                if not info.ispkg:
                    self.load(info.name)
            return
        # walk_packages yields a module before importing it to descend, so load() sees it first.
        for info in pkgutil.walk_packages(package.__path__, root + '.', onerror=self.on_error):
            if info.name not in self.added:
                self.load(info.name)


def main() -> None:
    roots, mode = json.loads(sys.argv[1]), sys.argv[2]
    probe = Probe()
    for root in roots:
        probe.walk(root, mode)
    print(MARKER + json.dumps({'added': probe.added, 'errors': probe.errors}))


if __name__ == '__main__':
    main()
