"""Sweeps: the product of a few settings' values × seeds, each run a full TrainConfig.

A `SweepSpec` is validated once, like TrainConfig: every run's config is built (so any field
may be an axis, with TrainConfig's own messages) before anything trains. Its runs are cut into
*chunks*: runs whose networks have the same shapes and schedule (batched.stack_key) train
together as one batched `Group`, at most `chunk_size` per chunk. The chunking depends on the
spec alone, never on the machine, so a sweep gives the same per-run results on every backend
(gan_core.sweep_backends: a local process pool or Ray tasks).

Results arrive a chunk at a time. `write_results` rewrites the output file atomically after
each chunk, so a sweep killed at any moment keeps every run that had finished, and `load_done`
lets `--resume` complete it.

Run order: cells in the axes' product order (the last axis varies fastest), and within a cell
seeds base+0, base+1, ...: run r is cell r // seeds, seed offset r % seeds.
"""
from __future__ import annotations

import itertools
import json
import math
import os
from dataclasses import dataclass, fields

import numpy as np

from .config import ConfigError, TrainConfig
from .metrics import VERDICTS, verdict
from .strict_json import strict

FORMAT_VERSION = 1
CONFIRM_RUNS = 10_000          # more runs than this need confirming (--yes)
MAX_RUNS = 1_000_000           # never: the spec itself would not fit in memory comfortably
MAX_SEEDS = 1_000
DEFAULT_CHUNK = 8              # batched.MAX_VARIANTS: the most runs one Group trains at once
SUMMARY_METRICS = ("modes_covered", "high_quality", "reverse_kl", "w1")
FIELD_NAMES = tuple(f.name for f in fields(TrainConfig))


# ---------------------------------------------------------------------- the spec
@dataclass(frozen=True)
class SweepSpec:
    """What a sweep trains. `axes`: ((field, (value, ...)), ...) in product order."""
    base: TrainConfig
    axes: tuple
    seeds: int = 1
    steps: int = 2000
    chunk_size: int = DEFAULT_CHUNK
    w1_samples: int = 1000         # final metrics' exact W1 on this many samples; 0 skips it

    @property
    def n_cells(self) -> int:
        return math.prod(len(values) for _, values in self.axes)

    @property
    def n_runs(self) -> int:
        return self.n_cells * self.seeds

    def cells(self) -> list[dict]:
        """Each cell's axis values, {field: value}, in product order."""
        names = [name for name, _ in self.axes]
        return [dict(zip(names, combo))
                for combo in itertools.product(*(values for _, values in self.axes))]

    def run_config(self, cell_values: dict, seed_offset: int) -> TrainConfig:
        config = self.base.replace(**cell_values)
        return config.replace(seed=config.seed + seed_offset) if seed_offset else config

    def run_configs(self) -> list[TrainConfig]:
        return [self.run_config(values, s) for values in self.cells() for s in range(self.seeds)]

    def chunks(self) -> list[list[int]]:
        """Run indices of each chunk: same-shaped runs in order, cut into near-equal pieces
        of at most `chunk_size` (10 runs: 5 + 5, not 8 + 2, so workers stay evenly busy)."""
        from .batched import stack_key

        buckets: dict = {}
        for i, config in enumerate(self.run_configs()):
            buckets.setdefault(stack_key(config), []).append(i)
        chunks = []
        for runs in buckets.values():
            pieces = -(-len(runs) // self.chunk_size)
            size, extra = divmod(len(runs), pieces)
            start = 0
            for p in range(pieces):
                end = start + size + (1 if p < extra else 0)
                chunks.append(runs[start:end])
                start = end
        return chunks

    def to_dict(self) -> dict:
        # std stays None when unset: with a dataset axis each dataset takes its own default
        return {"base": {**self.base.to_dict(), "std": self.base.std},
                "axes": [{"field": name, "values": [_jsonable(name, v) for v in values]}
                         for name, values in self.axes],
                "seeds": self.seeds, "steps": self.steps, "chunk_size": self.chunk_size,
                "w1_samples": self.w1_samples}

    @classmethod
    def from_dict(cls, data: dict) -> "SweepSpec":
        base = TrainConfig.from_dict(_tupled(data["base"]))
        axes = tuple((a["field"], tuple(_tupled({a["field"]: v})[a["field"]]
                                        for v in a["values"])) for a in data["axes"])
        return cls(base, axes, int(data["seeds"]), int(data["steps"]), int(data["chunk_size"]),
                   int(data.get("w1_samples", 1000)))


def _jsonable(name: str, value):
    if name == "custom_points" and value is not None:
        return [list(p) for p in value]
    return value


def _tupled(config: dict) -> dict:
    out = dict(config)
    if out.get("custom_points") is not None:
        out["custom_points"] = tuple(tuple(p) for p in out["custom_points"])
    return out


def make_spec(base: TrainConfig, axes: list[tuple[str, list]], seeds: int = 1,
              steps: int = 2000, chunk_size: int = DEFAULT_CHUNK, w1_samples: int = 1000,
              confirmed: bool = False) -> SweepSpec:
    """A validated spec; a ConfigError (one sentence naming the field) otherwise.

    Checks, in this order: each axis (a known field, at least one value, no value twice, each
    value valid on the base), seeds / steps / chunk size, the run count (over CONFIRM_RUNS
    needs `confirmed`), then every combination (e.g. dataset=custom needs custom_points).
    """
    seen = set()
    clean = []
    for name, values in axes:
        if name not in FIELD_NAMES:
            raise ConfigError(f"axis {name}: unknown setting {name!r}")
        if name in seen:
            raise ConfigError(f"axis {name}: given twice; put all its values in one --axis")
        seen.add(name)
        values = tuple(values)
        if not values:
            raise ConfigError(f"axis {name}: no values; give at least one, e.g. "
                              f"--axis {name}=v1,v2")
        for i, v in enumerate(values):
            if v in values[:i]:
                raise ConfigError(f"axis {name}: the value {v!r} is given twice")
            try:
                base.replace(**{name: v})
            except (ConfigError, TypeError) as err:
                raise ConfigError(f"axis {name}: {err}") from None
        clean.append((name, values))
    _check_count("seeds", seeds, 1, MAX_SEEDS)
    _check_count("steps", steps, 1, 10_000_000)
    _check_count("chunk_size", chunk_size, 1, DEFAULT_CHUNK)
    _check_count("w1_samples", w1_samples, 0, 2500)
    spec = SweepSpec(base, tuple(clean), seeds, steps, chunk_size, w1_samples)
    n = spec.n_runs
    if n > MAX_RUNS:
        raise ConfigError(f"sweep: {n:,} runs is more than the {MAX_RUNS:,} a sweep can hold; "
                          f"use fewer values or seeds")
    if n > CONFIRM_RUNS and not confirmed:
        raise ConfigError(f"sweep: {n:,} runs ({_shape(spec)}) is more than {CONFIRM_RUNS:,}; "
                          f"add --yes to run them all")
    for values in spec.cells():
        try:
            spec.run_config(values, spec.seeds - 1)
        except ConfigError as err:
            raise ConfigError(f"sweep cell {_label(values)}: {err}") from None
    return spec


def _check_count(name: str, value, lo: int, hi: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise ConfigError(f"{name}: {value!r} is out of range; allowed [{lo}, {hi}]")


def _shape(spec: SweepSpec) -> str:
    parts = [str(len(values)) for _, values in spec.axes] + [
        f"{spec.seeds} seed{'s' if spec.seeds != 1 else ''}"]
    return " × ".join(parts)


def _label(values: dict) -> str:
    return ", ".join(f"{k}={v}" for k, v in values.items()) or "base"


# ---------------------------------------------------------------------- verdicts
def run_verdict(metrics: dict, status: str) -> str | None:
    """One word for how a run ended (VERDICTS), None when the data has no modes to judge by:
    gan_core.metrics.verdict, the same verdict as every badge, the CLI and exports."""
    return verdict(metrics, status)


# ---------------------------------------------------------------------- training a chunk
def run_chunk(configs: list[dict], steps: int, w1_samples: int = 1000,
              stop=None) -> list[dict] | None:
    """Train one chunk (run configs as TrainConfig.to_dict()) as one batched Group for `steps`
    iterations; each run's result, in order (final metrics on 2,500 samples, as `train`; exact
    W1 on `w1_samples` of them: the Hungarian algorithm takes up to a second at 1,000 on a
    collapsed G, often more than a short run's training). A pure function of its arguments: every backend
    calls exactly this, so results agree across backends. `stop` (a threading.Event, for
    training in the caller's process) is checked every 50 iterations: once set, the chunk is
    abandoned and None returned."""
    from .batched import Group

    configs = [TrainConfig.from_dict(_tupled(c)) for c in configs]
    base = configs[0]
    variants = [{f: getattr(c, f) for f in FIELD_NAMES if getattr(c, f) != getattr(base, f)}
                for c in configs]
    group = Group(base, variants, record_every=steps)    # records only at the start and end
    while group.iteration < steps:
        if stop is not None and stop.is_set():
            return None
        if not group.step(min(50, steps - group.iteration)):
            break                                        # every run has diverged
    results = []
    for member in group.members:
        metrics = member.final_metrics(w1_samples=w1_samples)
        results.append({"iterations": member.iteration, "status": member.status,
                        "verdict": run_verdict(metrics, member.status),
                        "metrics": metrics, "last": member.history.last()})
    return results


def chunk_task(spec: SweepSpec, chunk: list[int]) -> tuple[list[dict], int, int]:
    """The arguments of run_chunk for `chunk`, all plain data."""
    configs = spec.run_configs()
    return [configs[i].to_dict() for i in chunk], spec.steps, spec.w1_samples


# ---------------------------------------------------------------------- results
def document(spec: SweepSpec, done: dict[int, dict], elapsed_s: float = 0.0) -> dict:
    """The sweep as one JSON-ready object: spec, every finished run, every cell's summary.

    runs: [{run, cell, seed, values, config, iterations, status, verdict, metrics, last}]
    cells: [{cell, values, runs_done, verdicts: {verdict: count}, verdict (the most common;
    ties go to the worse), metrics: {name: {mean, std, n}}}] over the finished seeds.
    """
    cells = spec.cells()
    runs = []
    for r in sorted(done):
        cell, offset = divmod(r, spec.seeds)
        config = spec.run_config(cells[cell], offset).to_dict()
        if "custom_points" not in dict(spec.axes):
            config.pop("custom_points")          # the base holds it once
        runs.append({"run": r, "cell": cell, "seed": config["seed"],
                     "values": {k: _jsonable(k, v) for k, v in cells[cell].items()},
                     "config": config, **done[r]})
    by_cell: dict[int, list[dict]] = {}
    for run in runs:
        by_cell.setdefault(run["cell"], []).append(run)
    summaries = [cell_summary(i, values, by_cell.get(i, []))
                 for i, values in enumerate(cells)]
    return strict({"format": "gan-sweep", "version": FORMAT_VERSION, "spec": spec.to_dict(),
                   "total_runs": spec.n_runs, "runs_done": len(runs),
                   "complete": len(runs) == spec.n_runs, "elapsed_s": round(elapsed_s, 2),
                   "runs": runs, "cells": summaries})


def cell_summary(index: int, values: dict, runs: list[dict]) -> dict:
    counts: dict[str, int] = {}
    for run in runs:
        if run["verdict"] is not None:
            counts[run["verdict"]] = counts.get(run["verdict"], 0) + 1
    metrics = {}
    for name in SUMMARY_METRICS:
        xs = [run["metrics"].get(name) for run in runs]
        xs = np.array([x for x in xs if x is not None and math.isfinite(x)], dtype=float)
        metrics[name] = ({"mean": float(xs.mean()), "std": float(xs.std()), "n": int(len(xs))}
                         if len(xs) else {"mean": None, "std": None, "n": 0})
    return {"cell": index, "values": {k: _jsonable(k, v) for k, v in values.items()},
            "runs_done": len(runs), "verdicts": counts, "verdict": majority(counts),
            "metrics": metrics}


def majority(counts: dict[str, int]) -> str | None:
    """The most common verdict; a tie goes to the worse one (later in VERDICTS)."""
    if not counts:
        return None
    return max(counts, key=lambda v: (counts[v], VERDICTS.index(v) if v in VERDICTS else -1))


def write_results(path: str, doc: dict) -> None:
    """Replace `path` with `doc` atomically: a reader, or a sweep killed mid-write, always
    sees a whole file (the previous one or the new one)."""
    tmp = f"{path}.tmp{os.getpid()}"
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(doc, fh, allow_nan=False)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def read_results(path: str) -> dict:
    """A sweep file's JSON; a ConfigError (one sentence) if it is not one."""
    try:
        with open(path, encoding="utf-8") as fh:
            doc = json.load(fh)
    except (OSError, ValueError) as err:
        raise ConfigError(f"{path}: cannot read it as a sweep file ({err})") from None
    if not isinstance(doc, dict) or doc.get("format") != "gan-sweep":
        raise ConfigError(f"{path}: not a sweep file")
    if doc.get("version", 0) > FORMAT_VERSION:
        raise ConfigError(f"{path}: made by a newer version (format {doc.get('version')})")
    return doc


def load_done(path: str, spec: SweepSpec) -> dict[int, dict]:
    """The finished runs of an earlier sweep of the same spec in `path`, by run index, for
    --resume; a ConfigError naming what differs if the file holds another sweep."""
    doc = read_results(path)
    theirs, ours = doc.get("spec", {}), strict(spec.to_dict())
    differ = sorted(k for k in ours if theirs.get(k) != ours[k])
    if differ:
        raise ConfigError(f"--resume: {path} holds another sweep (its {', '.join(differ)} "
                          f"differ); give another --out or the same settings")
    keys = ("iterations", "status", "verdict", "metrics", "last")
    return {int(run["run"]): {k: run.get(k) for k in keys} for run in doc.get("runs", [])}
