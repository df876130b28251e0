"""``model.device``: 'auto' resolves in one place; impossible devices are a ConfigError."""
import logging

import pytest
import torch

from da3_ros.config import EngineConfig, ModelConfig
from da3_ros.engine import predictor
from da3_ros.engine.predictor import resolve_device, with_device
from da3_ros.errors import ConfigError


def test_auto_is_cuda_when_present_else_cpu_with_one_warning(caplog):
    predictor._auto_device.cache_clear()
    with caplog.at_level(logging.WARNING, logger=predictor.LOG.name):
        first, second = resolve_device('auto'), resolve_device('auto')
    assert first == second == ('cuda' if torch.cuda.is_available() else 'cpu')
    warnings = [r for r in caplog.records if 'no CUDA device' in r.getMessage()]
    assert len(warnings) == (0 if torch.cuda.is_available() else 1)


def test_auto_is_the_default_and_a_concrete_device_passes_through():
    assert ModelConfig().device == EngineConfig().model.device == 'auto'
    assert with_device(ModelConfig(device='cpu')).device == 'cpu'
    assert with_device(ModelConfig()).device in ('cuda', 'cpu')


@pytest.mark.parametrize('name, needle', [('cuda:99', 'CUDA device'),
                                          ('gpu', 'not a torch device')])
def test_impossible_devices_are_refused_with_the_value(name, needle):
    with pytest.raises(ConfigError, match=f'model.device: {name!r}.*{needle}'):
        resolve_device(name)
