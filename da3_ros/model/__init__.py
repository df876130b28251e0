"""Our PyTorch Depth Anything 3: every upstream variant, upstream parameter names.

``build_model(variant)`` returns the network with uninitialised weights; load a checkpoint with
``da3_ros.model.weights``.
"""
from typing import Union

from da3_ros.model.da3 import DepthAnything3Net, NestedDepthAnything3Net
from da3_ros.model.prediction import Prediction
from da3_ros.model.variants import check_variant, NESTED, VARIANT_NAMES, variant_spec

__all__ = ['build_model', 'DepthAnything3Net', 'NestedDepthAnything3Net', 'Prediction',
           'VARIANT_NAMES']


def build_model(variant: str) -> Union[DepthAnything3Net, NestedDepthAnything3Net]:
    """Build the network of ``variant`` (e.g. 'da3-large'); raises ConfigError if unknown."""
    check_variant(variant)
    if variant in NESTED:
        anyview, metric = NESTED[variant]
        return NestedDepthAnything3Net(variant_spec(anyview), variant_spec(metric))
    return DepthAnything3Net(variant_spec(variant))
