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

"""graph_capture: CUDA-graph bookkeeping that runs on the CPU (signatures, output copies)."""
import torch

from da3_ros.engine import graph_capture
from da3_ros.model.prediction import Prediction


def test_signature_separates_shapes_and_missing_inputs():
    a = torch.zeros(1, 2, 3, 14, 14)
    k = torch.zeros(1, 2, 3, 3)
    assert graph_capture.signature((a, None, k)) == graph_capture.signature((a + 1, None, k))
    assert graph_capture.signature((a, None, k)) != graph_capture.signature((a, None, None))
    assert graph_capture.signature((a, None, None)) != graph_capture.signature(
        (torch.zeros(1, 3, 3, 14, 14), None, None))


def test_clone_prediction_copies_every_tensor():
    pred = Prediction(depth=torch.ones(1, 1, 2, 2), depth_conf=torch.ones(1, 1, 2, 2),
                      scale_factor=torch.ones(1), aux={'feat_layer_1': torch.ones(2)},
                      is_metric=True)
    copy = graph_capture.clone_prediction(pred)
    pred.depth.fill_(5)
    pred.aux['feat_layer_1'].fill_(5)
    assert float(copy.depth.max()) == 1 and float(copy.aux['feat_layer_1'].max()) == 1
    assert copy.is_metric and copy.extrinsics is None
