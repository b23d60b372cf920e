"""One contour line of a surface on a grid, as polylines: marching squares, then the segments
chained end to end.

The browser player draws D's decision boundary from these as one SVG path (a dashed line only
looks dashed along whole polylines, hence the chaining) instead of having plotly.js compute a
contour trace for every frame of every panel.
"""
from __future__ import annotations

import numpy as np


def contour_segments(x: np.ndarray, y: np.ndarray, z: np.ndarray, level: float) -> np.ndarray:
    """(S, 2, 2) segments where z crosses `level`; z[i, j] sits at (x[j], y[i]).

    Marching squares with linear interpolation along cell edges; a saddle cell (opposite
    corners on the same side) is split by its centre value. Cells with a non-finite corner
    are skipped.
    """
    z = np.asarray(z, dtype=float)
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if z.ndim != 2 or min(z.shape) < 2:
        return np.empty((0, 2, 2))
    a, b = z[:-1, :-1], z[:-1, 1:]        # corners of each cell: a b (bottom), d c (top)
    c, d = z[1:, 1:], z[1:, :-1]
    finite = np.isfinite(a) & np.isfinite(b) & np.isfinite(c) & np.isfinite(d)
    above = [v > level for v in (a, b, c, d)]
    case = (above[0] * 1 + above[1] * 2 + above[2] * 4 + above[3] * 8) * finite
    x0, x1 = x[None, :-1], x[None, 1:]
    y0, y1 = y[:-1, None], y[1:, None]

    def cross(v0, v1, p0, p1):
        with np.errstate(divide="ignore", invalid="ignore"):
            t = np.where(v1 != v0, (level - v0) / (v1 - v0), 0.5)
        return p0 + np.clip(t, 0.0, 1.0) * (p1 - p0)

    # the crossing point on each of a cell's four edges: bottom, right, top, left
    shape = case.shape
    ex = np.stack([cross(a, b, x0, x1), np.broadcast_to(x1, shape), cross(d, c, x0, x1),
                   np.broadcast_to(x0, shape)])
    ey = np.stack([np.broadcast_to(y0, shape), cross(b, c, y0, y1), np.broadcast_to(y1, shape),
                   cross(a, d, y0, y1)])
    # each cell's case (and, for a saddle, whether its centre is above) -> its edge pairs
    centre_above = (a + b + c + d) / 4 > level
    key = case + 16 * (centre_above & ((case == 5) | (case == 10)))
    pairs = _EDGE_PAIRS[key]                                   # (rows, cols, 2, 2)
    rows, cols, which = np.nonzero(pairs[..., 0] >= 0)
    e0, e1 = pairs[rows, cols, which, 0], pairs[rows, cols, which, 1]
    segments = np.stack([np.stack([ex[e0, rows, cols], ey[e0, rows, cols]], -1),
                         np.stack([ex[e1, rows, cols], ey[e1, rows, cols]], -1)], 1)
    # a contour through a grid node gives zero-length pieces there: nothing to draw
    return segments[np.any(np.abs(segments[:, 0] - segments[:, 1]) > 1e-12, axis=1)]


def _edge_pairs() -> np.ndarray:
    """(32, 2, 2): for a cell's case (+ 16 for a saddle whose centre is above), up to two
    segments, each a pair of edges (0 bottom, 1 right, 2 top, 3 left); -1 where none.

    Saddles (cases 5 and 10: two corners above, diagonal): with the centre above, the corners
    above join and each corner below is cut off by its own segment; with the centre below,
    the reverse."""
    bottom, right, top, left = range(4)
    table = np.full((32, 2, 2), -1)
    single = {1: (left, bottom), 2: (bottom, right), 3: (left, right), 4: (right, top),
              6: (bottom, top), 7: (left, top), 8: (top, left), 9: (bottom, top),
              11: (right, top), 12: (right, left), 13: (bottom, right), 14: (left, bottom)}
    for code, pair in single.items():
        table[code, 0] = pair
    cut_off = {"a": (left, bottom), "b": (bottom, right), "c": (right, top), "d": (top, left)}
    for code, corners_above, corners_below in ((5, "ac", "bd"), (10, "bd", "ac")):
        for centre_above, isolated in ((True, corners_below), (False, corners_above)):
            for slot, corner in enumerate(isolated):
                table[code + 16 * centre_above, slot] = cut_off[corner]
    return table


_EDGE_PAIRS = _edge_pairs()


def chain(segments: np.ndarray, decimals: int = 9) -> list[np.ndarray]:
    """Segments joined end to end into polylines ((n, 2) arrays), longest first."""
    if len(segments) == 0:
        return []
    points = np.round(segments.reshape(-1, 2), decimals)    # endpoint k of segment k // 2
    _, node = np.unique(points, axis=0, return_inverse=True)
    node = node.ravel().tolist()
    ends: dict[int, list[int]] = {}
    for k, n in enumerate(node):
        ends.setdefault(n, []).append(k)
    used = [False] * len(segments)
    lines = []
    for start in range(len(segments)):
        if used[start]:
            continue
        used[start] = True
        line = [2 * start, 2 * start + 1]
        for forward in (True, False):          # grow from the tail, then from the head
            while True:
                tip = line[-1] if forward else line[0]
                nxt = next((k for k in ends[node[tip]] if not used[k // 2]), None)
                if nxt is None:
                    break
                used[nxt // 2] = True
                other = nxt ^ 1                # the segment's other end
                line.append(other) if forward else line.insert(0, other)
        lines.append(points[line])
    return sorted(lines, key=len, reverse=True)


def contour_lines(x, y, z, level: float) -> list[np.ndarray]:
    """The polylines where z crosses `level`."""
    return chain(contour_segments(x, y, z, level))
