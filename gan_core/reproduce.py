"""Paper reproductions: the published 2D mode-collapse experiments, as their authors ran them.

PacGAN (Lin et al. 2018, Table 1; github.com/fjxmlzn/PacGAN, synthetic_data_experiments):
  data   ring: 8 Gaussians on the unit circle, std 0.01; grid: 25 Gaussians at {-4,..,4}^2,
         std 0.05; a fixed set of 100,000 (packed) examples, reshuffled every epoch
  G      2-d N(0, I) code → 4 × [linear 400 (no bias), batch norm, ReLU] → linear 2
  D      (2m inputs) → 3 × maxout (200 units, 5 pieces) → linear 1; weights N(0, 0.02²), biases 0
  train  Adam lr 1e-4, β1 0.8, β2 0.999; 100 packed examples per batch; both players step at
         once from the same batch (ALI's algorithm); G's loss is the non-saturating one;
         400 epochs of 1,000 batches = 400,000 iterations
  metric 2,500 samples: high quality within 3 std of a mode, a mode covered with one high-quality
         sample, reverse KL of the covered-mode histogram against uniform (gan_core.metrics)
Unrolled GAN (Metz et al. 2017, §3.1 / appendix A; their notebook, unrolled_gan.ipynb):
  data   8 Gaussians on a circle of radius 2, std 0.02
  G      256-d N(0, I) code → 2 × [linear 128, ReLU] → linear 2
  D      x / 4 → linear 128, ReLU → linear 1
  train  Adam lr 1e-4, β1 0.5, ε 1e-8 for both; batch 512; both players step at once; G
         minimises −L_D against D after `unroll` Adam steps on the same batch
         (gan_core.game_updates.lookahead); 25,000 iterations
  metric Metz et al. show samples only; the numbers beside them are VEEGAN's (Srivastava et al.
         2017, Table 1: their unrolled GAN on their 2D ring), with the metric above.
A CPU cannot afford the papers' budgets for every run: `steps` says how many iterations ran, and
the report says so next to the papers' numbers.
"""
from __future__ import annotations


import time
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from . import game_updates as gu
from .metrics import mode_statistics
from .settings import one_of

EVAL_SAMPLES = 2500


# ---------------------------------------------------------------------- setups
@dataclass(frozen=True)
class Arm:
    """One trained model of a published comparison (e.g. "PacGAN2")."""
    label: str
    pack: int = 1
    unroll: int = 0


@dataclass(frozen=True)
class Reproduction:
    name: str
    title: str
    paper: str                       # citation and where its numbers are
    data: str                        # "pacgan-ring", "pacgan-grid" or "metz-ring"
    family: str                      # "pacgan" or "unrolled": architecture and training
    arms: tuple[Arm, ...]
    paper_numbers: dict              # label -> {"modes": (mean, ±), "high_quality": ..., ...}
    paper_spread: str                # what the papers' ± means
    paper_steps: int
    default_steps: int
    settings: dict = field(default_factory=dict)   # the reference settings, for the report


PACGAN_SETTINGS = {"lr": 1e-4, "beta1": 0.8, "beta2": 0.999, "eps": 1e-8, "batch_size": 100,
                   "latent_dim": 2, "g_hidden": (400, 400, 400, 400), "g_batchnorm": True,
                   "d_hidden": (200, 200, 200), "d_maxout_pieces": 5, "init_std": 0.02,
                   "dataset_size": 100_000, "g_loss": "nonsaturating", "updates": "simultaneous"}
UNROLLED_SETTINGS = {"lr": 1e-4, "beta1": 0.5, "beta2": 0.999, "eps": 1e-8, "batch_size": 512,
                     "latent_dim": 256, "g_hidden": (128, 128), "d_hidden": (128,),
                     "d_input_scale": 0.25, "g_loss": "minimax", "updates": "simultaneous"}

REPRODUCTIONS: dict[str, Reproduction] = {r.name: r for r in (
    Reproduction(
        name="pacgan-ring", title="PacGAN on the 2D ring: GAN vs PacGAN2",
        paper="Lin et al. 2018, PacGAN, Table 1 (2D-ring)", data="pacgan-ring",
        family="pacgan", arms=(Arm("GAN", pack=1), Arm("PacGAN2", pack=2)),
        paper_numbers={"GAN": {"modes": (6.3, 0.5), "high_quality": (98.2, 0.2),
                               "reverse_kl": (0.45, 0.09)},
                       "PacGAN2": {"modes": (7.9, 0.1), "high_quality": (95.6, 2.0),
                                   "reverse_kl": (0.07, 0.03)}},
        paper_spread="standard error over 10 runs", paper_steps=400_000, default_steps=2000,
        settings=PACGAN_SETTINGS),
    Reproduction(
        name="pacgan-grid", title="PacGAN on the 2D grid: GAN vs PacGAN2",
        paper="Lin et al. 2018, PacGAN, Table 1 (2D-grid)", data="pacgan-grid",
        family="pacgan", arms=(Arm("GAN", pack=1), Arm("PacGAN2", pack=2)),
        paper_numbers={"GAN": {"modes": (17.3, 0.8), "high_quality": (94.8, 0.7),
                               "reverse_kl": (0.70, 0.07)},
                       "PacGAN2": {"modes": (23.8, 0.7), "high_quality": (91.3, 0.8),
                                   "reverse_kl": (0.13, 0.04)}},
        paper_spread="standard error over 10 runs", paper_steps=400_000, default_steps=2000,
        settings=PACGAN_SETTINGS),
    Reproduction(
        name="unrolled-ring", title="Unrolled GAN on the ring: unroll 0 vs 5",
        paper=("Metz et al. 2017, Unrolled GANs, Fig. 1-2 (samples only); numbers: VEEGAN, "
               "Srivastava et al. 2017, Table 1 (2D ring, their GAN and unrolled GAN)"),
        data="metz-ring", family="unrolled",
        arms=(Arm("unroll 0", unroll=0), Arm("unroll 5", unroll=5)),
        paper_numbers={"unroll 0": {"modes": (1.0, None), "high_quality": (99.3, None),
                                    "reverse_kl": (None, None)},
                       "unroll 5": {"modes": (7.6, None), "high_quality": (35.6, None),
                                    "reverse_kl": (None, None)}},
        paper_spread="VEEGAN reports means only", paper_steps=25_000, default_steps=2000,
        settings=UNROLLED_SETTINGS),
)}


def get(name: str) -> Reproduction:
    """The reproduction called `name`; ValueError listing the known names otherwise."""
    return one_of(REPRODUCTIONS, name, "reproduction")


# ---------------------------------------------------------------------- data
def centers_of(data: str) -> tuple[np.ndarray, float]:
    """(mode centers, std) of a paper's mixture."""
    if data == "pacgan-ring":
        angles = 2 * np.pi * np.arange(8) / 8
        return np.stack([np.cos(angles), np.sin(angles)], 1), 0.01
    if data == "pacgan-grid":
        axis = np.arange(-4, 5, 2, dtype=np.float64)
        return np.array([(i, j) for i in axis for j in axis]), 0.05
    if data == "metz-ring":                    # sin / cos as in their sample_mog
        angles = np.linspace(0, 2 * np.pi * 7 / 8, 8)
        return 2.0 * np.stack([np.sin(angles), np.cos(angles)], 1), 0.02
    raise ValueError(f"unknown data {data!r}")


def sample_mixture(data: str, n: int, rng: torch.Generator) -> torch.Tensor:
    centers, std = centers_of(data)
    idx = torch.randint(len(centers), (n,), generator=rng)
    return (torch.as_tensor(centers, dtype=torch.float32)[idx]
            + std * torch.randn(n, 2, generator=rng))


# ---------------------------------------------------------------------- models
class Maxout(nn.Module):
    """Goodfellow et al. 2013: the max over `pieces` linear maps (PacGAN's D layers)."""

    def __init__(self, n_in: int, n_out: int, pieces: int):
        super().__init__()
        self.linear, self.n_out, self.pieces = nn.Linear(n_in, n_out * pieces), n_out, pieces

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear(x).view(-1, self.n_out, self.pieces).amax(dim=2)


class Scaled(nn.Module):
    def __init__(self, factor: float):
        super().__init__()
        self.factor = factor

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.factor


def pacgan_models(pack: int, s: dict = PACGAN_SETTINGS) -> tuple[nn.Module, nn.Module]:
    layers, n = [], s["latent_dim"]
    for width in s["g_hidden"]:
        layers += [nn.Linear(n, width, bias=False), nn.BatchNorm1d(width, momentum=0.05),
                   nn.ReLU()]
        n = width
    G = nn.Sequential(*layers, nn.Linear(n, 2))
    layers, n = [], 2 * pack
    for width in s["d_hidden"]:
        layers.append(Maxout(n, width, s["d_maxout_pieces"]))
        n = width
    D = nn.Sequential(*layers, nn.Linear(n, 1))
    for module in list(G.modules()) + list(D.modules()):
        if isinstance(module, nn.Linear):
            nn.init.normal_(module.weight, 0.0, s["init_std"])
            if module.bias is not None:
                nn.init.zeros_(module.bias)
    return G, D


def unrolled_models(s: dict = UNROLLED_SETTINGS) -> tuple[nn.Module, nn.Module]:
    """TF-slim's defaults: Glorot-uniform weights, zero biases."""
    def mlp(n_in, hidden, n_out, head=()):
        layers, n = list(head), n_in
        for width in hidden:
            layers += [nn.Linear(n, width), nn.ReLU()]
            n = width
        return nn.Sequential(*layers, nn.Linear(n, n_out))

    G = mlp(s["latent_dim"], s["g_hidden"], 2)
    D = mlp(2, s["d_hidden"], 1, head=(Scaled(s["d_input_scale"]),))
    for module in list(G.modules()) + list(D.modules()):
        if isinstance(module, nn.Linear):
            nn.init.xavier_uniform_(module.weight)
            nn.init.zeros_(module.bias)
    return G, D


# ---------------------------------------------------------------------- one run
class Run:
    """One arm of a reproduction with one seed: the paper's models, data and updates."""

    def __init__(self, repro: Reproduction, arm: Arm, seed: int):
        self.repro, self.arm, self.s = repro, arm, repro.settings
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            self.G, self.D = (pacgan_models(arm.pack) if repro.family == "pacgan"
                              else unrolled_models())
        self.rng = torch.Generator().manual_seed(seed + 1)
        s = self.s
        self.opt_d = torch.optim.Adam(self.D.parameters(), lr=s["lr"],
                                      betas=(s["beta1"], s["beta2"]), eps=s["eps"])
        self.opt_g = torch.optim.Adam(self.G.parameters(), lr=s["lr"],
                                      betas=(s["beta1"], s["beta2"]), eps=s["eps"])
        self.pool = None
        if "dataset_size" in s:     # PacGAN: a fixed training set of packed examples
            self.pool = gu.pack(sample_mixture(repro.data, s["dataset_size"] * arm.pack,
                                               self.rng), arm.pack)
            self.order, self.cursor = torch.randperm(len(self.pool), generator=self.rng), 0
        self.iteration = 0

    def real_batch(self) -> torch.Tensor:
        n = self.s["batch_size"]
        if self.pool is None:
            return sample_mixture(self.repro.data, n, self.rng)
        if self.cursor + n > len(self.pool):         # a new epoch, reshuffled
            self.order, self.cursor = torch.randperm(len(self.pool), generator=self.rng), 0
        batch = self.pool[self.order[self.cursor:self.cursor + n]]
        self.cursor += n
        return batch

    def fake_batch(self) -> torch.Tensor:
        """PacGAN runs G once per packed slot (batch norm sees each slot's 100 samples)."""
        n = self.s["batch_size"]
        slots = [self.G(torch.randn(n, self.s["latent_dim"], generator=self.rng))
                 for _ in range(self.arm.pack)]
        return torch.cat(slots, dim=1)

    def d_loss(self, D, real, fake) -> torch.Tensor:
        return F.softplus(-D(real)).mean() + F.softplus(D(fake)).mean()

    def step(self) -> None:
        real, fake = self.real_batch(), self.fake_batch()
        d_loss = self.d_loss(self.D, real, fake.detach())
        if self.arm.unroll:
            D = self._unrolled(real, fake)
        else:
            D = self.D
        if self.s["g_loss"] == "minimax":        # Metz: G minimises −L_D
            g_loss = -self.d_loss(D, real, fake)
        else:
            g_loss = F.softplus(-D(fake)).mean()
        d_grads = torch.autograd.grad(d_loss, list(self.D.parameters()))
        g_grads = torch.autograd.grad(g_loss, list(self.G.parameters()))
        for params, grads in ((self.D.parameters(), d_grads), (self.G.parameters(), g_grads)):
            for p, g in zip(params, grads):
                p.grad = g
        self.opt_d.step()
        self.opt_g.step()
        self.iteration += 1

    def _unrolled(self, real, fake):
        names = [name for name, _ in self.D.named_parameters()]
        rule, state = gu.optimizer_rule(self.opt_d)

        def as_function(params):
            weights = dict(zip(names, params))
            return lambda x: torch.func.functional_call(self.D, weights, (x,))

        params = gu.lookahead(list(self.D.parameters()),
                              lambda p: self.d_loss(as_function(p), real, fake),
                              self.arm.unroll, rule, state)
        return as_function(params)

    def samples(self, n: int = EVAL_SAMPLES, seed: int = 12345) -> np.ndarray:
        self.G.eval()        # batch norm with its population statistics, as PacGAN samples
        try:
            with torch.no_grad():
                z = torch.randn(n, self.s["latent_dim"], generator=torch.Generator().manual_seed(seed))
                return self.G(z).numpy().astype(np.float64)
        finally:
            self.G.train()

    def metrics(self) -> dict:
        centers, std = centers_of(self.repro.data)
        stats = mode_statistics(self.samples(), centers, std)
        return {"modes": stats["modes_covered"], "high_quality": 100 * stats["high_quality"],
                "reverse_kl": stats["reverse_kl"]}


# ---------------------------------------------------------------------- a reproduction
def run(name: str, runs: int = 3, steps: int | None = None, progress=None) -> dict:
    """Train every arm `runs` times (seeds 0..runs-1) for `steps` iterations; the report:
    per arm the measured mean ± std over runs beside the paper's numbers."""
    repro = get(name)
    if not 1 <= runs <= 20:
        raise ValueError(f"runs: {runs} is out of range; allowed [1, 20]")
    steps = repro.default_steps if steps is None else steps
    if not 1 <= steps <= repro.paper_steps:
        raise ValueError(f"steps: {steps} is out of range; allowed [1, {repro.paper_steps}]")
    torch.set_num_threads(1)
    arms, started = [], time.perf_counter()
    for arm in repro.arms:
        measured = []
        for seed in range(runs):
            trial = Run(repro, arm, seed)
            for _ in range(steps):
                trial.step()
            measured.append(trial.metrics())
            if progress:
                progress(arm.label, seed, measured[-1])
        arms.append({"label": arm.label, "pack": arm.pack, "unroll": arm.unroll,
                     "runs": measured, "measured": summarise(measured),
                     "paper": {k: {"mean": m, "spread": s}
                               for k, (m, s) in repro.paper_numbers[arm.label].items()}})
    return {"name": repro.name, "title": repro.title, "paper": repro.paper,
            "paper_spread": repro.paper_spread, "settings": _jsonable(repro.settings),
            "data": {"name": repro.data, "centers": centers_of(repro.data)[0].tolist(),
                     "std": centers_of(repro.data)[1]},
            "runs": runs, "steps": steps, "paper_steps": repro.paper_steps,
            "budget_note": budget_note(steps, repro.paper_steps),
            "seconds": round(time.perf_counter() - started, 1), "arms": arms}


def budget_note(steps: int, paper_steps: int) -> str:
    if steps >= paper_steps:
        return f"the paper's budget: {paper_steps:,} iterations"
    return (f"shorter than the paper's budget on a CPU: {steps:,} of its {paper_steps:,} "
            f"iterations ({100 * steps / paper_steps:.2g}%)")


def summarise(measured: list[dict]) -> dict:
    """mean and std (ddof 0; None for one run) of each metric; inf reverse KLs (no
    high-quality sample at all) are counted apart, not averaged."""
    out = {}
    for key in ("modes", "high_quality", "reverse_kl"):
        values = np.array([m[key] for m in measured], dtype=float)
        finite = values[np.isfinite(values)]
        out[key] = {"mean": float(finite.mean()) if len(finite) else None,
                    "std": float(finite.std()) if len(finite) > 1 else None,
                    "infinite": int((~np.isfinite(values)).sum())}
    return out


def _jsonable(settings: dict) -> dict:
    return {k: list(v) if isinstance(v, tuple) else v for k, v in settings.items()}


def report_text(result: dict) -> str:
    """The report as a table: measured mean ± std beside the paper's numbers."""
    def cell(mean, spread, fmt):
        if mean is None:
            return "—"
        return f"{mean:{fmt}}" + ("" if spread is None else f" ± {spread:{fmt}}")

    lines = [f"{result['title']}  ({result['paper']})",
             f"{result['runs']} run(s) per arm, {result['budget_note']}",
             f"{'':10} {'':9} {'modes':>14} {'high quality %':>16} {'reverse KL':>14}"]
    for arm in result["arms"]:
        m, p = arm["measured"], arm["paper"]
        lines.append(f"{arm['label']:10} {'measured':9} "
                     f"{cell(m['modes']['mean'], m['modes']['std'], '.1f'):>14} "
                     f"{cell(m['high_quality']['mean'], m['high_quality']['std'], '.1f'):>16} "
                     f"{cell(m['reverse_kl']['mean'], m['reverse_kl']['std'], '.2f'):>14}")
        lines.append(f"{'':10} {'paper':9} "
                     f"{cell(p['modes']['mean'], p['modes']['spread'], '.1f'):>14} "
                     f"{cell(p['high_quality']['mean'], p['high_quality']['spread'], '.1f'):>16} "
                     f"{cell(p['reverse_kl']['mean'], p['reverse_kl']['spread'], '.2f'):>14}")
    lines.append(f"measured: mean ± std over runs; paper: {result['paper_spread']}")
    return "\n".join(lines)


def steps_per_second(name: str, arm: int = 0, n: int = 20) -> float:
    """A quick speed probe (for choosing a budget)."""
    repro = get(name)
    trial = Run(repro, repro.arms[arm], 0)
    start = time.perf_counter()
    for _ in range(n):
        trial.step()
    return n / (time.perf_counter() - start)



