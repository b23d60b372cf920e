"""Phase diagrams of the Dirac-GAN and the bilinear game from the spectral radius, with the
closed-form stability boundary.

Two diagrams, both over the linearisation at the equilibrium (gan_core.dirac_stability):

* "h-gamma": step size h × the regulariser's weight (R1 γ, consensus γ, instance-noise σ,
  WGAN-GP γ with target 0);
* "ratio-k": the step-size ratio lr_ratio = h_ψ / h_θ × k = d_steps, the discriminator's
  steps per generator step (alternating updates).

Each cell is read from ρ over the run's length N as the runs are (`outcome_from_rho`):
converges when ρ^(N/2) < 1/1.05, diverges above 1.05, cycles in between.

The boundary ρ = 1 comes from a closed form for plain gradient descent (optimizer gd, no
momentum), whose update is a 2×2 matrix M with J = [[−p, −a], [a, −q]] and step sizes h
(θ) and rh (ψ):

* simultaneous:  M = I + h·diag(1, r)·J, so
  tr M = 2 − hp − rhq,   det M = (1 − hp)(1 − rhq) + r h² a²;
* alternating, k steps of ψ then one of θ: with c = 1 − rhq, C = c^k and
  B = rha·(1 + c + … + c^(k−1)) (ψ after its k steps is Cψ + Bθ),
  tr M = 1 − hp − haB + C,   det M = (1 − hp)·C.

Both eigenvalues of a real 2×2 matrix lie inside the unit circle iff (Jury's criterion)
    1 − det > 0,  1 + det > 0,  1 − tr + det > 0,  1 + tr + det > 0,
so ρ = 1 exactly where one of these four functions is zero while the others are ≥ 0. Along
the diagram's continuous axis (γ for "h-gamma", the ratio for "ratio-k") they are explicit
functions, located by sign changes and refined to machine precision (`jury_functions`).
Examples (tested): R1 with simultaneous updates is stable for h a² < γ < 2/(rh) + h a²/2;
the bilinear game with alternating updates has ρ = 1 (it cycles) while k·r·h²a² ≤ 4 and
diverges beyond. The optimistic and momentum methods are 4×4 recurrences without this
closed form: for them `boundary` is None and a figure draws the ρ = 1 level of the grid.
"""
from __future__ import annotations

import dataclasses

import numpy as np

from .dirac import DiracConfig
from .dirac_stability import (REGULARISER, coupling, damping, has_linearisation,
                              outcome_from_rho, radii)

AXES = ("h-gamma", "ratio-k")
#: Points along the diagram's first axis at which the boundary is solved for.
BOUNDARY_SAMPLES = 241
#: Points along the solved-for axis scanned for sign changes before refining.
SCAN_SAMPLES = 801


@dataclasses.dataclass(frozen=True)
class PhaseDiagram:
    """ρ and the outcome on a grid, indexed [i_y, j_x], and the boundary ρ = 1.

    boundary: one (m, 2) array of (x, y) points per branch of the closed-form curve (NaN rows
    separate its pieces), or None where the method has no closed form here."""

    axes: str
    x_name: str
    y_name: str
    x: np.ndarray
    y: np.ndarray
    rho: np.ndarray
    outcome: np.ndarray
    boundary: list[np.ndarray] | None
    steps: int


def axis_names(config: DiracConfig, axes: str) -> tuple[str, str]:
    """The DiracConfig fields on x and y; ValueError (naming the field) where the diagram
    does not apply to config."""
    if axes not in AXES:
        raise ValueError(f"axes must be one of {AXES}, got {axes!r}")
    if axes == "ratio-k":
        if config.updates != "alternating":
            raise ValueError("updates must be 'alternating' for the ratio-k diagram "
                             "(k, the discriminator's steps per generator step, only acts then)")
        return "lr_ratio", "d_steps"
    if config.objective not in REGULARISER:
        raise ValueError(f"objective must be one of {tuple(REGULARISER)} for the h-gamma "
                         f"diagram (a regulariser with a weight γ), got {config.objective!r}")
    if config.objective == "wgan-gp" and config.gp_target != 0:
        raise ValueError("gp_target must be 0 for the h-gamma diagram of wgan-gp (with a "
                         "target > 0 the field has no linearisation at the equilibrium)")
    return "h", REGULARISER[config.objective]


def phase_diagram(config: DiracConfig, axes: str, x_values, y_values) -> PhaseDiagram:
    """ρ at every (x, y) of the grid (the rest of config fixed), read as converges / cycles /
    diverges over config.steps, and the closed-form boundary where the method has one."""
    x_name, y_name = axis_names(config, axes)
    x = np.asarray(x_values, dtype=float)
    y = np.asarray(y_values, dtype=int if y_name == "d_steps" else float)
    if x.ndim != 1 or y.ndim != 1 or len(x) < 2 or len(y) < 1:
        raise ValueError("x_values and y_values must be 1-D, with at least 2 and 1 values")
    for x_value in (x.min(), x.max()):         # out-of-range values: DiracConfig's message
        for y_value in (y.min(), y.max()):
            dataclasses.replace(config, **{x_name: float(x_value), y_name: y_value.item()})
    if axes == "h-gamma":
        rho = radii(config, h=x[None, :], **{y_name: y[:, None]})
    else:
        rho = np.stack([radii(dataclasses.replace(config, d_steps=int(k)), lr_ratio=x)
                        for k in y])
    outcome = np.vectorize(lambda r: outcome_from_rho(r, config.steps), otypes=[object])(rho)
    boundary = stability_boundary(config, axes, x, y)
    return PhaseDiagram(axes, x_name, y_name, x, y, rho, outcome, boundary, config.steps)


# ---------------------------------------------------------------------------
# Closed form (gd, no momentum)
# ---------------------------------------------------------------------------

def has_closed_form(config: DiracConfig) -> bool:
    return config.optimizer == "gd" and config.momentum == 0.0 and has_linearisation(config)


def gd_trace_det(config: DiracConfig, **values):
    """(tr M, det M) of plain gradient descent's 2×2 update, in closed form (see the module
    docstring). Keyword values override config's fields and may be arrays: h, lr_ratio,
    d_steps and the regulariser's weight."""
    def get(name):
        return np.asarray(values.get(name, getattr(config, name)), dtype=float)

    h, r, k = get("h"), get("lr_ratio"), get("d_steps")
    weight_field = REGULARISER.get(config.objective)
    p, q = damping(config.objective, get(weight_field) if weight_field else 0.0)
    a = coupling(config.objective)
    if config.updates == "simultaneous":
        return 2 - h * p - r * h * q, (1 - h * p) * (1 - r * h * q) + r * h * h * a * a
    c = 1 - r * h * q
    power = c ** k
    with np.errstate(divide="ignore", invalid="ignore"):
        geometric = np.where(q == 0, k, (1 - power) / np.where(q == 0, 1.0, r * h * q))
    b = r * h * a * geometric
    return 1 - h * p - h * a * b + power, (1 - h * p) * power


def jury_functions(trace, det) -> np.ndarray:
    """The four functions of Jury's criterion for a real 2×2 matrix, stacked on axis 0: all
    positive iff both eigenvalues lie inside the unit circle (ρ < 1)."""
    return np.stack([1 - det, 1 + det, 1 - trace + det, 1 + trace + det])


def stability_boundary(config: DiracConfig, axes: str, x: np.ndarray,
                       y: np.ndarray) -> list[np.ndarray] | None:
    """The curve(s) ρ = 1 over the diagram's range, from the closed form; None without one.

    "h-gamma": for each of BOUNDARY_SAMPLES step sizes h, every γ in [min y, max y] where a
    Jury function changes sign while the others are ≥ 0. "ratio-k": for each k in y, every
    ratio in [min x, max x] (scanned on a log scale) where that happens."""
    if not has_closed_form(config):
        return None
    x_name, y_name = axis_names(config, axes)
    if axes == "h-gamma":
        fixed = np.linspace(x.min(), x.max(), BOUNDARY_SAMPLES)
        scan = np.linspace(y.min(), y.max(), SCAN_SAMPLES)
        solve_name, fixed_name, to_value = y_name, x_name, (lambda t: t)
    else:
        fixed = np.unique(y).astype(float)
        scan = np.log(np.geomspace(x.min(), x.max(), SCAN_SAMPLES))
        solve_name, fixed_name, to_value = x_name, y_name, np.exp

    def functions(fixed_values, scan_values):
        if fixed_name == "d_steps":       # k is a loop count: one value of k at a time
            out = np.empty((4, len(fixed_values)))
            for k in np.unique(fixed_values):
                pick = fixed_values == k
                out[:, pick] = jury_functions(*gd_trace_det(
                    config, d_steps=int(k), **{solve_name: to_value(scan_values[pick])}))
            return out
        return jury_functions(*gd_trace_det(config, **{fixed_name: fixed_values,
                                                       solve_name: to_value(scan_values)}))

    grid = functions(np.repeat(fixed, len(scan)), np.tile(scan, len(fixed)))
    grid = grid.reshape(4, len(fixed), len(scan))
    negative = grid < 0          # an exact zero on the scan counts with the positive side
    curves = []
    for which in range(4):
        rows, cols = np.nonzero(negative[which, :, :-1] != negative[which, :, 1:])
        if not len(rows):
            continue
        roots = _bisect(lambda t: functions(fixed[rows], t)[which], scan[cols], scan[cols + 1])
        others = np.delete(functions(fixed[rows], roots), which, axis=0)
        keep = np.all(others >= -1e-9, axis=0)
        rows, roots = rows[keep], to_value(roots[keep])
        order = _order_within(rows)
        for branch in np.unique(order):
            pick = order == branch
            points = (np.column_stack([fixed[rows[pick]], roots[pick]]) if axes == "h-gamma"
                      else np.column_stack([roots[pick], fixed[rows[pick]]]))
            curves.append(_with_gaps(points, rows[pick]))
    return curves


def _bisect(function, lo: np.ndarray, hi: np.ndarray, iterations: int = 80) -> np.ndarray:
    """Roots of `function` (vectorised) bracketed by [lo, hi], all at once, by bisection."""
    lo, hi = lo.astype(float), hi.astype(float)
    negative_lo = function(lo) < 0
    for _ in range(iterations):
        mid = 0.5 * (lo + hi)
        same = (function(mid) < 0) == negative_lo
        lo, hi = np.where(same, mid, lo), np.where(same, hi, mid)
    return 0.5 * (lo + hi)


def _order_within(rows: np.ndarray) -> np.ndarray:
    """0, 1, ... for the successive roots of the same row (the scan finds them in order)."""
    order = np.zeros(len(rows), dtype=int)
    for i in range(1, len(rows)):
        order[i] = order[i - 1] + 1 if rows[i] == rows[i - 1] else 0
    return order


def _with_gaps(points: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """A branch's points in order along the fixed axis, with a NaN row wherever the branch
    skips one of the fixed values (so a figure does not join its separate pieces)."""
    pieces = [points[0]]
    for previous, current, point in zip(rows[:-1], rows[1:], points[1:]):
        if current - previous > 1:
            pieces.append(np.full(2, np.nan))
        pieces.append(point)
    return np.array(pieces)
