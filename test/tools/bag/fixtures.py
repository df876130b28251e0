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

"""Shared pieces of the bag tool tests: a small recording, its config, message comparison."""
from pathlib import Path
from typing import Any, Dict, List, Tuple

import numpy as np

from da3_ros.config import WindowConfig
from da3_ros.tools.bag.config import BagConfig, cpu_model, sample_config
from da3_ros.tools.bag.io import read_decoded
from da3_ros.tools.bag.sample_recording import RecordingSpec, write_recording

# Small enough for a 2-core CI machine: 3 cameras x 6 steps, da3-small fp32 at 42 px.
SPEC = RecordingSpec(steps=6, cameras=('front', 'front_left', 'back'))
TIMING_TOPICS = ('/diagnostics',)


def small_config(spec: RecordingSpec = SPEC) -> BagConfig:
    """Config of the small recording (window of 2 timesteps)."""
    return sample_config(spec, model=cpu_model(42), window=WindowConfig(length=2))


def make_recording(folder: Path, spec: RecordingSpec = SPEC) -> Path:
    """Render ``spec`` into ``folder``."""
    return write_recording(folder, spec)


def messages(path: Path) -> List[Tuple[str, int, Any]]:
    """All (topic, log time, message) of a bag, read back with rosbags."""
    return list(read_decoded(path))


def comparable(records: List[Tuple[str, int, Any]], *, drop_timings: bool = True
               ) -> Dict[str, List[Tuple[int, Any]]]:
    """Messages per topic in log-time order; wall-clock timing fields removed."""
    out: Dict[str, List[Tuple[int, Any]]] = {}
    for topic, time_ns, msg in records:
        if drop_timings and topic in TIMING_TOPICS:
            continue
        if drop_timings and msg.__msgtype__ == 'da3_ros_msgs/msg/RigStep':
            msg = type(msg)(**{**msg.__dict__, 'inference_ms': 0.0})
        out.setdefault(topic, []).append((time_ns, msg))
    for topic in out:
        out[topic].sort(key=lambda item: item[0])
    return out


def msg_equal(a: Any, b: Any) -> bool:
    """Deep equality of rosbags messages (NaN equals NaN in arrays)."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        a, b = np.asarray(a), np.asarray(b)
        return a.shape == b.shape and a.dtype == b.dtype and bool(
            np.array_equal(a, b, equal_nan=a.dtype.kind == 'f'))
    if isinstance(a, (list, tuple)):
        return (isinstance(b, (list, tuple)) and len(a) == len(b)
                and all(msg_equal(x, y) for x, y in zip(a, b)))
    if hasattr(a, '__dataclass_fields__'):
        return getattr(a, '__msgtype__', type(a)) == getattr(b, '__msgtype__', type(b)) and all(
            msg_equal(getattr(a, name), getattr(b, name)) for name in a.__dataclass_fields__)
    if isinstance(a, float) and isinstance(b, float) and np.isnan(a) and np.isnan(b):
        return True
    return a == b


def same_topics(a: Dict[str, list], b: Dict[str, list]) -> List[str]:
    """Topics whose messages differ (empty when equal)."""
    bad = sorted(set(a) ^ set(b))
    for topic in set(a) & set(b):
        if len(a[topic]) != len(b[topic]) or not all(
                ta == tb and msg_equal(ma, mb) for (ta, ma), (tb, mb) in zip(a[topic], b[topic])):
            bad.append(topic)
    return bad
