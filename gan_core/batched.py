"""Side by side: up to 8 variants of one run, trained in lockstep on the same batches.

A fair comparison: every variant is a real Trainer built from the base config plus its overrides,
so variants with the same seed start from the same weights and draw the same data batches and
latent codes (Trainer's seeded generators); only what the user changed differs, and one `step`
advances every variant one iteration.

Variants whose networks have the same shapes and the same update schedule (stack_key: k, k_g,
updates, batch size...) train together in one batched pass (gan_core.stacked.Stack, which
follows the same engine contract as Trainer, gan_core.engine); the others train with their own
Trainer, still in lockstep. Either way a member is a real Trainer: its `snapshot()`,
`generate()`, `final_metrics()`, `update()` and `records.save_run()` are Trainer's own code and
always see the current weights. Nothing here changes the process (gan_core.tuning is the
trainer's opt-in).
"""
from __future__ import annotations

import bisect
import threading

from .config import LIVE_FIELDS, LOSSES, ConfigError, TrainConfig
from .settings import describe
from .stacked import Stack
from .locking import locked
from .looking import VIEW_SAMPLES
from .training import Trainer

MAX_VARIANTS = 8

# Ready-made comparisons (lists of overrides on a base config), for the CLI and the UI.
PRESETS: dict[str, list[dict]] = {
    "objectives": [{"loss": name} for name in LOSSES],
    "k": [{"k": 1}, {"k": 5}, {"k": 10}],
    "ttur": [{"lr_d": 1e-3, "lr_g": 1e-3}, {"lr_d": 4e-3, "lr_g": 1e-3}],
    "r1": [{"r1": 0.0}, {"r1": 1.0}],
}
# The paper reproductions (gan_core.reproduce) with the explorer's networks: the papers' data,
# optimiser, batch and updates; MLPs of the papers' widths instead of PacGAN's batch-norm G and
# maxout D, and a 16-d code instead of Metz et al.'s 256-d one (the largest this explorer has).
PACGAN = dict(latent_dim=2, g_width=400, g_depth=4, d_width=200, d_depth=3, activation="relu",
              loss="nonsaturating", opt_d="adam", opt_g="adam", lr_d=1e-4, lr_g=1e-4,
              beta1=0.8, beta2=0.999, batch_size=100, updates="simultaneous", k=1, k_g=1)
METZ = dict(dataset="ring", n_modes=8, radius=2.0, std=0.02, latent_dim=16, g_width=128,
            g_depth=2, d_width=128, d_depth=1, activation="relu", loss="minimax", opt_d="adam",
            opt_g="adam", lr_d=1e-4, lr_g=1e-4, beta1=0.5, beta2=0.999, batch_size=512,
            updates="simultaneous", k=1, k_g=1)
PRESETS.update({
    "pacgan-ring": [dict(PACGAN, dataset="ring", n_modes=8, radius=1.0, std=0.01, pack=m)
                    for m in (1, 2)],
    "pacgan-grid": [dict(PACGAN, dataset="grid", grid_size=5, spacing=2.0, std=0.05, pack=m)
                    for m in (1, 2)],
    "unrolled-ring": [dict(METZ, unroll=u) for u in (0, 5)],
})

# Fields that decide the networks' shapes and the update schedule: variants equal on all of
# them (and without spectral norm) can share one batched pass.
STACK_FIELDS = ("latent_dim", "g_width", "g_depth", "d_width", "d_depth", "activation",
                "spectral_norm", "batch_size", "k", "k_g", "updates")


# ---------------------------------------------------------------------- variants
def variant_configs(base: TrainConfig, variants: list[dict]) -> list[TrainConfig]:
    """The config of each variant; a ConfigError names the variant and the field."""
    if not isinstance(variants, (list, tuple)) or not 1 <= len(variants) <= MAX_VARIANTS:
        n = len(variants) if isinstance(variants, (list, tuple)) else "no list of"
        raise ConfigError(f"variants: between 1 and {MAX_VARIANTS} variants, got {n}")
    configs = []
    for i, overrides in enumerate(variants, start=1):
        if not isinstance(overrides, dict):
            raise ConfigError(f"variant {i}: expected a mapping of setting names to values, "
                              f"got {overrides!r}")
        try:
            configs.append(base.replace(**overrides))
        except ConfigError as err:
            raise ConfigError(f"variant {i} ({describe(overrides)}): {err}") from None
        except TypeError as err:          # e.g. an unhashable value for a choice field
            raise ConfigError(f"variant {i} ({describe(overrides)}): {err}") from None
    return configs


# The game optimisers and stabilisers of gan_core.game_updates at their "off" values: a variant
# that uses any of them trains by its own Trainer, still in lockstep on the same batches.
PLAIN_GAME = {"updates": ("alternating", "simultaneous"), "unroll": (0,), "consensus": (0.0,),
              "ema": (0.0,), "pack": (1,), "gp_g": (0.0,)}


def stack_key(config: TrainConfig):
    """Variants with equal keys train in one batched pass; None: always on its own."""
    if config.spectral_norm or config.momentum < 0:
        return None
    if any(getattr(config, name) not in plain for name, plain in PLAIN_GAME.items()):
        return None
    return tuple(getattr(config, name) for name in STACK_FIELDS)


# ---------------------------------------------------------------------- the group
class Group:
    """N variants of a base config advancing on one clock (see the module docstring)."""

    def __init__(self, base: TrainConfig, variants: list[dict], labels: list[str] | None = None,
                 record_every: int = 100, batch: bool = True,
                 members: list[Trainer] | None = None):
        """`members`: trainers already built for these variants (a fork); new ones otherwise."""
        self.base = base
        self.configs = variant_configs(base, variants)
        self.variants = [dict(v) for v in variants]
        self.auto_labels = labels is None
        if labels is None:
            labels = [describe(v) for v in self.variants]
        elif len(labels) != len(self.configs):
            raise ConfigError(f"labels: {len(labels)} labels for {len(self.configs)} variants")
        self.labels = [str(label) for label in labels]
        self.batch = batch
        self._lock = threading.RLock()     # one script run of a session at a time (see locked)
        if members is None:
            members = [Trainer(c, record_every=record_every) for c in self.configs]
        elif [m.config for m in members] != self.configs:
            raise ValueError("members: their configs are not those of the variants")
        self.members: list[Trainer] = members
        self._units: list = []          # each a Stack or a lone Trainer, in variant order
        self._regroup()

    # ------------------------------------------------------------------ structure
    @property
    def iteration(self) -> int:
        """The group's clock: the furthest any variant has come (they advance in lockstep)."""
        return max(m.iteration for m in self.members)

    @property
    def grouping(self) -> list[list[int]]:
        """Indices of the variants in each unit: a list of 2+ is one batched pass."""
        return [list(u.indices) if isinstance(u, Stack) else [self.members.index(u)]
                for u in self._units]

    def _regroup(self) -> None:
        """(Re)build the batched stacks from the members' current state."""
        for unit in self._units:
            if isinstance(unit, Stack):
                unit.release()
        buckets: dict = {}
        for i, member in enumerate(self.members):
            key = stack_key(member.config) if self.batch and not member.status else None
            buckets.setdefault(("alone", i) if key is None else key, []).append(i)
        units = []
        for indices in buckets.values():
            if len(indices) > 1:
                units.append(Stack([self.members[i] for i in indices], indices))
            else:
                units.append(self.members[indices[0]])
        units.sort(key=lambda u: u.indices[0] if isinstance(u, Stack)
                   else self.members.index(u))
        self._units = units

    # ------------------------------------------------------------------ training
    @locked
    def step(self, n: int = 1) -> int:
        """Advance every running variant n iterations in lockstep; returns the clock's advance.

        A variant that diverges stops at its last good state ("diverged at iteration N") while
        the others go on; the clock stops only when every variant has stopped.
        """
        start = self.iteration
        while self.iteration - start < n and any(not m.status for m in self.members):
            before = self.iteration
            regroup = False
            for unit in self._units:
                if isinstance(unit, Stack):
                    regroup |= unit.iteration()
                else:
                    unit.step(1)
            if regroup:               # take the diverged variants out of their stack
                self._regroup()
            if self.iteration == before:      # every running variant stopped in this step
                break
        return self.iteration - start

    @locked
    def update(self, index: int, **changes) -> None:
        """Change live settings (config.LIVE_FIELDS) of one variant, keeping its weights."""
        if not 0 <= index < len(self.members):
            raise ValueError(f"index: no variant {index}; there are {len(self.members)}")
        not_live = set(changes) - LIVE_FIELDS
        if not_live:
            raise ValueError(f"{', '.join(sorted(not_live))}: changing this needs a new run")
        for unit in self._units:          # members own their tensors while they change
            if isinstance(unit, Stack):
                unit.release()
        self._units = []
        try:
            self.members[index].update(**changes)
            self.variants[index].update(changes)
            if self.auto_labels:
                self.labels[index] = describe(self.variants[index])
        finally:
            self.configs[index] = self.members[index].config
            self._regroup()

    @locked
    def step_d(self) -> None:
        """One discriminator update alone for every running variant (not an iteration)."""
        self._each_alone(Trainer.step_d)

    @locked
    def step_g(self) -> None:
        """One generator update alone for every running variant (not an iteration)."""
        self._each_alone(Trainer.step_g)

    def _each_alone(self, action) -> None:
        for unit in self._units:          # members own their tensors while they act alone
            if isinstance(unit, Stack):
                unit.release()
        self._units = []
        try:
            for member in self.members:
                action(member)
        finally:
            self._regroup()

    # ------------------------------------------------------------------ replay and fork
    def record_points(self) -> list[int]:
        """The recorded iterations the group can be replayed at and forked from: those of the
        variant that ran longest (a variant that stopped earlier shows its last record)."""
        longest = max(self.members, key=lambda m: (m.records[-1].iteration, len(m.records)))
        return [r.iteration for r in longest.records]

    @locked
    def records_at(self, iteration: int) -> list:
        """Each variant's recorded snapshot at `iteration` (its latest one before, if it
        stopped earlier or records more sparsely)."""
        return [m.records[_point(m, iteration)] for m in self.members]

    @locked
    def fork(self, iteration: int, changes: dict | None = None,
             variant: int | None = None) -> "Group":
        """A new group that continues every variant from recorded iteration `iteration`, with
        live settings `changes` (config.LIVE_FIELDS) applied to variant `variant`, or to all.

        Without changes the fork retraces this run exactly. A variant that had stopped
        (diverged) before `iteration` stays stopped as it was, unless the changes are for it.
        """
        changes = dict(changes or {})
        if variant is not None and not 0 <= variant < len(self.members):
            raise ValueError(f"variant: no variant {variant}; there are {len(self.members)}")
        if iteration not in self.record_points():
            raise ValueError(f"iteration: {iteration} is not a recorded point")
        targets = range(len(self.members)) if variant is None else [variant]
        members, variants, labels = [], [dict(v) for v in self.variants], list(self.labels)
        for i, member in enumerate(self.members):
            mine = changes if i in targets else {}
            if member.status and member.iteration < iteration and not mine:
                members.append(_stopped_copy(member))
                continue
            members.append(member.fork(_point(member, iteration), **mine))
            if mine:
                variants[i].update(mine)
                if not self.auto_labels:
                    labels[i] = f"{labels[i]}, {describe(mine)}"
        return Group(self.base, variants, None if self.auto_labels else labels, batch=self.batch,
                     members=members)

    # ------------------------------------------------------------------ looking
    @locked
    def snapshots(self, grid: int = 50, n_samples: int = VIEW_SAMPLES, manifold: int = 21,
                  w1_samples: int = 0) -> list:
        """Every variant's snapshot (Trainer.snapshot's arguments), in variant order; the
        variants of a stack are looked at in one batched pass (Stack.snapshots)."""
        out: list = [None] * len(self.members)
        for unit in self._units:
            if isinstance(unit, Stack):
                for i, snap in zip(unit.indices, unit.snapshots(grid, n_samples, manifold,
                                                                 w1_samples)):
                    out[i] = snap
            else:
                out[self.members.index(unit)] = unit.snapshot(
                    grid=grid, n_samples=n_samples, manifold=manifold, w1_samples=w1_samples)
        return out

    @locked
    def final_metrics(self, **kwargs) -> list[dict]:
        return [m.final_metrics(**kwargs) for m in self.members]


def _point(member: Trainer, iteration: int) -> int:
    """Index of the member's latest record at or before `iteration` (0 if none)."""
    its = [r.iteration for r in member.records]
    return max(bisect.bisect_right(its, iteration) - 1, 0)


def _stopped_copy(member: Trainer) -> Trainer:
    """An independent copy of a stopped member, as it stopped (its last good state)."""
    copy = member.fork(len(member.checkpoints) - 1)
    copy.load_state(member.state())
    copy.history = member.history.truncated(member.iteration)
    copy.metric_history = member.metric_history.truncated(member.iteration)
    copy.status = member.status
    return copy
