"""The Ray backend on a real local Ray instance (one for the module, two CPUs): the same sweep
gives the same per-run results as the local backend (same chunks, same seeds)."""
import json

import pytest
import ray

from gan_core.config import TrainConfig
from gan_core.sweep import make_spec, read_results, strict
from gan_core.sweep_backends import LocalBackend, RayBackend, run_sweep
from tests.cli_helpers import run_main

TINY_SET = "g_width=8,d_width=8,g_depth=1,d_depth=1,batch_size=32"
RESULT_KEYS = ("iterations", "status", "verdict", "metrics", "last")
pytestmark = pytest.mark.filterwarnings("ignore:grad and param do not obey")


@pytest.fixture(scope="module", autouse=True)
def local_ray():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


def test_ray_backend_gives_the_local_backends_results(tmp_path, capsys):
    out = tmp_path / "ray.json"
    code, stdout, err = run_main(
        capsys, "sweep", "--axis", "loss=nonsaturating,hinge", "--axis", "lr_g=1e-3,3e-3",
        "--set", TINY_SET, "--steps", "40", "--chunk-size", "2", "--w1-samples", "100",
        "--backend", "ray", "--out", str(out), "--json")
    assert code == 0, err
    doc = json.loads(stdout)
    assert doc == read_results(str(out)) and doc["complete"]

    spec = make_spec(TrainConfig(g_width=8, d_width=8, g_depth=1, d_depth=1, batch_size=32),
                     [("loss", ("nonsaturating", "hinge")), ("lr_g", (1e-3, 3e-3))], steps=40,
                     chunk_size=2, w1_samples=100)
    assert doc["spec"] == json.loads(json.dumps(spec.to_dict()))
    assert [len(c) for c in spec.chunks()] == [2, 2]            # two batched Ray tasks
    local = run_sweep(spec, LocalBackend(workers=0))
    for run in doc["runs"]:
        assert {k: run[k] for k in RESULT_KEYS} == json.loads(json.dumps(
            strict(local[run["run"]])))
    assert len({json.dumps(run["metrics"]) for run in doc["runs"]}) == 4   # really 4 runs


def test_a_connected_backend_is_left_running():
    backend = RayBackend()
    spec = make_spec(TrainConfig(g_width=8, d_width=8, g_depth=1, d_depth=1, batch_size=32),
                     [("seed", (3,))], steps=5, w1_samples=0)
    done = run_sweep(spec, backend)
    backend.close()
    assert done[0]["iterations"] == 5 and done[0]["metrics"]["w1"] is None
    assert ray.is_initialized()                                 # the module's instance stays
