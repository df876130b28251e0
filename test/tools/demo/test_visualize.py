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

"""Demo pictures say what they should: colour maps and bars, watermark, sheets, PLY."""
import numpy as np
from PIL import Image
from tools.demo.ply import read_ply_points  # test/ is on sys.path

from da3_ros.tools.demo import visualize


def test_colorize_orders_values_and_blanks_invalid():
    depth = np.array([[1.0, 2.0, 4.0, np.nan, -1.0]])
    rgb = visualize.colorize(depth, lo=1.0, hi=4.0, log=True)
    assert rgb.shape == (1, 5, 3) and rgb.dtype == np.uint8
    assert (rgb[0, 3] == 0).all() and (rgb[0, 4] == 0).all()
    assert not np.array_equal(rgb[0, 0], rgb[0, 2])
    assert (visualize.colorize(np.full((2, 2), np.nan)) == 0).all()


def test_contact_sheet_layout_and_png(tmp_path):
    tile = np.full((10, 20, 3), 200, dtype=np.uint8)
    sheet = visualize.contact_sheet([[tile, tile, tile], [tile, None, tile]], labels=['a', 'b'],
                                    columns=['image', 'depth', 'conf'])
    assert sheet.shape == (18 + 2 * (10 + 16), 60, 3)
    assert (sheet[18 + 26 + 16 + 5, 25] == 200).all()  # the missing tile stays grey
    path = visualize.write_png(str(tmp_path / 's.png'), sheet)
    assert Image.open(path).size == (60, 70)


def test_ply_round_trip_drops_non_finite(tmp_path):
    points = np.array([[0.0, 1.0, 2.0], [np.nan, 0, 0], [3.0, -4.0, 5.5]], dtype=np.float32)
    colors = np.array([[255, 0, 0], [0, 0, 0], [0, 0, 255]], dtype=np.uint8)
    path = str(tmp_path / 'c.ply')
    assert visualize.write_ply(path, points, colors) == 2
    np.testing.assert_array_equal(read_ply_points(path), points[[0, 2]])
    header = open(path, 'rb').read(200)
    assert b'element vertex 2' in header and b'property uchar red' in header


def test_shared_scale_colours_equal_values_alike_and_bar_spans_it():
    scale = visualize.fit_scale([np.array([1.0, 10.0]), np.array([100.0, np.nan])], 'depth',
                                'm', log=True, percentiles=(0, 100))
    assert (scale.lo, scale.hi) == (1.0, 100.0) and scale.title() == 'depth [m], log scale'
    a = scale.apply(np.array([[10.0]]))
    b = scale.apply(np.array([[10.0, 1.0, 100.0]]))
    assert (a[0, 0] == b[0, 0]).all() and not (b[0, 1] == b[0, 2]).all()
    bar = visualize.colour_bar(scale, width=200)
    assert bar.shape[1] == 240 and bar.shape[0] > 16
    assert visualize.tick_text(1.95312, 0.02) == '1.953' and visualize.tick_text(40.0, 80) == '40'


def test_watermark_marks_the_image_and_adds_a_banner():
    rgb = np.full((200, 300, 3), 255, dtype=np.uint8)
    marked = visualize.watermark(rgb, 'PLACEHOLDER')
    assert marked.shape == (200 + visualize.BANNER_H, 300, 3)
    assert (marked[:visualize.BANNER_H, :, 0] >= 200).all()
    body = marked[visualize.BANNER_H:]
    assert (body != 255).any(axis=2).mean() > 0.02  # the text runs across the picture
