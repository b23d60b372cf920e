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

from gan_core import scenarios, tuning
from gan_core.metrics import HOPPING

RECORD_EVERY = 50


@dataclass
class Run:
    """One played run: its records' metrics, its training history and its final metrics."""
    iterations: np.ndarray
    records: list            # metrics dict of each record (500 view samples), in order
    fake: list               # each record's generated view samples
    fake_avg: list           # ...and the averaged G's (generator averaging on), else Nones
    records_avg: list        # the averaged G's metrics at each record ({} without averaging)
    view_box: tuple          # the plot's (xmin, xmax, ymin, ymax)
    centers: np.ndarray      # the data's modes (the 2D Dirac-GAN: its one point)
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

    def distance(self, start: int = 0, averaged: bool = False) -> np.ndarray:
        """How far the mean of each record's view samples (the averaged G's) is from the
        data's first mode (the 2D Dirac-GAN's point), from iteration `start` on."""
        fakes = self.fake_avg if averaged else self.fake
        return np.array([float(np.linalg.norm(f.mean(0) - self.centers[0]))
                         for i, f in zip(self.iterations, fakes) if i >= start])

    def off_plot(self, start: int = 0) -> np.ndarray:
        """Share of each record's view samples outside the plot, from iteration `start` on."""
        x0, x1, y0, y1 = self.view_box
        return np.array([float(np.mean((f[:, 0] < x0) | (f[:, 0] > x1) | (f[:, 1] < y0)
                                       | (f[:, 1] > y1)))
                         for i, f in zip(self.iterations, self.fake) if i >= start])

    def on_data_from(self) -> float:
        """The first recorded iteration from which every badge is partial or converged
        (inf: not by the end)."""
        its = [i for i, v in zip(self.iterations, self.verdicts())
               if v not in ("partial", "converged")]
        if not its:
            return float(self.iterations[0])
        later = self.iterations[self.iterations > its[-1]]
        return float(later[0]) if len(later) else float("inf")


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
               fake_avg=[r.fake_avg for r in recs], records_avg=[r.metrics_avg for r in recs],
               view_box=tuple(member.data.view_box), centers=np.asarray(member.data.centers),
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
        return f["high_quality"] >= 0.5, fmt("hq", f["high_quality"])

    def crowds(r):
        f = r[ns].final
        return (f["verdict"] == "mode collapse" and f["modes_covered"] <= 2,
                fmt(f["verdict"], "modes", f["modes_covered"]))

    def badges(r):
        v = r[sat].final["verdict"]
        return v == "off the data", v

    return [("minimax: the samples barely move", barely_moves),
            ("minimax: G's gradient norm collapses towards 0 (<1/10 of its start and of NS')",
             gradient),
            ("minimax: D confidently rejects the fakes (D(G(z)) close to 0)", rejects),
            ("minimax: ends badged off the data", badges),
            ("non-saturating: the samples travel to the ring (on the data at the end)",
             travels),
            ("non-saturating: ...crowded on a mode or two (badged mode collapse)", crowds)]


def _k_steps():
    def gap(run, start=50):
        return float((run.window("d_real", start) - run.window("d_fake", start)).mean())

    def k1(r):
        c = list(r.values())[0]
        s = share(c.verdicts(150), lambda v: v == "mode collapse")
        return s >= 0.5 and c.hops() >= 1, fmt("collapsed share from 150", s,
                                               "hops", c.hops())

    def k1_half(r):
        g = gap(list(r.values())[0])
        return abs(g) < 0.05, fmt("gap", g)

    def k5(r):
        run = list(r.values())[1]
        f, late = run.final, run.verdicts(int(run.iterations.max()) // 2)
        good = share(late, lambda v: v in ("converged", "partial"))
        return (f["modes_covered"] == 8 and f["verdict"] in ("converged", "partial")
                and good >= 0.75, fmt("modes", f["modes_covered"], "rkl", f["reverse_kl"],
                                      f["verdict"], "good share 2nd half", good))

    def confident(r):
        g5, g25 = gap(list(r.values())[1]), gap(list(r.values())[2])
        return g25 > 1.3 * g5, fmt("gap", g5, "vs", g25)

    def uneven(r):
        a, b = (list(r.values())[i].final["reverse_kl"] for i in (1, 2))
        return b > a, fmt("rkl", a, "vs", b)

    def cost(r):
        k5, big = list(r.values())[1:]
        ratio = big.d_updates / k5.d_updates
        return ratio > 2, fmt("D updates ratio", ratio)

    return [("k=1: collapses and hops (collapsed at half the records from 150 on, a hop)", k1),
            ("k=1: D's output stays near 1/2 on real and fake alike", k1_half),
            ("k=5: covers the ring (all 8 modes, not collapsed, good 3/4 of the 2nd half)", k5),
            ("large k: a much more confident D (gap > 1.3x k=5's)", confident),
            ("large k: uneven modes (reverse KL above k=5's)", uneven),
            ("large k: several times the D updates of k=5", cost)]


def _learning_rates():
    def first8(run):
        hit = [i for i, m in zip(run.iterations, run.records) if m["modes_covered"] == 8]
        return float(hit[0]) if hit else float("inf")

    def jumping(r):
        half = int(r["TTUR"].iterations.max()) // 2
        high, ttur = (float(np.median(r[k].moves(half))) for k in ("too high", "TTUR"))
        return high > 2 * ttur, fmt("move", high, "vs", ttur)

    def balanced(r):
        b, t = first8(r["balanced"]), first8(r["TTUR"])
        collapsed = sum(v == "mode collapse" for v in r["balanced"].verdicts())
        return (b >= t + 150 and collapsed >= 3,
                fmt("first 8 modes at", b, "vs", t, "collapsed records", collapsed))

    def ttur(r):
        run = r["TTUR"]
        t = first8(run)
        kept = share(run.series("modes_covered", t), lambda m: m >= 7)
        return t <= 150 and kept >= 0.9, fmt("first 8 at", t, "then >= 7 modes", kept)

    return [("too high: the samples keep jumping (2x TTUR's moves)", jumping),
            ("balanced: collapses first, all 8 modes 150+ iterations after TTUR", balanced),
            ("TTUR: all 8 modes within ~100 iterations, and keeps (nearly) all", ttur)]


def _wgan():
    clip, gp = "weight clipping", "gradient penalty"

    def flat(r):
        return (r[clip].critic_grad < 1e-3 and r[clip].surface_spread < 0.05,
                fmt("critic grad", r[clip].critic_grad, "spread", r[clip].surface_spread))

    def shaped(r):
        return 0.3 < r[gp].critic_grad < 3, fmt("critic grad", r[gp].critic_grad)

    def gp_modes(r):
        f = r[gp].final
        return (f["modes_covered"] == 8 and f["verdict"] in ("partial", "converged"),
                fmt("modes", f["modes_covered"], f["verdict"]))

    def fits(r):
        a, b = r[gp].final["w1"], r[clip].final["w1"]
        return a < 0.8 * b, fmt("w1", a, "vs", b)

    def drifts(r):
        late = r[clip].verdicts(int(r[clip].iterations.max()) // 2)
        off = share(late, lambda v: v in ("off the data", "mode collapse"))
        return (off >= 0.75 and r[clip].final["verdict"] == "off the data",
                fmt("off the data share 2nd half", off, "final", r[clip].final["verdict"]))

    return [("clipping: a nearly flat critic (gradient < 1e-3, values within 0.05)", flat),
            ("clipping: G drifts and never settles on the ring (off the data)", drifts),
            ("penalty: a shaped critic (gradient norm near 1)", shaped),
            ("penalty: all 8 modes, on the data (partial or converged)", gp_modes),
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

    def uneven(r):
        a, b = runs(r)
        ka, kb = a.final["reverse_kl"], b.final["reverse_kl"]
        return (ka > 2 * kb and a.final["verdict"] != "converged",
                fmt("reverse KL", ka, "vs", kb, a.final["verdict"]))

    def settles(r):
        _, b = runs(r)
        modes = b.series("modes_covered", int(b.iterations.max()) // 2)
        f = b.final
        return (modes.min() >= 7 and f["modes_covered"] == 8
                and f["verdict"] in ("partial", "converged"),
                fmt("min modes 2nd half", modes.min(), "at the end", f["modes_covered"],
                    f["verdict"]))

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
            ("no R1: the samples keep moving (2x R1's moves)", still),
            ("no R1: the modes stay uneven, never converged (reverse KL > 2x R1's)", uneven),
            ("R1: all 8 modes kept (7+ at every record of the 2nd half, 8 at the end)",
             settles),
            ("R1: D -> 1/2 on real and fake alike", half)]


# ---------------------------------------------------------------------- the cures
def _unrolled():
    plain, unrolled = "plain GAN", "unrolled, 5 steps"

    def gathers(r):
        s = share(r[plain].verdicts(200), lambda v: v == "mode collapse")
        return s >= 2 / 3, fmt("collapsed share from it 200", s)

    def hops(r):
        n = r[plain].hops()
        return n >= 2, fmt("hops", n)

    def spreads(r):
        run = r[unrolled]
        first = next((i for i, m in zip(run.iterations, run.records)
                      if m["modes_covered"] == 8), float("inf"))
        return first <= 100, fmt("first 8 modes at", first)

    def thinly(r):
        run = r[unrolled]
        early = [v for i, v in zip(run.iterations, run.verdicts()) if 0 < i <= 100]
        return all(v == "off the data" for v in early), fmt("badges to it 100", early)

    def gathered(r):
        run = r[unrolled]
        late, modes = run.verdicts(350), run.series("modes_covered", 350)
        return (all(v in ("partial", "converged") for v in late) and modes.min() >= 7,
                fmt("badges from it 350", late, "min modes", modes.min()))

    def never_collapses(r):
        n = sum(v == "mode collapse" for v in r[unrolled].verdicts())
        return n == 0, fmt("collapsed records", n)

    return [("plain: the samples gather on one mode (mode collapse at 2/3 of the records "
             "from it 200)", gathers),
            ("plain: ...and hop (2+ mode hopping events)", hops),
            ("unroll 5: all 8 modes within ~100 iterations", spreads),
            ("unroll 5: thinly at first (badge off the data to it 100)", thinly),
            ("unroll 5: gathered on the modes by ~350 (partial or converged, 7+ modes, at "
             "every record from it 350)", gathered),
            ("unroll 5: never badged mode collapse", never_collapses)]


def _flies_off(label):
    def check(r):
        out = r[label].off_plot(100)
        return out.min() >= 0.95, fmt("least share off the plot from it 100", out.min())
    return check


def _lands(label):
    def check(r):
        d = r[label].distance(100)
        return d.max() <= 0.05, fmt("farthest mean from the point from it 100", d.max())
    return check


def _gathers(label):
    def check(r):
        v = r[label].final["verdict"]
        return v == "converged", fmt("final", v, "on the data from", r[label].on_data_from())
    return check


def _extragradient():
    return [("simultaneous: the samples fly off the plot and never come back (95%+ off from "
             "it 100)", _flies_off("simultaneous")),
            ("extragradient: on the point within ~100 iterations and stays (mean within "
             "0.05)", _lands("extragradient")),
            ("extragradient: gathers there (converged at the end)", _gathers("extragradient"))]


def _consensus():
    cons = "consensus, gamma = 0.5"
    return [("no consensus: the samples fly off the plot and never come back", _flies_off(
                "simultaneous")),
            ("gamma 0.5: on the point within ~100 iterations and stays", _lands(cons)),
            ("gamma 0.5: gathers there (converged at the end)", _gathers(cons))]


def _negative_momentum():
    plus, none, minus = "momentum +0.5", "no momentum", "momentum -0.5"

    def later(r):
        a, b = (float(r[k].series("high_quality").mean()) for k in (none, minus))
        return b < a, fmt("mean high quality over the records", a, "vs", b, "on the data from",
                          r[none].on_data_from(), "vs", r[minus].on_data_from())

    def settles_too(r):
        v = r[minus].final["verdict"]
        return v in ("partial", "converged"), fmt("final", v)

    return [("+0.5: the samples fly off the plot and never come back", _flies_off(plus)),
            ("0: on the point within ~100 iterations and stays", _lands(none)),
            ("0: gathers there (converged at the end)", _gathers(none)),
            ("-0.5: on the point within ~100 iterations and stays", _lands(minus)),
            ("-0.5: on the data at the end (partial or converged)", settles_too),
            ("-0.5: gathers later than 0 (lower high quality, averaged over the records)",
             later)]


def _generator_averaging():
    def keeps_moving(r):
        run = r[""]
        half = int(run.iterations.max()) // 2
        off = share(run.verdicts(half), lambda v: v == "off the data")
        away = float(np.median(run.distance(half)))
        return off > 0.5 and away >= 0.05, fmt("off the data share 2nd half", off,
                                                  "median distance", away)

    def averaged_stays(r):
        run = r[""]
        half = int(run.iterations.max()) // 2
        d = run.distance(half, averaged=True)
        good = share([m for i, m in zip(run.iterations, run.records_avg) if i >= half],
                     lambda m: m["high_quality"] >= 0.5)
        return d.max() <= 0.1 and good >= 0.8, fmt("averaged: farthest", d.max(),
                                                      "on the data share", good)

    def closer(r):
        run = r[""]
        half = int(run.iterations.max()) // 2
        a, g = (float(np.median(run.distance(half, averaged=x))) for x in (True, False))
        return a < g / 2, fmt("median distance averaged", a, "vs trained", g)

    return [("trained G keeps moving round the point, mostly off the data (2nd half: most "
             "badges, median mean 0.05+ away)", keeps_moving),
            ("averaged G stays on it (2nd half: within 0.1, high quality 50%+ at 4/5 of "
             "the records)", averaged_stays),
            ("averaged G is much closer to the point than the trained G (< half)", closer)]


CLAIMS = {"mode-collapse": _mode_collapse(), "saturation": _saturation(),
          "k-steps": _k_steps(), "learning-rates": _learning_rates(),
          "wgan-clipping-vs-gp": _wgan(), "r1-regularisation": _r1(),
          "unrolled-gan": _unrolled(), "extragradient": _extragradient(),
          "consensus": _consensus(), "negative-momentum": _negative_momentum(),
          "generator-averaging": _generator_averaging()}


def check(name: str, runs: dict) -> list[tuple[str, bool, str]]:
    """(claim, holds, numbers) of each of scenario `name`'s claims on played `runs`."""
    return [(text, *claim(runs)) for text, claim in CLAIMS[name]]


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="*", default=list(CLAIMS))
    parser.add_argument("--seeds", type=int, nargs="+", default=[101, 102, 103, 104, 105])
    parser.add_argument("--steps", type=int, default=None)
    args = parser.parse_args(argv)
    tuning.for_training()          # as the tests and the app train (one torch thread)
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
