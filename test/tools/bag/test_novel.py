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

"""da3_bag --render-offset / --export-gs: what-if camera topics and 3DGS PLY files."""
from pathlib import Path

import numpy as np
import pytest
from tools.bag import fixtures as bf  # test/ is on sys.path
import torch

from da3_ros.engine.types import CameraResult, RigResult
from da3_ros.errors import ConfigError
from da3_ros.geometry import pose as pose_lib
from da3_ros.model.gaussians import Gaussians
from da3_ros.render.splats import depth_splats
from da3_ros.ros.messages.image import image_to_array, image_to_depth
from da3_ros.ros.messages.msgtypes import rclpy_types
from da3_ros.ros.messages.rig_input import RigInput
from da3_ros.tools.bag.cli import main
from da3_ros.tools.bag.novel import NovelViews, parse_offset, ply_bytes
from da3_ros.tools.bag.process import process_bag

NODE = '/da3_node'


def read_ply(data: bytes):
    """(property names, [N, P] float32 table) of a binary little-endian PLY of floats."""
    head, body = data.split(b'end_header\n', 1)
    lines = head.decode('ascii').splitlines()
    assert lines[:2] == ['ply', 'format binary_little_endian 1.0']
    count = int(lines[2].split()[-1])
    names = [line.split()[-1] for line in lines if line.startswith('property float ')]
    return names, np.frombuffer(body, dtype='<f4').reshape(count, len(names))


def test_offsets_parse_constant_and_path_files(tmp_path):
    const = parse_offset('1,-2,0.5,0.1')
    np.testing.assert_allclose(const.at(123.0), [1, -2, 0.5, 0.1])
    np.testing.assert_allclose(const.matrix(0.0)[:3, 3], [1, -2, 0.5])
    path = tmp_path / 'lane_change.txt'
    path.write_text('# t x y z yaw\n10 0 0 0 0\n12, 0, 3, 0, 0\n')
    lane = parse_offset(str(path))
    np.testing.assert_allclose(lane.at(11.0), [0, 1.5, 0, 0])
    np.testing.assert_allclose(lane.at(99.0), [0, 3, 0, 0])
    for bad in ('1,2,3', 'a,b,c,d', 'nan,0,0,0'):
        with pytest.raises(ConfigError, match='render-offset'):
            parse_offset(bad)
    path.write_text('10 0 0 0 0\n9 0 0 0 0\n')
    with pytest.raises(ConfigError, match='increasing'):
        parse_offset(str(path))
    path.write_text('10 0 0 0\n')
    with pytest.raises(ConfigError, match=':1:'):
        parse_offset(str(path))


def test_ply_has_the_standard_3dgs_layout():
    harmonics = torch.arange(2 * 3 * 9, dtype=torch.float32).reshape(1, 2, 3, 9)
    g = Gaussians(torch.tensor([[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]]),
                  torch.tensor([[[0.5, -2.0, 1.0], [1.0, 1.0, 1.0]]]),
                  torch.tensor([[[0.1, 0.2, 0.3, 0.9], [1.0, 0.0, 0.0, 0.0]]]), harmonics,
                  torch.tensor([[0.25, 0.5]]))
    names, table = read_ply(ply_bytes(g))
    assert names[:9] == ['x', 'y', 'z', 'nx', 'ny', 'nz', 'f_dc_0', 'f_dc_1', 'f_dc_2']
    assert names[9:33] == [f'f_rest_{i}' for i in range(24)]
    assert names[33:] == ['opacity', 'scale_0', 'scale_1', 'scale_2', 'rot_0', 'rot_1',
                          'rot_2', 'rot_3']
    col = {n: table[:, i] for i, n in enumerate(names)}
    np.testing.assert_allclose(col['y'], [2.0, 5.0])
    np.testing.assert_allclose(col['f_dc_1'], harmonics[0, :, 1, 0])
    np.testing.assert_allclose(col['f_rest_8'], harmonics[0, :, 1, 1])  # channel-major rest
    np.testing.assert_allclose(col['opacity'], [np.log(0.25 / 0.75), 0.0], atol=1e-6)
    np.testing.assert_allclose(col['scale_1'], [np.log(2.0), 0.0], atol=1e-6)  # log |s|
    np.testing.assert_allclose(table[0, -4:], [0.1, 0.2, 0.3, 0.9], atol=1e-7)  # as stored


def test_offset_views_render_each_camera_from_the_displaced_vehicle():
    """A wall 4 m ahead of a forward camera: driving 1 m forward leaves 3 m."""
    k = np.array([[20.0, 0.0, 16.0], [0.0, 20.0, 12.0], [0.0, 0.0, 1.0]])
    t_base_cam = pose_lib.ros_to_optical(np.eye(4))  # at the base, looking along x
    t_world_base = pose_lib.make_pose(pose_lib.so3_exp(np.array([0.0, 0.0, 0.7])),
                                      np.array([5.0, -2.0, 0.0]))
    t_world_cam = t_world_base @ t_base_cam
    gaussians = depth_splats(torch.full((1, 24, 32), 4.0), torch.full((1, 24, 32, 3), 0.5),
                             torch.tensor(k[None], dtype=torch.float32),
                             torch.tensor(t_world_cam[None], dtype=torch.float32))
    cam = CameraResult('front', 'cam_front', np.full((24, 32), 4.0, np.float32),
                       np.ones((24, 32), np.float32), np.zeros((24, 32), bool), k, t_world_cam)
    result = RigResult(7.0, {'front': cam}, np.zeros((0, 3), np.float32), t_world_base, True,
                       True, 'rig', 1.0, False, (7.0,), gaussians=gaussians)
    source = RigInput(frame=None, stamp_ns=7 * 10 ** 9)
    out = dict(NovelViews(offset=parse_offset('1,0,0,0'))(rclpy_types(), result, source))
    assert set(out) == {'front/offset/image', 'front/offset/depth', 'front/offset/camera_info'}
    depth = image_to_depth(out['front/offset/depth'])
    np.testing.assert_allclose(depth[4:20, 6:26], 3.0, rtol=1e-3)
    assert out['front/offset/image'].header.frame_id == 'cam_front'
    turned = NovelViews(offset=parse_offset('0,0,0,1.2'))
    sideways = dict(turned(rclpy_types(), result, source))
    assert np.isnan(image_to_depth(sideways['front/offset/depth'])).mean() > 0.5  # turned away


@pytest.mark.slow
def test_render_offset_and_export_gs_write_topics_and_plys(tmp_path):
    recording = bf.make_recording(tmp_path / 'sample')
    export = tmp_path / 'gs'
    summary = process_bag(recording, tmp_path / 'out', bf.small_config(), progress=False,
                          render_offset='0.5,0.3,0,0.1', export_gs=export)
    msgs = {}
    for topic, _, msg in bf.messages(tmp_path / 'out'):
        msgs.setdefault(topic, []).append(msg)
    plys = sorted(export.glob('gaussians_*.ply'))
    assert len(plys) == summary.sets_output > 0
    names, table = read_ply(plys[-1].read_bytes())
    assert table.shape[0] > 0 and np.isfinite(table).all() and 'rot_3' in names
    for cam in bf.SPEC.cameras:
        images = msgs[f'{NODE}/{cam}/offset/image']
        depths = msgs[f'{NODE}/{cam}/depth']
        assert len(images) == len(depths) == summary.sets_output
        image, depth = images[-1], depths[-1]
        assert image.encoding == 'rgb8'
        assert (image.height, image.width) == (depth.height, depth.width)
        assert image.header.stamp == depth.header.stamp
        info = msgs[f'{NODE}/{cam}/offset/camera_info'][-1]
        assert np.allclose(info.k, msgs[f'{NODE}/{cam}/depth/camera_info'][-1].k)
        assert image_to_array(image).max() > 0
    # the export never overwrites: a folder with exported Gaussians is refused, one clear line
    assert main(['process', str(recording), str(tmp_path / 'again'), '--sample-config',
                 '--no-progress', '--export-gs', str(export)]) == 2
    assert sorted(export.glob('gaussians_*.ply')) == plys
    assert not Path(tmp_path / 'again').exists()
