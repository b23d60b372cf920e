"""Strict JSON: what the command line prints and a sweep's file holds.

json.dumps writes NaN and inf as NaN / Infinity, which are not JSON (jq, browsers and most
parsers reject them); a collapsed run's reverse KL is inf, a diverged one's losses NaN. Here
they become null, and NumPy scalars plain numbers.
"""
from __future__ import annotations

import json
import math

import numpy as np


def strict(value):
    """`value` with NaN / infinite floats as None and NumPy scalars as Python ones."""
    if isinstance(value, (float, np.floating)):
        value = float(value)
        return value if math.isfinite(value) else None
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, dict):
        return {k: strict(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [strict(v) for v in value]
    return value


def dumps(value, **kwargs) -> str:
    """json.dumps of strict(value); never writes NaN or Infinity."""
    return json.dumps(strict(value), allow_nan=False, **kwargs)
