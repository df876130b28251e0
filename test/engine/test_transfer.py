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

"""HostTransfer: the staged (pinned on CUDA) copy path gives what to_host gives."""
import pickle

import numpy as np
import pytest
import torch

from da3_ros.engine.postprocess import to_host
from da3_ros.engine.transfer import HostTransfer, PendingCopy


def _tensors(wide=False):
    gen = torch.Generator().manual_seed(0)
    depth = torch.rand(4, 5, generator=gen, dtype=torch.float64 if wide else torch.float32)
    cloud = torch.rand(4, 5, 3, generator=gen)[:, ::2]  # non-contiguous
    return [depth, cloud, depth > 0.5, torch.zeros(0, 3)]


def _same(got, expected):
    assert len(got) == len(expected)
    for a, b in zip(got, expected):
        assert a.dtype == b.dtype and a.shape == b.shape
        np.testing.assert_array_equal(a, b)


def test_cpu_default_is_to_host():
    transfer = HostTransfer('cpu')
    assert not transfer.staged and not transfer.pin
    _same(transfer(_tensors()), to_host(_tensors()))


def test_staged_path_matches_to_host():
    transfer = HostTransfer('cpu', staged=True, pin=False)
    for wide in (False, True):
        pending = transfer.start(_tensors(wide))
        got = pending.wait()
        assert pending.wait() is got  # one wait; later calls return the same arrays
        _same(got, to_host(_tensors(wide)))


def test_results_are_not_overwritten_by_the_next_copy():
    transfer = HostTransfer('cpu', staged=True, pin=False)
    first = transfer([torch.ones(3)])[0]
    transfer([torch.full((3,), 7.0)])
    np.testing.assert_array_equal(first, np.ones(3, np.float32))


def test_pickles():
    transfer = pickle.loads(pickle.dumps(HostTransfer('cpu', staged=True, pin=False)))
    _same(transfer(_tensors()), to_host(_tensors()))


@pytest.mark.parametrize('staged', [False, True])
def test_streaming_copy_gives_what_to_host_gives_in_add_order(staged):
    transfer = HostTransfer('cpu', staged=staged, pin=False)
    stream = transfer.begin()
    tensors = _tensors()
    assert [stream.add(t) for t in tensors] == list(range(len(tensors)))
    _same(stream.finish().wait(), to_host(tensors))


def test_streaming_copy_takes_each_tensor_as_it_was_when_added():
    stream = HostTransfer('cpu', staged=True, pin=False).begin()
    depth = torch.ones(3)
    stream.add(depth)
    depth += 5.0  # a later in-place change is not in the copy already made
    np.testing.assert_array_equal(stream.finish().wait()[0], np.ones(3, np.float32))


def test_streaming_copy_keeps_float64_per_tensor():
    stream = HostTransfer('cpu', staged=True, pin=False).begin()
    stream.add(torch.ones(2, dtype=torch.float64))
    stream.add(torch.ones(2, dtype=torch.float16))
    wide, narrow = stream.finish().wait()
    assert wide.dtype == np.float64 and narrow.dtype == np.float32


def test_streaming_copy_add_all_continues_the_indices():
    stream = HostTransfer('cpu', staged=True, pin=False).begin()
    first = torch.arange(3.0)
    assert stream.add(first) == 0
    assert stream.add_all([first + 1, first + 2]) == [1, 2]
    arrays = stream.finish().wait()
    for k, array in enumerate(arrays):
        np.testing.assert_array_equal(array, (first + k).numpy())


class _Event:
    """A timing event whose elapsed time to another is their difference in made-up ms."""

    def __init__(self, at):
        self.at, self.waited = at, False

    def synchronize(self):
        self.waited = True

    def elapsed_time(self, end):
        return end.at - self.at


def test_device_ms_sums_the_copies_own_spans_not_the_gaps_between_them():
    done = _Event(9.0)
    pending = PendingCopy([], [torch.zeros(2)], done,
                          [(_Event(1.0), _Event(2.5)), (_Event(6.0), _Event(9.0))])
    assert pending.device_ms is None  # not waited for yet
    pending.wait()
    assert done.waited and pending.device_ms == 4.5
    assert PendingCopy.done([np.zeros(1)]).device_ms is None
