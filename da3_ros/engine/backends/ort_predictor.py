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

"""onnxruntime backend: the exported graph on the CPU, or on the CUDA provider where installed.

Inputs and outputs cross the host (numpy); outputs come back as torch tensors on
``model.device``. The graph is fp32 whatever ``model.dtype`` says.
"""
import logging
from typing import Dict, List

import torch

from da3_ros.engine.backends.graph import GraphPredictor, Runner
from da3_ros.model.export import GraphShape

LOG = logging.getLogger(__name__)


def providers(device: torch.device) -> List[object]:
    """Return execution providers of onnxruntime for ``device``: CUDA first where available."""
    import onnxruntime as ort
    if device.type == 'cuda':
        if 'CUDAExecutionProvider' in ort.get_available_providers():
            return [('CUDAExecutionProvider', {'device_id': device.index or 0}),
                    'CPUExecutionProvider']
        LOG.warning('model.device %s: this onnxruntime has no CUDA provider; running on the CPU',
                    device)
    return ['CPUExecutionProvider']


class OnnxRuntimePredictor(GraphPredictor):
    """``model.backend: onnxruntime``; one InferenceSession per window shape."""

    def make_runner(self, shape: GraphShape) -> Runner:
        """Return an InferenceSession on the ONNX of ``shape``, wrapped torch in, torch out."""
        import onnxruntime as ort
        options = ort.SessionOptions()
        options.intra_op_num_threads = torch.get_num_threads()
        session = ort.InferenceSession(self.source.onnx_for(shape), options,
                                       providers=providers(self.device))
        names = [output.name for output in session.get_outputs()]
        device = self.device

        def run(feed: Dict[str, torch.Tensor]) -> Dict[str, torch.Tensor]:
            arrays = session.run(names, {k: v.detach().cpu().numpy() for k, v in feed.items()})
            return {name: torch.from_numpy(a).to(device) for name, a in zip(names, arrays)}

        return run
