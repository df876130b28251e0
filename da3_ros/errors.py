"""Typed errors of da3_ros; every message names the offending value."""


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
