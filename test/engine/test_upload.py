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

"""HostUpload: one batch of same-shape images; the staging tensor is reused, never too early."""
import pickle

import numpy as np
import pytest
import torch
from torch.overrides import TorchFunctionMode

from da3_ros.engine import upload as upload_lib
from da3_ros.engine.upload import HostUpload, staging_choice
from da3_ros.errors import ConversionError


DEVICES = ['cpu', pytest.param('cuda', marks=pytest.mark.skipif(
    not torch.cuda.is_available(), reason='needs CUDA (pinned staging, CUDA events)'))]


def _images(seed, count=3, hw=(6, 8)):
    rng = np.random.default_rng(seed)
    return [rng.integers(0, 256, hw + (3,), dtype=np.uint8) for _ in range(count)]


class _FakeEvent:
    """Stands in for a CUDA event: checks that the staging tensor is intact when waited on."""

    def __init__(self, upload, key, expect):
        self.upload, self.key, self.expect, self.waited = upload, key, expect, False

    def synchronize(self):
        assert torch.equal(self.upload._staging[self.key], self.expect)  # not yet overwritten
        self.waited = True


class _EventUpload(HostUpload):
    def __init__(self):
        super().__init__('cpu', staged=True, pin=False)
        self.events = []

    def _record_event(self):
        key, staging = next((k, s) for k, s in self._staging.items() if k not in self._events)
        self.events.append(_FakeEvent(self, key, staging.clone()))
        return self.events[-1]


def test_cpu_default_is_a_plain_stack():
    upload = HostUpload('cpu')
    assert not upload.staged and not upload.pin
    images = _images(0)
    assert torch.equal(upload(images), torch.from_numpy(np.stack(images)))


def test_staged_batch_holds_the_images_even_read_only_or_strided():
    images = _images(1)
    images[0].setflags(write=False)
    images[1] = np.ascontiguousarray(images[1][:, ::-1])[:, ::-1]  # negative strides
    batch = HostUpload('cpu', staged=True, pin=False)(images)
    assert batch.dtype == torch.uint8 and batch.shape == (3, 6, 8, 3)
    np.testing.assert_array_equal(batch.numpy(), np.stack(images))


@pytest.mark.parametrize('device', DEVICES)
def test_a_result_is_not_overwritten_by_the_next_upload(device):
    upload = HostUpload(device, staged=True)
    assert upload.pin == (device == 'cuda')
    first_images, second_images = _images(2, hw=(480, 640)), _images(3, hw=(480, 640))
    first = upload(first_images)
    second = upload(second_images)  # same layout: rewrites the staging tensor of the first
    assert first.device.type == device
    np.testing.assert_array_equal(first.cpu().numpy(), np.stack(first_images))
    np.testing.assert_array_equal(second.cpu().numpy(), np.stack(second_images))


class _CopyLog(TorchFunctionMode):
    """Logs each ``Tensor.copy_`` touching ``staging``: ('host' or 'upload', slot index)."""

    def __init__(self, staging):
        super().__init__()
        self.staging, self.copies = staging, []

    def _slot(self, tensor):
        if tensor.untyped_storage().data_ptr() != self.staging.untyped_storage().data_ptr():
            return None
        return (tensor.data_ptr() - self.staging.data_ptr()) // self.staging[0].nbytes

    def __torch_function__(self, func, types, args=(), kwargs=None):
        if func is torch.Tensor.copy_:
            into, source = self._slot(args[0]), self._slot(args[1])
            if into is not None:
                self.copies.append(('host', into))
            elif source is not None:
                self.copies.append(('upload', source))
        return func(*args, **(kwargs or {}))


@pytest.mark.parametrize('device', DEVICES)
def test_each_slot_is_uploaded_right_after_its_host_copy(device):
    upload = HostUpload(device, staged=True)
    upload(_images(9, count=4))
    staging = upload._staging[(4, 6, 8, 3)]
    images = _images(10, count=4)
    with _CopyLog(staging) as log:
        batch = upload(images)
    # Interleaved, not all host copies first: the upload of slot i overlaps the host copy of i + 1.
    assert log.copies == [(kind, i) for i in range(4) for kind in ('host', 'upload')]
    assert upload._staging[(4, 6, 8, 3)] is staging  # reused, not reallocated
    assert batch.device.type == device
    assert batch.untyped_storage().data_ptr() != staging.untyped_storage().data_ptr()
    np.testing.assert_array_equal(batch.cpu().numpy(), np.stack(images))


def test_the_event_is_waited_on_before_the_staging_tensor_is_rewritten():
    upload = _EventUpload()
    upload(_images(4))
    staging = upload._staging[(3, 6, 8, 3)]
    assert not upload.events[0].waited
    upload(_images(5, count=2))  # another layout: its own staging tensor, no wait
    assert not upload.events[0].waited
    upload(_images(6))
    assert upload.events[0].waited  # its check ran before the rewrite
    assert upload._staging[(3, 6, 8, 3)] is staging  # reused, not reallocated


def test_too_many_layouts_release_the_staging_tensors_after_waiting(monkeypatch):
    monkeypatch.setattr(upload_lib, 'MAX_STAGING', 2)
    upload = _EventUpload()
    for count in (1, 2, 3):
        images = _images(count, count=count)
        np.testing.assert_array_equal(upload(images).numpy(), np.stack(images))
    assert all(e.waited for e in upload.events[:2])
    assert list(upload._staging) == [(3, 6, 8, 3)]


@pytest.mark.parametrize('images', [
    [],
    [np.zeros((6, 8, 3), np.uint8), np.zeros((6, 9, 3), np.uint8)],
    [np.zeros((6, 8, 3), np.float32)],
])
def test_refuses_what_is_not_one_uint8_shape(images):
    with pytest.raises(ConversionError, match='one batch'):
        HostUpload('cpu', staged=True, pin=False)(images)


def test_pickles_without_its_staging_tensors():
    upload = HostUpload('cpu', staged=True, pin=False)
    upload(_images(7))
    clone = pickle.loads(pickle.dumps(upload))
    assert clone._staging == {} and clone.staged
    images = _images(8)
    np.testing.assert_array_equal(clone(images).numpy(), np.stack(images))


def test_staging_choice_defaults_to_cuda_and_keeps_what_is_given():
    assert staging_choice('cpu', None, None) == (False, False)
    assert staging_choice('cuda', None, None) == (True, True)
    assert staging_choice('cpu', True, False) == (True, False)
    assert staging_choice('cuda', False, None) == (False, True)


@pytest.mark.parametrize('device', DEVICES)
def test_to_device_copies_values_in_the_dtype_asked(device):
    k = np.arange(9, dtype=np.float64).reshape(3, 3)
    got = upload_lib.to_device(k, device, torch.float32)
    assert got.device.type == device and got.dtype == torch.float32
    k[0, 0] = 100.0  # the result owns its memory
    np.testing.assert_array_equal(got.cpu().numpy(), np.arange(9).reshape(3, 3))
    index = upload_lib.to_device([3, 1, 2], device, torch.int64)
    assert index.dtype == torch.int64 and index.cpu().tolist() == [3, 1, 2]
    source = torch.ones(4, dtype=torch.float64)
    copied = upload_lib.to_device(source, device, torch.float64)
    source += 1.0
    assert copied.cpu().tolist() == [1.0] * 4
