"""Process-wide settings the app opts into once (never done on import).

- `gc.freeze()`: the ~400,000 objects of the imports (torch, plotly, pandas, streamlit) never
  become garbage; frozen, every later collection skips them instead of walking them all
  (~100 ms holding the GIL that the training thread needs).
- torch on one thread: small matmuls run faster and steadier on one thread than on two, and
  every session of the server shares the process.
"""
from __future__ import annotations

import gc

_done = False


def tune_process() -> None:
    """Apply the settings once per process (the app's script runs on every rerun)."""
    global _done
    if _done:
        return
    _done = True
    gc.freeze()
    from gan_core.training import use_one_thread

    use_one_thread()
