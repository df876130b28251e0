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

"""Crash-safe output bag: a rosbag2 folder of mcap segments, committed one segment at a time.

An mcap file is only readable once its summary and footer are written, and ``rosbags``' writer
keeps everything in memory until ``close()`` (a SIGKILL leaves an empty file). So the output is a
split rosbag2 folder (as ``ros2 bag record --max-bag-size`` makes): ``<name>_<i>.mcap`` files,
each finished when it is committed, and a ``metadata.yaml`` that lists only finished segments and
is replaced atomically after each commit. Whatever happens, the folder reads back with
``rosbags.highlevel.AnyReader`` and ``ros2 bag play`` and holds every committed segment; a segment
left unfinished by a kill is not listed and is deleted on ``--resume``.

Next to the segments, ``resume.json`` and ``resume-<n>.npz`` (``state``: JSON plus arrays,
never pickle) hold the caller's state at the last commit (what was processed, the engine's
window); they are written before ``metadata.yaml`` names the new segment. The folder carries
``output``'s marker from its creation on, so ``--resume``/``--overwrite`` recognise it.

What ROS 2 Jazzy's rosbag2 requires of the folder (``rosbag2_storage/include/rosbag2_storage/
yaml.hpp``, ``rosbag2_storage/src/rosbag2_storage/qos.cpp``, ``rosbag2_storage_mcap/src/
mcap_storage.cpp``): metadata version 9 with every field its parser reads (a missing one, or a
wrong YAML kind, fails ``ros2 bag info``/``play`` with "Exception on parsing info file");
``offered_qos_profiles`` a YAML *list* of QoS maps with policy names (``keep_last``, ``reliable``,
``transient_local`` ...), not the string of versions 4-8; each mcap segment with profile ``ros2``,
one ``ros2msg`` schema per type (the full definition, dependencies after ``MSG: pkg/Type``
headers), ``cdr`` channels, a Statistics record, and (as rosbag2 writes them) channel metadata
``offered_qos_profiles``/``topic_type_hash`` and a ``rosbag2`` metadata record. An empty QoS list
makes ``ros2 bag play`` offer its default (reliable, volatile), so ``/tf_static`` is written
transient-local: a latched subscriber (tf2, da3_node) does not connect to a volatile publisher.
"""
import os
from pathlib import Path
from typing import Any, Dict, List, Optional

from da3_ros.tools.bag import output as bag_output, state as bag_state
from da3_ros.tools.bag.io import BagError

METADATA_FILE = 'metadata.yaml'
METADATA_VERSION = 9
ROS_DISTRO = 'jazzy'
# Topics offered transient-local (latched) on playback, as tf2's static broadcaster offers them.
LATCHED_TOPICS = ('/tf_static',)
_INFINITE = (9223372036, 854775807)  # RMW_DURATION_INFINITE as (sec, nsec)


def offered_qos(topic: str) -> List[Dict[str, Any]]:
    """Metadata-version-9 ``offered_qos_profiles`` of ``topic`` (empty: rosbag2's default)."""
    if topic not in LATCHED_TOPICS:
        return []

    def infinite() -> Dict[str, int]:
        return {'sec': _INFINITE[0], 'nsec': _INFINITE[1]}

    return [{'history': 'keep_last', 'depth': 1, 'reliability': 'reliable',
             'durability': 'transient_local', 'deadline': infinite(), 'lifespan': infinite(),
             'liveliness': 'automatic', 'liveliness_lease_duration': infinite(),
             'avoid_ros_namespace_conventions': False}]


def _dump_yaml(data: Any) -> str:
    """Block YAML without anchors or aliases (yaml-cpp reads those, but people do not)."""
    import yaml

    class _Dumper(yaml.SafeDumper):
        def ignore_aliases(self, data: Any) -> bool:
            return True

    return yaml.dump(data, Dumper=_Dumper, sort_keys=False, default_flow_style=False)


class SegmentedWriter:
    """Writes CDR messages into committed mcap segments of a rosbag2 folder.

    Args:
        folder: output bag folder; created (it must be empty or absent), or reopened with
            ``resume``.
        store: rosbags typestore (message definitions for the mcap schemas).
        resume: keep committed segments and return their state from :meth:`load_state`.
        name: base name of the segment files (default the folder's name; an ``--overwrite``
            writes beside OUT under another name and is renamed to OUT at the end).

    Raises:
        BagError: the folder exists and is not empty without ``resume``; ``resume`` finds no
            da3_bag output or no usable committed state (``state.StateError``).
    """

    def __init__(self, folder: Path, store: Any, *, resume: bool = False,
                 name: Optional[str] = None) -> None:
        self.folder = Path(folder)
        self.name = name or self.folder.name
        self.store = store
        self.segments: List[Dict[str, Any]] = []
        self.topic_types: Dict[str, str] = {}
        self.topic_counts: Dict[str, int] = {}
        self._state: Optional[Any] = None
        self._open: Optional[Dict[str, Any]] = None
        self._hashes: Dict[str, str] = {}
        if resume:
            self._reopen()
        else:
            self._create()

    def _create(self) -> None:
        if not bag_output.is_empty(self.folder):
            reason = bag_output.foreign_entry(self.folder)
            if reason is None:
                raise BagError(f'output {str(self.folder)!r} exists (an earlier da3_bag output);'
                               ' use --resume to continue it or --overwrite to replace it')
            raise BagError(f'output {str(self.folder)!r} exists and is not a da3_bag output'
                           f' ({reason}); choose another output folder')
        bag_output.write_marker(self.folder)

    def _reopen(self) -> None:
        reason = bag_output.marker_problem(self.folder)
        if reason is not None:
            raise BagError(f'--resume: {str(self.folder)!r} is not a da3_bag output ({reason})')
        saved = bag_state.load(self.folder)
        try:
            writer = saved['writer']
            self.segments, self._state = list(writer['segments']), saved['state']
            self.topic_types = dict(writer['topic_types'])
            self.topic_counts = dict(writer['topic_counts'])
            keep = {str(seg['path']) for seg in self.segments}
        except (KeyError, TypeError) as err:
            raise bag_state.StateError(f'--resume: {str(self.folder)!r}: the resume state lacks'
                                       f' {err}; start a new output') from err
        for stale in self.folder.iterdir():  # a segment or temp file left by a kill
            if bag_output.OWN_FILES.match(stale.name) and (
                    stale.name.endswith('.tmp') or stale.suffix == '.mcap'
                    and stale.name not in keep):
                stale.unlink()

    def load_state(self) -> Optional[Any]:
        """State passed to the last :meth:`commit` (None for a new output)."""
        return self._state

    def write(self, topic: str, msgtype: str, time_ns: int, data: bytes) -> None:
        """Append one serialised message to the open segment (opened on demand)."""
        seg = self._open or self._start_segment()
        channel = seg['channels'].get(topic)
        if channel is None:
            channel = self._register(seg, topic, msgtype)
        seg['writer'].add_message(channel, log_time=int(time_ns), data=bytes(data),
                                  publish_time=int(time_ns))
        seg['count'] += 1
        seg['counts'][topic] = seg['counts'].get(topic, 0) + 1
        seg['start'] = min(seg['start'], int(time_ns))
        seg['end'] = max(seg['end'], int(time_ns))

    def commit(self, state: Any) -> None:
        """Finish the open segment, save ``state``, list the segment in ``metadata.yaml``."""
        seg, self._open = self._open, None
        if seg is not None:
            # rosbag2 stores the bag metadata in each of its mcap files as well.
            types = {topic: self.topic_types[topic] for topic in seg['counts']}
            seg['writer'].add_metadata('rosbag2', {'serialized_metadata': _dump_yaml(
                self._info([seg], types, seg['counts']))})
            seg['writer'].finish()
            seg['file'].flush()
            os.fsync(seg['file'].fileno())
            seg['file'].close()
            self.segments.append({k: seg[k] for k in ('path', 'count', 'start', 'end')})
            for topic, count in seg['counts'].items():
                self.topic_counts[topic] = self.topic_counts.get(topic, 0) + count
        self._state = state
        writer = {'segments': self.segments, 'topic_types': self.topic_types,
                  'topic_counts': self.topic_counts}
        bag_state.save(self.folder, {'writer': writer, 'state': state})
        bag_state.atomic_write(self.folder / METADATA_FILE, self._metadata().encode())

    def abandon(self) -> None:
        """Close the open segment without listing it (after a failure inside a set).

        ``--resume`` deletes it and continues from the last commit.
        """
        seg, self._open = self._open, None
        if seg is not None:
            try:
                seg['file'].close()
            except OSError:  # the error that brought us here, again (disk full)
                pass

    def _start_segment(self) -> Dict[str, Any]:
        from mcap.writer import CompressionType, Writer
        name = f'{self.name}_{len(self.segments)}.mcap'
        handle = open(self.folder / name, 'wb')
        writer = Writer(handle, compression=CompressionType.ZSTD)
        writer.start(profile='ros2', library='da3_ros bag tool')
        self._open = {'path': name, 'file': handle, 'writer': writer, 'channels': {},
                      'schemas': {}, 'count': 0, 'counts': {}, 'start': 2 ** 63 - 1, 'end': 0}
        return self._open

    def _register(self, seg: Dict[str, Any], topic: str, msgtype: str) -> int:
        known = self.topic_types.setdefault(topic, msgtype)
        if known != msgtype:
            raise BagError(f'topic {topic!r} written as {msgtype} and as {known}')
        schema = seg['schemas'].get(msgtype)
        if schema is None:  # one schema per type, as rosbag2 writes
            msgdef = self.store.generate_msgdef(msgtype, ros_version=2)[0]
            schema = seg['writer'].register_schema(name=msgtype, encoding='ros2msg',
                                                   data=msgdef.encode())
            seg['schemas'][msgtype] = schema
        metadata = {'offered_qos_profiles': _dump_yaml(offered_qos(topic)),
                    'topic_type_hash': self._type_hash(msgtype)}
        channel = seg['writer'].register_channel(topic=topic, message_encoding='cdr',
                                                 schema_id=schema, metadata=metadata)
        seg['channels'][topic] = channel
        return channel

    def _type_hash(self, msgtype: str) -> str:
        """RIHS01 hash of ``msgtype`` (rosbag2 Jazzy's ``type_description_hash``)."""
        if msgtype not in self._hashes:
            self._hashes[msgtype] = self.store.hash_rihs01(msgtype)
        return self._hashes[msgtype]

    def _metadata(self) -> str:
        info = self._info(self.segments, self.topic_types, self.topic_counts)
        return _dump_yaml({'rosbag2_bagfile_information': info})

    def _info(self, segments: List[Dict[str, Any]], topic_types: Dict[str, str],
              topic_counts: Dict[str, int]) -> Dict[str, Any]:
        """rosbag2 ``BagMetadata`` (version 9) of ``segments``: all fields Jazzy's parser reads."""
        start = min((s['start'] for s in segments if s['count']), default=0)
        end = max((s['end'] for s in segments if s['count']), default=0)
        return {
            'version': METADATA_VERSION, 'storage_identifier': 'mcap', 'ros_distro': ROS_DISTRO,
            'duration': {'nanoseconds': max(end - start, 0)},
            'starting_time': {'nanoseconds_since_epoch': start},
            'message_count': sum(s['count'] for s in segments),
            'relative_file_paths': [s['path'] for s in segments],
            'files': [{'path': s['path'], 'message_count': s['count'],
                       'starting_time': {'nanoseconds_since_epoch': min(s['start'], end)},
                       'duration': {'nanoseconds': max(s['end'] - s['start'], 0)}}
                      for s in segments],
            'topics_with_message_count': [
                {'message_count': topic_counts.get(topic, 0),
                 'topic_metadata': {'name': topic, 'type': msgtype,
                                    'serialization_format': 'cdr',
                                    'offered_qos_profiles': offered_qos(topic),
                                    'type_description_hash': self._type_hash(msgtype)}}
                for topic, msgtype in topic_types.items()],
            'compression_format': '', 'compression_mode': '', 'custom_data': {},
        }
