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

"""The demo's novel view: only for the Gaussian variant, drawn beside the real cameras."""
import numpy as np
from PIL import Image

from da3_ros.tools.demo import novel as demo_novel
from da3_ros.tools.demo import run as demo_run


def test_demo_shows_a_novel_view_beside_the_real_cameras(tmp_path):
    assert demo_novel.render_offset_for('da3-giant', 'ckpt') == demo_novel.NOVEL_OFFSET
    assert demo_novel.render_offset_for('da3-small', 'ckpt') is None
    page = demo_run.run_demo('parity', tmp_path, steps=2, process_res=56, size_hw=(60, 100),
                             say=lambda line: None)
    sheets = sorted((tmp_path / 'sheets').glob('novel_*.png'))
    assert sheets
    width, height = Image.open(sheets[0]).size
    assert width == 2 * 100  # image | novel view
    assert height > 6 * 60 and height % 6 == 0  # six labelled camera rows
    pixels = np.asarray(Image.open(sheets[0]))
    assert pixels[:, 100:].max() > 0  # the rendered column is not empty
    assert 'sheets/novel_000.png' in page.sheets
