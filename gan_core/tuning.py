"""Process-wide settings, opted into explicitly by whoever owns the process.

Importing gan_core changes nothing outside gan_core: these functions are called by the entry
points that own their process (the Streamlit app, the command line, a sweep's worker processes,
the benchmarks, the test session) and never on import or when a Trainer or a Group is built.
Each is idempotent and cheap to call again.

- `use_one_thread`: torch on one thread. The networks are small (64-wide MLPs, batches of 256):
  on a 2-core CPU one thread ran faster and steadier than two (two were erratic for 64-128-wide
  layers), and every session of the app's server shares the process anyway.
- `keep_freed_memory`: glibc's malloc keeps freed memory in its heap instead of returning it to
  the OS after every backward pass (the stacked engine's ~400 kB activations; without it ~1,000
  page faults and ~3 ms per iteration for 6 variants).
- `quiet_stacked_grad_layout`: the stacked engine's weights are strided views of one buffer, so
  autograd warns (once) that their in-place accumulated gradients do not follow its preferred
  dense layout. That layout is intended; the filter silences just that message.
- `freeze_imports`: `gc.freeze()` for a long-lived server: the ~400,000 objects of the imports
  (torch, plotly, pandas, streamlit) never become garbage, and frozen, later collections skip
  them instead of walking them all (~100 ms holding the GIL the training thread needs).

`for_training()` applies the first three (the command line, sweep workers, benchmarks);
`for_app()` adds `freeze_imports` (the Streamlit app, once per process).
"""
from __future__ import annotations

import ctypes
import gc
import sys
import warnings

import torch

GRAD_LAYOUT_MESSAGE = "grad and param do not obey the gradient layout"

_done: set[str] = set()


def _once(name: str) -> bool:
    """True the first time `name` is asked for in this process."""
    if name in _done:
        return False
    _done.add(name)
    return True


def use_one_thread() -> None:
    """Run torch's CPU kernels on one thread (see the module docstring)."""
    if torch.get_num_threads() != 1:
        torch.set_num_threads(1)


def keep_freed_memory() -> None:
    """Keep freed memory up to the peak in glibc's heap for reuse (Linux/glibc only)."""
    if not _once("malloc") or not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(-3, 32 * 2**20)       # M_MMAP_THRESHOLD: heap, not mmap, up to 32 MB
        libc.mallopt(-1, 256 * 2**20)      # M_TRIM_THRESHOLD: keep up to 256 MB of free heap
    except (OSError, AttributeError):      # not glibc: nothing to tune
        pass


def quiet_stacked_grad_layout() -> None:
    """Silence autograd's note about the stacked weights' gradient layout (intended)."""
    if _once("warnings"):
        warnings.filterwarnings("ignore", message=GRAD_LAYOUT_MESSAGE)


def freeze_imports() -> None:
    """Move every object alive now out of the garbage collector's reach (once)."""
    if _once("gc"):
        gc.freeze()


def for_training() -> None:
    """What a process that trains wants: one thread, malloc kept, the layout note quiet."""
    use_one_thread()
    keep_freed_memory()
    quiet_stacked_grad_layout()


def for_app() -> None:
    """The Streamlit app, once per process (its script runs on every rerun)."""
    freeze_imports()
    for_training()
