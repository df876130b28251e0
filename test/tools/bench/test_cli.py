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

"""Tests of the benchmark tool on CPU with a tiny configuration."""
import json
import subprocess
import sys

import torch

from da3_ros.tools.bench import cli as bench


def test_bench_writes_table_and_json(tmp_path, capsys):
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        out = tmp_path / 'bench.json'
        assert bench.main(['--variant', 'da3-small', '--cameras', '2', '--window', '2',
                           '--resolution', '28x42', '--precision', 'fp32', '--device', 'cpu',
                           '--iters', '2', '--warmup', '1', '--json', str(out)]) == 0
    finally:
        torch.set_num_threads(threads)
    report = json.loads(out.read_text())
    assert report['views'] == 4 and report['resolution'] == [28, 42]
    for stage in ('preprocess', 'forward', 'postprocess', 'total'):
        assert report['latency_ms'][stage]['p90'] >= report['latency_ms'][stage]['p50'] > 0
    assert report['flops'] > 1e9 and report['forward_tflops_per_s'] > 0
    assert report['views_per_s'] > 0 and report['peak_memory_bytes'] is None
    assert 'TFLOP/s' in capsys.readouterr().out


def test_bench_defaults_to_parity_weights_and_the_ignored_output_folder(repo_root):
    args = bench.parse_args([])
    assert args.weights == 'parity' and args.json.startswith('bench_out/')
    ignored = (repo_root / '.gitignore').read_text().split()
    assert '/' + args.json.split('/')[0] + '/' in ignored


def test_module_run_is_the_bench_command_line(repo_root):
    done = subprocess.run([sys.executable, '-m', 'da3_ros.tools.bench', '--help'], cwd=repo_root,
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith('usage: python -m da3_ros.tools.bench ')
