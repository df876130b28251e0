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

"""A params file (``--params-file`` YAML) as a read-only stand-in for a node's parameters.

Which blocks apply follows rcl, the parser a node uses (the rules of ROS 2's command-line
arguments design): a block key is a node name, optionally with namespaces, either in the key
(``/robot1/da3_node``) or as enclosing keys (``robot1: {da3_node: ...}``); a relative key is in
the root namespace; ``*`` matches one name token, ``**`` zero or more, partial wildcards
(``da3_*``) are an error; every matching block applies in file order, later ones winning. Nested
dictionaries are flattened into dotted names. ``declare_parameter`` records defaults as rclpy
does, so ``da3_ros.ros.params`` reads the file exactly as it reads a live node.

Why not rclpy's ``parameter_dict_from_yaml_file``: it selects blocks by exact key (``/**``
aside), without the namespace and wildcard matching above, and returns ``Parameter`` messages;
and the bag tool reads params files without importing rclpy. test/tools/test_params_file.py
checks this module against what rcl gives a real ``da3_node``.
"""
from pathlib import Path
import re
from types import SimpleNamespace
from typing import Any, Dict, Iterator, Optional, Sequence, Tuple

from da3_ros.errors import ConfigError

NODE_NAME = 'da3_node'
_TOKEN = re.compile(r'[A-Za-z0-9_]+|\*\*?')


def flatten(tree: Dict[str, Any], prefix: str = '') -> Dict[str, Any]:
    """Flatten ``{'a': {'b': 1}}`` to ``{'a.b': 1}`` (ROS parameter names)."""
    out: Dict[str, Any] = {}
    for key, value in tree.items():
        name = f'{prefix}{key}'
        if isinstance(value, dict):
            out.update(flatten(value, name + '.'))
        else:
            out[name] = value
    return out


def parameter_blocks(tree: Dict[Any, Any],
                     prefix: Tuple[str, ...] = ()) -> Iterator[Tuple[Tuple[str, ...], Dict]]:
    """``(name tokens of the node pattern, ros__parameters)`` of every block, in file order.

    Raises:
        ConfigError: a key that is not a ROS name (or a whole-token wildcard), or a node entry
            that is not a mapping.
    """
    for key, block in tree.items():
        tokens = prefix + tuple(t for t in str(key).strip().split('/') if t)
        bad = [t for t in tokens if not _TOKEN.fullmatch(t)]
        if bad or not isinstance(block, dict):
            raise ConfigError(f'params file key {key!r}: not a node name or namespace (tokens'
                              f' are letters, digits, _ or a whole * / **), or not a mapping')
        if 'ros__parameters' in block:
            yield tokens, block['ros__parameters'] or {}
        else:
            yield from parameter_blocks(block, tokens)


def matches(pattern: Sequence[str], name: Sequence[str]) -> bool:
    """Whether node-name tokens ``name`` match ``pattern`` (``*`` one token, ``**`` any)."""
    if not pattern:
        return not name
    head, rest = pattern[0], pattern[1:]
    if head == '**':
        return any(matches(rest, name[i:]) for i in range(len(name) + 1))
    return bool(name) and head in ('*', name[0]) and matches(rest, name[1:])


def _applies(pattern: Sequence[str], namespace: Optional[str]) -> bool:
    if namespace is None:  # some namespace fits whenever the last token can be the node name
        return bool(pattern) and pattern[-1] in ('*', '**', NODE_NAME)
    return matches(pattern, [t for t in namespace.split('/') if t] + [NODE_NAME])


class FileParameters:
    """Parameters of ``da3_node`` from YAML: ``declare_parameter`` + ``get_parameter``.

    Args:
        values: flattened ``ros__parameters``.
    """

    def __init__(self, values: Dict[str, Any]) -> None:
        self.values = dict(values)
        self.defaults: Dict[str, Any] = {}

    @classmethod
    def from_yaml(cls, path: Path, namespace: Optional[str] = None) -> 'FileParameters':
        """Merge the file's blocks that apply to ``da3_node`` (later blocks win).

        Args:
            path: the params file.
            namespace: the node's namespace (``/robot1``); None (the bag tool, which has no
                namespace) takes the blocks of ``da3_node`` in any namespace.

        Raises:
            ConfigError: unreadable YAML, a malformed key or no matching ``ros__parameters``.
        """
        import yaml
        try:
            tree = yaml.safe_load(Path(path).read_text())
        except (OSError, yaml.YAMLError) as err:
            raise ConfigError(f'params file {str(path)!r}: {err}') from err
        if not isinstance(tree or {}, dict):
            raise ConfigError(f'params file {str(path)!r}: not a mapping of node names')
        values: Dict[str, Any] = {}
        for pattern, params in parameter_blocks(tree or {}):
            if _applies(pattern, namespace):
                values.update(flatten(params))
        if not values:
            raise ConfigError(f'params file {str(path)!r}: no ros__parameters block for'
                              f' {NODE_NAME!r}')
        return cls(values)

    def declare_parameter(self, name: str, value: Any = None, descriptor: Any = None) -> None:
        """Record a default (a ``Parameter.Type`` means no default, as in rclpy)."""
        is_type = type(value).__name__ == 'Type'
        self.defaults[name] = None if is_type else value

    def get_parameter(self, name: str) -> SimpleNamespace:
        """``.value`` of ``name``: the file's value, else the declared default.

        Raises:
            ParameterUninitializedException: declared without default and absent from the file.
        """
        if name in self.values:
            return SimpleNamespace(value=self._typed(name, self.values[name]))
        if self.defaults.get(name) is None:
            from rclpy.exceptions import ParameterUninitializedException
            raise ParameterUninitializedException(name)
        return SimpleNamespace(value=self.defaults[name])

    def _typed(self, name: str, value: Any) -> Any:
        default = self.defaults.get(name)
        if isinstance(default, float) and isinstance(value, int) and not isinstance(value, bool):
            raise ConfigError(f'{name}: {value!r} is an integer; write {float(value)} (ROS'
                              ' parameters do not convert int to double)')
        return value
