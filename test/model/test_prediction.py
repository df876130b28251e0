"""The typed network output: what an any-view prediction leaves empty by default."""
import torch

from da3_ros.model.prediction import Prediction


def test_defaults_describe_a_relative_depth_only_prediction():
    pred = Prediction(depth=torch.ones(1, 1, 2, 2))
    assert not pred.is_metric and pred.scale_factor is None and pred.gaussians is None
    assert pred.extrinsics is None and pred.sky is None and pred.aux == {}


def test_aux_features_are_not_shared_between_predictions():
    first, second = Prediction(depth=torch.ones(1)), Prediction(depth=torch.ones(1))
    first.aux['feat_layer_0'] = torch.zeros(1)
    assert second.aux == {}
