"""Run records: one .zip holding JSON, NumPy arrays and tensors — and never a pickle.

    record.json   format tag, version, config, iteration, status, dataset description
    arrays.npz    history, metric history and replay snapshots (loaded with allow_pickle=False)
    state.pt      weights, optimizer states and RNG states (loaded with weights_only=True)

Loading a file never executes code from it. A truncated, foreign or newer-version file raises
RecordError with a sentence saying what is wrong. A loaded run continues bit-identically.
"""
from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import numpy as np
import torch

from .config import ConfigError, TrainConfig
from .history import History
from .snapshot import Snapshot

FORMAT = "gan-explorer-run"
VERSION = 1
MAX_RECORD_BYTES = 256 * 2**20      # refuse bigger files (compressed or not) before reading
MEMBERS = ("record.json", "arrays.npz", "state.pt")
SNAPSHOT_ARRAYS = ("real", "fake", "push", "grid_x", "grid_y", "surface", "manifold",
                   "centers", "mode_counts", "fake_avg")


class RecordError(ValueError):
    """The file is not a run record this version can read; the message says why."""


def save_run(trainer, path) -> Path:
    """Write `trainer`'s whole run to `path` (a .zip file); returns the path."""
    path = Path(path)
    path.write_bytes(run_bytes(trainer))   # one write: no half-written record on a crash
    return path


def run_bytes(trainer) -> bytes:
    """The run record of `trainer` as the bytes of a .zip file."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("record.json", json.dumps(_header(trainer), indent=1))
        zf.writestr("arrays.npz", _arrays_bytes(trainer))
        zf.writestr("state.pt", _state_bytes(trainer))
    return buffer.getvalue()


def load_run(source):
    """A Trainer restored from a record (a path or bytes), ready to continue."""
    from .training import Trainer

    header, arrays, state = _read(source)
    try:
        config = TrainConfig.from_dict(_config_from_json(header["config"]))
    except (ConfigError, TypeError) as err:
        raise RecordError(f"run record: its config is not valid here: {err}") from None
    trainer = Trainer(config, record_every=int(header["record_every"]))
    try:
        _restore(trainer, header, arrays, state)
    except (KeyError, RuntimeError, ValueError, TypeError) as err:
        raise RecordError(f"run record: its saved state does not fit its config ({err})") from None
    return trainer


def _header(trainer) -> dict:
    return {"format": FORMAT, "version": VERSION, "config": trainer.config.to_dict(),
            "iteration": trainer.iteration, "status": trainer.status,
            "record_every": trainer.record_every, "dataset": trainer.data.describe(),
            "snapshots": [{"iteration": s.iteration, "surface_kind": s.surface_kind,
                           "view_box": list(s.view_box), "metrics": s.metrics, "loss": s.loss,
                           "status": s.status, "metrics_avg": s.metrics_avg}
                          for s in trainer.records]}


def _arrays_bytes(trainer) -> bytes:
    arrays = {}
    for name, hist in (("history", trainer.history), ("metric_history", trainer.metric_history)):
        st = hist.state()
        arrays[f"{name}.rows"] = st["rows"]
        arrays[f"{name}.meta"] = np.array([st["capacity"], st["stride"]])
    for i, snap in enumerate(trainer.records):
        for field in SNAPSHOT_ARRAYS:
            value = getattr(snap, field)
            if value is not None:
                arrays[f"snap{i}.{field}"] = np.asarray(value)
    out = io.BytesIO()
    np.savez_compressed(out, **arrays)
    return out.getvalue()


def _state_bytes(trainer) -> bytes:
    out = io.BytesIO()
    torch.save(trainer.state(), out)
    return out.getvalue()


def _read(source) -> tuple[dict, dict, dict]:
    data = _raw_bytes(source)
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise RecordError("not a run record: the file is not a zip archive, or it is "
                          "truncated") from None
    with zf:
        names = set(zf.namelist())
        if "record.json" not in names:
            raise RecordError("not a run record: record.json is missing (a foreign zip file?)")
        if sum(i.file_size for i in zf.infolist()) > MAX_RECORD_BYTES:
            raise RecordError(f"run record: unpacks to more than {MAX_RECORD_BYTES >> 20} MB")
        header = _read_header(zf)
        missing = [m for m in MEMBERS if m not in names]
        if missing:
            raise RecordError(f"run record is incomplete: {', '.join(missing)} missing")
        try:
            arrays = dict(np.load(io.BytesIO(zf.read("arrays.npz")), allow_pickle=False))
            state = torch.load(io.BytesIO(zf.read("state.pt")), weights_only=True)
        except zipfile.BadZipFile:
            raise RecordError("run record is damaged (truncated or corrupted)") from None
        except Exception as err:  # any parse failure of untrusted bytes is the file's fault
            raise RecordError(f"run record is damaged or was not written by this tool "
                              f"({type(err).__name__})") from None
    return header, arrays, state


def _raw_bytes(source) -> bytes:
    if isinstance(source, (bytes, bytearray)):
        data = bytes(source)
    else:
        path = Path(source)
        if not path.is_file():
            raise RecordError(f"no run record at {path}")
        if path.stat().st_size > MAX_RECORD_BYTES:
            raise RecordError(f"run record: larger than {MAX_RECORD_BYTES >> 20} MB")
        data = path.read_bytes()
    if len(data) > MAX_RECORD_BYTES:
        raise RecordError(f"run record: larger than {MAX_RECORD_BYTES >> 20} MB")
    if not data:
        raise RecordError("not a run record: the file is empty")
    return data


def _read_header(zf: zipfile.ZipFile) -> dict:
    try:
        header = json.loads(zf.read("record.json"))
    except (zipfile.BadZipFile, ValueError, UnicodeDecodeError):
        raise RecordError("run record is damaged: record.json cannot be read") from None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise RecordError("not a run record of the GAN explorer (unknown format tag)")
    version = header.get("version")
    if not isinstance(version, int) or version > VERSION:
        raise RecordError(f"run record version {version!r} is newer than this tool reads "
                          f"(up to {VERSION}); update the explorer")
    for key in ("config", "iteration", "status", "record_every"):
        if key not in header:
            raise RecordError(f"run record is damaged: '{key}' missing from record.json")
    if not isinstance(header["config"], dict):
        raise RecordError("run record is damaged: its config is not a mapping of settings")
    for key, lowest in (("iteration", 0), ("record_every", 1)):
        value = header[key]
        if isinstance(value, bool) or not isinstance(value, int) or value < lowest:
            raise RecordError(f"run record is damaged: '{key}' must be a whole number "
                              f">= {lowest}, not {value!r}")
    return header


def _config_from_json(data: dict) -> dict:
    data = dict(data)
    if data.get("custom_points") is not None:
        data["custom_points"] = tuple(tuple(p) for p in data["custom_points"])
    return data


def _restore(trainer, header: dict, arrays: dict, state: dict) -> None:
    trainer.load_state(state)
    trainer.iteration = int(header["iteration"])
    trainer.status = str(header["status"])
    for name in ("history", "metric_history"):
        old = getattr(trainer, name)
        capacity, stride = arrays[f"{name}.meta"]
        setattr(trainer, name, History.from_state({
            "columns": old.columns[1:], "capacity": capacity, "stride": stride,
            "rows": _padded(arrays[f"{name}.rows"], len(old.columns))}))
    trainer.records = [_snapshot(meta, i, arrays) for i, meta in enumerate(header["snapshots"])]


def _padded(rows: np.ndarray, width: int) -> np.ndarray:
    """History rows of a record saved before its columns grew (e.g. the metric history's
    verdict and dominant mode), with NaN in the columns it did not have."""
    rows = np.asarray(rows, dtype=float)
    if rows.ndim == 2 and rows.shape[1] < width:
        rows = np.pad(rows, ((0, 0), (0, width - rows.shape[1])), constant_values=np.nan)
    return rows


def _snapshot(meta: dict, i: int, arrays: dict) -> Snapshot:
    fields = {f: arrays.get(f"snap{i}.{f}") for f in SNAPSHOT_ARRAYS}
    return Snapshot(iteration=int(meta["iteration"]), surface_kind=meta["surface_kind"],
                    view_box=tuple(meta["view_box"]), metrics=meta["metrics"],
                    loss=meta["loss"], status=meta["status"],
                    metrics_avg=meta.get("metrics_avg") or {}, **fields)
