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

"""ONNX export through onnxruntime on the CPU against the golden fixtures and the torch forward.

Each graph is exported once per module (dynamo exporter, fp32) and run with onnxruntime; its raw
outputs are finished with ``to_prediction`` exactly as the graph backends do. Tolerance: the
golden-parity tolerances of ``da3_ros.tools.parity`` (max relative error 1e-4 per output,
element-wise 2e-4 for depth and confidences), against the upstream fixture outputs; and 1e-4
max relative error against our torch fp32 forward on other seeds.
"""
import json
import os

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch

from da3_ros.errors import ConfigError
from da3_ros.model import build_model
from da3_ros.model.export import (check_shape, example_inputs, export_onnx, GraphShape,
                                  input_names, output_names, to_prediction)
from da3_ros.model.weight_rule import rule_state_dict
from da3_ros.model.weights import load_state_dict_strict
from da3_ros.tools import parity

pytestmark = pytest.mark.slow
DATA = os.path.join(os.path.dirname(__file__), '..', 'data', 'parity')
FIXTURES = ('da3-small_s3_126x182', 'da3-small_s3_pose_126x182', 'da3-base_s3_140x182')
TORCH_TOLERANCE = 1e-4


def _network(variant, seed):
    with torch.device('meta'):
        net = build_model(variant)
    load_state_dict_strict(net, rule_state_dict(variant, seed))
    return net.eval()


@pytest.fixture(scope='module', params=FIXTURES)
def exported(request, tmp_path_factory):
    """(fixture arrays, meta, network, shape, onnxruntime session) of one golden fixture."""
    with np.load(os.path.join(DATA, request.param + '.npz')) as data:
        arrays = dict(data)
    meta = json.loads(str(arrays['meta_json']))
    net = _network(meta['variant'], int(meta['base_seed']))
    shape = GraphShape(meta['variant'], int(meta['S']), int(meta['H']), int(meta['W']),
                       pose='in_extrinsics' in arrays)
    path = str(tmp_path_factory.mktemp('onnx') / f'{request.param}.onnx')
    export_onnx(net, shape, path)
    session = ort.InferenceSession(path, providers=['CPUExecutionProvider'])
    return arrays, net, shape, session, path


def _run(session, shape, inputs):
    arrays = session.run(None, {n: x.numpy() for n, x in zip(input_names(shape), inputs)})
    raw = {o.name: torch.from_numpy(a) for o, a in zip(session.get_outputs(), arrays)}
    torch.manual_seed(0)
    return to_prediction(shape, raw)


def test_onnx_matches_the_golden_fixture(exported):
    arrays, _, shape, session, _ = exported
    inputs = (torch.from_numpy(arrays['in_images']),)
    if shape.pose:
        inputs += (torch.from_numpy(arrays['in_extrinsics']),
                   torch.from_numpy(arrays['in_intrinsics']))
    pred = _run(session, shape, inputs)
    compared = {}
    for name in ('depth', 'depth_conf', 'extrinsics', 'intrinsics', 'ray', 'ray_conf'):
        compared[name] = parity.compare(name, getattr(pred, name).numpy(),
                                        arrays['out_' + name], nested=False)
    assert all(r['ok'] for r in compared.values()), json.dumps(compared)


def test_onnx_matches_torch_on_other_images(exported):
    _, net, shape, session, _ = exported
    inputs = example_inputs(shape, seed=11)
    pred = _run(session, shape, inputs)
    with torch.no_grad():
        torch.manual_seed(0)
        ref = net(*inputs)
    for name in output_names(shape.variant):
        want = getattr(ref, name)
        rel = float((getattr(pred, name) - want).abs().max() / want.abs().max())
        assert rel < TORCH_TOLERANCE, (name, rel)


def test_graph_has_no_control_flow_and_records_its_shape(exported):
    _, _, shape, session, path = exported
    ops = {node.op_type for node in onnx.load(path, load_external_data=False).graph.node}
    assert not ops & {'If', 'Loop', 'Scan'}
    assert ('ArgMin' in ops) == (not shape.pose)  # reference-view selection inside the graph
    meta = session.get_modelmeta().custom_metadata_map
    assert (meta['da3.variant'], meta['da3.views']) == (shape.variant, str(shape.views))
    assert [i.name for i in session.get_inputs()] == list(input_names(shape))
    assert [o.name for o in session.get_outputs()] == list(output_names(shape.variant))


def test_unsupported_combinations_are_refused():
    with pytest.raises(ConfigError, match='camera encoder'):
        check_shape(GraphShape('da3mono-large', 1, 56, 56, pose=True))
    with pytest.raises(ConfigError, match='multiple of 14'):
        check_shape(GraphShape('da3-small', 1, 50, 56))
    with pytest.raises(ConfigError, match='views'):
        check_shape(GraphShape('da3-small', 0, 56, 56))
    with pytest.raises(ConfigError, match='unknown DA3 variant'):
        check_shape(GraphShape('da3-tiny', 1, 56, 56))
