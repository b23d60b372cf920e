"""Per-iteration records with bounded memory: when full, keep every other row and halve the rate.

A 100,000-iteration run thus keeps at most `capacity` rows, evenly spread over the whole run.
"""
from __future__ import annotations

import numpy as np

MAX_CAPACITY = 1_000_000     # rows a restored history may claim (its memory is allocated upfront)


class History:
    def __init__(self, columns: tuple[str, ...], capacity: int = 20_000):
        if capacity < 2:
            raise ValueError("capacity: at least 2 rows")
        self.columns = ("iteration",) + tuple(columns)
        self.capacity = capacity
        self.stride = 1          # only iterations divisible by stride are kept
        self._data = np.zeros((capacity, len(self.columns)))
        self._n = 0

    def append(self, iteration: int, values: dict) -> None:
        if iteration % self.stride:
            return
        if self._n == self.capacity:
            # keep the rows whose iteration the doubled stride divides (every other row, starting
            # at the first or second one), so runs counted from 0 or from 1 stay evenly strided
            start = 0 if self._data[0, 0] % (2 * self.stride) == 0 else 1
            kept = self._data[start: self._n: 2].copy()
            self._data[: len(kept)] = kept
            self._n = len(kept)
            self.stride *= 2
            if iteration % self.stride:
                return
        row = self._data[self._n]
        row[0] = iteration
        for i, name in enumerate(self.columns[1:], start=1):
            row[i] = values.get(name, np.nan)
        self._n += 1

    def __len__(self) -> int:
        return self._n

    def as_arrays(self) -> dict[str, np.ndarray]:
        """Copies of each column, e.g. {"iteration": [...], "d_loss": [...]}."""
        return {name: self._data[: self._n, i].copy() for i, name in enumerate(self.columns)}

    def last(self) -> dict[str, float]:
        if not self._n:
            return {}
        return {name: float(v) for name, v in zip(self.columns, self._data[self._n - 1])}

    def truncated(self, iteration: int) -> "History":
        """A copy holding only the rows up to and including `iteration`."""
        state = self.state()
        state["rows"] = state["rows"][state["rows"][:, 0] <= iteration]
        return History.from_state(state)

    def state(self) -> dict:
        return {"columns": list(self.columns[1:]), "capacity": self.capacity,
                "stride": self.stride, "rows": self._data[: self._n].copy()}

    @classmethod
    def from_state(cls, state: dict) -> "History":
        capacity, stride = int(state["capacity"]), int(state["stride"])
        if not 2 <= capacity <= MAX_CAPACITY or stride < 1:    # a state read from a file
            raise ValueError(f"history: capacity {capacity} or stride {stride} out of range")
        history = cls(tuple(state["columns"]), capacity)
        rows = np.asarray(state["rows"], dtype=float).reshape(-1, len(history.columns))
        if len(rows) > history.capacity:
            raise ValueError("history: more rows than its capacity")
        history.stride = stride
        history._data[: len(rows)] = rows
        history._n = len(rows)
        return history
