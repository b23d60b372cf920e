"""Reading user-given 2D point sets (the custom dataset) from CSV or .npy, with clear errors."""
from __future__ import annotations

import io
from pathlib import Path

import numpy as np

from .config import MAX_COORDINATE, MAX_CUSTOM_POINTS, ConfigError

MAX_POINTS_FILE_BYTES = 5 * 2**20


def read_points(source) -> tuple:
    """((x, y), ...) from a path or bytes: CSV with two numeric columns (an optional header
    line is skipped), or a .npy float array of shape (n, 2), loaded without pickle."""
    data, name = _bytes_of(source)
    if not data.strip():
        raise ConfigError("custom_points: the file is empty")
    if data[:6] == b"\x93NUMPY":
        points = _npy_points(data)
    else:
        points = _csv_points(data)
    if points.ndim != 2 or points.shape[1] != 2 or len(points) == 0:
        raise ConfigError(f"custom_points: {name} must hold rows of two numbers (x, y)")
    if len(points) > MAX_CUSTOM_POINTS:
        raise ConfigError(f"custom_points: at most {MAX_CUSTOM_POINTS} points, "
                          f"{name} has {len(points)}")
    if not np.isfinite(points).all():
        raise ConfigError(f"custom_points: {name} holds NaN or infinite values")
    if np.abs(points).max() > MAX_COORDINATE:
        raise ConfigError(f"custom_points: every coordinate must be within "
                          f"±{MAX_COORDINATE:,.0f}; {name} has one beyond")
    return tuple(map(tuple, points.tolist()))


def _bytes_of(source) -> tuple[bytes, str]:
    if isinstance(source, (bytes, bytearray)):
        data, name = bytes(source), "the file"
    else:
        path = Path(source)
        if not path.is_file():
            raise ConfigError(f"custom_points: no file at {path}")
        if path.stat().st_size > MAX_POINTS_FILE_BYTES:
            raise ConfigError(f"custom_points: {path.name} is larger than "
                              f"{MAX_POINTS_FILE_BYTES >> 20} MB")
        data, name = path.read_bytes(), path.name
    if len(data) > MAX_POINTS_FILE_BYTES:
        raise ConfigError(f"custom_points: the file is larger than {MAX_POINTS_FILE_BYTES >> 20} MB")
    return data, name


def _npy_points(data: bytes) -> np.ndarray:
    try:
        return np.asarray(np.load(io.BytesIO(data), allow_pickle=False), dtype=float)
    except (ValueError, OSError, TypeError):
        raise ConfigError("custom_points: the .npy file is damaged or not a numeric array") from None


def _csv_points(data: bytes) -> np.ndarray:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ConfigError("custom_points: the file is neither text (CSV) nor .npy") from None
    rows = [line for line in text.replace(";", ",").splitlines() if line.strip()]
    values = []
    for number, line in enumerate(rows, start=1):
        cells = [c.strip() for c in line.split(",")]
        try:
            values.append([float(c) for c in cells[:2]] if len(cells) >= 2 else None)
        except ValueError:
            if number == 1:      # a header line such as "x,y"
                continue
            raise ConfigError(f"custom_points: line {number} is not two numbers: {line[:40]!r}") from None
        if values[-1] is None:
            raise ConfigError(f"custom_points: line {number} needs two columns x, y")
    return np.asarray(values, dtype=float).reshape(-1, 2) if values else np.zeros((0, 2))
