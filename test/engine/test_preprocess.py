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

"""Tests of device pre-processing: resize policies, intrinsics, undistortion, normalisation.

The batched frame path (``Preprocessor.process``) is checked against the per-camera one.
"""
import numpy as np
import pytest
import torch

from da3_ros.engine.preprocess import Preprocessor, processed_size, window_size
from da3_ros.engine.types import CameraFrame
from da3_ros.engine.upload import HostUpload
from da3_ros.geometry import camera as cam_lib
from da3_ros.geometry import distortion as dist_lib


@pytest.mark.parametrize('src,method,expect', [
    ((1080, 1920), 'upper_bound_resize', (280, 504)),
    ((900, 1600), 'upper_bound_resize', (280, 504)),
    ((1080, 1920), 'upper_bound_crop', (280, 504)),
    ((480, 640), 'lower_bound_resize', (504, 672)),
])
def test_processed_sizes_follow_the_policy(src, method, expect):
    tf = processed_size(src, 504, method)
    assert tf.out_hw == expect
    assert tf.out_hw[0] % 14 == 0 and tf.out_hw[1] % 14 == 0


def test_intrinsics_round_trip_through_transform():
    tf = processed_size((1080, 1920), 504, 'upper_bound_crop')
    k = cam_lib.intrinsics_matrix(1000.0, 1000.0, 959.5, 539.5)
    np.testing.assert_allclose(tf.inverse_intrinsics(tf.intrinsics(k)), k, atol=1e-9)
    assert tf.crop == (0, 2)  # 1920x1080 -> 504x284 (283.5 rounds to even), crop to 280 rows


def test_window_size_is_common_minimum():
    assert window_size([(1080, 1920), (1200, 1920)], 504, 'upper_bound_resize') == (280, 504)


def test_normalisation_of_a_flat_image():
    pre = Preprocessor('cpu', 28, 'upper_bound_resize')
    frame = CameraFrame('a', np.full((14, 28, 3), 255, np.uint8))
    image, tf, k_proc = pre(frame, (14, 28))
    assert k_proc is None and tf.out_hw == (14, 28)
    expect = (1.0 - torch.tensor([0.485, 0.456, 0.406])) / torch.tensor([0.229, 0.224, 0.225])
    torch.testing.assert_close(image[:, 3, 5], expect)


def test_undistortion_puts_a_point_where_the_pinhole_projects_it():
    h, w = 60, 80
    k = cam_lib.intrinsics_matrix(50.0, 50.0, 39.5, 29.5)
    coeffs = (-0.25, 0.05, 0.0, 0.0, 0.0)
    # A bright dot at the distorted position of a known ray.
    ray = np.array([0.35, -0.25])
    uv_d = dist_lib.distort(ray, 'plumb_bob', coeffs) * 50.0 + [39.5, 29.5]
    image = np.zeros((h, w, 3), np.uint8)
    vv, uu = np.mgrid[0:h, 0:w]
    image[((uu - uv_d[0]) ** 2 + (vv - uv_d[1]) ** 2) < 2.0] = 255
    pre = Preprocessor('cpu', 84, 'upper_bound_resize')
    frame = CameraFrame('a', image, k=k, distortion_model='plumb_bob', distortion=coeffs)
    out, tf, k_proc = pre(frame, (56, 84))
    bright = out[0].numpy()
    v, u = np.unravel_index(np.argmax(bright), bright.shape)
    expect = k_proc[:2, :2] @ ray + k_proc[:2, 2]
    assert abs(u - expect[0]) <= 1.0 and abs(v - expect[1]) <= 1.0
    undone, _, _ = pre(frame, (56, 84), undistort=False)
    assert not torch.equal(undone, out)


DEVICES = ['cpu', pytest.param('cuda', marks=pytest.mark.skipif(
    not torch.cuda.is_available(), reason='needs CUDA (pinned staging, non-blocking upload)'))]


def _mixed_frame(seed=0, device='cpu'):
    """Same-size cameras, one of another size, distorted ones, torch-tensor images."""
    rng = np.random.default_rng(seed)

    def image(h, w):
        return rng.integers(0, 256, (h, w, 3), dtype=np.uint8)

    k = cam_lib.intrinsics_matrix(60.0, 60.0, 47.5, 35.5)
    coeffs = (-0.2, 0.04, 0.0, 0.0, 0.0)
    return [
        CameraFrame('front', image(72, 96), k=k),
        CameraFrame('back', image(72, 96)),
        CameraFrame('wide', image(50, 120), k=k),
        CameraFrame('fish', image(72, 96), k=k, distortion_model='plumb_bob', distortion=coeffs),
        CameraFrame('raw', image(72, 96), k=k, distortion_model='plumb_bob', distortion=coeffs),
        CameraFrame('gpu', torch.from_numpy(image(72, 96)).to(device)),
        CameraFrame('gpu2', torch.from_numpy(image(72, 96)).to(device)),
        CameraFrame('small', image(20, 28)),  # upsampled (bicubic), alone in its group
    ]


class _CountingUpload(HostUpload):
    def __init__(self, device, staged):
        super().__init__(device, staged=staged)
        self.batch_sizes = []

    def __call__(self, images):
        self.batch_sizes.append(len(images))
        return super().__call__(images)


@pytest.mark.parametrize('device', DEVICES)
@pytest.mark.parametrize('staged', [False, True])
def test_batched_frame_equals_each_camera_alone(device, staged):
    upload = _CountingUpload(device, staged)
    pre = Preprocessor(device, 84, 'upper_bound_crop', upload)
    cameras = _mixed_frame(device=device)
    undistort = {'raw': False}
    batched = pre.process(cameras, (56, 84), undistort)
    # Host groups: front, back and raw (not undistorted) share 72x96; wide and small alone.
    assert sorted(upload.batch_sizes) == [1, 1, 3]
    assert len(batched) == len(cameras)
    for cam, (image, tf, k_proc) in zip(cameras, batched):
        alone, tf_alone, k_alone = pre(cam, (56, 84), undistort.get(cam.name, True))
        # Exact: the batch only stacks images; every output pixel sees the same operations.
        assert torch.equal(image, alone), cam.name
        assert image.shape == (3, 56, 84) and image.dtype == torch.float32
        assert tf == tf_alone
        if k_alone is None:
            assert k_proc is None
        else:
            np.testing.assert_array_equal(k_proc, k_alone)


@pytest.mark.parametrize('device', DEVICES)
def test_consecutive_frames_through_the_reused_staging_tensor(device):
    pre = Preprocessor(device, 84, 'upper_bound_resize', HostUpload(device, staged=True))
    first_frame, second_frame = _mixed_frame(1, device), _mixed_frame(2, device)
    first = pre.process(first_frame, (56, 84), {})
    kept = [image.clone() for image, _, _ in first]
    second = pre.process(second_frame, (56, 84), {})
    for cam, (image, _, _), copy in zip(first_frame, first, kept):
        assert torch.equal(image, copy), cam.name  # not overwritten by the second frame
        assert torch.equal(image, pre(cam, (56, 84))[0]), cam.name
    for cam, (image, _, _) in zip(second_frame, second):
        assert torch.equal(image, pre(cam, (56, 84))[0]), cam.name
