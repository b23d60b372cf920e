"""Process-wide settings are opt-ins (gan_core.tuning), never effects of importing gan_core or
of building a Trainer or a Group; the app, the command line and the benchmarks opt in."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# Imports every gan_core module, trains a single run and a stacked group, and reports what
# changed in the process: torch's threads, the layout note's filter, tuning's own record.
PROBE = r"""
import importlib, json, pkgutil, warnings
import torch
threads0 = torch.get_num_threads()
def quiet():
    return any(f[1] is not None and f[1].pattern.startswith("grad and param")
               for f in warnings.filters)
import gan_core
for info in pkgutil.iter_modules(gan_core.__path__):
    if info.name != "__main__":
        importlib.import_module("gan_core." + info.name)
from gan_core import tuning
from gan_core.batched import Group
from gan_core.config import TrainConfig
from gan_core.training import Trainer
tiny = TrainConfig(g_width=8, d_width=8, batch_size=16)
Trainer(tiny).step(2)
group = Group(tiny, [{"loss": "wgan"}, {"loss": "hinge"}])
group.step(2)
before = {"threads": torch.get_num_threads() == threads0,
          "quiet": quiet(), "tuned": sorted(tuning._done),
          "stacked": group.grouping}
tuning.for_app()
after = {"threads": torch.get_num_threads(), "tuned": sorted(tuning._done),
         "quiet": quiet()}
print(json.dumps({"before": before, "after": after}))
"""


def test_importing_and_training_change_nothing_process_wide_until_opted_in():
    env = dict(os.environ, OMP_NUM_THREADS="2")          # a process that starts on 2 threads
    result = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    before, after = report["before"], report["after"]
    assert before == {"threads": True, "quiet": False, "tuned": [], "stacked": [[0, 1]]}
    assert after == {"threads": 1, "tuned": ["gc", "malloc", "warnings"], "quiet": True}


def test_entry_points_opt_in():
    """The app's script and the command line's main opt in, by name, before they train."""
    app = (ROOT / "streamlit_app.py").read_text()
    assert "tuning.for_app()" in app
    cli_main = (ROOT / "gan_cli" / "main.py").read_text()
    assert "tuning.for_training()" in cli_main
