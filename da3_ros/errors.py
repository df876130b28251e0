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

"""Typed errors of da3_ros; every message names the offending value."""
import difflib
from typing import Iterable


class Da3Error(Exception):
    """Base class of every error raised by da3_ros library code."""


class ConfigError(Da3Error, ValueError):
    """A configuration value is invalid (the message names the field and the value)."""


class WeightsError(Da3Error):
    """A checkpoint cannot be loaded strictly (missing, truncated, wrong keys or shapes)."""


class ConversionError(Da3Error, ValueError):
    """A message or array cannot be converted (wrong encoding, size, step, NaN, ...)."""


class SyncError(Da3Error):
    """Synchronisation or transform lookup failed (extrapolation, unknown frame, clock jump)."""


def did_you_mean(word: str, known: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` naming the closest of ``known`` to a misspelt ``word``, or ''."""
    close = difflib.get_close_matches(word, sorted(known), n=1, cutoff=0.6)
    return f' (did you mean {close[0]!r}?)' if close else ''
