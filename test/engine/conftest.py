"""Engine test fixtures: single-threaded torch (the CI machine is shared).

Package scope: the thread count is restored when the engine tests end, so later packages (the bag
tool compares outputs with a subprocess that runs at the default count) see the default.
"""
import pytest
import torch


@pytest.fixture(autouse=True, scope='package')
def _one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
