"""The demo page explains each number it shows (the page itself is checked in test_cli.py)."""
from da3_ros.tools.demo import page as demo_page


def test_numbers_explain_each_metric():
    rows = demo_page.numbers({'depth_mean': {'abs_rel': 0.1, 'delta1': 0.9},
                              'trajectory': {'ate_m': 0.2, 'poses': 5, 'with_scale': True},
                              'depth_metric': False})
    assert [r[0] for r in rows] == ['AbsRel (mean over cameras)', 'delta < 1.25', 'ATE [m]',
                                    'depth is relative']
    assert all(len(r[2].split()) > 5 for r in rows) and 'similarity' in rows[2][2]
