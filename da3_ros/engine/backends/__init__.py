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

"""Exported-graph backends behind the Predictor protocol: onnxruntime and TensorRT.

``build_graph_predictor(cfg)`` picks the backend of ``cfg.backend``; the torch backend stays in
``da3_ros.engine.predictor``.
"""
from typing import Mapping, Optional

from da3_ros.config import ModelConfig
from da3_ros.engine.backends.graph import GraphPredictor, OnnxSource


def build_graph_predictor(cfg: ModelConfig, state_dict: Optional[Mapping] = None
                          ) -> GraphPredictor:
    """Return the onnxruntime or TensorRT predictor of ``cfg`` (``cfg.backend`` not ``torch``)."""
    from da3_ros.engine.predictor import load_network
    source = OnnxSource(cfg, state_dict, load_network)
    if cfg.backend == 'tensorrt':
        from da3_ros.engine.backends.trt_predictor import TensorRTPredictor
        return TensorRTPredictor(cfg, source)
    from da3_ros.engine.backends.ort_predictor import OnnxRuntimePredictor
    return OnnxRuntimePredictor(cfg, source)
