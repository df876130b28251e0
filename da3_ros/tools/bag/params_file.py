"""A params file (``--params-file`` YAML) as a read-only stand-in for a node's parameters.

ROS merges every block whose key matches the node (``/**``, ``/**/da3_node``, ``da3_node``,
``/<ns>/da3_node``) and flattens nested dictionaries into dotted names; this does the same for
the node name ``da3_node`` in any namespace. ``declare_parameter`` records defaults as rclpy
does, so ``da3_ros.ros.params`` reads the file exactly as it reads a live node.
"""
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Dict

from da3_ros.errors import ConfigError

NODE_NAME = 'da3_node'


def flatten(tree: Dict[str, Any], prefix: str = '') -> Dict[str, Any]:
    """``{'a': {'b': 1}}`` -> ``{'a.b': 1}`` (ROS parameter-name flattening)."""
    out: Dict[str, Any] = {}
    for key, value in tree.items():
        name = f'{prefix}{key}'
        if isinstance(value, dict):
            out.update(flatten(value, name + '.'))
        else:
            out[name] = value
    return out


def _matches(key: str) -> bool:
    key = key.strip()
    return key in ('/**', NODE_NAME) or key.split('/')[-1] == NODE_NAME


class FileParameters:
    """Parameters of ``da3_node`` from YAML: ``declare_parameter`` + ``get_parameter``.

    Args:
        values: flattened ``ros__parameters``.
    """

    def __init__(self, values: Dict[str, Any]) -> None:
        self.values = dict(values)
        self.defaults: Dict[str, Any] = {}

    @classmethod
    def from_yaml(cls, path: Path) -> 'FileParameters':
        """Merge the file's blocks that apply to ``da3_node`` (later blocks win).

        Raises:
            ConfigError: unreadable YAML or no matching ``ros__parameters`` block.
        """
        import yaml
        try:
            tree = yaml.safe_load(Path(path).read_text())
        except (OSError, yaml.YAMLError) as err:
            raise ConfigError(f'params file {str(path)!r}: {err}') from err
        values: Dict[str, Any] = {}
        for key, block in (tree or {}).items():
            if _matches(str(key)) and isinstance(block, dict) and 'ros__parameters' in block:
                values.update(flatten(block['ros__parameters'] or {}))
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
