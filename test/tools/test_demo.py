"""`make demo` end to end on a tiny recording, and its clear stop when no checkpoint exists."""
import os
import subprocess
import sys

import numpy as np
from PIL import Image

from da3_ros.tools import demo, visualize
from da3_ros.tools.bag_io import read_decoded


def test_demo_writes_everything_a_person_opens(tmp_path):
    numbers = demo.run_demo('random', tmp_path, steps=3, process_res=56, size_hw=(60, 100))
    assert numbers['sets processed'] == 3
    sheets = sorted((tmp_path / 'sheets').glob('step_*.png'))
    assert sheets
    width, height = Image.open(sheets[0]).size
    assert width == 3 * 100 and height == 6 * (60 + 12)  # six cameras x (image|depth|conf)
    points = visualize.read_ply_points(str(tmp_path / 'fused_cloud.ply'))
    assert len(points) == numbers['fused cloud points (last step)'] > 0
    assert np.isfinite(points).all()
    page = (tmp_path / 'index.html').read_text()
    assert 'MEANINGLESS' in page and 'sheets/step_000.png' in page and 'abs_rel' in page
    topics = {topic.rsplit('/', 2)[-2] + '/' + topic.rsplit('/', 1)[-1]
              for topic, _, _ in read_decoded(tmp_path / 'output_bag')}
    assert {'front/depth', 'front/confidence'} <= topics


def test_demo_stops_clearly_without_a_checkpoint(tmp_path):
    env = dict(os.environ, HF_HUB_OFFLINE='1', HF_HUB_CACHE=str(tmp_path / 'empty-cache'))
    result = subprocess.run([sys.executable, '-m', 'da3_ros.tools.demo', '--out',
                             str(tmp_path / 'out')], env=env, capture_output=True, text=True,
                            check=False, timeout=120)
    assert result.returncode == 2
    assert 'no DA3 checkpoint available' in result.stderr and 'WEIGHTS=random' in result.stderr
    assert not (tmp_path / 'out').exists()


def test_demo_runs_the_variant_the_checkpoint_names(tmp_path):
    (tmp_path / 'model.safetensors').write_bytes(b'')  # resolve() only needs the file to exist
    assert demo.check_weights(str(tmp_path / 'model.safetensors')) == 'da3-small'  # no config
    (tmp_path / 'config.json').write_text('{"model_name": "da3-base"}')
    assert demo.check_weights(str(tmp_path)) == 'da3-base'
    assert demo.check_weights('random') == 'da3-small'


def test_demo_shows_a_novel_view_beside_the_real_cameras(tmp_path):
    from da3_ros.tools import demo_novel
    assert demo_novel.render_offset_for('da3-giant', 'ckpt') == demo_novel.NOVEL_OFFSET
    assert demo_novel.render_offset_for('da3-small', 'ckpt') is None
    demo.run_demo('random', tmp_path, steps=2, process_res=56, size_hw=(60, 100))
    sheets = sorted((tmp_path / 'sheets').glob('novel_*.png'))
    assert sheets
    width, height = Image.open(sheets[0]).size
    assert width == 2 * 100 and height == 6 * (60 + 12)  # six cameras x (image | novel view)
    pixels = np.asarray(Image.open(sheets[0]))
    assert pixels[:, 100:].max() > 0  # the rendered column is not empty
    assert 'sheets/novel_000.png' in (tmp_path / 'index.html').read_text()
