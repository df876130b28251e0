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
