"""The node's engine loading: placeholder weights are announced loudly, naming the model.

That the node and the bag tool build the same network for each placeholder word is tested in
test/tools/test_placeholder_weights.py.
"""
from da3_ros.config import EngineConfig, ModelConfig, placeholder_notice
from da3_ros.ros.engine_setup import build_engine


class Logger:
    """Collects warnings like an rclpy logger."""

    def __init__(self):
        self.warnings = []

    def warning(self, text):
        self.warnings.append(text)


def test_placeholder_weights_are_announced_with_the_variant():
    logger = Logger()
    model = ModelConfig(variant='da3-small', weights='parity', device='cpu', dtype='fp32',
                        process_res=28)
    build_engine(EngineConfig(model=model), logger)
    assert logger.warnings == [f"{placeholder_notice('parity')} (model da3-small)"]
