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

"""`make demo` end to end on a tiny recording: the page and its pictures, in a real browser too.

The browser check opens ``index.html`` in headless Chromium (Debian package ``chromium``;
``scripts/run_tests.sh`` installs it when missing and run as root) and reads every ``<img>``'s
``naturalWidth`` after the load event: a broken link gives 0.
"""
import json
import os
from pathlib import Path
import re
import shutil
import signal
import subprocess
import sys
import time

import numpy as np
from PIL import Image
import pytest
from tools.demo.ply import read_ply_points  # test/ is on sys.path

from da3_ros.tools.bag.io import read_decoded
from da3_ros.tools.demo import cli as demo
from da3_ros.tools.demo import run as demo_run

CHROMIUM = shutil.which('chromium') or '/usr/bin/chromium'
CHROMIUM_FLAGS = ('--headless', '--no-sandbox', '--disable-gpu', '--disable-quic',
                  '--no-first-run', '--disable-background-networking',
                  '--disable-component-update', '--disable-sync')
SIZE_HW = (60, 100)


@pytest.fixture(scope='module')
def demo_out(tmp_path_factory):
    out = tmp_path_factory.mktemp('demo') / 'out'
    assert demo.main(['--weights', 'random', '--out', str(out), '--steps', '3',
                      '--process-res', '56']) == 0
    return out


def test_demo_writes_everything_a_person_opens(demo_out):
    sheets = sorted((demo_out / 'sheets').glob('step_*.png'))
    assert len(sheets) == 3
    width, height = Image.open(sheets[0]).size  # default size_hw of main: 126 x 224 tiles
    assert width == 5 * 224 and height > 6 * 126  # image|depth|conf|truth|error, six cameras
    for name in ('trajectory.png', 'cloud_top.png'):
        assert Image.open(demo_out / name).size[0] > 300
    points = read_ply_points(str(demo_out / 'fused_cloud.ply'))
    fused = [msg for topic, _, msg in read_decoded(demo_out / 'output_bag')
             if topic == '/da3_node/points']
    assert len(points) == fused[-1].width * fused[-1].height > 0  # the last fused cloud
    assert fused[-1].header.frame_id == 'base_link' and np.isfinite(points).all()
    page = (demo_out / 'index.html').read_text()
    assert 'MEANINGLESS' in page and 'AbsRel' in page and 'ATE' in page
    assert f'{len(points)} points' in page and 'plotly.min.js' in page
    evaluation = json.loads((demo_out / 'eval.json').read_text())
    assert evaluation['depth'] and evaluation['trajectory']['poses'] == 3


def _browser_report(page: Path, tmp_path: Path) -> dict:
    """Return the naturalWidth of every <img> of ``page`` after load (read via --dump-dom)."""
    probe = page.with_name('_browser_probe.html')  # beside the page: same relative links
    script = ('<script>addEventListener("load",()=>{document.body.setAttribute("data-imgs",'
              'JSON.stringify([...document.images].map(i=>[i.getAttribute("src"),'
              'i.naturalWidth])));document.body.setAttribute("data-plotly",'
              'typeof Plotly);});</script>')
    probe.write_text(page.read_text().replace('</body>', script + '</body>'))
    try:
        dom = subprocess.run([CHROMIUM, *CHROMIUM_FLAGS, f'--user-data-dir={tmp_path / "p1"}',
                              '--dump-dom', probe.as_uri()], capture_output=True, text=True,
                             timeout=180, check=True).stdout
    finally:
        probe.unlink()
    imgs = json.loads(re.search(r'data-imgs="([^"]*)"', dom).group(1).replace('&quot;', '"'))
    return {'images': imgs, 'plotly': re.search(r'data-plotly="(\w+)"', dom).group(1)}


def test_every_image_loads_in_a_browser(demo_out, tmp_path):
    if not os.path.exists(CHROMIUM):
        if os.environ.get('CI'):
            pytest.fail(f'{CHROMIUM} missing: scripts/run_tests.sh installs it as root')
        pytest.skip('chromium is not installed (apt-get install chromium)')
    report = _browser_report(demo_out / 'index.html', tmp_path)
    names = [name for name, _ in report['images']]
    novel = sorted(p.name for p in (demo_out / 'sheets').glob('novel_*.png'))
    # three step sheets, the novel-view sheets of the placeholder run, trajectory, top view
    assert len(names) == 3 + len(novel) + 2, names
    assert all(f'sheets/{n}' in names for n in novel)
    assert all(width > 0 for _, width in report['images']), report['images']
    assert report['plotly'] == 'object'  # the 3D viewer's library loaded from the folder
    shot = tmp_path / 'page.png'
    subprocess.run([CHROMIUM, *CHROMIUM_FLAGS, f'--user-data-dir={tmp_path / "p2"}',
                    '--window-size=1280,2400', '--hide-scrollbars', f'--screenshot={shot}',
                    (demo_out / 'index.html').as_uri()], capture_output=True, timeout=180,
                   check=True)
    pixels = np.asarray(Image.open(shot).convert('RGB'))
    assert pixels.shape[:2] == (2400, 1280) and pixels.std() > 10  # not a blank page


def test_rerun_replaces_only_what_the_demo_wrote(tmp_path):
    out = tmp_path / 'out'
    demo.prepare_output(out)
    (out / 'sheets').mkdir()
    (out / 'index.html').write_text('old page')
    (out / 'notes.txt').write_text('mine')
    demo.prepare_output(out)
    assert not (out / 'sheets').exists() and not (out / 'index.html').exists()
    assert (out / 'notes.txt').read_text() == 'mine' and (out / demo.MARKER).is_file()
    foreign = tmp_path / 'foreign'
    foreign.mkdir()
    (foreign / 'thesis.tex').write_text('x')
    with pytest.raises(demo.OutputFolderError, match='no demo run made'):
        demo.prepare_output(foreign)
    assert [p.name for p in foreign.iterdir()] == ['thesis.tex']


def test_ctrl_c_reports_interrupted_and_fails(tmp_path):
    proc = subprocess.Popen([sys.executable, '-m', 'da3_ros.tools.demo', '--weights', 'parity',
                             '--out', str(tmp_path / 'out'), '--steps', '6', '--process-res',
                             '28'], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    first = proc.stdout.readline()
    assert first.startswith('[1/5]')  # progress before the heavy imports
    for line in proc.stdout:
        if line.startswith('[3/5]'):
            break
    time.sleep(1.0)  # inside the bag run (any moment after [1/5] must give the same result)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == demo.EXIT_INTERRUPTED and 'interrupted' in err
    assert not (tmp_path / 'out' / 'index.html').exists()


def test_demo_stops_clearly_without_a_checkpoint(tmp_path):
    env = dict(os.environ, HF_HUB_OFFLINE='1', HF_HUB_CACHE=str(tmp_path / 'empty-cache'))
    result = subprocess.run([sys.executable, '-m', 'da3_ros.tools.demo', '--out',
                             str(tmp_path / 'out')], env=env, capture_output=True, text=True,
                            check=False, timeout=120)
    assert result.returncode == 2
    assert 'no DA3 checkpoint available' in result.stderr and 'WEIGHTS=random' in result.stderr
    assert 'hf download' in result.stderr
    assert not (tmp_path / 'out').exists()


def test_demo_runs_the_variant_the_checkpoint_names(tmp_path):
    (tmp_path / 'model.safetensors').write_bytes(b'')  # resolve() only needs the file to exist
    assert demo_run.check_weights(str(tmp_path / 'model.safetensors')) == 'da3-small'
    (tmp_path / 'config.json').write_text('{"model_name": "da3-base"}')
    assert demo_run.check_weights(str(tmp_path)) == 'da3-base'
    assert demo_run.check_weights('random') == demo_run.check_weights('parity') == 'da3-small'
