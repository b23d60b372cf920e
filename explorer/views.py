"""What each page shows of its group, as plain figure specs and text for the frame player.

A view answers, for a group (a Live run is a group of one): its snapshots (now, or recorded at
an iteration when replaying), the figures drawn from them (gan_draw.figures specs keyed by the
player's plot ids), the text blocks (status line, table) and the side charts. explorer/stream.py
turns those into the player's templates and frames; nothing here trains or talks to Streamlit.
"""
from __future__ import annotations

import html
from dataclasses import dataclass, field

import numpy as np

from gan_draw import figures

from . import diagnostics
from .diagnostics import OPTIMAL_D

PRESENT_HEIGHT = 820   # the projector layout's figure height until the browser says its room
PRESENT_FONT = 22      # px: every text of a projected figure (readable from the back row)
# The panels' key (their legends would repeat it six times): colours as in gan_draw.figures.
PANEL_KEY = (f"<span style='color:{figures.REAL_COLOR}'>●</span> real "
             f"<span style='color:{figures.FAKE_COLOR}'>●</span> generated "
             f"<span style='color:{figures.PUSH_COLOR}'>━</span> G push "
             f"<span style='color:{figures.CONTOUR_COLOR}'>╌</span> decision boundary")
# The event markers of the charts (gan_draw.figures.EVENT_MARKS), as a key.
EVENT_KEY = " ".join(f"<span style='color:{color}'>{figures.EVENT_GLYPHS[kind]}</span> {kind}"
                     for kind, (color, _) in figures.EVENT_MARKS.items())
# Badges: the verdict of the samples a frame shows (gan_core.metrics), in its colour.
BADGE_STYLES = {"converged": "background:#d9f0d3;color:#1b5e20",
                "partial": "background:#eeeeee;color:#333333",
                "off the data": "background:#ffe0b2;color:#8a4b00",
                "mode collapse": "background:#e7d4e8;color:#4a1258",
                "diverged": "background:#ffcdd2;color:#8e0000"}
COMPARE_METRICS = {"modes_covered": ("modes covered", True), "high_quality": ("high quality", True),
                   "reverse_kl": ("reverse KL", False), "w1": ("w1", False)}


def badge(snap) -> str:
    """The badge of a run at this snapshot: its status when it stopped ("diverged at
    iteration N"), else its verdict; "" when it has none (data without modes)."""
    return snap.status or snap.verdict or ""


def badge_html(snap, suffix: str = "") -> str:
    """The badge as a coloured label (empty when there is none)."""
    text = badge(snap)
    if not text:
        return ""
    style = BADGE_STYLES.get(snap.verdict or "", "")
    return (f"<span class='gx-badge' style='{style}'>{html.escape(text + suffix)}</span>")


def replay_marker(fig: dict, iteration: int | None) -> dict:
    """A chart with a dashed vertical line at the replayed iteration."""
    if iteration is None:
        return fig
    layout = fig["layout"]
    layout["shapes"] = list(layout.get("shapes", [])) + [dict(
        type="line", xref="x", yref="paper", x0=iteration, x1=iteration, y0=0, y1=1,
        line=dict(color="#c62828", width=1.5, dash="dot"))]
    return fig


@dataclass
class LiveView:
    """The Live page: the main figure, the status line, the mode bars and four side charts
    (or, in the projector layout, the main figure alone, large)."""
    layers: tuple = figures.LAYERS
    grid: int = 50
    samples: int = 500
    present: bool = False
    chart_every: int = 20        # iterations between appended chart points
    room: int | None = None      # px the browser has for the player (the projector layout fits)
    diagnostics: bool = False    # the game's spectrum beside the charts
    tracker: object = field(default=None, repr=False, compare=False)   # its SpectrumTracker

    @property
    def present_height(self) -> int:
        return int(min(max((self.room or PRESENT_HEIGHT) - 40, 420), 1300))

    def snapshots(self, group, replay: int | None):
        member = group.members[0]
        if replay is not None:
            return group.records_at(replay)
        snap = member.snapshot(grid=self.grid, n_samples=self.samples, w1_samples=0)
        if OPTIMAL_D in self.layers:         # D* of these very samples, and its gap to D
            snap.metrics["optimal_d"] = diagnostics.optimal_d(member, snap)
        return [snap]

    def figures(self, group, snaps, slow: bool = True, fresh: bool = False,
                still: bool = False) -> dict:
        """The main figure; when `slow` (the charts' pace) the mode bars and the spectrum,
        which is computed again when `fresh` (a paused moment) or every few seconds. A `still`
        (drawn once, not animated) keeps the surface's hover values."""
        snap = snaps[0]
        layers = tuple(name for name in self.layers if name != OPTIMAL_D)
        trace, _ = snap.metrics.get("optimal_d", (None, ""))
        extra = (trace,) if trace is not None else ()
        if self.present:
            main = figures.main_spec(snap, layers, height=self.present_height,
                                     font_size=PRESENT_FONT, light=True, picture=not still,
                                     extra_traces=extra)
            return {"main": main}
        out = {"main": figures.main_spec(snap, layers, height=600, light=True,
                                         picture=not still, extra_traces=extra)}
        if snap.mode_counts is not None:     # every frame: it agrees with the status line
            out["bar"] = figures.mode_bar_spec(
                snap.mode_counts, nearest_counts=snap.metrics.get("nearest_counts"),
                verdict=snap.verdict)
        if slow and self.diagnostics and self.tracker is not None:
            if snap.iteration == group.members[0].iteration:
                self.tracker.update(group.members[0], fresh)
            spectrum = self.tracker.figure()
            if spectrum is not None:
                out["spectrum"] = spectrum
        return out

    def texts(self, group, snaps, rate: float = 0.0) -> dict:
        snap, member = snaps[0], group.members[0]
        m = snap.metrics
        parts = [f"<b>Iteration {snap.iteration:,}</b>"]
        if rate > 0:
            parts.append(f"{rate:,.0f} it/s")
        if m.get("modes_covered") is not None:
            parts.append(f"modes {m['modes_covered']}/{m['n_modes']}")
            parts.append(f"high quality {100 * m['high_quality']:.0f}%")
        if averaged := averaged_text(snap):
            parts.append(averaged)
        w1 = member.metric_history.last().get("w1")    # exact OT: at each record
        if w1 is not None and np.isfinite(w1):
            parts.append(f"w1 {w1:.3f}")
        gap = snap.metrics.get("optimal_d", (None, ""))[1]
        if gap:
            parts.append(f"D vs optimal D*{gap.replace(' · gap', ': gap')}")
        parts.append(f"D updates {member.d_updates:,} · G updates {member.g_updates:,}")
        label = badge_html(snap, " — Reset to start again" if snap.status else "")
        if label:
            parts.append(label)
        return {"status": " · ".join(parts)}

    def charts(self, group, replay: int | None) -> dict:
        if self.present:
            return {}
        member = group.members[0]
        history = member.history.as_arrays()
        metrics = member.metric_history.as_arrays()
        charts = {
            "losses": figures.history_spec(history, ["d_loss", "g_loss"], title="Losses"),
            "grads": figures.history_spec(history, ["d_grad_norm", "g_grad_norm"],
                                          title="Gradient norms", log_y=True),
        }
        if member.data.is_mixture:
            charts["modes"] = figures.with_events(
                figures.history_spec(metrics, ["modes_covered"], title="Modes covered"),
                figures.event_marks(metrics, member.events(), "modes_covered"))
            charts["w1"] = figures.history_spec(metrics, ["high_quality", "reverse_kl", "w1"],
                                                title="High-quality fraction, reverse KL, w1")
        else:
            charts["w1"] = figures.history_spec(metrics, ["w1"], title="w1")
        if self.diagnostics and self.tracker is not None:
            charts["spectrum_history"] = self.tracker.history_figure()
        return {cid: replay_marker(fig, replay) for cid, fig in charts.items()}

    def blocks(self, group) -> list:
        status = {"type": "html", "id": "status", "cls": "gx-status"}
        if self.present:
            return [status, {"type": "plot", "id": "main", "height": self.present_height}]
        side = []
        if group.members[0].data.is_mixture:
            side.append({"type": "plot", "id": "bar", "height": 220})
        side += [{"type": "plot", "id": cid, "height": 220}
                 for cid in (["losses", "grads", "modes", "w1"]
                             if group.members[0].data.is_mixture else ["losses", "grads", "w1"])]
        if self.diagnostics:
            side += [{"type": "plot", "id": "spectrum", "height": 320},
                     {"type": "plot", "id": "spectrum_history", "height": 220}]
        return [status, {"type": "row", "weights": [3, 2],
                         "children": [[{"type": "plot", "id": "main", "height": 600}], side]}]


@dataclass
class GroupView:
    """Compare and Lecture: one panel per variant (shared colour ranges per objective and one
    arrow scale), a status line, the table of current figures and a chart per metric."""
    height: int = 380
    grid: int = 36
    samples: int = 300
    goal: int | None = None              # the scenario's length, shown as "of N"
    extra_charts: tuple = ()             # history keys a scenario's watch line names
    chart_every: int = 10                # iterations between appended chart points
    layers: tuple = ("surface", "contour", "real", "fake", "push", "averaged")
    per_row: int = 3
    present: bool = False                # the projector layout: the panels alone, large
    room: int | None = None

    def panel_height(self, panels: int) -> int:
        """A panel's height: fixed, or in the projector layout two rows fit the window."""
        if not self.present:
            return self.height
        rows = min(-(-panels // self.per_row), 2)
        room = (self.room or 2 * self.height) - 40
        return int(min(max(room / rows - 12, 220), 900))

    def snapshots(self, group, replay: int | None):
        if replay is not None:
            return group.records_at(replay)
        return group.snapshots(grid=self.grid, n_samples=self.samples, w1_samples=0)

    def figures(self, group, snaps, slow: bool = True, fresh: bool = False,
                still: bool = False) -> dict:
        ranges = shared_ranges(snaps)
        # One arrow scale for all panels: a vanishing generator gradient shows as short arrows.
        push_scale = max((figures.push_reference(s.push) for s in snaps), default=0.0) or None
        out = {}
        for i, (label, snap, (zmin, zmax)) in enumerate(zip(group.labels, snaps, ranges)):
            title = (f"{html.escape(label)} · " if label else "") + f"it {snap.iteration:,}"
            if problem := badge(snap):
                color = figures.VERDICT_COLORS.get(snap.verdict, figures.STATUS_COLOR)
                if color == figures.VERDICT_COLORS["partial"]:
                    color = figures.EVENT_MARKS["partial"][0]   # readable on white
                title += f" · <span style='color:{color}'>{html.escape(problem)}</span>"
            panel = figures.main_spec(
                snap, self.layers, title=title, height=self.panel_height(len(snaps)), zmin=zmin,
                zmax=zmax, show_colorbar=False, push_scale=push_scale, light=True,
                picture=not still,
                font_size=PRESENT_FONT - 2 if self.present else None)
            # one key above the panels (the status line's) instead of a legend in each: the
            # plots get the room, and the browser draws six legends less per frame
            panel["layout"]["showlegend"] = False
            if self.present:
                panel["layout"]["margin"].update(t=PRESENT_FONT + 20, b=PRESENT_FONT + 16)
            out[f"panel_{i}"] = panel
        return out

    def texts(self, group, snaps, rate: float = 0.0) -> dict:
        n = len(group.labels)
        goal = f" of {self.goal:,}" if self.goal else ""
        speed = f" · {rate:,.0f} it/s per run" if rate > 0 else ""
        status = (f"<b>Iteration {group.iteration:,}</b>{goal} · {n} run{'s' if n > 1 else ''}"
                  f"{speed}<span class='gx-key'>{PANEL_KEY}</span>")
        averaged = [f"{html.escape(label or 'run')}: {text}" for label, snap in
                    zip(group.labels, snaps) if (text := averaged_text(snap))]
        if averaged:
            status += "<br>" + " · ".join(averaged)
        if self.present:
            return {"status": status}
        return {"status": status + f"<br><span class='gx-key'>chart markers: {EVENT_KEY}</span>",
                "table": metric_table_html(group, snaps)}

    def charts(self, group, replay: int | None) -> dict:
        if self.present:
            return {}
        metric_histories = {label: m.metric_history.as_arrays()
                            for label, m in zip(group.labels, group.members)}
        histories = {label: m.history.as_arrays()
                     for label, m in zip(group.labels, group.members)}
        charts = {f"chart_{key}": figures.compare_histories_spec(metric_histories, key,
                                                                 title=title)
                  for key, (title, _) in COMPARE_METRICS.items()}
        marks = [mark for h, member in zip(metric_histories.values(), group.members)
                 for mark in figures.event_marks(h, member.events(), "modes_covered")]
        figures.with_events(charts["chart_modes_covered"], marks, legend=False)
        for key in ("d_loss", "g_loss") + tuple(k for k in self.extra_charts
                                                if k not in ("d_loss", "g_loss")):
            source = metric_histories if key in COMPARE_METRICS else histories
            charts[f"chart_{key}"] = figures.compare_histories_spec(
                source, key, title=figures._label(key))
        return {cid: replay_marker(fig, replay) for cid, fig in charts.items()}

    def blocks(self, group) -> list:
        height = self.panel_height(len(group.members))
        panels = [{"type": "plot", "id": f"panel_{i}", "height": height}
                  for i in range(len(group.members))]
        grid = {"type": "grid", "columns": min(self.per_row, len(panels)), "children": panels}
        status = {"type": "html", "id": "status", "cls": "gx-status"}
        if self.present:
            return [status, grid]
        charts = [{"type": "plot", "id": cid, "height": 240} for cid in self._chart_ids()]
        return [status, grid, {"type": "html", "id": "table", "cls": "gx-table"},
                {"type": "grid", "columns": 3, "children": charts}]

    def _chart_ids(self) -> list[str]:
        keys = list(COMPARE_METRICS) + ["d_loss", "g_loss"] + [
            k for k in self.extra_charts if k not in ("d_loss", "g_loss")]
        return [f"chart_{k}" for k in keys]


def averaged_text(snap) -> str:
    """The averaged G's figures beside the raw G's (generator averaging on), or ""."""
    m = getattr(snap, "metrics_avg", None) or {}
    if m.get("modes_covered") is None:
        return ""
    return (f"<span style='color:{figures.AVERAGED_COLOR}'>averaged G</span> modes "
            f"{m['modes_covered']}/{m['n_modes']}, high quality {100 * m['high_quality']:.0f}%")


def shared_ranges(snaps) -> list[tuple[float | None, float | None]]:
    """A colour range per panel, shared by the panels of one objective: their critic or score
    values compare at a glance, while a WGAN critic's arbitrary scale does not wash out an
    LSGAN score. Each range stays centred on the objective's decision level (the neutral
    colour); probabilities keep their own fixed range (None)."""
    ranges: dict[str, tuple[float, float]] = {}
    for snap in snaps:
        if snap.surface_kind != "probability":
            lo, hi = figures.surface_range(snap)
            old_lo, old_hi = ranges.get(snap.loss, (lo, hi))
            ranges[snap.loss] = (min(lo, old_lo), max(hi, old_hi))
    return [(None, None) if s.surface_kind == "probability" else ranges[s.loss] for s in snaps]


def metric_rows(group, snaps=None) -> list[tuple[str, list[str], str]]:
    """(label, [formatted metric per COMPARE_METRICS column, the best starred], status) per
    variant, from each variant's latest recorded figures; the status is the badge of its
    snapshot in `snaps` (what its panel shows) when given."""
    values = np.array([[member.metric_history.last().get(name, np.nan) for name in COMPARE_METRICS]
                       for member in group.members], dtype=float).reshape(len(group.members), -1)
    shown = [[] for _ in group.members]
    for j, (_, larger) in enumerate(COMPARE_METRICS.values()):
        column = values[:, j]
        finite = column[np.isfinite(column)]
        best = ((finite.max() if larger else finite.min())
                if len(np.unique(finite)) > 1 else np.nan)
        for i, v in enumerate(column):
            shown[i].append("—" if not np.isfinite(v) else
                            f"{v:.3g}" + (" ★" if np.isfinite(best) and v == best else ""))
    badges = ([badge(snap) or "ok" for snap in snaps] if snaps is not None
              else [member.status or "ok" for member in group.members])
    return list(zip(group.labels, shown, badges))


def metric_table_html(group, snaps=None) -> str:
    head = "".join(f"<th>{html.escape(title)}</th>" for title, _ in COMPARE_METRICS.values())
    rows = "".join(
        f"<tr><td>{html.escape(label)}</td>" + "".join(f"<td>{c}</td>" for c in cells)
        + f"<td>{html.escape(status)}</td></tr>"
        for label, cells, status in metric_rows(group, snaps))
    return f"<table><tr><th></th>{head}<th>status</th></tr>{rows}</table>"
