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

"""Timing helpers of the side-by-side benchmark (host clock; nothing here times itself)."""
from da3_ros.tools.bench import timing


def test_wall_median_calls_warmup_then_iters_times():
    calls = []
    assert timing.median_wall_ms(lambda: calls.append(1), iters=4, warmup=2) >= 0.0
    assert len(calls) == 6


def test_pipelined_period_overlaps_each_wait_with_the_next_submit():
    log = []

    class Pending:
        def __init__(self, n):
            self.n = n

        def result(self):
            log.append(('wait', self.n))

    count = iter(range(100))

    def submit():
        n = next(count)
        log.append(('submit', n))
        return Pending(n)

    timing.median_pipelined_ms(submit, iters=3, warmup=1)
    assert log == [('submit', 0), ('submit', 1), ('wait', 0), ('submit', 2), ('wait', 1),
                   ('submit', 3), ('wait', 2), ('wait', 3)]


def test_dynamo_counts_see_a_graph_break_and_not_a_clean_graph():
    import torch

    def clean(x):
        return torch.sin(x) + 1

    def broken(x):
        y = torch.sin(x)
        torch._dynamo.graph_break()
        return y + 1

    x = torch.ones(3)
    torch._dynamo.reset()
    before = timing.dynamo_counts()
    torch.compile(clean, backend='eager')(x)
    after_clean = timing.dynamo_counts()
    torch.compile(broken, backend='eager')(x)
    after_broken = timing.dynamo_counts()
    assert after_clean['graph_breaks'] == before['graph_breaks']
    assert after_clean['graphs_compiled'] == before['graphs_compiled'] + 1
    assert after_broken['graph_breaks'] > after_clean['graph_breaks']
