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

"""The output bag as ROS 2 Jazzy's rosbag2 (``ros2 bag info``/``play``, rosbag2_py) reads it.

rosbag2 is not installable here, so ``jazzy_problems`` restates what its metadata parser reads,
field by field, from the Jazzy sources (branch ``jazzy`` of github.com/ros2/rosbag2):

- ``rosbag2_storage/include/rosbag2_storage/yaml.hpp``: ``convert<BagMetadata>``,
  ``convert<TopicMetadata>``, ``convert<FileInformation>``: each field is read with yaml-cpp's
  ``as<T>()``, so a missing key, a null where a string is read or a scalar where a list is read
  throws, and ``MetadataIo::read_metadata`` (``rosbag2_storage/src/rosbag2_storage/
  metadata_io.cpp``) reports "Exception on parsing info file".
- ``rosbag2_storage/src/rosbag2_storage/qos.cpp``: from version 9 ``offered_qos_profiles`` is a
  YAML sequence of QoS maps (policies as the names of ``rmw/src/qos_string_conversions.c``); a
  string (versions 4-8) is rejected.
- ``rosbag2_storage_mcap/src/mcap_storage.cpp``: reads the schema name as the topic type, channel
  ``message_encoding`` as the serialization format, the Statistics record for counts and times,
  channel metadata ``offered_qos_profiles``/``topic_type_hash``, and the ``rosbag2`` metadata
  record's ``serialized_metadata`` (an unwrapped ``BagMetadata``).
- ``rosbag2_cpp/src/rosbag2_cpp/message_definitions/local_message_definition_source.cpp``: the
  schema text is the root definition, then per dependency a line of 80 ``=`` and ``MSG: pkg/Type``.
"""
from pathlib import Path
import re
from typing import Any, Dict, List

import pytest
import yaml

from da3_ros.tools.bag.io import make_typestore, msg_types
from da3_ros.tools.bag.process import log_time
from da3_ros.tools.bag.sample_recording import RecordingSpec, START_NS, write_recording
from da3_ros.tools.bag.writer import METADATA_FILE, SegmentedWriter

MSG_DIR = Path(__file__).resolve().parents[3] / 'msg' / 'msg'
SEPARATOR = '=' * 80
POLICIES = {  # rmw's policy names (Jazzy), as rosbag2 writes and reads them from version 9
    'history': {'system_default', 'keep_last', 'keep_all'},
    'reliability': {'system_default', 'reliable', 'best_effort', 'best_available'},
    'durability': {'system_default', 'transient_local', 'volatile', 'best_available'},
    'liveliness': {'system_default', 'automatic', 'manual_by_topic', 'best_available'},
}
TIMES = ('deadline', 'lifespan', 'liveliness_lease_duration')


def _uint(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _string(value: Any) -> bool:  # yaml-cpp reads any scalar as a string, never a null
    return isinstance(value, (str, int, float)) and not isinstance(value, bool)


def _qos_problems(profiles: Any, where: str) -> List[str]:
    if not isinstance(profiles, list):
        return [f'{where}: offered_qos_profiles must be a YAML list in version 9,'
                f' got {type(profiles).__name__} {profiles!r}']
    out = []
    for i, qos in enumerate(profiles):
        at = f'{where}.offered_qos_profiles[{i}]'
        if not isinstance(qos, dict):
            out.append(f'{at}: not a map')
            continue
        for policy, names in POLICIES.items():
            if qos.get(policy) not in names:
                out.append(f'{at}.{policy}: {qos.get(policy)!r} is not one of {sorted(names)}')
        if not isinstance(qos.get('depth'), int) or isinstance(qos.get('depth'), bool):
            out.append(f'{at}.depth: not an integer')
        for key in TIMES:
            value = qos.get(key)
            if not (isinstance(value, dict) and _uint(value.get('sec'))
                    and _uint(value.get('nsec'))):
                out.append(f'{at}.{key}: needs unsigned sec and nsec')
        if not isinstance(qos.get('avoid_ros_namespace_conventions'), bool):
            out.append(f'{at}.avoid_ros_namespace_conventions: not a bool')
    return out


def jazzy_problems(info: Any) -> List[str]:
    """What rosbag2 Jazzy's ``convert<BagMetadata>::decode`` would reject in ``info``."""
    if not isinstance(info, dict):
        return ['metadata is not a map']
    out = []

    def need(node: Dict[str, Any], key: str, check, what: str, where: str = '') -> Any:
        if key not in node:
            out.append(f'{where}{key}: missing')
        elif not check(node[key]):
            out.append(f'{where}{key}: {node[key]!r} is not {what}')
        return node.get(key)

    def time_map(key: str) -> Any:
        return lambda v: isinstance(v, dict) and _uint(v.get(key))

    version = need(info, 'version', lambda v: v == 9, 'version 9')
    need(info, 'storage_identifier', lambda v: v == 'mcap', "'mcap'")
    need(info, 'duration', time_map('nanoseconds'), '{nanoseconds: uint}')
    need(info, 'starting_time', time_map('nanoseconds_since_epoch'),
         '{nanoseconds_since_epoch: uint}')
    need(info, 'message_count', _uint, 'an unsigned integer')
    need(info, 'relative_file_paths', lambda v: isinstance(v, list) and all(map(_string, v)),
         'a list of strings')
    for key in ('compression_format', 'compression_mode', 'ros_distro'):
        need(info, key, _string, 'a string')
    need(info, 'custom_data', lambda v: v is None or (isinstance(v, dict) and all(
        _string(k) and _string(x) for k, x in v.items())), 'a string map')
    files = need(info, 'files', lambda v: isinstance(v, list), 'a list') or []
    for i, entry in enumerate(files if isinstance(files, list) else []):
        where = f'files[{i}].'
        if not isinstance(entry, dict):
            out.append(f'{where}: not a map')
            continue
        need(entry, 'path', _string, 'a string', where)
        need(entry, 'starting_time', time_map('nanoseconds_since_epoch'), 'a time', where)
        need(entry, 'duration', time_map('nanoseconds'), 'a duration', where)
        need(entry, 'message_count', _uint, 'an unsigned integer', where)
    topics = need(info, 'topics_with_message_count', lambda v: isinstance(v, list), 'a list')
    for i, topic in enumerate(topics if isinstance(topics, list) else []):
        where = f'topics_with_message_count[{i}].'
        if not isinstance(topic, dict):
            out.append(f'{where}: not a map')
            continue
        need(topic, 'message_count', _uint, 'an unsigned integer', where)
        meta = need(topic, 'topic_metadata', lambda v: isinstance(v, dict), 'a map', where)
        if not isinstance(meta, dict):
            continue
        where += 'topic_metadata.'
        for key in ('name', 'type', 'serialization_format', 'type_description_hash'):
            need(meta, key, _string, 'a string', where)
        if version == 9 and 'offered_qos_profiles' in meta:
            out += _qos_problems(meta['offered_qos_profiles'], where.rstrip('.'))
        elif 'offered_qos_profiles' not in meta:
            out.append(f'{where}offered_qos_profiles: missing')
    return out


def _load_info(folder: Path) -> Dict[str, Any]:
    return yaml.safe_load((folder / METADATA_FILE).read_text())['rosbag2_bagfile_information']


def _summaries(folder: Path, info: Dict[str, Any]) -> Dict[str, Any]:
    from mcap.reader import make_reader
    out = {}
    for name in info['relative_file_paths']:
        with open(folder / name, 'rb') as handle:
            reader = make_reader(handle)
            out[name] = (reader.get_header(), reader.get_summary(),
                         {m.name: m.metadata for m in reader.iter_metadata()})
    return out


@pytest.fixture(scope='module')
def store():
    return make_typestore()


def write_message(writer: SegmentedWriter, topic: str, msg: Any) -> None:
    """Serialise a rosbags message and write it at its log time, as ``process_bag`` does."""
    writer.write(topic, msg.__msgtype__, log_time(msg),
                 writer.store.serialize_cdr(msg, msg.__msgtype__))


@pytest.fixture(scope='module')
def output(store, tmp_path_factory) -> Path:
    """Two committed segments: /tf_static and /tf, then a RigStep and /tf."""
    from da3_ros.ros.messages.tf_msgs import tf_message, transform_stamped
    import numpy as np
    types, t = msg_types(store), store.types
    folder = tmp_path_factory.mktemp('writer') / 'out'
    writer = SegmentedWriter(folder, store)
    static = tf_message(types, [transform_stamped(types, np.eye(4), 'base_link', 'cam', START_NS)])
    write_message(writer, '/tf_static', static)
    for step in range(2):
        stamp = START_NS + step * 100_000_000
        write_message(writer, '/tf', tf_message(types, [
            transform_stamped(types, np.eye(4), 'odom', 'base_link', stamp)]))
        if step:
            header = t['std_msgs/msg/Header'](
                stamp=t['builtin_interfaces/msg/Time'](sec=stamp // 10 ** 9, nanosec=0),
                frame_id='odom')
            write_message(writer, '/da3_node/rig_step', t['da3_ros_msgs/msg/RigStep'](
                header=header, cameras=[], is_metric=False, scale_source='none', window_size=2,
                window_index=1, sequence=0, inference_ms=0.0, model_variant='small'))
        writer.commit({'step': step})
    return folder


def test_checker_rejects_what_jazzy_rejects():
    """The checker fails on the forms rosbag2 Jazzy's parser throws on (so the tests can fail)."""
    good = {'version': 9, 'storage_identifier': 'mcap', 'ros_distro': 'jazzy',
            'duration': {'nanoseconds': 0}, 'starting_time': {'nanoseconds_since_epoch': 0},
            'message_count': 0, 'relative_file_paths': [], 'files': [],
            'topics_with_message_count': [{'message_count': 0, 'topic_metadata': {
                'name': '/a', 'type': 'std_msgs/msg/Empty', 'serialization_format': 'cdr',
                'offered_qos_profiles': [], 'type_description_hash': ''}}],
            'compression_format': '', 'compression_mode': '', 'custom_data': None}
    assert jazzy_problems(good) == []
    meta = good['topics_with_message_count'][0]['topic_metadata']
    for key, bad in (('offered_qos_profiles', ''), ('offered_qos_profiles', '- history: 1'),
                     ('offered_qos_profiles', [{'history': 'keep_last'}]),
                     ('type_description_hash', None)):
        broken = {**good, 'topics_with_message_count': [
            {'message_count': 0, 'topic_metadata': {**meta, key: bad}}]}
        assert jazzy_problems(broken), (key, bad)
    for key in ('ros_distro', 'files', 'custom_data', 'compression_mode', 'relative_file_paths'):
        assert jazzy_problems({k: v for k, v in good.items() if k != key}), key
    assert jazzy_problems({**good, 'ros_distro': None})
    assert jazzy_problems({**good, 'starting_time': {'nanoseconds': 0}})


def test_metadata_yaml_parses_as_jazzy(output):
    info = _load_info(output)
    assert jazzy_problems(info) == []
    assert info['relative_file_paths'] == ['out_0.mcap', 'out_1.mcap']
    assert [f['path'] for f in info['files']] == info['relative_file_paths']
    assert all((output / name).is_file() for name in info['relative_file_paths'])
    counts = {t['topic_metadata']['name']: t['message_count']
              for t in info['topics_with_message_count']}
    assert counts == {'/tf_static': 1, '/tf': 2, '/da3_node/rig_step': 1}
    assert info['message_count'] == sum(counts.values()) == sum(
        f['message_count'] for f in info['files'])
    assert info['starting_time']['nanoseconds_since_epoch'] == START_NS
    assert info['duration']['nanoseconds'] == 100_000_000
    text = (output / METADATA_FILE).read_text()
    assert '&id' not in text and '*id' not in text  # no YAML anchors/aliases


def test_tf_static_is_offered_latched(output, store):
    """Empty QoS plays as reliable + volatile, which a transient-local subscriber refuses."""
    topics = {t['topic_metadata']['name']: t['topic_metadata']
              for t in _load_info(output)['topics_with_message_count']}
    (static,) = topics['/tf_static']['offered_qos_profiles']
    assert static['durability'] == 'transient_local' and static['reliability'] == 'reliable'
    assert topics['/tf']['offered_qos_profiles'] == []
    assert topics['/tf']['type_description_hash'] == store.hash_rihs01('tf2_msgs/msg/TFMessage')
    assert re.fullmatch(r'RIHS01_[0-9a-f]{64}', topics['/da3_node/rig_step'][
        'type_description_hash'])


def test_mcap_segments_as_rosbag2_storage_mcap_reads_them(output):
    info = _load_info(output)
    topics = {t['topic_metadata']['name']: t for t in info['topics_with_message_count']}
    seen = {}
    for name, (header, summary, records) in _summaries(output, info).items():
        assert header.profile == 'ros2'
        assert summary.statistics is not None  # read_metadata() takes counts and times from it
        names = [s.name for s in summary.schemas.values()]
        assert len(names) == len(set(names)), f'{name}: one schema per type'
        for channel in summary.channels.values():
            schema = summary.schemas[channel.schema_id]
            meta = topics[channel.topic]['topic_metadata']
            assert (schema.name, schema.encoding) == (meta['type'], 'ros2msg')
            assert channel.message_encoding == meta['serialization_format'] == 'cdr'
            assert yaml.safe_load(channel.metadata['offered_qos_profiles']) == meta[
                'offered_qos_profiles']
            assert channel.metadata['topic_type_hash'] == meta['type_description_hash']
            seen[channel.topic] = seen.get(channel.topic, 0) + \
                summary.statistics.channel_message_counts[channel.id]
        inner = yaml.safe_load(records['rosbag2']['serialized_metadata'])
        assert jazzy_problems(inner) == []
        assert inner['relative_file_paths'] == [name]
        assert inner['message_count'] == summary.statistics.message_count
    assert seen == {topic: t['message_count'] for topic, t in topics.items()}


def _sections(text: str) -> Dict[str, List[str]]:
    """``{type: field lines}`` of a rosbag2 ``ros2msg`` schema (root under '')."""
    out, current = {'': []}, ''
    for line in text.splitlines():
        if line == SEPARATOR:
            continue
        if line.startswith('MSG: '):
            current = line[5:]
            out[current] = []
        elif line.strip() and not line.lstrip().startswith('#'):
            out[current].append(line)
    return out


def _fields(lines: List[str]) -> List[tuple]:
    """(base type name, field name) per line, comments and package prefixes dropped."""
    out = []
    for line in lines:
        ftype, fname = line.split('#')[0].split()[:2]
        out.append((ftype.split('/')[-1], fname))
    return out


def test_schema_text_is_the_full_definition(output):
    info = _load_info(output)
    _, summary, _ = _summaries(output, info)['out_1.mcap']
    schemas = {s.name: s.data.decode() for s in summary.schemas.values()}
    text = schemas['da3_ros_msgs/msg/RigStep']
    assert SEPARATOR + '\nMSG: da3_ros_msgs/CameraDepth\n' in text
    sections = _sections(text)
    assert {'std_msgs/Header', 'builtin_interfaces/Time', 'da3_ros_msgs/CameraDepth',
            'sensor_msgs/Image', 'sensor_msgs/CameraInfo', 'geometry_msgs/Pose'} <= set(sections)
    for name, key in (('RigStep', ''), ('CameraDepth', 'da3_ros_msgs/CameraDepth')):
        msg_lines = [line for line in (MSG_DIR / f'{name}.msg').read_text().splitlines()
                     if line.strip() and not line.lstrip().startswith('#')]
        assert _fields(sections[key]) == _fields(msg_lines), name
    tf_sections = _sections(schemas['tf2_msgs/msg/TFMessage'])
    assert _fields(tf_sections['']) == [('TransformStamped[]', 'transforms')]
    assert 'geometry_msgs/TransformStamped' in tf_sections


def test_rosbags_reads_it_back(output):
    from rosbags.highlevel import AnyReader
    with AnyReader([output]) as reader:
        topics = {c.topic: c.msgcount for c in reader.connections}
        static = next(c for c in reader.connections if c.topic == '/tf_static')
        assert static.ext.offered_qos_profiles[0].durability.name == 'TRANSIENT_LOCAL'
        decoded = [reader.deserialize(raw, c.msgtype) for c, _, raw in reader.messages()]
    assert topics == {'/tf_static': 1, '/tf': 2, '/da3_node/rig_step': 1}
    assert len(decoded) == 4


def test_nothing_committed_still_parses(store, tmp_path):
    writer = SegmentedWriter(tmp_path / 'empty', store)
    writer.commit(None)
    assert jazzy_problems(_load_info(tmp_path / 'empty')) == []


def test_sample_recording_metadata_parses_as_jazzy(tmp_path):
    """The rosbags-written input recording passes the same checks (rosbags writes version 9)."""
    path = write_recording(tmp_path / 'rec', RecordingSpec(steps=1, cameras=('front',)))
    info = _load_info(path)
    assert jazzy_problems(info) == []
    for _, summary, records in _summaries(path, info).values():
        assert summary.statistics is not None
        assert {s.encoding for s in summary.schemas.values()} == {'ros2msg'}
        assert jazzy_problems(yaml.safe_load(records['rosbag2']['serialized_metadata'])) == []
    topics = {t['topic_metadata']['name']: t['topic_metadata']
              for t in info['topics_with_message_count']}
    (static,) = topics['/tf_static']['offered_qos_profiles']  # played back latched
    assert static['durability'] == 'transient_local' and static['reliability'] == 'reliable'
    assert topics['/tf']['offered_qos_profiles'] == []
