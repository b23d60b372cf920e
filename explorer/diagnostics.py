"""The Live page's game diagnostics: the spectrum of the game's Jacobian (gan_core.spectrum),
computed every few seconds while the run plays and once for each paused moment, with its
history; and the optimal discriminator D* beside the learned one (gan_core.optimal_d)."""
from __future__ import annotations

import threading
import time

from gan_core.optimal_d import optimal_d_of
from gan_core.spectrum import SpectrumHistory, game_spectrum
from gan_draw import diagnostics
from gan_draw.frames import from_wire    # plotly's own JSON encodes arrays: back to NumPy

EVERY_SECONDS = 4.0      # while playing: the computation (~0.3 s) pauses training meanwhile
OPTIMAL_D = "optimal_d"  # the layer name of D*'s 0.5 contour


class SpectrumTracker:
    """The latest spectrum of the Live run and its history."""

    def __init__(self):
        self.history = SpectrumHistory()
        self.latest = None
        self._at: tuple | None = None          # (trainer, iteration) of the latest
        self._time = 0.0
        self._lock = threading.Lock()

    def update(self, trainer, fresh: bool) -> None:
        """Compute for `trainer` now, unless it is the moment already computed or (`fresh`
        False: while playing) the last computation is less than EVERY_SECONDS old."""
        with self._lock:
            at = (id(trainer), trainer.iteration)
            if at == self._at or (not fresh and time.monotonic() - self._time < EVERY_SECONDS):
                return
            self.latest = game_spectrum(trainer)     # (an earlier iteration: a reset or a
                                                     # fork; the history drops what follows)
            self.history.append(self.latest)
            self._at, self._time = at, time.monotonic()

    def figure(self) -> dict | None:
        return None if self.latest is None else from_wire(diagnostics.spectrum_figure(
            self.latest).to_plotly_json())

    def history_figure(self) -> dict:
        return from_wire(
            diagnostics.spectrum_history_figure(self.history.arrays()).to_plotly_json())


def optimal_d(trainer, snap):
    """(the D* contour trace or None, the status line's gap text) for a snapshot of the
    running trainer; nothing for a replayed record or a loss without a probability D."""
    if snap.iteration != trainer.iteration:
        return None, ""
    found = optimal_d_of(trainer, snap)
    if found is None:
        return None, ""
    return diagnostics.optimal_d_trace(found), diagnostics.gap_text(found)
