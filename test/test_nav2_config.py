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

"""config/nav2_obstacle_layer.yaml against the parameters Nav2 Jazzy declares.

The tables below list the names and types that Nav2 Jazzy's nav2_costmap_2d declares, read from
ros-navigation/navigation2 (branch jazzy): src/costmap_2d_ros.cpp (costmap node),
plugins/obstacle_layer.cpp (layer and per-observation-source parameters), plugins/voxel_layer.cpp
and plugins/inflation_layer.cpp. A parameter declared with a double default must be a float in the
YAML: rclcpp refuses an integer for it (InvalidParameterTypeException) and the costmap fails to
configure. Names Nav2 does not declare are ignored by it, so a misspelt key would silently fall
back to Nav2's default.
"""

import copy
from pathlib import Path
from typing import Any, Dict, List

import pytest
import yaml

# Types: float (a double parameter), int, bool, str, list (of strings).
COSTMAP = {  # costmap_2d_ros.cpp, Costmap2DROS constructor
    'always_send_full_costmap': bool, 'footprint': str, 'footprint_padding': float,
    'global_frame': str, 'height': int, 'width': int, 'initial_transform_timeout': float,
    'lethal_cost_threshold': int, 'map_topic': str, 'map_vis_z': float, 'origin_x': float,
    'origin_y': float, 'plugins': list, 'filters': list, 'publish_frequency': float,
    'resolution': float, 'robot_base_frame': str, 'robot_radius': float, 'rolling_window': bool,
    'track_unknown_space': bool, 'transform_tolerance': float, 'trinary_costmap': bool,
    'unknown_cost_value': int, 'update_frequency': float, 'use_maximum': bool,
    'use_sim_time': bool,
}
OBSTACLE_LAYER = {  # obstacle_layer.cpp, ObstacleLayer::onInitialize
    'plugin': str, 'enabled': bool, 'footprint_clearing_enabled': bool,
    'min_obstacle_height': float, 'max_obstacle_height': float, 'combination_method': int,
    'observation_sources': str,
}
VOXEL_LAYER = dict(OBSTACLE_LAYER, **{  # voxel_layer.cpp, VoxelLayer::onInitialize
    'z_voxels': int, 'origin_z': float, 'z_resolution': float, 'unknown_threshold': int,
    'mark_threshold': int, 'publish_voxel_map': bool,
})
INFLATION_LAYER = {  # inflation_layer.cpp, InflationLayer::onInitialize
    'plugin': str, 'enabled': bool, 'inflation_radius': float, 'cost_scaling_factor': float,
    'inflate_unknown': bool, 'inflate_around_unknown': bool,
}
SOURCE = {  # obstacle_layer.cpp, per name in observation_sources
    'topic': str, 'sensor_frame': str, 'observation_persistence': float,
    'expected_update_rate': float, 'data_type': str, 'min_obstacle_height': float,
    'max_obstacle_height': float, 'inf_is_valid': bool, 'marking': bool, 'clearing': bool,
    'obstacle_max_range': float, 'obstacle_min_range': float, 'raytrace_max_range': float,
    'raytrace_min_range': float,
}
LAYERS = {'nav2_costmap_2d::ObstacleLayer': OBSTACLE_LAYER,
          'nav2_costmap_2d::VoxelLayer': VOXEL_LAYER,
          'nav2_costmap_2d::InflationLayer': INFLATION_LAYER}
VOXEL_BITS = 16  # voxel_layer.cpp: at most 16 voxels per column
DATA_TYPES = ('PointCloud2', 'LaserScan')  # obstacle_layer.cpp throws for anything else


def _type_ok(value: Any, kind: type) -> bool:
    if kind is float:
        return isinstance(value, float)
    if kind is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if kind is list:
        return isinstance(value, list) and all(isinstance(v, str) for v in value)
    return isinstance(value, kind)


def _check(where: str, block: Dict, table: Dict[str, type], skip=()) -> List[str]:
    problems = []
    for key, value in block.items():
        if key in skip:
            continue
        if key not in table:
            problems.append(f'{where}.{key}: not a parameter Nav2 declares')
        elif not _type_ok(value, table[key]):
            problems.append(f'{where}.{key}: {value!r} is not a {table[key].__name__}')
    return problems


def nav2_problems(doc: Dict) -> List[str]:
    """Every name, type and nesting problem of a nav2 params document (empty when none)."""
    try:
        params = doc['local_costmap']['local_costmap']['ros__parameters']
    except (KeyError, TypeError):
        return ['expected local_costmap: local_costmap: ros__parameters:']
    plugins = params.get('plugins', [])
    problems = _check('costmap', params, COSTMAP, skip=plugins)
    for name in plugins if isinstance(plugins, list) else []:
        layer = params.get(name)
        if not isinstance(layer, dict):
            problems.append(f'{name}: listed in plugins but has no block')
            continue
        table = LAYERS.get(layer.get('plugin'))
        if table is None:
            problems.append(f'{name}.plugin: {layer.get("plugin")!r} is not a Jazzy layer here')
            continue
        sources = layer.get('observation_sources', '')
        names = sources.split() if isinstance(sources, str) else []
        problems += _check(name, layer, table, skip=names)
        for source in names:
            block = layer.get(source)
            if not isinstance(block, dict):
                problems.append(f'{name}.{source}: named in observation_sources but has no block')
                continue
            problems += _check(f'{name}.{source}', block, SOURCE)
            if block.get('data_type', 'LaserScan') not in DATA_TYPES:
                problems.append(f'{name}.{source}.data_type: not one of {DATA_TYPES}')
        if table is VOXEL_LAYER and layer.get('z_voxels', 10) > VOXEL_BITS:
            problems.append(f'{name}.z_voxels: more than {VOXEL_BITS}')
    return problems


@pytest.fixture(scope='module')
def nav2_doc(repo_root: Path) -> Dict:
    return yaml.safe_load((repo_root / 'config' / 'nav2_obstacle_layer.yaml').read_text())


@pytest.fixture(scope='module')
def da3_params(repo_root: Path) -> Dict:
    doc = yaml.safe_load((repo_root / 'config' / 'multi_cam.yaml').read_text())
    return doc['/**/da3_node']['ros__parameters']


def _costmap(doc: Dict) -> Dict:
    return doc['local_costmap']['local_costmap']['ros__parameters']


def _voxel_source(doc: Dict):
    layer = _costmap(doc)['voxel_layer']
    return layer, layer[layer['observation_sources'].split()[0]]


def test_names_types_and_nesting_are_nav2s(nav2_doc) -> None:
    assert nav2_problems(nav2_doc) == []


@pytest.mark.parametrize('mutate', [
    lambda d: _voxel_source(d)[1].update(expected_update_rate=0),  # int for a double
    lambda d: _voxel_source(d)[1].update(obstacle_max_range=25),
    lambda d: _costmap(d).update(transform_tolerance=1),
    lambda d: _voxel_source(d)[0].update(z_resolution=1),
    lambda d: _voxel_source(d)[0].update(observation_sources=['da3_points']),  # not a string
    lambda d: _voxel_source(d)[1].update(obstacle_range=2.5),  # ROS 1 name
    lambda d: _voxel_source(d)[1].update(data_type='PointCloud'),
    lambda d: _voxel_source(d)[0].update(plugin='costmap_2d::VoxelLayer'),
    lambda d: _voxel_source(d)[0].update(observation_sources='da3_points other'),
    lambda d: _voxel_source(d)[0].update(z_voxels=20),
    lambda d: d.update(local_costmap=_costmap(d)),  # one level of nesting missing
], ids=['int-rate', 'int-range', 'int-tolerance', 'int-z-resolution', 'sources-list',
        'ros1-name', 'data-type', 'plugin', 'missing-source', 'z-voxels', 'nesting'])
def test_the_check_catches(nav2_doc, mutate) -> None:
    doc = copy.deepcopy(nav2_doc)
    mutate(doc)
    assert nav2_problems(doc)


def test_source_is_the_fused_cloud(nav2_doc, da3_params) -> None:
    costmap = _costmap(nav2_doc)
    _, source = _voxel_source(nav2_doc)
    assert source['topic'] == '/da3_node/points'
    assert source['data_type'] == 'PointCloud2'
    assert source['sensor_frame'] == da3_params['base_frame'] == costmap['robot_base_frame']
    assert da3_params['output']['fused_cloud'] is True


def test_heights_and_ranges_are_usable(nav2_doc, da3_params) -> None:
    layer, source = _voxel_source(nav2_doc)
    # obstacle_layer.cpp: a source's max_obstacle_height defaults to 0.0 (nothing marks)
    assert 0.0 <= source['min_obstacle_height'] < source['max_obstacle_height']
    # voxel_layer.cpp marks only inside origin_z .. origin_z + z_voxels * z_resolution
    top = layer['origin_z'] + layer['z_voxels'] * layer['z_resolution']
    assert top >= min(source['max_obstacle_height'], layer['max_obstacle_height'])
    assert source['marking'] and source['clearing']  # clearing defaults to false in Nav2
    assert source['obstacle_min_range'] < source['obstacle_max_range']
    assert source['raytrace_min_range'] < source['raytrace_max_range']
    assert source['obstacle_max_range'] <= source['raytrace_max_range']
    assert source['obstacle_max_range'] < da3_params['output']['max_depth']
    # obstacle_layer.cpp: inf_is_valid applies to LaserScan only (a warning for PointCloud2)
    assert not source.get('inf_is_valid', False)
