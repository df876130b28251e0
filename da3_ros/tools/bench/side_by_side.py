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

"""Side-by-side GPU benchmark against upstream DA3 in one process (``bench --upstream``).

For every case both networks carry the same deterministic parity-rule weights and see the same
inputs. Forward cases time one network forward (CUDA events, median of ``--iters`` after
``--warmup``); step cases time our whole ``Engine.step`` (uint8 host images in, full-resolution
depth, confidence, organised and fused clouds and poses in host memory) against upstream's
``inference()`` on the same images, twice: as one synchronous step (``ours_ms``, the latency)
and pipelined, with one step's copy back in flight while the next is submitted as the node does
on CUDA (``ours_pipelined_ms``, the period; ``ratio_pipelined``, ``met_pipelined``).
Accuracy of our fast path (bf16 backbone, ``head_dtype`` heads, CUDA graph) is its deviation
from our fp32 forward, next to upstream's bf16 deviation from upstream's fp32 forward, both with
TF32 off for the fp32 references. ``torch.cuda.set_sync_debug_mode('error')`` around one eager
fast forward shows it has no host synchronisation. Writes the JSON of
``docs/benchmarks/side_by_side.json``.
"""
from dataclasses import dataclass
import io
import time
from typing import Any, Callable, Dict, List, Optional

import numpy as np
from PIL import Image
import torch

from da3_ros.config import EngineConfig, ModelConfig, OutputConfig, WindowConfig
from da3_ros.engine.decode import EncodedImage
from da3_ros.engine.engine import Engine
from da3_ros.engine.predictor import load_network, TorchPredictor
from da3_ros.engine.types import CameraFrame, ModelInput, RigFrame
from da3_ros.geometry import camera as cam_lib
from da3_ros.model.weight_rule import rule_state_dict
from da3_ros.tools.bench import upstream as bench_upstream
from da3_ros.tools.bench.accuracy import deviations
from da3_ros.tools.bench.timing import (ceilings, dynamo_counts, median_cuda_ms,
                                        median_pipelined_ms, median_wall_ms, soak_memory)
from da3_ros.tools.bench.upstream import DEFAULT_STRATEGY


@dataclass(frozen=True)
class Case:
    """One measured configuration; ``views`` = cameras x window for step cases."""

    name: str
    variant: str
    views: int
    height: int
    width: int
    stage: str  # 'forward' or 'step'
    cameras: int = 0
    target_ratio: float = 0.0  # ours must be this many times faster (0: no ratio target)
    target_ms: float = 0.0  # absolute ceiling for ours (0: none)
    jpeg: bool = False  # step input as JPEG bytes (decoded inside the step)


CASES = (
    Case('small_1v_504x504', 'da3-small', 1, 504, 504, 'forward', target_ratio=8.0),
    Case('small_6v_280x504', 'da3-small', 6, 280, 504, 'forward', target_ratio=8.0),
    Case('large_1v_504x504', 'da3-large', 1, 504, 504, 'forward', target_ratio=4.0),
    Case('large_12v_280x504', 'da3-large', 12, 280, 504, 'forward', target_ratio=3.0),
    Case('giant_24v_280x504', 'da3-giant', 24, 280, 504, 'forward', target_ratio=1.5),
    Case('large_step_6cam_T2_900x1600', 'da3-large', 12, 900, 1600, 'step', cameras=6,
         target_ratio=5.0),
    Case('large_step_jpeg_6cam_T2_900x1600', 'da3-large', 12, 900, 1600, 'step', cameras=6,
         target_ratio=5.0, jpeg=True),
    Case('small_step_6cam_T1_900x1600', 'da3-small', 6, 900, 1600, 'step', cameras=6,
         target_ms=10.0),
)


def smooth_images(count: int, hw: tuple, seed: int) -> List[np.ndarray]:
    """Natural-looking uint8 RGB images [H, W, 3]: upsampled low-resolution noise (not zeros)."""
    rng = np.random.default_rng(seed)
    small = rng.integers(0, 256, size=(count, hw[0] // 40 + 2, hw[1] // 40 + 2, 3), dtype=np.uint8)
    return [np.asarray(Image.fromarray(s).resize((hw[1], hw[0]), Image.BILINEAR)) for s in small]


class VariantBench:
    """Our network and upstream's for one variant, with the same rule weights, on CUDA."""

    def __init__(self, variant: str, precision: str, head_dtype: str, cuda_graph: bool,
                 compile_model: bool = False, with_ray: bool = False) -> None:
        self.with_ray = with_ray
        t0 = time.perf_counter()
        state = rule_state_dict(variant)
        self.cfg = ModelConfig(variant=variant, weights='random', device='cuda', dtype=precision,
                               head_dtype=head_dtype, cuda_graph=cuda_graph,
                               compile=compile_model)
        self.model = load_network(self.cfg, state)
        self.upstream = bench_upstream.Upstream(variant, state, 'cuda')
        torch.cuda.synchronize()
        self.load_s = time.perf_counter() - t0
        self.fast = self._fast_predictor()

    def _fast_predictor(self, ray: bool = False,
                        strategy: str = DEFAULT_STRATEGY) -> TorchPredictor:
        """Return the engine's fast forward; ``ray``: also compute the ray map it never reads."""
        cfg = self.cfg
        return TorchPredictor(self.model, device='cuda', dtype=cfg.dtype,
                              head_dtype=cfg.head_dtype, cuda_graph=cfg.cuda_graph,
                              compile_model=cfg.compile, ray_outputs=ray,
                              ref_view_strategy=strategy)

    def accuracy(self, images: torch.Tensor,
                 strategy: str = DEFAULT_STRATEGY) -> Dict[str, object]:
        """Fast-path deviation from our fp32 vs upstream bf16 deviation from upstream fp32.

        ``strategy`` is the reference-view choice of all four forwards. The default one is an
        argmin over per-view scores; on random views the scores nearly tie, so rounding alone
        can move the choice (and with it the world frame of every pose) on either side.
        """
        tf32 = torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32
        torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = False
        try:
            ref = TorchPredictor(self.model, device='cuda', dtype='fp32',
                                 ref_view_strategy=strategy).predict(
                ModelInput(images=images[0]))
            up_ref = bench_upstream.depth_and_extrinsics(
                self.upstream.forward_fp32(images, strategy))
        finally:
            torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = tf32
        fast_predictor = self._fast_predictor(strategy=strategy)
        up_fast = bench_upstream.depth_and_extrinsics(self.upstream.forward(images, strategy))
        fast = fast_predictor.predict(ModelInput(images=images[0]))
        # Building a predictor sets the shared model's head and MLP dtypes, so the fp32
        # reference's are undone by fast_predictor. With the default strategy it is also the
        # predictor the timings use, warm (graph captured); with another strategy the default
        # one is already in self.fast, and the flags are back to its values.
        if strategy == DEFAULT_STRATEGY:
            self.fast = fast_predictor
        return deviations(_depth_and_extrinsics(fast), _depth_and_extrinsics(ref),
                          up_fast, up_ref)

    def no_host_sync(self, images: torch.Tensor) -> bool:
        """Whether one eager fast forward runs with sync debug mode 'error' (no host sync)."""
        eager = TorchPredictor(self.model, device='cuda', dtype=self.cfg.dtype,
                               head_dtype=self.cfg.head_dtype)
        torch.cuda.synchronize()
        torch.cuda.set_sync_debug_mode('error')
        try:
            eager.predict(ModelInput(images=images[0]))
            return True
        except RuntimeError:
            return False
        finally:
            torch.cuda.set_sync_debug_mode('default')

    def engine(self, cameras: int, window: int) -> Engine:
        """Engine over this network with full-resolution outputs."""
        cfg = EngineConfig(model=self.cfg,
                           window=WindowConfig(length=window, max_views=cameras * window),
                           output=OutputConfig(resolution='full'))
        return Engine(cfg, self.fast)


def _depth_and_extrinsics(prediction) -> tuple:
    """(depth [S, H, W], extrinsics [S, 3, 4] or None) of a batch-1 Prediction."""
    extrinsics = None if prediction.extrinsics is None else prediction.extrinsics[0]
    return prediction.depth[0], extrinsics


def jpeg_bytes(image: np.ndarray, quality: int = 90) -> bytes:
    """JPEG encoding of a uint8 RGB image (what a CompressedImage carries)."""
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format='JPEG', quality=quality)
    return buffer.getvalue()


def rig_frames(images: List[Any], cameras: int, window: int) -> List[RigFrame]:
    """``window`` timesteps of ``cameras`` images (arrays or EncodedImage), pinhole intrinsics."""
    h, w = images[0].shape[:2]
    k = cam_lib.intrinsics_matrix(0.8 * w, 0.8 * w, w / 2 - 0.5, h / 2 - 0.5)
    return [RigFrame(stamp=0.1 * t, cameras=tuple(
        CameraFrame(name=f'cam{c}', image=images[t * cameras + c], k=k)
        for c in range(cameras))) for t in range(window)]


def forward_case(bench: VariantBench, case: Case, iters: int, warmup: int,
                 pinned_reference: bool = False) -> Dict[str, object]:
    """Time both forwards and check accuracy on fresh random inputs.

    ``pinned_reference`` repeats the accuracy check with the first view as every forward's
    reference (``accuracy['reference_first']``).
    """
    gen = torch.Generator(device='cuda').manual_seed(hash(case.name) % 2 ** 31)
    images = torch.randn(1, case.views, 3, case.height, case.width, device='cuda',
                         generator=gen)
    accuracy = bench.accuracy(images)
    if pinned_reference:
        accuracy['reference_first'] = bench.accuracy(images, 'first')
    no_sync = bench.no_host_sync(images)
    t0 = time.perf_counter()
    bench.fast.predict(ModelInput(images=images[0]))
    torch.cuda.synchronize()
    first_call_s = time.perf_counter() - t0
    ours = median_cuda_ms(lambda: bench.fast.predict(ModelInput(images=images[0])), iters, warmup)
    upstream = median_cuda_ms(lambda: bench.upstream.forward(images), iters, warmup)
    out = {'ours_ms': ours, 'upstream_ms': upstream, 'accuracy': accuracy,
           'no_host_sync': no_sync, 'first_call_s': first_call_s}
    if bench.with_ray:  # upstream's forward computes the ray map and drops it (spec 5.2)
        with_ray = bench._fast_predictor(ray=True)
        out['ours_with_ray_ms'] = median_cuda_ms(
            lambda: with_ray.predict(ModelInput(images=images[0])), iters, warmup)
    return out


def step_case(bench: VariantBench, case: Case, iters: int, warmup: int,
              soak: int = 0) -> Dict[str, object]:
    """Whole engine step vs upstream inference() on the same uint8 host images."""
    window = case.views // case.cameras
    images = smooth_images(case.views, (case.height, case.width), seed=case.views)
    engine = bench.engine(case.cameras, window)
    if case.jpeg:
        blobs = [jpeg_bytes(image) for image in images]
        frames = rig_frames([EncodedImage.inspect(b) for b in blobs], case.cameras, window)
    else:
        frames = rig_frames(images, case.cameras, window)
    state = {'i': 0}

    def one_step():
        frame = frames[state['i'] % window]
        state['i'] += 1
        return engine.step(RigFrame(stamp=0.1 * state['i'], cameras=frame.cameras))

    def one_submit():
        frame = frames[state['i'] % window]
        state['i'] += 1
        return engine.submit(RigFrame(stamp=0.1 * state['i'], cameras=frame.cameras))

    t0 = time.perf_counter()
    for _ in range(window + 1):  # fill the window; the first full step compiles or captures
        one_step()
    first_steps_s = time.perf_counter() - t0
    ours = median_wall_ms(one_step, iters, warmup)
    pipelined = median_pipelined_ms(one_submit, iters, warmup)
    if case.jpeg:  # upstream takes decoded images: its CPU decode belongs to its time
        def upstream_call():
            return bench.upstream.inference([np.asarray(Image.open(io.BytesIO(b)).convert('RGB'))
                                             for b in blobs])
    else:
        def upstream_call():
            return bench.upstream.inference(images)
    upstream = median_wall_ms(upstream_call, max(iters // 2, 5), 2)
    out = {'ours_ms': ours, 'upstream_ms': upstream, 'first_call_s': first_steps_s,
           'ours_pipelined_ms': pipelined}
    result = one_step()
    out['stages_ms'] = None if result is None else dict(result.timings)
    if soak:
        out['soak'] = soak_memory(one_step, soak)
    return out


def versions() -> Dict[str, Optional[str]]:
    """Versions that the numbers depend on."""
    import importlib.metadata as md
    out = {'torch': torch.__version__, 'cuda': torch.version.cuda,
           'cudnn': str(torch.backends.cudnn.version())}
    for name in ('depth-anything-3', 'da3_ros'):
        try:
            out[name] = md.version(name)
        except md.PackageNotFoundError:
            out[name] = None
    return out


def _meets(case: Case, ours_ms: float, upstream_ms: float) -> bool:
    return (upstream_ms / ours_ms >= case.target_ratio
            and (not case.target_ms or ours_ms <= case.target_ms))


def case_entry(case: Case, load_s: float, measured: Dict[str, object]) -> Dict[str, object]:
    """One entry of the report: the case, what was measured, the ratios and whether each is met.

    ``ratio`` compares ``ours_ms`` with upstream; ``ratio_with_ray`` our forward computing the
    ray branch (when timed); ``ratio_pipelined`` the node's steady state (step cases).
    """
    entry = {'case': case.name, 'variant': case.variant, 'views': case.views,
             'height': case.height, 'width': case.width, 'stage': case.stage,
             'weights_and_build_s': load_s, **measured}
    entry['ratio'] = entry['upstream_ms'] / entry['ours_ms']
    if 'ours_with_ray_ms' in entry:
        entry['ratio_with_ray'] = entry['upstream_ms'] / entry['ours_with_ray_ms']
    entry['target_ratio'], entry['target_ms'] = case.target_ratio, case.target_ms
    entry['met'] = _meets(case, entry['ours_ms'], entry['upstream_ms'])
    if 'ours_pipelined_ms' in entry:  # the node's steady state on CUDA (overlap)
        entry['ratio_pipelined'] = entry['upstream_ms'] / entry['ours_pipelined_ms']
        entry['met_pipelined'] = _meets(case, entry['ours_pipelined_ms'], entry['upstream_ms'])
    return entry


def run(precision: str, head_dtype: str, cuda_graph: bool, iters: int, warmup: int,
        only: Optional[List[str]] = None, soak: int = 0, log=print,
        compile_model: bool = False, with_ray: bool = False,
        save: Optional[Callable[[Dict[str, object]], None]] = None,
        pinned_reference: bool = False) -> Dict[str, object]:
    """Run every case (or those named in ``only``); return the side-by-side report.

    ``save`` receives the report after every case, so a run cut short keeps what it measured.
    """
    if not bench_upstream.available():
        raise SystemExit('bench --upstream: the depth_anything_3 package is not importable '
                         '(pip install depth-anything-3==0.1.1 for the benchmark only)')
    report = {'gpu': torch.cuda.get_device_name(), 'versions': versions(),
              'ceilings': ceilings(), 'settings': {'precision': precision,
                                                   'head_dtype': head_dtype,
                                                   'cuda_graph': cuda_graph, 'iters': iters,
                                                   'compile': compile_model,
                                                   # upstream's forward computes the ray
                                                   # map and drops it; ours (the engine's)
                                                   # skips it; with_ray also times ours
                                                   # computing it (ours_with_ray_ms)
                                                   'ray_branch_also_timed': with_ray,
                                                   'warmup': warmup},
              'entries': []}
    log(f"ceilings {report['ceilings']}")
    cases = [c for c in CASES if not only or c.name in only]
    for variant in dict.fromkeys(c.variant for c in cases):
        bench = VariantBench(variant, precision, head_dtype, cuda_graph, compile_model,
                             with_ray)
        log(f'{variant}: weights and both networks ready in {bench.load_s:.1f} s')
        for case in (c for c in cases if c.variant == variant):
            soak_steps = soak if case.stage == 'step' and case.variant == 'da3-small' else 0
            measured = (forward_case(bench, case, iters, warmup, pinned_reference)
                        if case.stage == 'forward'
                        else step_case(bench, case, iters, warmup, soak_steps))
            entry = case_entry(case, bench.load_s, measured)
            entry['dynamo_so_far'] = dynamo_counts()
            report['entries'].append(entry)
            if save is not None:
                save(report)
            if 'ours_pipelined_ms' in entry:
                log(f"{case.name:<30} pipelined {entry['ours_pipelined_ms']:8.2f} ms  stages "
                    f"{entry.get('stages_ms')}")
            if 'ratio_with_ray' in entry:
                log(f"{case.name:<30} ours computing the ray map {entry['ours_with_ray_ms']:8.2f}"
                    f" ms  x{entry['ratio_with_ray']:.2f}")
            log(f"{case.name:<30} ours {entry['ours_ms']:8.2f} ms  upstream "
                f"{entry['upstream_ms']:8.2f} ms  x{entry['ratio']:.2f}  "
                f"{'met' if entry['met'] else 'NOT met'}")
        del bench
        torch.cuda.empty_cache()
    return report
