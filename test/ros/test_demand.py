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

"""demand: consumed topics -> engine OutputRequest (what nobody reads is not computed)."""
import dataclasses

from da3_ros.ros.demand import output_request
from da3_ros.ros.messages.rig_output import OutputOptions

CAMS = ('front', 'back')


def _per_camera(request):
    return {cam: set(request.for_camera(cam)) for cam in CAMS}


def test_every_enabled_topic_when_topics_is_none():
    request = output_request(OutputOptions(), CAMS)
    assert _per_camera(request) == {c: {'depth', 'confidence', 'cloud'} for c in CAMS}
    assert request.fused_cloud
    off = OutputOptions(depth=False, confidence=False, camera_clouds=False, fused_cloud=False,
                        rig_step=False)
    request = output_request(off, CAMS)
    assert _per_camera(request) == {c: set() for c in CAMS} and not request.fused_cloud


def test_subscribed_topics_select_outputs():
    request = output_request(OutputOptions(), CAMS, {'front/depth/camera_info', 'back/points'})
    assert _per_camera(request) == {'front': {'depth'}, 'back': {'cloud'}}
    assert not request.fused_cloud
    assert output_request(OutputOptions(), CAMS, {'points', '/tf'}).fused_cloud
    assert _per_camera(output_request(OutputOptions(), CAMS, set())) == {c: set() for c in CAMS}


def test_rig_step_and_cloud_confidence_need_maps():
    options = dataclasses.replace(OutputOptions(depth=False, confidence=False),
                                  cloud_confidence=True)
    request = output_request(options, CAMS, {'rig_step'})
    assert _per_camera(request) == {c: {'depth', 'confidence'} for c in CAMS}
    request = output_request(options, CAMS, {'front/points', 'front/depth'})
    assert _per_camera(request) == {'front': {'cloud', 'confidence'}, 'back': set()}
    request = output_request(OutputOptions(), CAMS, set(), extra=('depth',))
    assert _per_camera(request) == {c: {'depth'} for c in CAMS}
