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

"""Top-view plots of the demo: trajectories against the truth, clouds with cameras, axis steps.

Colour maps, sheets and PLY files are tested in test_visualize.py.
"""
import numpy as np

from da3_ros.tools.demo import plots, visualize


def test_top_views_draw_paths_and_cameras():
    truth = np.array([[0.0, 0.0, 0.0], [1.0, 0.0, 0.0], [2.0, 0.5, 0.0]])
    plot = plots.trajectory_plot(truth + 0.1, truth, 'trajectory')
    assert plot.shape == (480, 640, 3)
    assert (np.abs(plot.astype(int) - plots.EST_RGB).sum(axis=2) == 0).any()
    assert (np.abs(plot.astype(int) - plots.TRUE_RGB).sum(axis=2) == 0).any()
    cams = {'front': np.eye(4)}
    cams['front'][:3, :3] = [[0, 0, 1], [-1, 0, 0], [0, -1, 0]]  # optical z = base x
    cloud = np.array([[10.0, 0.0, 1.0], [5.0, 2.0, -1.0]])
    height = visualize.fit_scale([cloud[:, 2]], 'height', 'm')
    top = plots.cloud_top_view(cloud, height, cams, 'cloud')
    assert top.shape == (640, 640, 3)
    assert plots.nice_step(10.0) == 2.0 and plots.nice_step(0.9) == 0.2
