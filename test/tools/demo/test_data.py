"""Reading the demo's data back: the nearest frame within a tolerance, the rig's extrinsics.

Reading a whole processed output (steps, clouds) is covered by the demo run in test_cli.py.
"""
import numpy as np

from da3_ros.tools.bag.sample_recording import make_rig, RecordingSpec
from da3_ros.tools.demo.data import nearest, rig_extrinsics


def test_nearest_frame_within_the_tolerance_or_none():
    frames = {100: np.zeros(1), 200: np.ones(1)}
    assert nearest(frames, 160, 50)[0] == 1.0
    assert nearest(frames, 120, 50)[0] == 0.0
    assert nearest(frames, 150 + 100, 40) is None  # 50 ns from the closest: too far
    assert nearest({}, 100, 1000) is None


def test_rig_extrinsics_are_the_sample_rigs_for_the_chosen_cameras():
    spec = RecordingSpec()
    extr = rig_extrinsics(spec, ['front', 'back'])
    assert list(extr) == ['front', 'back']
    np.testing.assert_array_equal(extr['back'], make_rig(spec).cameras['back'].t_base_cam)
