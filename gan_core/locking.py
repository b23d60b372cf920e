"""`locked`: one script run at a time on a run's models (Trainer, Group)."""
from __future__ import annotations

import functools


def locked(method):
    """Run `method` holding its object's `_lock`. A Streamlit session can have two script runs
    at once (a widget change starts a new run while the previous one is still inside step());
    both must never use one model at a time: autograd errors, lost or hidden iterations."""
    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        with self._lock:
            return method(self, *args, **kwargs)
    return wrapper
