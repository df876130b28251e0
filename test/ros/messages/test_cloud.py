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

"""PointCloud2 layout checked byte by byte (the sensor_msgs_py (width, height) trap)."""
import struct
from types import SimpleNamespace

import numpy as np
import pytest

from da3_ros.errors import ConversionError
from da3_ros.ros.messages.cloud import (cloud_to_arrays, organized_cloud, pack_rgb,
                                        unorganized_cloud, unpack_rgb)

H, W = 3, 5  # deliberately not square, so a (width, height) mix-up cannot pass


def _grid():
    rows, cols = np.mgrid[0:H, 0:W].astype(np.float32)
    return np.dstack([cols, rows, rows * 10 + cols + 0.5])


def test_organized_layout_byte_by_byte(types, wire_round_trip):
    points = _grid()
    rgb = np.dstack([np.full((H, W), 200), np.arange(W)[None].repeat(H, 0),
                     np.arange(H)[:, None].repeat(W, 1)]).astype(np.uint8)
    conf = np.arange(H * W, dtype=np.float32).reshape(H, W)
    msg = wire_round_trip(organized_cloud(types, points, 5, 'cam_optical', rgb=rgb,
                                          confidence=conf))
    assert (msg.height, msg.width, msg.point_step, msg.row_step) == (H, W, 20, 20 * W)
    assert [(f.name, f.offset, f.datatype, f.count) for f in msg.fields] == [
        ('x', 0, 7, 1), ('y', 4, 7, 1), ('z', 8, 7, 1), ('rgb', 12, 7, 1),
        ('confidence', 16, 7, 1)]
    assert not msg.is_bigendian and not msg.is_dense
    data = bytes(msg.data)
    assert len(data) == H * W * 20
    for row in range(H):
        for col in range(W):
            x, y, z, rgb_bits, c = struct.unpack_from('<fffIf', data, row * 100 + col * 20)
            assert (x, y, z, c) == (col, row, row * 10 + col + 0.5, row * W + col)
            assert rgb_bits == (200 << 16) | (col << 8) | row


def test_organized_invalid_points_are_nan(types):
    points = _grid()
    points[0, 1, 2] = np.inf
    valid = np.ones((H, W), bool)
    valid[2, 4] = False
    arrays = cloud_to_arrays(organized_cloud(types, points, 0, 'cam', valid=valid))
    assert set(arrays) == {'x', 'y', 'z'} and arrays['x'].shape == (H, W)
    nan = np.isnan(arrays['z'])
    assert nan.sum() == 2 and nan[0, 1] and nan[2, 4] and np.isnan(arrays['x'][2, 4])
    np.testing.assert_array_equal(arrays['y'][~nan], points[..., 1][~nan])


def test_unorganized_drops_invalid_and_is_dense(types, wire_round_trip):
    points = _grid().reshape(-1, 3)
    points[3, 0] = np.nan
    conf = np.linspace(0, 1, H * W)
    msg = wire_round_trip(unorganized_cloud(types, points, 0, 'base', confidence=conf))
    assert (msg.height, msg.width, msg.point_step, msg.is_dense) == (1, H * W - 1, 16, True)
    arrays = cloud_to_arrays(msg)
    keep = np.arange(H * W) != 3
    np.testing.assert_array_equal(arrays['x'][0], points[keep, 0])
    np.testing.assert_allclose(arrays['confidence'][0], conf[keep], rtol=1e-6)


def test_rgb_packing_matches_ros_convention():
    packed = pack_rgb(np.array([255, 128, 1], np.uint8))
    assert np.asarray(packed).view(np.uint32) == 0x00FF8001
    colours = np.random.default_rng(0).integers(0, 256, (4, 3)).astype(np.uint8)
    np.testing.assert_array_equal(unpack_rgb(pack_rgb(colours)), colours)


def test_reader_honours_padding_and_big_endian():
    field = SimpleNamespace(name='v', offset=4, datatype=4, count=1)  # uint16 at offset 4
    rows = [b''.join(b'\xee' * 4 + struct.pack('>H', 100 * r + c) + b'\xee' * 2
                     for c in range(2)) + b'\xff' * 3 for r in range(2)]
    msg = SimpleNamespace(height=2, width=2, point_step=8, row_step=19, is_bigendian=True,
                          fields=[field], data=b''.join(rows))
    np.testing.assert_array_equal(cloud_to_arrays(msg)['v'], [[0, 1], [100, 101]])


def test_shape_errors(types):
    with pytest.raises(ConversionError, match=r'\[H, W, 3\]'):
        organized_cloud(types, np.zeros((4, 3)), 0, 'cam')
    with pytest.raises(ConversionError, match='confidence has shape'):
        organized_cloud(types, _grid(), 0, 'cam', confidence=np.zeros((W, H)))
    with pytest.raises(ConversionError, match=r'\[N, 3\]'):
        unorganized_cloud(types, _grid(), 0, 'cam')


def test_empty_clouds_read_back(types, wire_round_trip):
    """A frame with no valid point still gives a readable cloud (sensor_msgs_py reads it too)."""
    msg = wire_round_trip(unorganized_cloud(types, np.full((4, 3), np.nan), 0, 'base',
                                            rgb=np.zeros((4, 3), np.uint8),
                                            confidence=np.ones(4)))
    assert (msg.height, msg.width, msg.point_step, msg.row_step, len(bytes(msg.data))) == (
        1, 0, 20, 0, 0)
    arrays = cloud_to_arrays(msg)
    assert list(arrays) == ['x', 'y', 'z', 'rgb', 'confidence']
    assert all(a.shape == (1, 0) and a.dtype == np.float32 for a in arrays.values())
    empty_rows = cloud_to_arrays(organized_cloud(types, np.zeros((0, W, 3)), 0, 'cam'))
    assert empty_rows['z'].shape == (0, W)
    # create_cloud_xyz32(header, []) of sensor_msgs_py: height 1, width 0, no data
    xyz = [SimpleNamespace(name=n, offset=4 * i, datatype=7, count=1) for i, n in enumerate('xyz')]
    msg = SimpleNamespace(height=1, width=0, point_step=12, row_step=0, is_bigendian=False,
                          fields=xyz, data=b'')
    assert cloud_to_arrays(msg)['y'].shape == (1, 0)


@pytest.mark.parametrize('datatype, fmt', [(6, 'I'), (5, 'i')])
def test_unpack_rgb_reads_integer_rgb_fields(datatype, fmt):
    """UINT32 / INT32 ``rgb`` (RViz takes them too); PCL writes bytes b, g, r, a (alpha 255)."""
    field = SimpleNamespace(name='rgb', offset=4, datatype=datatype, count=1)
    words = [0xFFFF8001, 0x00010203]
    words = [w - (1 << 32) if fmt == 'i' and w >= 1 << 31 else w for w in words]
    msg = SimpleNamespace(height=1, width=2, point_step=8, row_step=16, is_bigendian=False,
                          fields=[field], data=b''.join(struct.pack('<f' + fmt, 0.0, w)
                                                        for w in words))
    packed = cloud_to_arrays(msg)['rgb']
    assert packed.dtype.kind in 'iu'
    np.testing.assert_array_equal(unpack_rgb(packed), [[[255, 128, 1], [1, 2, 3]]])
    assert unpack_rgb(np.float32(pack_rgb(np.array([9, 8, 7], np.uint8)))).tolist() == [9, 8, 7]
