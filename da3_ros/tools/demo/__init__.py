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

"""The demo (``python -m da3_ros.tools.demo``, ``make demo``): sample recording to a web page.

``cli`` is the command line, ``run`` renders and processes the recording, ``data`` reads the
output bag back, ``novel`` adds the what-if views, ``page`` writes ``index.html``, ``plots`` and
``visualize`` draw the pictures. Importing the package imports none of them.
"""
