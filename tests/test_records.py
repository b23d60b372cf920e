"""Run records: save/load round trip, bit-identical continuation, and RecordError (never another
exception, never code execution) for every kind of bad file."""
import io
import json
import os
import pickle
import zipfile

import numpy as np
import pytest
import torch

from gan_core.config import TrainConfig
from gan_core.records import FORMAT, VERSION, RecordError, load_run, save_run
from gan_core.training import Trainer

SMALL = dict(g_width=16, d_width=16, batch_size=64)


def small(**changes) -> TrainConfig:
    return TrainConfig(**{**SMALL, **changes})


def assert_same_weights(a, b):
    for name in ("G", "D"):
        sa, sb = getattr(a, name).state_dict(), getattr(b, name).state_dict()
        assert sa.keys() == sb.keys()
        for key in sa:
            assert torch.equal(sa[key], sb[key]), f"{name}.{key}"


def assert_same_history(a, b):
    for hist in ("history", "metric_history"):
        ha, hb = getattr(a, hist).as_arrays(), getattr(b, hist).as_arrays()
        assert ha.keys() == hb.keys()
        for key in ha:
            np.testing.assert_array_equal(ha[key], hb[key], err_msg=f"{hist}.{key}")


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """A 25-iteration run with a few replay records, and its record file."""
    trainer = Trainer(small(seed=7, r1=0.1), record_every=10)
    trainer.step(25)
    path = tmp_path_factory.mktemp("rec") / "run.zip"
    assert save_run(trainer, path) == path
    return trainer, path


def members(path) -> dict:
    with zipfile.ZipFile(path) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


def zip_bytes(files: dict) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return out.getvalue()


def with_header(path, **changes) -> bytes:
    files = members(path)
    header = json.loads(files["record.json"])
    header.update(changes)
    files["record.json"] = json.dumps(header)
    return zip_bytes(files)


def load_fails(source, match=None) -> str:
    with pytest.raises(RecordError) as info:
        load_run(source)
    message = str(info.value)
    assert message and "Traceback" not in message
    if match:
        assert match in message, message
    return message


# ---------------------------------------------------------------------------- round trip
def test_record_is_a_zip_of_json_npz_and_tensors(saved):
    _, path = saved
    files = members(path)
    assert set(files) == {"record.json", "arrays.npz", "state.pt"}
    header = json.loads(files["record.json"])
    assert header["format"] == FORMAT and header["version"] == VERSION
    assert header["iteration"] == 25
    assert header["config"]["std"] == 0.01       # resolved in the file
    assert header["dataset"]["name"] == "ring"


def test_round_trip(saved):
    trainer, path = saved
    loaded = load_run(path)
    assert loaded.config.to_dict() == trainer.config.to_dict()
    assert loaded.iteration == 25
    assert loaded.status == ""
    assert loaded.record_every == trainer.record_every
    assert_same_weights(loaded, trainer)
    assert_same_history(loaded, trainer)
    assert len(loaded.history) == 25
    assert len(loaded.records) == len(trainer.records) == 3      # iterations 0, 10, 20
    for a, b in zip(loaded.records, trainer.records):
        assert a.iteration == b.iteration
        assert a.surface_kind == b.surface_kind and a.loss == b.loss
        assert tuple(a.view_box) == tuple(b.view_box)
        for field in ("real", "fake", "push", "surface", "manifold", "centers", "mode_counts"):
            np.testing.assert_array_equal(getattr(a, field), getattr(b, field), err_msg=field)
        assert a.metrics["w1"] == pytest.approx(b.metrics["w1"])


def test_load_from_bytes(saved):
    trainer, path = saved
    loaded = load_run(path.read_bytes())
    assert loaded.iteration == trainer.iteration
    assert_same_weights(loaded, trainer)


@pytest.mark.parametrize("changes", [
    {},
    {"spectral_norm": True, "opt_d": "sgd", "momentum": 0.5, "instance_noise": 0.05},
    {"dataset": "custom", "custom_points": [(0, 0), (1, 1), (-1, 0.5)], "loss": "wgan-gp",
     "opt_g": "rmsprop"},
], ids=["adam", "sn-sgd-noise", "custom-gp-rmsprop"])
def test_loaded_run_continues_bit_identically(tmp_path, changes):
    cfg = small(seed=11, **changes)
    straight = Trainer(cfg, record_every=30)
    straight.step(80)

    first = Trainer(cfg, record_every=30)
    first.step(40)
    path = save_run(first, tmp_path / "half.zip")
    resumed = load_run(path)
    assert resumed.step(40) == 40
    assert resumed.iteration == straight.iteration == 80
    assert_same_weights(resumed, straight)
    assert_same_history(resumed, straight)
    assert [r.iteration for r in resumed.records] == [r.iteration for r in straight.records]
    for a, b in zip(resumed.opt_d.state_dict()["state"].values(),
                    straight.opt_d.state_dict()["state"].values()):
        for key in a:
            assert torch.equal(torch.as_tensor(a[key]), torch.as_tensor(b[key])), key


def test_diverged_run_round_trips_its_status(tmp_path):
    t = Trainer(small(loss="lsgan", opt_d="sgd", opt_g="sgd", lr_d=10.0, lr_g=10.0))
    t.step(100)
    assert t.status.startswith("diverged")
    loaded = load_run(save_run(t, tmp_path / "d.zip"))
    assert loaded.status == t.status
    assert loaded.step(5) == 0


# ---------------------------------------------------------------------------- bad files
def test_missing_path(tmp_path):
    load_fails(tmp_path / "nope.zip", match="no run record")
    load_fails(tmp_path, match="no run record")            # a directory


def test_empty_file(tmp_path):
    p = tmp_path / "empty.zip"
    p.write_bytes(b"")
    load_fails(p, match="empty")
    load_fails(b"", match="empty")


def test_random_bytes(tmp_path):
    p = tmp_path / "noise.zip"
    p.write_bytes(np.random.default_rng(0).bytes(5000))
    load_fails(p, match="not a zip")


def test_text_file(tmp_path):
    p = tmp_path / "notes.zip"
    p.write_text("x,y\n1,2\n")
    load_fails(p)


@pytest.mark.parametrize("fraction", [0.5, 0.9, 0.99])
def test_truncated_record(saved, tmp_path, fraction):
    _, path = saved
    data = path.read_bytes()
    p = tmp_path / "cut.zip"
    p.write_bytes(data[: int(len(data) * fraction)])
    load_fails(p)


def test_corrupted_member(saved):
    _, path = saved
    data = bytearray(path.read_bytes())
    # flip bytes in the middle of the compressed payload (the central directory stays intact)
    for i in range(len(data) // 3, len(data) // 3 + 64):
        data[i] ^= 0xFF
    load_fails(bytes(data))


def test_zip_without_record_json():
    load_fails(zip_bytes({"hello.txt": b"hi", "state.pt": b""}), match="record.json")


@pytest.mark.parametrize("missing", ["arrays.npz", "state.pt"])
def test_zip_missing_a_member(saved, missing):
    _, path = saved
    files = members(path)
    del files[missing]
    load_fails(zip_bytes(files), match=missing)


def test_record_json_not_json(saved):
    _, path = saved
    files = members(path)
    files["record.json"] = b"{not json"
    load_fails(zip_bytes(files), match="record.json")
    files["record.json"] = b"\xff\xfe\x00garbage"
    load_fails(zip_bytes(files), match="record.json")


@pytest.mark.parametrize("tag", ["other-tool-run", None, 3])
def test_other_format_tag(saved, tag):
    _, path = saved
    load_fails(with_header(path, format=tag), match="format")


def test_header_that_is_not_an_object(saved):
    _, path = saved
    files = members(path)
    files["record.json"] = b"[1, 2, 3]"
    load_fails(zip_bytes(files))


def test_newer_version(saved):
    _, path = saved
    message = load_fails(with_header(path, version=VERSION + 1), match="newer")
    assert str(VERSION + 1) in message


@pytest.mark.parametrize("version", [None, "1", 1.5])
def test_version_that_is_not_a_number(saved, version):
    _, path = saved
    load_fails(with_header(path, version=version))


def test_invalid_config_in_record(saved):
    _, path = saved
    header = json.loads(members(path)["record.json"])
    load_fails(with_header(path, config={**header["config"], "lr_d": -1}), match="lr_d")
    load_fails(with_header(path, config={**header["config"], "bogus": 1}), match="bogus")


def test_state_that_does_not_fit_the_config(saved):
    _, path = saved
    header = json.loads(members(path)["record.json"])
    load_fails(with_header(path, config={**header["config"], "g_width": 8}), match="config")


@pytest.mark.parametrize("key", ["config", "iteration", "status", "record_every", "snapshots"])
@pytest.mark.parametrize("value", ["abc", -1, 0, None, 1e300, [[1, 2]]],
                         ids=repr)
def test_tampered_header_fields_give_record_error_or_a_sane_run(saved, key, value):
    _, path = saved
    data = with_header(path, **{key: value})
    try:
        t = load_run(data)
    except RecordError:
        return
    # accepted: then it must be a run that can go on
    assert t.record_every >= 1
    assert t.iteration >= 0
    t.step(2)


@pytest.mark.parametrize("member", ["arrays.npz", "state.pt"])
def test_member_replaced_by_garbage(saved, member):
    _, path = saved
    files = members(path)
    files[member] = b"\x00garbage" * 50
    load_fails(zip_bytes(files))


class WritesMarker:
    """Unpickling this runs code: it writes the file named by `marker`."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (exec, (f"open({self.marker!r}, 'w').write('pwned')",))


@pytest.mark.filterwarnings("ignore:Detected pickle protocol")
@pytest.mark.parametrize("how", ["raw-pickle", "torch-save", "inside-dict"])
def test_pickle_payload_in_state_is_refused_without_running(saved, tmp_path, how):
    _, path = saved
    marker = tmp_path / f"marker-{how}"
    evil = WritesMarker(marker)
    if how == "raw-pickle":
        payload = pickle.dumps(evil)
    else:
        out = io.BytesIO()
        obj = evil if how == "torch-save" else {"G": {"weight": evil}, "D": {}, "rng": {}}
        torch.save(obj, out)
        payload = out.getvalue()
    # sanity: the payload really would run code if unpickled unsafely
    probe = tmp_path / f"probe-{how}"
    pickle.loads(pickle.dumps(WritesMarker(probe)))
    assert probe.exists()

    files = members(path)
    files["state.pt"] = payload
    load_fails(zip_bytes(files))
    assert not marker.exists(), "loading a record executed code from it"


def test_pickled_object_array_in_npz_is_refused(saved, tmp_path):
    _, path = saved
    marker = tmp_path / "marker-npz"
    arrays = dict(np.load(io.BytesIO(members(path)["arrays.npz"])))
    arrays["history.rows"] = np.array([WritesMarker(marker), 1], dtype=object)
    out = io.BytesIO()
    np.savez(out, **arrays)
    files = members(path)
    files["arrays.npz"] = out.getvalue()
    load_fails(zip_bytes(files))
    assert not marker.exists()


@pytest.mark.parametrize("meta", [[1, 1], [10 ** 12, 1], [-5, 1], [100, 1, 3], [20000, 0]])
def test_tampered_history_meta(saved, meta):
    _, path = saved
    arrays = dict(np.load(io.BytesIO(members(path)["arrays.npz"])))
    arrays["history.meta"] = np.array(meta)
    out = io.BytesIO()
    np.savez(out, **arrays)
    files = members(path)
    files["arrays.npz"] = out.getvalue()
    try:
        t = load_run(zip_bytes(files))
    except RecordError:
        return
    t.step(2)
    assert len(t.history) <= t.history.capacity


def test_save_overwrites_and_writes_a_loadable_file(tmp_path):
    p = tmp_path / "run.zip"
    p.write_bytes(b"old junk")
    t = Trainer(small())
    t.step(3)
    save_run(t, p)
    assert load_run(p).iteration == 3
    assert os.path.getsize(p) > 0
