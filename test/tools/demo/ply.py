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

"""Reading back the PLY files of ``da3_ros.tools.demo.visualize.write_ply`` (tests only)."""
import numpy as np


def read_ply_points(path: str) -> np.ndarray:
    """Return the xyz [N, 3] of a binary little-endian PLY written by ``write_ply``."""
    with open(path, 'rb') as handle:
        data = handle.read()
    end = data.index(b'end_header\n') + len(b'end_header\n')
    header = data[:end].decode('ascii').splitlines()
    count = int(next(line.split()[-1] for line in header if line.startswith('element vertex')))
    names = [line.split()[-1] for line in header if line.startswith('property')]
    kinds = [line.split()[1] for line in header if line.startswith('property')]
    dtype = [(n, '<f4' if k == 'float' else 'u1') for n, k in zip(names, kinds)]
    vertices = np.frombuffer(data[end:], dtype=dtype, count=count)
    return np.stack([vertices['x'], vertices['y'], vertices['z']], axis=1)
