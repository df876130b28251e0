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

"""Encoded images in the engine: header inspection, CPU fallback and the GPU-branch wiring.

torchvision is not installable beside the CPU torch of CI, so the device branch is driven by a
fake batched decoder (Pillow behind the same interface) that records its calls.
"""
import io
import pickle

import numpy as np
from PIL import Image
import pytest
import torch

from da3_ros.config import EngineConfig, ModelConfig, WindowConfig
from da3_ros.engine.decode import decode_cpu, EncodedImage, ImageDecoder
from da3_ros.engine.engine import Engine
from da3_ros.errors import ConversionError
from da3_ros.synthetic.predictor import SimulatedPredictor
from da3_ros.synthetic.sequence import SyntheticRig

NAMES = ('front', 'front_left', 'back')


def _encode(rgb, fmt='PNG', mode='RGB', **options):
    buffer = io.BytesIO()
    Image.fromarray(rgb).convert(mode).save(buffer, format=fmt, **options)
    return buffer.getvalue()


def _rgb(height=14, width=28, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)


def _truncated():
    """A JPEG whose header is intact and whose pixel data stops half way."""
    data = _encode(_rgb(64, 96), 'JPEG')
    return data[:len(data) // 2]


class FakeGpu:
    """Batched decoder with nvJPEG's interface: byte tensors in, [3, H, W] uint8 tensors out."""

    def __init__(self, fail_batches=False, shrink=False):
        self.calls, self.fail_batches, self.shrink = [], fail_batches, shrink

    def __call__(self, batch):
        self.calls.append(len(batch))
        if self.fail_batches and len(batch) > 1:
            raise RuntimeError('batched decode not supported')
        out = []
        for data in batch:
            rgb = np.asarray(Image.open(io.BytesIO(data.numpy().tobytes())).convert('RGB'))
            rgb = rgb[:-1] if self.shrink else rgb
            out.append(torch.from_numpy(rgb.copy()).permute(2, 0, 1))
        return out


def test_inspect_reads_the_header_only():
    png = EncodedImage.inspect(_encode(_rgb(), 'PNG'))
    assert (png.codec, png.height, png.width, png.mode) == ('png', 14, 28, 'RGB')
    assert png.shape == (14, 28, 3)
    jpeg = EncodedImage.inspect(np.frombuffer(_encode(_rgb(), 'JPEG', 'L'), np.uint8))
    assert (jpeg.codec, jpeg.mode) == ('jpeg', 'L')
    assert EncodedImage.inspect(_truncated()).height == 64


@pytest.mark.parametrize('data,match', [(b'not an image', 'header'),
                                        (_encode(_rgb(), 'TIFF'), 'TIFF'),
                                        (_encode(_rgb(), 'PNG', 'I;16'), 'mode')])
def test_inspect_refuses(data, match):
    with pytest.raises(ConversionError, match=match):
        EncodedImage.inspect(data)


def test_cpu_decoder_is_pillow_and_checks_data():
    decoder = ImageDecoder('cpu')
    assert decoder.gpu is None
    rgb = _rgb()
    png, bad = EncodedImage.inspect(_encode(rgb)), EncodedImage.inspect(_truncated())
    out = decoder.decode([png, bad])
    np.testing.assert_array_equal(out[0], rgb)
    assert isinstance(out[1], ConversionError) and 'jpeg' in str(out[1])
    lying = EncodedImage(png.data, 'png', 15, 28, 'RGB')
    with pytest.raises(ConversionError, match='header says 28x15'):
        decode_cpu(lying)


def test_gpu_branch_gets_one_batch_of_rgb_and_grey_jpegs():
    fake = FakeGpu()
    decoder = ImageDecoder('cpu', gpu_decode=fake)
    images = [EncodedImage.inspect(_encode(_rgb(seed=i), 'JPEG', mode, quality=90))
              for i, mode in enumerate(['RGB', 'L', 'CMYK'])]
    images.append(EncodedImage.inspect(_encode(_rgb(seed=3), 'PNG')))
    out = decoder.decode(images)
    assert fake.calls == [2]  # CMYK and PNG go to Pillow
    assert isinstance(out[0], torch.Tensor) and isinstance(out[1], torch.Tensor)
    assert isinstance(out[2], np.ndarray) and isinstance(out[3], np.ndarray)
    for image, decoded in zip(images, out):
        np.testing.assert_array_equal(np.asarray(decoded), decode_cpu(image))


def test_gpu_batch_failure_falls_back_image_by_image():
    fake = FakeGpu(fail_batches=True)
    images = [EncodedImage.inspect(_encode(_rgb(seed=i), 'JPEG')) for i in range(3)]
    out = ImageDecoder('cpu', gpu_decode=fake).decode(images)
    assert fake.calls == [3, 1, 1, 1] and all(isinstance(o, torch.Tensor) for o in out)
    shrunk = ImageDecoder('cpu', gpu_decode=FakeGpu(shrink=True)).decode(images[:1])
    assert isinstance(shrunk[0], ConversionError) and 'header says' in str(shrunk[0])


def test_decoder_without_cuda_or_torchvision_decodes_on_cpu(monkeypatch):
    monkeypatch.setattr('da3_ros.engine.decode.torchvision_decoder', lambda: None)
    decoder = ImageDecoder('cuda')  # no device is touched: the lookup finds no torchvision
    assert decoder.gpu is None
    image = EncodedImage.inspect(_encode(_rgb(), 'JPEG'))
    assert isinstance(decoder.decode([image])[0], np.ndarray)
    assert pickle.loads(pickle.dumps(decoder)).device.type == 'cuda'


@pytest.fixture(scope='module')
def rig():
    return SyntheticRig((14, 28))


def _engine(rig, gpu=None):
    cfg = EngineConfig(model=ModelConfig(device='cpu', weights='random', process_res=28),
                       window=WindowConfig(length=2))
    engine = Engine(cfg, SimulatedPredictor(rig, seed=3))
    engine.pre.decoder = ImageDecoder('cpu', gpu_decode=gpu)
    return engine


def _replace_images(frame, convert):
    cams = tuple(c.__class__(**{**c.__dict__, 'image': convert(c.image)}) for c in frame.cameras)
    return frame.__class__(frame.stamp, cams, frame.t_odom_base)


@pytest.mark.parametrize('fmt,gpu', [('PNG', None), ('JPEG', FakeGpu())])
def test_engine_preprocesses_encoded_images_like_arrays(rig, fmt, gpu):
    plain, encoded = _engine(rig), _engine(rig, gpu)
    assert encoded.decodes_on_device == (gpu is not None) and not plain.decodes_on_device
    for step in range(2):
        images = _replace_images(rig.frame(step, names=NAMES),
                                 lambda rgb: EncodedImage.inspect(_encode(rgb, fmt)))
        a = plain.step(_replace_images(images, decode_cpu))  # what the CPU path decodes
        b = encoded.step(images)
    torch.testing.assert_close(encoded.window.images, plain.window.images, rtol=0, atol=0)
    np.testing.assert_array_equal(a.cameras['front'].depth, b.cameras['front'].depth)
    assert encoded.decode_errors == {}
    if gpu is not None:
        assert gpu.calls == [3, 3]


def test_engine_leaves_out_an_undecodable_camera(rig):
    engine = _engine(rig)
    frame = _replace_images(rig.frame(0, names=NAMES),
                            lambda rgb: EncodedImage.inspect(_encode(rgb)))
    cams = list(frame.cameras)
    truncated = EncodedImage.inspect(_truncated())
    cams[1] = cams[1].__class__(**{**cams[1].__dict__, 'image': truncated})
    engine.step(frame.__class__(frame.stamp, tuple(cams), frame.t_odom_base))
    assert list(engine.decode_errors) == ['front_left']
    assert engine.window.valid[0].tolist() == [True, False, True]
    all_bad = frame.__class__(0.5, (cams[1],), None)
    with pytest.raises(ConversionError, match='front_left'):
        engine.step(all_bad)


def test_encoded_images_are_undistorted_like_arrays(rig):
    def distorted(frame):
        cams = tuple(c.__class__(**{**c.__dict__, 'distortion_model': 'plumb_bob',
                                    'distortion': (0.1, -0.05, 0.001, 0.0, 0.0)})
                     for c in frame.cameras)
        return frame.__class__(frame.stamp, cams, frame.t_odom_base)

    plain, encoded = _engine(rig), _engine(rig, FakeGpu())
    frame = distorted(_replace_images(rig.frame(0, names=NAMES),
                                      lambda rgb: EncodedImage.inspect(_encode(rgb, 'JPEG'))))
    plain.step(_replace_images(frame, decode_cpu))
    encoded.step(frame)
    undistorted = _engine(rig)
    undistorted.step(_replace_images(_replace_images(rig.frame(0, names=NAMES), lambda rgb: (
        EncodedImage.inspect(_encode(rgb, 'JPEG')))), decode_cpu))
    torch.testing.assert_close(encoded.window.images, plain.window.images, rtol=0, atol=0)
    assert not torch.equal(encoded.window.images, undistorted.window.images)
