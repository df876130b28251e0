"""Join helpers: the overlap fit recovers a known Sim(3) / SE(3); depth and clouds rescale."""
import numpy as np
from tools import bag_fixtures as bf  # test/ is on sys.path

from da3_ros.geometry import pose as pose_lib
from da3_ros.geometry.align import Sim3
from da3_ros.ros.cloud import cloud_to_arrays, organized_cloud
from da3_ros.ros.convert import depth_to_image, image_to_depth
from da3_ros.tools.bag_io import make_typestore, msg_types
from da3_ros.tools.fleet import join

CONFIG = bf.small_config()


def _chain(count=6, cams=('front', 'back')):
    rng = np.random.default_rng(4)
    poses = {}
    for k in range(count):
        poses[1000 + k] = {name: pose_lib.make_pose(pose_lib.so3_exp(rng.normal(size=3)),
                                                    rng.normal(scale=3.0, size=3))
                           for name in cams}
    return poses


def _moved(poses, sim):
    return {s: {c: sim.apply_pose(p) for c, p in cams.items()} for s, cams in poses.items()}


def test_fit_recovers_sim3_and_se3():
    chain = _chain()
    truth = Sim3(1.7, pose_lib.so3_exp(np.array([0.2, -0.4, 0.9])), np.array([3.0, -1.0, 2.0]))
    own = _moved(chain, truth.inverse())
    fit, info = join._align(own, chain, False, CONFIG, 'x#001')
    assert abs(fit.scale - 1.7) < 1e-9 and info['rms'] < 1e-9
    assert np.allclose(fit.matrix(), truth.matrix(), atol=1e-8)
    rigid = Sim3(1.0, truth.rotation, truth.translation)
    fit, info = join._align(_moved(chain, rigid.inverse()), chain, True, CONFIG, 'x#001')
    assert fit.scale == 1.0 and np.allclose(fit.matrix(), rigid.matrix(), atol=1e-8)


def test_too_little_overlap_is_an_error():
    chain = _chain(count=1, cams=('front',))
    try:
        join._align(chain, chain, True, CONFIG, 'x#002')
    except join.JoinError as err:
        assert 'x#002' in str(err) and 'overlap' in str(err)
    else:
        raise AssertionError('one shared pose must not be enough')


def test_depth_and_cloud_rescale():
    types = msg_types(make_typestore())
    depth = np.array([[1.0, np.nan], [2.5, 10.0]], np.float32)
    scaled = image_to_depth(join._scaled_image(depth_to_image(types, depth, 5, 'cam'), 2.0))
    assert np.array_equal(scaled, depth * 2, equal_nan=True)
    mm = depth_to_image(types, depth, 5, 'cam', encoding='16UC1')
    assert np.allclose(image_to_depth(join._scaled_image(mm, 0.5)), [[0.5, np.nan],
                                                                     [1.25, 5.0]],
                       equal_nan=True, atol=1e-3)
    points = np.arange(12, dtype=np.float32).reshape(2, 2, 3)
    cloud = organized_cloud(types, points, 5, 'cam', confidence=np.full((2, 2), 3.0))
    out = cloud_to_arrays(join._scaled_cloud(cloud, 3.0))
    assert np.array_equal(np.stack([out['x'], out['y'], out['z']], -1), points * 3)
    assert np.array_equal(out['confidence'], np.full((2, 2), 3.0, np.float32))
