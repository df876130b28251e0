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

"""One BLAS thread for the engine's host stages (window geometry and alignment).

The host alignment runs many small numpy products and factorisations. OpenBLAS spreads some
of them over its own thread pool, whose threads then compete for the cores with torch's
OpenMP threads (both pools busy-wait between calls) and with the main thread itself. On a
16-core H100 host, one da3-large 6 x 2 step at 1600 x 900 spent 3.5 ms in ``host_geometry``
and 5.6 ms in the window alignment with OpenBLAS's default threads, against 2.0 and 3.3 ms with
one (``OPENBLAS_NUM_THREADS=1``); on the 2-core development machine a RANSAC start was 20x
slower right after a torch op. The stage is too small to gain from threads at all.

``threadpoolctl`` (the library scikit-learn uses for the same purpose) limits the pools of the
BLAS libraries loaded in the process for the duration of a ``with`` block and restores them
after. The limit is process-wide while it lasts (a few milliseconds per step): BLAS calls of
other threads in that time run on one thread too; the rest of the time they keep their own.
"""
import functools

from threadpoolctl import ThreadpoolController


@functools.lru_cache(maxsize=1)
def _controller() -> ThreadpoolController:
    """Find the process's thread pools once (numpy's BLAS is loaded by then)."""
    return ThreadpoolController()


def single_threaded_blas():
    """Context manager: the BLAS libraries use one thread inside, their own setting after."""
    return _controller().limit(limits=1, user_api='blas')
