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

"""The UV position embedding the dense heads add to their maps (spec 4.1), and its fast form.

:func:`uv_embedding` is the definition: sin/cos of a pixel-centre UV grid in float64, cast to
float32. Compiled in the open, inductor fuses its separable tables into one kernel that takes
the float64 sines and cosines again for every pixel of every forward (0.20 ms of da3-small's
2.8 ms 6-view forward on an H100; freezing does not fold it, as it depends on no weight). So the
heads read it through ``da3_ros::uv_embedding``, a ``torch.library`` operator that the compiler
cannot see into: it keeps the small tables per map size and writes the map from them, two
broadcast copies. ONNX exports (:func:`uv_embedding_in_graph`, or any
``torch.onnx.export``) keep the in-graph definition: no exporter knows the operator.
"""
import contextlib
import math
from typing import Dict, Iterator, Tuple

import torch
import torch.nn.functional as F

UV_EMBED_RATIO = 0.1

# (channels, height, width, aspect, device) -> (u table [2q, w], v table [2q, h]) float32.
# Never evicted: a captured CUDA graph reads the tables' memory at every replay. A few small
# tables in all (a node's processed resolution is fixed).
_tables: Dict[tuple, Tuple[torch.Tensor, torch.Tensor]] = {}
_in_graph = False  # set by uv_embedding_in_graph (read by Dynamo too, which guards on it)


def uv_tables(channels: int, height: int, width: int, aspect: float,
              device: torch.device) -> Tuple[torch.Tensor, torch.Tensor]:
    """Return the separable halves of :func:`uv_embedding`: u [2q, w] and v [2q, h] float32.

    u spans +-a/sqrt(a^2+1), v spans +-1/sqrt(a^2+1) with a = image W / H (pixel centres);
    rows are [sin(x w_k)] then [cos(x w_k)], w_k = 100^(-k/q), q = channels // 4.
    """
    diag = math.sqrt(aspect * aspect + 1.0)
    span_x, span_y = aspect / diag, 1.0 / diag
    u = torch.linspace(-span_x * (width - 1) / width, span_x * (width - 1) / width, width,
                       device=device, dtype=torch.float32).double()
    v = torch.linspace(-span_y * (height - 1) / height, span_y * (height - 1) / height, height,
                       device=device, dtype=torch.float32).double()
    quarter = channels // 4
    omega = 1.0 / 100.0 ** (torch.arange(quarter, device=device, dtype=torch.float64) / quarter)
    u_angles = u[None] * omega[:, None]
    v_angles = v[None] * omega[:, None]
    return (torch.cat([u_angles.sin(), u_angles.cos()]).to(torch.float32),
            torch.cat([v_angles.sin(), v_angles.cos()]).to(torch.float32))


def uv_embedding(channels: int, height: int, width: int, aspect: float,
                 device: torch.device) -> torch.Tensor:
    """Sin/cos embedding of a pixel-centre UV grid: [4q, height, width] float32, q = channels // 4.

    Channel blocks are [sin(u w), cos(u w), sin(v w), cos(v w)] with w_k = 100^(-k/q): u varies
    along columns only and v along rows only, so the float64 products are taken of the
    [q, w] and [q, h] angle tables (:func:`uv_tables`) and broadcast.
    """
    u_table, v_table = uv_tables(channels, height, width, aspect, device)
    # The halves are stacked by zero padding and a sum (x + 0 is exact) rather than a
    # concatenation: traced, a concatenation of the broadcast tables became a [c, h, w] float64
    # buffer read channel-strided by the channels-last consumer.
    half = u_table.shape[0]
    u_map = F.pad(u_table[:, None, :].expand(half, height, width), (0, 0, 0, 0, 0, half))
    v_map = F.pad(v_table[:, :, None].expand(half, height, width), (0, 0, 0, 0, half, 0))
    return u_map + v_map


def _cached_tables(channels: int, height: int, width: int, aspect: float,
                   device: torch.device) -> Tuple[torch.Tensor, torch.Tensor]:
    """:func:`uv_tables`, kept per size; recomputed, not kept, while a CUDA graph captures.

    A tensor made during capture lives in the graph's pool and holds its values only once the
    graph replays, so it must not serve later callers.
    """
    key = (channels, height, width, aspect, device)
    tables = _tables.get(key)
    if tables is not None:
        return tables
    tables = uv_tables(channels, height, width, aspect, device)
    if device.type == 'cuda' and torch.cuda.is_current_stream_capturing():
        return tables
    return _tables.setdefault(key, tables)  # a concurrent first call keeps the first tables


@torch.library.custom_op('da3_ros::uv_embedding', mutates_args=())
def cached_uv_embedding(channels: int, height: int, width: int, aspect: float,
                        device: torch.device, dtype: torch.dtype) -> torch.Tensor:
    """:func:`uv_embedding` cast to ``dtype``, a new [4q, h, w] tensor from the kept tables.

    The values equal ``uv_embedding(...).to(dtype)``: each half is its table cast, which is what
    the padded sum adds zero to.
    """
    u_table, v_table = _cached_tables(channels, height, width, aspect, device)
    half = u_table.shape[0]
    out = torch.empty(2 * half, height, width, device=device, dtype=dtype)
    out[:half] = u_table[:, None, :]
    out[half:] = v_table[:, :, None]
    return out


@cached_uv_embedding.register_fake
def _cached_uv_embedding_shape(channels: int, height: int, width: int, aspect: float,
                               device: torch.device, dtype: torch.dtype) -> torch.Tensor:
    return torch.empty(4 * (channels // 4), height, width, device=device, dtype=dtype)


@contextlib.contextmanager
def uv_embedding_in_graph() -> Iterator[None]:
    """Compute the embedding in the traced graph (exports) instead of the cached operator."""
    global _in_graph
    previous, _in_graph = _in_graph, True
    try:
        yield
    finally:
        _in_graph = previous


def add_uv_embedding(x: torch.Tensor, image_hw: Tuple[int, int]) -> torch.Tensor:
    """Return x [N, c, h, w] + 0.1 * uv_embedding for the map size and the image aspect ratio.

    Not ``torch.compiler.is_exporting()`` to pick the form: torch 2.11's Dynamo folds it to
    True while torch.compile traces (seen on the GPU machine; torch 2.13 gives False), which
    hid the operator from the compiled forward.
    """
    channels, height, width = x.shape[1], x.shape[2], x.shape[3]
    aspect = image_hw[1] / image_hw[0]
    if _in_graph or torch.onnx.is_in_onnx_export():
        embed = uv_embedding(channels, height, width, aspect, x.device).to(x.dtype)
    else:
        embed = cached_uv_embedding(channels, height, width, aspect, x.device, x.dtype)
    return x + UV_EMBED_RATIO * embed[None]
