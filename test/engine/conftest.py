"""Engine test fixtures: single-threaded torch (the CI machine is shared)."""
import pytest
import torch


@pytest.fixture(autouse=True, scope='session')
def _one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
