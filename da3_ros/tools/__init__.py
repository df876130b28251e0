"""Offline tools above the node's layers.

One subpackage per multi-module tool (``bag``, ``demo``, ``bench``, ``fleet``); single-module
tools (``parity``, ``replay``, ``export``, ``trt_check``, ...) beside them.
"""
