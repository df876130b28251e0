"""Demo outputs open and say what they should: colour maps, sheets, PLY, HTML."""
import numpy as np
from PIL import Image

from da3_ros.tools import visualize


def test_colorize_orders_values_and_blanks_invalid():
    depth = np.array([[1.0, 2.0, 4.0, np.nan, -1.0]])
    rgb = visualize.colorize(depth, lo=1.0, hi=4.0, log=True)
    assert rgb.shape == (1, 5, 3) and rgb.dtype == np.uint8
    assert (rgb[0, 3] == 0).all() and (rgb[0, 4] == 0).all()
    assert not np.array_equal(rgb[0, 0], rgb[0, 2])
    assert (visualize.colorize(np.full((2, 2), np.nan)) == 0).all()


def test_contact_sheet_layout_and_png(tmp_path):
    tile = np.full((10, 20, 3), 200, dtype=np.uint8)
    sheet = visualize.contact_sheet([[tile, tile, tile], [tile, tile, tile]], labels=['a', 'b'])
    assert sheet.shape == (2 * (10 + 12), 60, 3)
    path = visualize.write_png(str(tmp_path / 's.png'), sheet)
    assert Image.open(path).size == (60, 44)


def test_ply_round_trip_drops_non_finite(tmp_path):
    points = np.array([[0.0, 1.0, 2.0], [np.nan, 0, 0], [3.0, -4.0, 5.5]], dtype=np.float32)
    colors = np.array([[255, 0, 0], [0, 0, 0], [0, 0, 255]], dtype=np.uint8)
    path = str(tmp_path / 'c.ply')
    assert visualize.write_ply(path, points, colors) == 2
    np.testing.assert_array_equal(visualize.read_ply_points(path), points[[0, 2]])
    header = open(path, 'rb').read(200)
    assert b'element vertex 2' in header and b'property uchar red' in header


def test_html_page_escapes_and_links(tmp_path):
    path = visualize.write_html(str(tmp_path / 'i.html'), 'Demo <1>', 'random weights!',
                                [str(tmp_path / 'a.png')], {'AbsRel': 0.5},
                                {'bag': 'out/output.mcap'})
    text = open(path, encoding='utf-8').read()
    assert 'Demo &lt;1&gt;' in text and 'random weights!' in text
    assert 'src="a.png"' in text and 'href="out/output.mcap"' in text and 'AbsRel' in text
