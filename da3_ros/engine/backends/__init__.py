"""Exported-graph backends behind the Predictor protocol: onnxruntime and TensorRT.

``build_graph_predictor(cfg)`` picks the backend of ``cfg.backend``; the torch backend stays in
``da3_ros.engine.predictor``.
"""
from typing import Mapping, Optional

from da3_ros.config import ModelConfig
from da3_ros.engine.backends.graph import GraphPredictor, OnnxSource


def build_graph_predictor(cfg: ModelConfig, state_dict: Optional[Mapping] = None
                          ) -> GraphPredictor:
    """The onnxruntime or TensorRT predictor of ``cfg`` (``cfg.backend`` not ``torch``)."""
    from da3_ros.engine.predictor import load_network
    source = OnnxSource(cfg, state_dict, load_network)
    if cfg.backend == 'tensorrt':
        from da3_ros.engine.backends.trt_predictor import TensorRTPredictor
        return TensorRTPredictor(cfg, source)
    from da3_ros.engine.backends.ort_predictor import OnnxRuntimePredictor
    return OnnxRuntimePredictor(cfg, source)
