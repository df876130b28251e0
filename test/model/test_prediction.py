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
