"""Every claim of every lecture scenario, measured on what the Lecture page plays.

`play(name, seed)` trains the scenario as the page does (gan_core.scenarios.group: one batched
float32 Group, every run from `seed`) for its full length, recording every RECORD_EVERY
iterations. CLAIMS[name] lists each sentence of the scenario's watch line and explanation that
says what will happen, with the measurement that checks it: a function of the played runs that
returns (holds, the numbers it looked at). tests/test_scenarios.py asserts them at a few seeds;
to check other seeds (the README lists the ones checked), run

    python -m tests.scenario_claims [SCENARIO ...] [--seeds 101 102 103 104 105]

which prints, per scenario, each claim and how many seeds it held at.
"""
from __future__ import annotations

import argparse
import time
from dataclasses import dataclass

import numpy as np
import torch

from gan_core import scenarios
from gan_core.metrics import HOPPING

RECORD_EVERY = 50


@dataclass
class Run:
    """One played run: its records' metrics, its training history and its final metrics."""
    iterations: np.ndarray
    records: list            # metrics dict of each record (500 view samples), in order
    fake: list               # each record's generated view samples
    history: dict            # training history arrays (d_loss, g_grad_norm, d_real, ...)
    final: dict              # final_metrics: 2,500 fresh samples
    events: list
    critic_grad: float       # mean |grad_x D| on real data at the end
    surface_spread: float    # D's surface: 95th minus 5th percentile over the view, at the end
    d_updates: int

    def series(self, key: str, start: int = 0) -> np.ndarray:
        """A metric at each record from iteration `start` on."""
        return np.array([m[key] for i, m in zip(self.iterations, self.records) if i >= start],
                        dtype=float)

    def verdicts(self, start: int = 0) -> list:
        return [m["verdict"] for i, m in zip(self.iterations, self.records) if i >= start]

    def window(self, column: str, start: int, stop: int | None = None) -> np.ndarray:
        it = self.history["iteration"]
        keep = (it > start) & (it <= (stop if stop is not None else it.max()))
        return self.history[column][keep]

    def moves(self, start: int = 0) -> np.ndarray:
        """RMS distance the view samples moved between consecutive records from `start` on."""
        fakes = [f for i, f in zip(self.iterations, self.fake) if i >= start]
        return np.array([float(np.sqrt(((b - a) ** 2).sum(1).mean()))
                         for a, b in zip(fakes, fakes[1:])])

    def hops(self) -> int:
        return sum(e["kind"] == HOPPING for e in self.events)


def play(name, seed: int, steps: int | None = None) -> dict[str, Run]:
    """{label: Run} of scenario `name` (or a Scenario) at `seed`, trained for `steps`
    (default: its length)."""
    scenario = scenarios.get(name) if isinstance(name, str) else name
    group = scenarios.group(scenario, seed, record_every=RECORD_EVERY)
    group.step(steps or scenario.steps)
    return {label: _run(member) for label, member in zip(group.labels, group.members)}


def _run(member) -> Run:
    x = member.data.sample(512, torch.Generator().manual_seed(99)).requires_grad_(True)
    (grad,) = torch.autograd.grad(member.D(x).sum(), x)
    surface = member.snapshot(grid=40, n_samples=100, w1_samples=0).surface
    recs = member.records
    return Run(iterations=np.array([r.iteration for r in recs]),
               records=[r.metrics for r in recs], fake=[r.fake for r in recs],
               history=member.history.as_arrays(), final=member.final_metrics(w1_samples=500),
               events=member.events(), critic_grad=float(grad.norm(dim=1).mean()),
               surface_spread=float(np.subtract(*np.percentile(surface, [95, 5]))),
               d_updates=member.d_updates)


def share(values, predicate) -> float:
    values = list(values)
    return sum(map(predicate, values)) / max(len(values), 1)


def fmt(*values) -> str:
    return " ".join(f"{v:.3g}" if isinstance(v, float) else str(v) for v in values)


# ---------------------------------------------------------------------- the claims
# Each claim: (what the scenario says, check(runs) -> (holds, numbers)).

def _mode_collapse():
    def gathers(r):
        c = r["collapsing"]
        s = share(c.verdicts(200), lambda v: v == "mode collapse")
        return s >= 0.8, fmt("collapsed share from it 200", s)

    def hops(r):
        n = r["collapsing"].hops()
        return n >= 2, fmt("hops", n)

    def fixed(r):
        f = r["fixed"].final
        return (f["modes_covered"] == 8 and f["verdict"] in ("converged", "partial"),
                fmt("modes", f["modes_covered"], f["verdict"]))

    return [("collapsing: the samples gather on one mode (badge: mode collapse)", gathers),
            ("collapsing: ...and keep jumping to another one (2+ mode hopping events)", hops),
            ("fixed (k = 5): covers all 8 modes at the end, not collapsed", fixed)]


def _saturation():
    sat, ns = "saturating (minimax)", "non-saturating"

    def barely_moves(r):
        moved = float(np.sqrt(((r[sat].fake[-1] - r[sat].fake[0]) ** 2).sum(1).mean()))
        return moved < 0.2, fmt("moved", moved)

    def gradient(r):
        half = int(r[sat].history["iteration"].max()) // 2
        g_sat = float(np.median(r[sat].window("g_grad_norm", half)))
        g_ns = float(np.median(r[ns].window("g_grad_norm", half)))
        first = float(np.median(r[sat].window("g_grad_norm", 0, 10)))
        return g_sat < first / 10 and g_ns > 10 * g_sat, fmt("G grad", first, "->", g_sat,
                                                             "vs", g_ns)

    def rejects(r):
        d = float(r[sat].window("d_fake", 50).mean())
        return d < 0.05, fmt("D(G(z))", d)

    def travels(r):
        f = r[ns].final
        return (f["high_quality"] >= 0.5 and f["verdict"] in ("converged", "partial"),
                fmt("hq", f["high_quality"], f["verdict"]))

    def badges(r):
        v = r[sat].final["verdict"]
        return v == "off the data", v

    return [("minimax: the samples barely move", barely_moves),
            ("minimax: G's gradient norm collapses towards 0 (<1/10 of its start and of NS')",
             gradient),
            ("minimax: D confidently rejects the fakes (D(G(z)) close to 0)", rejects),
            ("minimax: ends badged off the data", badges),
            ("non-saturating: the samples travel to the ring (not off the data, not collapsed)",
             travels)]


def _k_steps():
    def gap(run, start=50):
        return float((run.window("d_real", start) - run.window("d_fake", start)).mean())

    def k1(r):
        c = r["k=1"]
        s = share(c.verdicts(100), lambda v: v == "mode collapse")
        return s >= 0.8 and c.hops() >= 1, fmt("collapsed share", s, "hops", c.hops())

    def k1_half(r):
        g = gap(r["k=1"])
        return abs(g) < 0.05, fmt("gap", g)

    def k5(r):
        f = r["k=5"].final
        return (f["modes_covered"] == 8 and f["verdict"] in ("converged", "partial"),
                fmt("modes", f["modes_covered"], "rkl", f["reverse_kl"], f["verdict"]))

    def k25(r):
        g5, g25 = gap(r["k=5"]), gap(r["k=25"])
        return g25 > 1.3 * g5, fmt("gap", g5, "vs", g25)

    def uneven(r):
        a, b = r["k=5"].final["reverse_kl"], r["k=25"].final["reverse_kl"]
        return b > a, fmt("rkl", a, "vs", b)

    def cost(r):
        ratio = r["k=25"].d_updates / r["k=5"].d_updates
        return ratio == 5, fmt("D updates ratio", ratio)

    return [("k=1: collapses and hops", k1),
            ("k=1: D's output stays near 1/2 on real and fake alike", k1_half),
            ("k=5: covers the ring (all 8 modes, not collapsed)", k5),
            ("k=25: a much more confident D (gap > 1.3x k=5's)", k25),
            ("k=25: uneven modes (reverse KL above k=5's)", uneven),
            ("k=25: 5x the D updates of k=5", cost)]


def _learning_rates():
    def jumping(r):
        half = int(r["TTUR"].iterations.max()) // 2
        high, ttur = float(np.median(r["too high"].moves(half))), float(
            np.median(r["TTUR"].moves(half)))
        return high > 2 * ttur, fmt("move", high, "vs", ttur)

    def come_and_go(r):
        modes = r["too high"].series("modes_covered", int(r["TTUR"].iterations.max()) // 2)
        return modes.min() <= 6, fmt("min modes 2nd half", modes.min())

    def ttur(r):
        modes = r["TTUR"].series("modes_covered", 100)
        return modes.min() == 8, fmt("TTUR min modes from 100", modes.min())

    def balanced(r):
        def first8(run):
            hit = [i for i, m in zip(run.iterations, run.records) if m["modes_covered"] == 8]
            return hit[0] if hit else np.inf
        b, t = first8(r["balanced"]), first8(r["TTUR"])
        return b > t, fmt("first 8 modes at", b, "vs", t)

    return [("too high: the samples keep jumping (2x TTUR's moves)", jumping),
            ("too high: modes come and go (<= 6 at some record, 2nd half)", come_and_go),
            ("balanced: slower than TTUR to cover all 8", balanced),
            ("TTUR: all 8 modes within ~100 iterations, and they stay", ttur)]


def _wgan():
    clip, gp = "weight clipping", "gradient penalty"

    def flat(r):
        return (r[clip].critic_grad < 1e-3 and r[clip].surface_spread < 0.05,
                fmt("critic grad", r[clip].critic_grad, "spread", r[clip].surface_spread))

    def shaped(r):
        return 0.3 < r[gp].critic_grad < 3, fmt("critic grad", r[gp].critic_grad)

    def gp_modes(r):
        f = r[gp].final
        return f["modes_covered"] == 8, fmt("modes", f["modes_covered"], f["verdict"])

    def fits(r):
        a, b = r[gp].final["w1"], r[clip].final["w1"]
        return a < 0.8 * b, fmt("w1", a, "vs", b)

    def drops(r):
        f = r[clip].final
        return f["modes_covered"] < 8, fmt("modes", f["modes_covered"], f["verdict"])

    return [("clipping: a nearly flat critic (gradient < 1e-3, values within 0.05)", flat),
            ("clipping: drops modes", drops),
            ("penalty: a shaped critic (gradient norm near 1)", shaped),
            ("penalty: all 8 modes", gp_modes),
            ("penalty fits the ring better (w1 < 0.8x clipping's)", fits)]


def _r1():
    plain = "no R1"

    def runs(r):
        return r[plain], next(v for k, v in r.items() if k != plain)

    def swinging(r):
        a, b = runs(r)
        n = int(a.history["iteration"].max())
        sa, sb = (float(x.window("d_loss", n - 200).std()) for x in (a, b))
        return sa > 20 * sb, fmt("D loss std last 200", sa, "vs", sb)

    def come_and_go(r):
        a, _ = runs(r)
        modes = a.series("modes_covered", 100)
        return modes.max() - modes.min() >= 2, fmt("modes range", modes.min(), modes.max())

    def settles(r):
        _, b = runs(r)
        modes = b.series("modes_covered", int(b.iterations.max()) // 2)
        return modes.min() == 8 and b.final["modes_covered"] == 8, fmt("min modes", modes.min())

    def half(r):
        a, b = runs(r)
        n = int(a.history["iteration"].max())
        ga, gb = (float(np.abs(x.window("d_real", n - 100) - x.window("d_fake", n - 100)).mean())
                  for x in (a, b))
        return gb < 0.01 and ga > 0.03, fmt("|D(real)-D(fake)|", ga, "vs", gb)

    def still(r):
        a, b = runs(r)
        n = int(a.iterations.max())
        ma, mb = float(np.median(a.moves(n // 2))), float(np.median(b.moves(n // 2)))
        return mb < ma / 2, fmt("moves", ma, "vs", mb)

    return [("no R1: the losses keep oscillating (D loss std > 20x R1's)", swinging),
            ("no R1: modes come and go", come_and_go),
            ("no R1: the samples keep moving (2x R1's moves)", still),
            ("R1: all 8 modes settle (8 at every record of the 2nd half)", settles),
            ("R1: D -> 1/2 on real and fake alike", half)]


CLAIMS = {"mode-collapse": _mode_collapse(), "saturation": _saturation(),
          "k-steps": _k_steps(), "learning-rates": _learning_rates(),
          "wgan-clipping-vs-gp": _wgan(), "r1-regularisation": _r1()}


def check(name: str, runs: dict) -> list[tuple[str, bool, str]]:
    """(claim, holds, numbers) of each of scenario `name`'s claims on played `runs`."""
    return [(text, *claim(runs)) for text, claim in CLAIMS[name]]


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="*", default=list(CLAIMS))
    parser.add_argument("--seeds", type=int, nargs="+", default=[101, 102, 103, 104, 105])
    parser.add_argument("--steps", type=int, default=None)
    args = parser.parse_args(argv)
    for name in args.names:
        start = time.perf_counter()
        results = {seed: check(name, play(name, seed, args.steps)) for seed in args.seeds}
        print(f"\n{name} ({scenarios.get(name).steps} steps, seeds {args.seeds}, "
              f"{time.perf_counter() - start:.0f} s)")
        for i, (text, _) in enumerate(CLAIMS[name]):
            held = [seed for seed in args.seeds if results[seed][i][1]]
            print(f"  {len(held)}/{len(args.seeds)}  {text}")
            for seed in args.seeds:
                print(f"        seed {seed}: {'ok ' if results[seed][i][1] else 'NO '}"
                      f"{results[seed][i][2]}")


if __name__ == "__main__":
    main()
