"""Fixtures shared by the model tests: da3-small with the deterministic parity-rule weights."""
import pytest
import torch

from da3_ros.model import build_model
from da3_ros.model.weight_rule import rule_state_dict
from da3_ros.model.weights import load_state_dict_strict


@pytest.fixture(scope='module')
def small_model():
    """da3-small in eval mode, filled with ``rule_state_dict('da3-small')`` (no download)."""
    with torch.device('meta'):
        model = build_model('da3-small')
    load_state_dict_strict(model, rule_state_dict('da3-small'))
    return model.eval()
