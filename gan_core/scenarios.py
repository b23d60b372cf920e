"""Named, seeded lecture scenarios: each shows one GAN convergence problem on cue.

A scenario is pure data: a base TrainConfig, optional side-by-side variants (label, overrides
in the settings language, gan_core.settings: "k=5, lr_d=1e-3"),
how many iterations the phenomenon needs, and what students should watch and why. Every run of
a scenario starts from the base config's seed, so variants share initial weights and batches and
only the overridden settings differ. Every claim of its watch line and explanation is measured
in tests/scenario_claims.py (tests/test_scenarios.py asserts them).

All ring scenarios use the 8-Gaussian ring with std 0.05 (the PacGAN default is 0.01): modes
stay visibly separate (spacing 0.77) while a sample within 3 std (0.15) of a center already
counts as a good sample, so "modes covered" tracks what students see within a short demo.
"""
from __future__ import annotations

from dataclasses import dataclass

from .config import TrainConfig
from .settings import one_of, parse_overrides

RING = dict(dataset="ring", std=0.05)
# The cure scenarios' cycling game: a 2D Dirac-GAN. The data is one point, G and D are tiny
# tanh networks, so the game has one equilibrium (G on the point, D flat) around which
# gradient play rotates (Mescheder et al. 2018); the Dirac-GAN page shows the same game in 2
# parameters. The point has std 0.02: a sample within 3 std (0.06) of it is a good sample, so
# the badge says "converged" once G's samples gather on it (at 0.01 they had to lie within 0.03,
# and G's spread kept the badge "off the data" long after G had reached the point).
POINT = dict(dataset="custom", custom_points=((1.0, 0.5),), std=0.02, latent_dim=1,
             g_width=16, g_depth=1, d_width=16, d_depth=1, activation="tanh")
# ...played as an unconstrained Wasserstein game (clip 10 never binds here) by plain SGD.
POINT_WGAN = dict(POINT, loss="wgan", clip=10.0, opt_d="sgd", opt_g="sgd", lr_d=0.3, lr_g=0.3,
                  batch_size=64, updates="simultaneous")


@dataclass(frozen=True)
class Scenario:
    name: str            # slug used on the CLI / in URLs, e.g. "mode-collapse"
    title: str           # e.g. "Mode collapse and mode hopping"
    explanation: str     # 3-6 sentences of markdown for students: what to watch, and why
    watch: str           # one line: what to look at while it runs
    base: TrainConfig
    variants: tuple[tuple[str, dict], ...]   # (label, overrides); () for a single run
    steps: int           # how long the demo should run to show the phenomenon
    charts: tuple[str, ...] = ()   # history columns its watch line names, charted beside the
                                   # page's usual ones (e.g. "g_grad_norm")

    def __post_init__(self):
        # overrides may be written in the settings language ("k=5, lr_d=1e-3"): read as dicts
        object.__setattr__(self, "variants", tuple(
            (label, parse_overrides(o) if isinstance(o, str) else dict(o))
            for label, o in self.variants))
        labels = [label for label, _ in self.variants]
        if len(set(labels)) != len(labels):
            raise ValueError(f"scenario {self.name!r}: variant labels must be unique")
        if self.steps < 1:
            raise ValueError(f"scenario {self.name!r}: steps must be >= 1")
        configs(self)            # every override must make a valid TrainConfig
        from .training import HISTORY_COLUMNS, METRIC_COLUMNS

        unknown = set(self.charts) - set(HISTORY_COLUMNS) - set(METRIC_COLUMNS)
        if unknown:
            raise ValueError(f"scenario {self.name!r}: no history column {sorted(unknown)}; "
                             f"charts come from {HISTORY_COLUMNS + METRIC_COLUMNS}")

    def __hash__(self):          # the overrides are dicts: hash by the (unique) name
        return hash(self.name)


def configs(scenario: Scenario) -> list[tuple[str, TrainConfig]]:
    """[(label, config)] of the scenario's runs; [("", base)] when it has no variants."""
    if not scenario.variants:
        return [("", scenario.base)]
    return [(label, scenario.base.replace(**overrides)) for label, overrides in scenario.variants]


def group(scenario: Scenario, seed: int | None = None, record_every: int = 100):
    """The scenario's runs as the Lecture page plays them: one batched Group (float32), every
    run from `seed` (the scenario's own by default), so they share initial weights and
    batches. The scenario tests train exactly this."""
    from .batched import Group

    base = scenario.base if seed is None else scenario.base.replace(seed=seed)
    variants = scenario.variants or (("", {}),)
    return Group(base, [dict(o) for _, o in variants], labels=[label for label, _ in variants],
                 record_every=record_every)


def get(name: str) -> Scenario:
    """The scenario called `name`; ValueError listing the known names otherwise."""
    return one_of(SCENARIOS, name, "scenario")


_ALL = (
    Scenario(
        name="mode-collapse",
        title="Mode collapse and mode hopping",
        explanation=(
            "The generator here learns 5x faster than the discriminator (lr_g = 5e-3, "
            "lr_d = 1e-3) and D gets one step per G step. Against a D that has not caught up, "
            "G's best move is to put *all* its samples on the one spot D currently rates most "
            "real, so the samples shrink onto a single mode; D then learns to reject that spot "
            "and G jumps to another mode, round and round the ring (Goodfellow, NIPS 2016 "
            "tutorial: G solves min over G of max over D only when D keeps up, otherwise it "
            "plays max-min; Metz et al. 2017 show this hopping on the same ring). In the fixed "
            "run only one thing changes: D takes k = 5 steps per G step, stays near its best "
            "response, punishes any crowded mode at once, and G spreads over all 8 modes."
        ),
        watch=("Left: the purple samples gather on one mode and keep jumping to another one; "
               "right: the same fast generator, with k = 5, covers all 8 modes."),
        base=TrainConfig(**RING, loss="nonsaturating", lr_g=5e-3, lr_d=1e-3, k=1, seed=0),
        variants=(("collapsing", "k=1"), ("fixed", "k=5")),
        steps=600,
    ),
    Scenario(
        name="saturation",
        title="Saturating vs non-saturating generator loss",
        explanation=(
            "With the original minimax loss G minimises log(1 - D(G(z))), whose gradient is "
            "proportional to D(G(z)): once D confidently rejects the early, bad samples "
            "(D(G(z)) close to 0) the gradient vanishes and G stops learning. Goodfellow et al. "
            "(2014) therefore proposed the non-saturating loss -log D(G(z)), which has the same "
            "fixed point but a strong gradient exactly when G is losing. D gets k = 2 steps per "
            "G step to become confident quickly. G uses plain SGD on purpose: Adam divides each "
            "step by the gradient's running scale and would hide the vanishing gradient; the "
            "price is that the non-saturating G, which does learn, crowds onto a mode or two "
            "of the ring (mode collapse, see *mode-collapse*) instead of spreading."
        ),
        watch=("Left (minimax): the samples barely move and G's gradient norm collapses "
               "towards 0 (G grad norm chart); right (non-saturating): the samples travel to "
               "the ring, where plain SGD crowds them onto a mode or two."),
        base=TrainConfig(**RING, opt_g="sgd", lr_g=2e-3, lr_d=1e-3, k=2, seed=0),
        variants=(("saturating (minimax)", "loss=minimax"),
                  ("non-saturating", "loss=nonsaturating")),
        steps=300,
        charts=("g_grad_norm", "d_fake"),
    ),
    Scenario(
        name="k-steps",
        title="How many discriminator steps per generator step (k)?",
        explanation=(
            "Goodfellow et al.'s algorithm trains D for k steps before every G step. The "
            "generator here is deliberately 5x faster than D, so k decides who leads. With "
            "k = 1, D never catches up: G collapses onto one mode and hops (see "
            "*mode-collapse*), and D's output stays near 1/2 on real and fake alike. With "
            "k = 5, D stays close to its best response and G spreads over all 8 modes. With "
            "k = 15, D dominates: it separates real from fake far more confidently, its "
            "gradients push G's samples unevenly, so some modes get more mass than others "
            "(a higher reverse KL), and every iteration costs 3x the updates of k = 5."
        ),
        watch=("Compare D's output on real and fake (the D real and D fake charts) and the "
               "modes: k=1 collapses and hops, k=5 covers the ring evenly, k=15 has a much "
               "more confident D and less even modes."),
        base=TrainConfig(**RING, loss="nonsaturating", lr_g=5e-3, lr_d=1e-3, seed=0),
        variants=(("k=1", "k=1"), ("k=5", "k=5"), ("k=15", "k=15")),
        steps=300,
        charts=("d_real", "d_fake"),
    ),
    Scenario(
        name="learning-rates",
        title="Learning rates: too high, balanced, two time-scale (TTUR)",
        explanation=(
            "Gradient play on a two-player game is not gradient descent on one loss: with "
            "large steps the players overshoot each other and the game oscillates instead of "
            "settling. At lr = 1e-2 for both players the samples keep jumping about. Equal, "
            "moderate rates (1e-3) work, but slowly: G first "
            "collapses onto a mode or two and hops, for a few hundred iterations at most "
            "seeds, before it spreads out. The two time-scale update rule (Heusel et al. 2017) "
            "gives D the larger rate (here 4x, as in SAGAN and BigGAN), so D tracks its best "
            "response and G follows a reliable signal: all 8 modes, quickly, and it keeps "
            "(nearly) all of them."
        ),
        watch=("Too high: the samples keep jumping about; balanced: a collapsed phase first, "
               "all 8 modes much later; TTUR: all 8 modes within ~100 iterations, and (nearly) "
               "all of them kept."),
        base=TrainConfig(**RING, loss="nonsaturating", seed=0),
        variants=(("too high", "lr_d=1e-2, lr_g=1e-2"),
                  ("balanced", "lr_d=1e-3, lr_g=1e-3"),
                  ("TTUR", "lr_d=4e-3, lr_g=1e-3")),
        steps=800,
    ),
    Scenario(
        name="wgan-clipping-vs-gp",
        title="WGAN: weight clipping vs gradient penalty",
        explanation=(
            "A Wasserstein critic must be 1-Lipschitz. The original WGAN (Arjovsky et al. "
            "2017) enforces this by clipping every weight to [-0.01, 0.01]; Gulrajani et al. "
            "(2017) showed that this squashes the critic into a nearly constant, overly simple "
            "function whose gradients vanish (or explode, for larger clips), and replaced it "
            "with a penalty pushing the critic's gradient norm towards 1 (WGAN-GP). Both runs "
            "here use the same critic, optimizer and k = 5 critic steps; only the Lipschitz "
            "method differs. Look at the critic surface: almost flat with clipping, a clear "
            "landscape with the penalty, which fits the ring better."
        ),
        watch=("Clipping: a nearly flat critic (values ~0.01), G drifting without ever "
               "settling on the ring (off the data); gradient penalty: a shaped critic and "
               "all 8 modes."),
        base=TrainConfig(**RING, k=5, beta2=0.9, seed=0),
        variants=(("weight clipping", "loss=wgan, clip=0.01"),
                  ("gradient penalty", "loss=wgan-gp, gp_weight=0.1")),
        steps=600,
    ),
    Scenario(
        name="r1-regularisation",
        title="R1 regularisation makes an unstable game converge",
        explanation=(
            "Mescheder et al. (2018) showed that unregularised GAN training need not converge: "
            "near the equilibrium the players circle around it instead of settling (try the "
            "Dirac-GAN page). Their R1 penalty, gamma/2 times the squared gradient of D on "
            "*real* data, damps that rotation: D may not build steep slopes on the data, so "
            "the game settles at D = 1/2 with the generator on the data. Both runs use the "
            "same too-high learning rates (1e-2 for both players, see *learning-rates*); only "
            "R1 (gamma = 1) differs."
        ),
        watch=("Without R1 the samples and D's loss keep oscillating and the modes stay "
               "uneven; with R1 all 8 modes are kept (at most a brief dip to 7) and D "
               "flattens to 1/2 around the data."),
        base=TrainConfig(**RING, loss="nonsaturating", lr_d=1e-2, lr_g=1e-2, seed=0),
        variants=(("no R1", "r1=0"), ("R1, gamma = 1", "r1=1")),
        steps=800,
        charts=("d_real", "d_fake"),
    ),
    # ------------------------------------------------------------------ the cures
    Scenario(
        name="unrolled-gan",
        title="Unrolled GAN: G plans against D's answer",
        explanation=(
            "This is the *mode-collapse* game: G learns 5x faster than D and, with plain "
            "gradient steps, piles its samples on one mode and hops round the ring. Metz et "
            "al. (2017) let G take its step against the discriminator D *will be* after 5 more "
            "of its own updates, differentiating through those look-ahead steps (D itself is "
            "trained as usual). Crowding one mode now pays nothing, because G sees D punish "
            "it 5 steps later, so G spreads over the whole ring at once: all 8 modes, thinly "
            "at first (the badge reads off the data), then its samples gather on them. The "
            "price is 5 extra D steps, with second derivatives, for every G step."
        ),
        watch=("Left: all samples on one mode, hopping; right (unroll = 5): all 8 modes within "
               "~100 iterations, thinly at first (off the data), gathered on them by ~350."),
        base=TrainConfig(**RING, loss="nonsaturating", lr_g=5e-3, lr_d=1e-3, k=1, seed=0),
        variants=(("plain GAN", "unroll=0"), ("unrolled, 5 steps", "unroll=5")),
        steps=500,
    ),
    Scenario(
        name="extragradient",
        title="Extragradient: a look-ahead step stops the spiral",
        explanation=(
            "A 2D Dirac-GAN: the data is one point and the players are tiny networks in an "
            "unconstrained Wasserstein game, trained by plain SGD with both players stepping "
            "at once. Near the equilibrium the game's gradient field rotates, and a step along "
            "a rotation always lands a little further out; at this step size simultaneous "
            "steps throw the samples off the plot within a few dozen iterations (the Dirac-GAN "
            "page shows the spiral itself). Extragradient (Korpelevich 1976; Gidel et al. "
            "2019) first steps to a look-ahead point and then takes the real step from where "
            "it was, with the gradient found there; that gradient already points inwards, so "
            "the samples land on the point and stay."
        ),
        watch=("Simultaneous: the samples fly off the plot and never come back; extragradient: "
               "they land on the point within ~100 iterations, stay, and gather there "
               "(converged)."),
        base=TrainConfig(**POINT_WGAN, seed=0),
        variants=(("simultaneous", "updates=simultaneous"),
                  ("extragradient", "updates=extragradient")),
        steps=400,
    ),
    Scenario(
        name="consensus",
        title="Consensus optimisation cancels the rotation",
        explanation=(
            "The same game as *extragradient*: simultaneous SGD steps on a 2D Dirac-GAN throw "
            "the samples away from the equilibrium. Mescheder et al. (2017) traced this to "
            "the Jacobian's eigenvalues with large imaginary parts (pure rotation) and let "
            "both players also descend gamma/2 times the squared norm of the game's gradient "
            "field. Its gradient pulls both towards points where neither player wants to move, "
            "which turns the rotation into an inward spiral. Same step size, same updates, "
            "only gamma = 0.5 differs."
        ),
        watch=("Without consensus the samples fly off the plot and never come back; with "
               "gamma = 0.5 they land on the point within ~100 iterations, stay, and gather "
               "there (converged)."),
        base=TrainConfig(**POINT_WGAN, seed=0),
        variants=(("simultaneous", "consensus=0"), ("consensus, gamma = 0.5", "consensus=0.5")),
        steps=600,
    ),
    Scenario(
        name="negative-momentum",
        title="Momentum in a game: positive momentum throws the players off",
        explanation=(
            "Heavy-ball momentum speeds up minimisation, but in a game it feeds the rotation "
            "around the equilibrium. All three runs play the 2D Dirac-GAN of *extragradient* "
            "with alternating SGD steps of 0.2 and differ only in momentum. With +0.5 each "
            "player overshoots the other's last move and the samples are thrown off the plot "
            "within a few dozen iterations; without momentum the alternating steps settle on "
            "the point. Gidel et al. (2019) proved that on the pure bilinear game, where "
            "alternating steps circle forever, a *negative* momentum makes them converge (try "
            "it on the Dirac-GAN page); these small networks already damp the rotation "
            "themselves, so here -0.5 settles too, but its samples gather on the point later "
            "than without momentum."
        ),
        watch=("+0.5: the samples fly off the plot and never come back; 0: they settle on the "
               "point (converged); -0.5: settles too, but gathers later than 0."),
        base=TrainConfig(**dict(POINT_WGAN, lr_d=0.2, lr_g=0.2, updates="alternating"), seed=0),
        variants=(("momentum +0.5", "momentum=0.5"), ("no momentum", "momentum=0"),
                  ("momentum -0.5", "momentum=-0.5")),
        steps=600,
    ),
    Scenario(
        name="generator-averaging",
        title="Generator averaging smooths an oscillating run",
        explanation=(
            "Adam with a large step (0.1) and a short memory of the gradients' scale "
            "(beta2 = 0.9) never settles on the 2D Dirac-GAN: its normalised steps keep G "
            "jittering round the data point. An exponential moving average of G's weights "
            "(beta = 0.99; Yazici et al. 2019, Gidel et al. 2019) follows the middle of that "
            "motion, so the averaged G (blue) sits on the point while the trained G (purple) "
            "keeps moving. The average is not trained and does not change training: it is a "
            "free, better read-out of the same run."
        ),
        watch=("Purple (the trained G) keeps jittering round the point, mostly off the data; "
               "blue (the averaged G) stays on it (its figures are in the status line)."),
        base=TrainConfig(**POINT, loss="nonsaturating", lr_d=0.1, lr_g=0.1, beta2=0.9,
                         batch_size=64, ema=0.99, seed=0),
        variants=(),
        steps=800,
    ),
)

SCENARIOS: dict[str, Scenario] = {}
for _scenario in _ALL:
    if _scenario.name in SCENARIOS:
        raise ValueError(f"duplicate scenario name {_scenario.name!r}")
    SCENARIOS[_scenario.name] = _scenario
del _scenario
