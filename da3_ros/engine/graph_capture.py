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

"""CUDA-graph replay of the network's forward, one graph per input signature.

A robot rig feeds the same shapes step after step, so the forward's hundreds of kernel launches
can be recorded once and replayed with one call (``torch.cuda.CUDAGraph``). That removes the
launch overhead that dominates the small variants (the issue measured 24 ms eager against a few
ms replayed for da3-small at one view). Hand-written instead of ``torch.compile(mode=
'reduce-overhead')`` because capture takes milliseconds where compiling takes minutes, and a
failure is local: a forward that cannot be captured (a host synchronisation inside it, e.g.
RANSAC in the ray-pose decoder or the data-dependent sky fill of the mono/metric models) runs
eagerly for that signature, with one warning.

Contract: the wrapped function reads only the tensors it is given (copied into static buffers),
the module's parameters and shape-keyed caches that are never evicted (the backbone's position
tables, the heads' UV embedding tables): a replay reads the memory the capture saw, so new
weights need new graphs (a new predictor). Its outputs are cloned on return, so a later replay
never overwrites what a caller still holds.
"""
import dataclasses
import logging
from typing import Callable, Dict, Hashable, Optional, Tuple

import torch

from da3_ros.model.prediction import Prediction

LOG = logging.getLogger(__name__)
WARMUP_RUNS = 2
Inputs = Tuple[torch.Tensor, Optional[torch.Tensor], Optional[torch.Tensor]]


@dataclasses.dataclass
class _Captured:
    graph: torch.cuda.CUDAGraph
    static_inputs: Inputs
    output: Prediction


def signature(inputs: Inputs) -> Hashable:
    """Shapes, dtypes and presence of each input: one graph per distinct signature."""
    return tuple(None if t is None else (tuple(t.shape), t.dtype, str(t.device)) for t in inputs)


def clone_prediction(pred: Prediction) -> Prediction:
    """Copy every tensor of ``pred`` (device copies; the graph's buffers stay private)."""
    changes = {f.name: getattr(pred, f.name).clone() for f in dataclasses.fields(pred)
               if isinstance(getattr(pred, f.name), torch.Tensor)}
    changes['aux'] = {k: v.clone() for k, v in pred.aux.items()}
    return dataclasses.replace(pred, **changes)


class GraphedForward:
    """Calls ``forward(images, extrinsics, intrinsics) -> Prediction`` through CUDA graphs.

    Args:
        forward: the function to capture; it must run under the caller's autocast with
            ``cache_enabled=False`` (autocast's weight cache cannot live inside a graph).
    """

    def __init__(self, forward: Callable[..., Prediction]) -> None:
        self.forward = forward
        self.graphs: Dict[Hashable, Optional[_Captured]] = {}

    def __call__(self, *inputs: Optional[torch.Tensor]) -> Prediction:
        """Replay the graph of this input signature (captured on first use)."""
        key = signature(inputs)
        if key not in self.graphs:
            self.graphs[key] = self._capture(inputs)
        captured = self.graphs[key]
        if captured is None:
            return self.forward(*inputs)
        for static, value in zip(captured.static_inputs, inputs):
            if static is not None:
                static.copy_(value)
        captured.graph.replay()
        return clone_prediction(captured.output)

    def _capture(self, inputs: Inputs) -> Optional[_Captured]:
        static = tuple(None if t is None else t.clone() for t in inputs)
        side = torch.cuda.Stream()
        side.wait_stream(torch.cuda.current_stream())
        try:
            with torch.cuda.stream(side):
                for _ in range(WARMUP_RUNS):
                    self.forward(*static)
            torch.cuda.current_stream().wait_stream(side)
            graph = torch.cuda.CUDAGraph()
            with torch.cuda.graph(graph):
                output = self.forward(*static)
        except RuntimeError as error:  # a host sync inside the forward: run this one eagerly
            torch.cuda.synchronize()
            LOG.warning('CUDA graph capture failed for input shapes %s; running eagerly (%s)',
                        [None if t is None else tuple(t.shape) for t in inputs],
                        str(error).splitlines()[0])
            return None
        return _Captured(graph, static, output)
