"""The demo run's depth error map: AbsRel, with median scaling for relative depth.

The whole demo run (files, pages, Ctrl-C) is tested end to end in test_cli.py.
"""
import numpy as np

from da3_ros.tools.demo import run as demo_run


def test_error_map_is_abs_rel_and_median_scales_relative_depth():
    truth = np.array([[2.0, 4.0, np.nan]])
    np.testing.assert_allclose(demo_run.error_map(truth * 1.5, truth, metric=True)[0, :2],
                               [0.5, 0.5])
    np.testing.assert_allclose(demo_run.error_map(truth * 1.5, truth, metric=False)[0, :2],
                               [0.0, 0.0], atol=1e-6)
    assert np.isnan(demo_run.error_map(truth, truth, metric=True)[0, 2])
