"""Side by side: up to 8 variants of one run, trained in lockstep on the same batches.

A fair comparison: every variant is a real Trainer built from the base config plus its overrides,
so variants with the same seed start from the same weights and draw the same data batches and
latent codes (Trainer's seeded generators); only what the user changed differs, and one `step`
advances every variant one iteration.

Variants whose networks have the same shapes and the same update schedule (k, k_g, updates,
batch size) train together in one batched pass (`_Stack`): each player's weights live in one
flat (K, P) tensor, the K networks run as batched matmuls (torch.baddbmm), and each variant's
own optimizer (Adam through torch's fused Adam kernel, as Trainer; SGD / RMSprop vectorised;
its own lr, betas, momentum) updates its row. Losses, regularisers (R1, R2, instance noise;
WGAN-GP on the rows that use it only) and clipping are per variant. In float64 a batched
variant matches a lone Trainer to ~1e-15; in float32 to rounding per step.
The members' own G and D parameters and optimizer states are *views* of the stacked tensors, so
`snapshot()`, `generate()`, `final_metrics()`, `update()` and `records.save_run()` of a member are
Trainer's own code and always see the current weights. Other variants (different widths, depths,
latent size, activation, spectral norm...) fall back to their own Trainer, still in lockstep.
"""
from __future__ import annotations

import bisect
import ctypes
import sys
import threading
import warnings

import torch
import torch.nn.functional as F
from torch import nn

from . import objectives as obj
from .config import LIVE_FIELDS, LOSSES, ConfigError, TrainConfig
from .models import sample_latent
from .training import Trainer, locked

MAX_VARIANTS = 8

# The stacked weights are strided views of one buffer, so autograd notes (once) that their
# in-place accumulated gradients do not follow its preferred dense layout; that is intended.
warnings.filterwarnings("ignore", message="grad and param do not obey the gradient layout")

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
# Fields that decide what a data / latent generator produces, given its state.
DATA_FIELDS = ("dataset", "n_modes", "radius", "grid_size", "spacing", "custom_points")
ALIGN = 16                               # floats: 64 bytes
FUSED_ADAM = getattr(torch, "_fused_adam_", None)   # the kernel of Adam(fused=True)
THIN = 4               # layers with at most this many inputs or outputs use _BatchedLinear
RMSPROP_ALPHA, EPS = 0.99, 1e-8          # torch.optim defaults, as Trainer uses them

# models.ACTIVATION_LAYERS, in place: a matmul's fresh output can be overwritten (its backward
# needs only its inputs), which saves a 400 kB allocation and copy per layer at K = 6.
INPLACE_ACTIVATIONS = {"relu": torch.relu_, "leakyrelu": lambda h: F.leaky_relu_(h, 0.2),
                       "tanh": torch.tanh_, "elu": F.elu_}


_MALLOC_TUNED = False


def keep_freed_memory() -> None:
    """Stop glibc from handing the batched pass's ~400 kB activations back to the OS after
    every backward (and faulting them in again: ~1,000 page faults and ~3 ms per iteration for
    6 variants). Process-wide: freed memory up to the peak stays in the heap for reuse."""
    global _MALLOC_TUNED
    if _MALLOC_TUNED or not sys.platform.startswith("linux"):
        return
    _MALLOC_TUNED = True
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(-3, 32 * 2**20)       # M_MMAP_THRESHOLD: heap, not mmap, up to 32 MB
        libc.mallopt(-1, 256 * 2**20)      # M_TRIM_THRESHOLD: keep up to 256 MB of free heap
    except (OSError, AttributeError):      # not glibc: nothing to tune
        pass


# ---------------------------------------------------------------------- variants
def describe(overrides: dict) -> str:
    """A short label of a variant's overrides: "loss=wgan, k=5"; "base" for none."""
    if not overrides:
        return "base"
    return ", ".join(f"{name}={_show(value)}" for name, value in overrides.items())


def _show(value) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, tuple):
        return f"{len(value)} points"
    return str(value)


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
        self._units: list = []          # each a _Stack or a lone Trainer, in variant order
        self._regroup()

    # ------------------------------------------------------------------ structure
    @property
    def iteration(self) -> int:
        """The group's clock: the furthest any variant has come (they advance in lockstep)."""
        return max(m.iteration for m in self.members)

    @property
    def grouping(self) -> list[list[int]]:
        """Indices of the variants in each unit: a list of 2+ is one batched pass."""
        return [list(u.indices) if isinstance(u, _Stack) else [self.members.index(u)]
                for u in self._units]

    def _regroup(self) -> None:
        """(Re)build the batched stacks from the members' current state."""
        for unit in self._units:
            if isinstance(unit, _Stack):
                unit.release()
        buckets: dict = {}
        for i, member in enumerate(self.members):
            key = stack_key(member.config) if self.batch and not member.status else None
            buckets.setdefault(("alone", i) if key is None else key, []).append(i)
        units = []
        for indices in buckets.values():
            if len(indices) > 1:
                units.append(_Stack([self.members[i] for i in indices], indices))
            else:
                units.append(self.members[indices[0]])
        units.sort(key=lambda u: u.indices[0] if isinstance(u, _Stack)
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
                if isinstance(unit, _Stack):
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
            if isinstance(unit, _Stack):
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
            if isinstance(unit, _Stack):
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
    def snapshots(self, grid: int = 50, w1_samples: int = 0) -> list:
        return [m.snapshot(grid=grid, w1_samples=w1_samples) for m in self.members]

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


# ---------------------------------------------------------------------- one batched pass
def _clone_generator(g: torch.Generator) -> torch.Generator:
    clone = torch.Generator()
    clone.set_state(g.get_state())
    return clone


def _state_bytes(g: torch.Generator) -> bytes:
    return g.get_state().numpy().tobytes()


class _Stack:
    """K members with equal shapes and schedule, trained by batched matmuls over K networks."""

    def __init__(self, members: list[Trainer], indices: list[int]):
        keep_freed_memory()
        self.members, self.indices = members, list(indices)
        self.K = len(members)
        cfg = members[0].config
        self.batch_size, self.k, self.k_g, self.updates = (cfg.batch_size, cfg.k, cfg.k_g,
                                                          cfg.updates)
        self.act = INPLACE_ACTIVATIONS[cfg.activation]
        self.G = _FlatPlayer([m.G for m in members], self.act)
        self.D = _FlatPlayer([m.D for m in members], self.act)
        self.opt_g = _FlatOptimizer(self.G, [m.opt_g for m in members],
                                    [(m.config.opt_g, m.config.lr_g) for m in members], members)
        self.opt_d = _FlatOptimizer(self.D, [m.opt_d for m in members],
                                    [(m.config.opt_d, m.config.lr_d) for m in members], members)
        self.data_streams = self._share("rng_data", lambda c: tuple(
            [getattr(c, f) for f in DATA_FIELDS] + [c.resolved_std]))
        self.latent_streams = self._share("rng_latent", lambda c: (c.latent, c.latent_dim))
        # per-variant settings, as Python lists and (K, 1, 1) tensors
        configs = [m.config for m in members]
        self.configs = configs
        self.noise = [c.instance_noise for c in configs]
        self.any_noise = any(s > 0 for s in self.noise)
        self.gp_rows = [i for i, c in enumerate(configs) if c.loss == "wgan-gp"]
        self.clip_rows = [i for i, c in enumerate(configs) if c.loss == "wgan"]
        self.sigmoid = torch.tensor([c.uses_sigmoid for c in configs]).view(-1, 1, 1)

    def _share(self, name: str, key_of) -> list[tuple[list[int], torch.Generator]]:
        """Members whose generator `name` would draw the same numbers share one generator
        object, so a batch is drawn once for all of them: [(rows, generator), ...]."""
        streams: dict = {}
        for row, member in enumerate(self.members):
            gen = getattr(member, name)
            key = (key_of(member.config), _state_bytes(gen))
            if key in streams:
                streams[key][0].append(row)
                setattr(member, name, streams[key][1])
            else:
                streams[key] = ([row], gen)
        return list(streams.values())

    def release(self) -> None:
        """Give every member its own tensors and generators back; the stack is then unusable."""
        self.G.release()
        self.D.release()
        self.opt_g.release()
        self.opt_d.release()
        for name, streams in (("rng_data", self.data_streams),
                              ("rng_latent", self.latent_streams)):
            for rows, _ in streams:
                for row in rows[1:]:
                    setattr(self.members[row], name, _clone_generator(getattr(
                        self.members[row], name)))

    # ------------------------------------------------------------------ batches
    def _draw(self, streams, sample) -> torch.Tensor:
        """(K, B, dim): one draw per stream, given to each of its rows."""
        if len(streams) == 1:
            x = sample(streams[0][0][0], streams[0][1])
            return x.unsqueeze(0).expand(self.K, *x.shape).contiguous()
        rows = [None] * self.K
        for members_rows, gen in streams:
            x = sample(members_rows[0], gen)
            for r in members_rows:
                rows[r] = x
        return torch.stack(rows)

    def _real_batch(self) -> torch.Tensor:
        return self._draw(self.data_streams, lambda row, gen: self.members[row].data.sample(
            self.batch_size, gen))

    def _latent_batch(self) -> torch.Tensor:
        return self._draw(self.latent_streams, lambda row, gen: sample_latent(
            self.configs[row], self.batch_size, gen))

    def _add_noise(self, x: torch.Tensor) -> torch.Tensor:
        """Each variant's own instance noise, from its own noise generator (as Trainer)."""
        if not self.any_noise:
            return x
        noise = torch.zeros_like(x)
        for i, sigma in enumerate(self.noise):
            if sigma > 0:
                noise[i] = sigma * torch.randn(x.shape[1:], generator=self.members[i].rng_noise)
        return x + noise

    # ------------------------------------------------------------------ objectives
    def _d_objective(self, real: torch.Tensor, fake: torch.Tensor):
        """Per-variant D losses (K,) with regularisers, and the raw scores (K, B, 1)."""
        cfgs, D = self.configs, self.D
        real, fake = self._add_noise(real), self._add_noise(fake)
        # Real and fake pass through D separately, as in Trainer. One pass over both sums the
        # halves in another order, and cancellations that are exact in Trainer (a hidden bias
        # of hinge / WGAN: the same sum of +-w/B over real and over fake) leave rounding noise
        # there, which Adam's first step turns into a full +-lr step.
        penalties = [0.0] * self.K
        if any(c.r1 > 0 for c in cfgs):
            r, grad = obj.input_gradient(D, real)
            for i, c in enumerate(cfgs):
                if c.r1 > 0:
                    penalties[i] = penalties[i] + obj.zero_centred_penalty(grad[i], c.r1)
        else:
            r = D(real)
        if any(c.r2 > 0 for c in cfgs):
            f, grad = obj.input_gradient(D, fake)
            for i, c in enumerate(cfgs):
                if c.r2 > 0:
                    penalties[i] = penalties[i] + obj.zero_centred_penalty(grad[i], c.r2)
        else:
            f = D(fake)
        losses = [obj.D_LOSSES[c.loss](r[i], f[i]) for i, c in enumerate(cfgs)]
        losses = [loss if isinstance(pen, float) else loss + pen
                  for loss, pen in zip(losses, penalties)]
        if self.gp_rows:
            for i, gp in zip(self.gp_rows, self._gradient_penalties(real, fake)):
                losses[i] = losses[i] + gp
        return torch.stack(losses), r, f

    def _gradient_penalties(self, real, fake) -> list[torch.Tensor]:
        """WGAN-GP of the wgan-gp rows: objectives.gradient_penalty on each member's own D
        (its parameters are views of its row), so only those rows pay for the double backward.
        Its weight gradients land in the member's .grad; `_fold_penalty_grads` moves them."""
        return [obj.gradient_penalty(self.members[i].D, real[i], fake[i],
                                     self.configs[i].gp_weight, self.members[i].rng_noise)
                for i in self.gp_rows]

    def _fold_penalty_grads(self) -> None:
        for i in self.gp_rows:
            for p, view in zip(self.members[i].D.parameters(), self.D.row_views(self.D.grad, i)):
                if p.grad is not None:
                    view.add_(p.grad)
                    p.grad = None

    def _g_objective(self, fake: torch.Tensor) -> torch.Tensor:
        f = self.D(self._add_noise(fake))
        return torch.stack([obj.G_LOSSES[c.loss](f[i]) for i, c in enumerate(self.configs)])

    def _mean_output(self, scores: torch.Tensor) -> torch.Tensor:
        scores = scores.detach()
        return torch.where(self.sigmoid, torch.sigmoid(scores), scores).mean(dim=(1, 2))

    # ------------------------------------------------------------------ updates
    def iteration(self) -> bool:
        """One iteration of every running member; True if one of them diverged."""
        active = [not m.status for m in self.members]
        stats = [{} for _ in range(self.K)]
        if self.updates == "simultaneous":
            updates = ([self._d_update] * (self.k - 1) + [self._simultaneous_update]
                       + [self._g_update] * (self.k_g - 1))
        else:
            updates = [self._d_update] * self.k + [self._g_update] * self.k_g
        for update in updates:
            for i, row_stats in enumerate(update(active)):
                if row_stats is None:
                    active[i] = False
                else:
                    stats[i].update(row_stats)
            if not any(active):
                break
        diverged = False
        for i, member in enumerate(self.members):
            if member.status:
                diverged = True
                continue
            member.iteration += 1
            member.d_updates += self.k
            member.g_updates += self.k_g
            member.history.append(member.iteration, stats[i])
            if member.iteration % member.record_every == 0:
                member._record(grid=40)
        return diverged

    def _check(self, active, losses, norms) -> list[bool]:
        """Which rows may step: active, finite loss and gradient; the others are marked
        diverged (Trainer._apply's rule) and keep their last good state."""
        finite = (torch.isfinite(losses) & torch.isfinite(norms)).tolist()
        ok = []
        for i, member in enumerate(self.members):
            good = active[i] and finite[i]
            if active[i] and not finite[i]:
                member.status = f"diverged at iteration {member.iteration + 1}"
            ok.append(good)
        return ok

    def _d_update(self, active) -> list:
        real = self._real_batch()
        with torch.no_grad():
            fake = self.G(self._latent_batch())
        losses, r, f = self._d_objective(real, fake)
        self.D.zero_grad()
        losses.sum().backward()
        self._fold_penalty_grads()
        norms = self.D.grad_norms()
        ok = self._check(active, losses.detach(), norms)
        self.opt_d.step(ok)
        self._clip_critic(ok)
        values = torch.stack([losses.detach(), norms, self._mean_output(r),
                              self._mean_output(f)], 1).tolist()
        return [{"d_loss": v[0], "d_grad_norm": v[1], "d_real": v[2], "d_fake": v[3]}
                if ok[i] else None if active[i] else {} for i, v in enumerate(values)]

    def _g_update(self, active) -> list:
        z = self._latent_batch()
        self.D.requires_grad_(False)      # G's step needs no gradient for D's weights
        try:
            losses = self._g_objective(self.G(z))
            self.G.zero_grad()
            losses.sum().backward()
        finally:
            self.D.requires_grad_(True)
        norms = self.G.grad_norms()
        ok = self._check(active, losses.detach(), norms)
        self.opt_g.step(ok)
        values = torch.stack([losses.detach(), norms], 1).tolist()
        return [{"g_loss": v[0], "g_grad_norm": v[1]} if ok[i] else None if active[i] else {}
                for i, v in enumerate(values)]

    def _simultaneous_update(self, active) -> list:
        """Both players step from the same point, on the same batch (as Trainer)."""
        real, fake = self._real_batch(), self.G(self._latent_batch())
        d_losses, r, f = self._d_objective(real, fake.detach())
        self.D.requires_grad_(False)      # G's gradient only; D's comes from its own loss
        try:
            g_losses = self._g_objective(fake)
        finally:
            self.D.requires_grad_(True)
        self.D.zero_grad()
        self.G.zero_grad()
        (d_losses.sum() + g_losses.sum()).backward()
        self._fold_penalty_grads()
        d_norms, g_norms = self.D.grad_norms(), self.G.grad_norms()
        d_ok = self._check(active, d_losses.detach(), d_norms)
        g_ok = self._check(d_ok, g_losses.detach(), g_norms)
        ok = [a and b for a, b in zip(d_ok, g_ok)]
        self.opt_d.step(ok)
        self.opt_g.step(ok)
        self._clip_critic(ok)
        values = torch.stack([d_losses.detach(), d_norms, self._mean_output(r),
                              self._mean_output(f), g_losses.detach(), g_norms], 1).tolist()
        keys = ("d_loss", "d_grad_norm", "d_real", "d_fake", "g_loss", "g_grad_norm")
        return [dict(zip(keys, v)) if ok[i] else None if active[i] else {}
                for i, v in enumerate(values)]

    def _clip_critic(self, ok) -> None:
        with torch.no_grad():
            for i in self.clip_rows:
                if ok[i]:
                    c = self.configs[i].clip
                    self.D.flat[i].clamp_(-c, c)


class _BatchedLinear(torch.autograd.Function):
    """K Linear layers at once: (K, B, in) x (K, out, in) + (K, out) -> (K, B, out).

    Autograd's own baddbmm backward picks slow bmm shapes for the MLP's thin layers (2 inputs,
    1 output): 10-20x slower than the products below. The backward is made of differentiable
    ops, so R1 / WGAN-GP can differentiate through it (double backward).
    """

    @staticmethod
    def forward(ctx, x, weight, bias):
        ctx.save_for_backward(x, weight)
        return torch.baddbmm(bias.unsqueeze(1), x, weight.transpose(1, 2))

    @staticmethod
    def backward(ctx, grad):
        x, weight = ctx.saved_tensors
        n_out, n_in = weight.shape[1:]
        grad_x = grad_w = grad_b = None
        if ctx.needs_input_grad[0]:
            grad_x = grad * weight if n_out == 1 else torch.bmm(grad, weight)
        if ctx.needs_input_grad[1]:
            grad_w = (torch.bmm(x.transpose(1, 2), grad).transpose(1, 2) if n_in < n_out
                      else torch.bmm(grad.transpose(1, 2), x))
        if ctx.needs_input_grad[2]:
            grad_b = grad.sum(1)
        return grad_x, grad_w, grad_b


class _FlatPlayer:
    """K same-shaped MLPs (nn.Sequential of Linear + activation) as one (K, P) tensor.

    Each Linear's stacked weight (K, out, in) and bias (K, out) are leaf tensors that share
    memory with `flat`, and their .grad are views of one (K, P) gradient buffer, so backward
    writes every gradient in place and an optimizer updates all K networks with a few ops on
    `flat`. The members' own parameters are re-pointed at their row of `flat`.
    """

    def __init__(self, models: list[nn.Sequential], activation):
        self.models = models
        self.act = activation
        params0 = list(models[0].parameters())
        self.shapes = [p.shape for p in params0]
        self.sizes = [p.numel() for p in params0]
        # each tensor starts on a 64-byte boundary (16 floats): misaligned batch strides made
        # the backward's bmm 2x slower; the padding stays 0 (zero gradient, zero update)
        self.offsets, total = [], 0
        for size in self.sizes:
            self.offsets.append(total)
            total += -(-size // ALIGN) * ALIGN
        self.n_layers = sum(isinstance(m, nn.Linear) for m in models[0])
        assert 2 * self.n_layers == len(params0), "an MLP of Linear layers with biases"
        K = len(models)
        self.flat = torch.zeros(K, total, dtype=params0[0].dtype)
        with torch.no_grad():
            for row, model in enumerate(models):
                for view, p in zip(self.row_views(self.flat, row), model.parameters()):
                    view.copy_(p)
        self.grad = torch.zeros_like(self.flat)
        self.leaves = []
        for shape, off, size in zip(self.shapes, self.offsets, self.sizes):
            leaf = self.flat[:, off:off + size].view(K, *shape).detach().requires_grad_(True)
            leaf.grad = self.grad[:, off:off + size].view(K, *shape)
            self.leaves.append(leaf)
        for row, model in enumerate(models):
            for p, view in zip(model.parameters(), self.row_views(self.flat, row)):
                p.data = view

    def row_views(self, flat: torch.Tensor, row: int) -> list[torch.Tensor]:
        """Views of one row of a (K, P) tensor shaped like the parameters."""
        return [flat[row, off:off + size].view(shape)
                for shape, off, size in zip(self.shapes, self.offsets, self.sizes)]

    def release(self) -> None:
        with torch.no_grad():
            for model in self.models:
                for p in model.parameters():
                    p.data = p.data.clone()

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        """(K, B, in) -> (K, B, out): network k on x[k]."""
        leaves, h = self.leaves, x
        for layer in range(self.n_layers):
            weight, bias = leaves[2 * layer], leaves[2 * layer + 1]
            if min(weight.shape[1:]) <= THIN:
                h = _BatchedLinear.apply(h, weight, bias)
            else:                 # autograd's own (C++) backward is as fast here, and leaner
                h = torch.baddbmm(bias.unsqueeze(1), h, weight.transpose(1, 2))
            if layer < self.n_layers - 1:
                h = self.act(h)
        return h

    def zero_grad(self) -> None:
        self.grad.zero_()      # backward() accumulates into the leaves' .grad views in place

    def requires_grad_(self, flag: bool) -> None:
        for leaf in self.leaves:
            leaf.requires_grad_(flag)

    def grad_norms(self) -> torch.Tensor:
        return self.grad.norm(dim=1)


# optimizer state slots of the flat optimizer, and the torch state keys they stand for
_STATE_KEYS = {
    "adam": {"exp_avg": "m", "exp_avg_sq": "v", "step": "step"},
    "rmsprop": {"square_avg": "v", "momentum_buffer": "buf", "step": "step"},
    "sgd": {"momentum_buffer": "buf"},
}


class _FlatOptimizer:
    """Adam, RMSprop and SGD as torch.optim computes them (Trainer.make_optimizer's settings),
    for K networks at once, each row with its own optimizer type and hyperparameters.

    Its state is (K, P) tensors, and each member's torch optimizer holds views of its row, so the
    member's optimizer (saved by records, used after the stack is released) is always current.
    """

    def __init__(self, player: _FlatPlayer, optimizers: list, settings: list[tuple],
                 members: list[Trainer]):
        self.player, self.optimizers = player, optimizers
        K, n_params = player.flat.shape[0], len(player.sizes)
        self.kinds = [kind for kind, _ in settings]
        cfgs = [m.config for m in members]
        dtype = player.flat.dtype

        def col(values, to=dtype):
            return torch.tensor(values, dtype=torch.float64).view(-1, 1).to(to)

        self.settings = [(lr, c.beta1, c.beta2) for (_, lr), c in zip(settings, cfgs)]
        self.lr64 = col([lr for _, lr in settings], torch.float64)
        self.beta1_64 = col([c.beta1 for c in cfgs], torch.float64)
        self.beta2_64 = col([c.beta2 for c in cfgs], torch.float64)
        self.lr, self.momentum = col([lr for _, lr in settings]), col([c.momentum for c in cfgs])
        self.beta1, self.beta2 = col([c.beta1 for c in cfgs]), col([c.beta2 for c in cfgs])
        self.one_minus_beta1 = col([1 - c.beta1 for c in cfgs])
        self.one_minus_beta2 = col([1 - c.beta2 for c in cfgs])
        self.slots = {name: torch.zeros_like(player.flat) for name in ("m", "v", "buf")}
        self.steps = torch.zeros(K, n_params)           # torch keeps a float32 step per tensor
        for row, opt in enumerate(optimizers):
            params = list(player.models[row].parameters())
            keys = dict(_STATE_KEYS[self.kinds[row]])
            if cfgs[row].momentum == 0:       # torch keeps no momentum buffer then
                keys.pop("momentum_buffer", None)
            with torch.no_grad():
                for j, p in enumerate(params):
                    for key, value in opt.state.get(p, {}).items():
                        if value is None or key not in keys:
                            continue
                        if keys[key] == "step":
                            self.steps[row, j] = float(value)
                        else:
                            off, size = player.offsets[j], player.sizes[j]
                            self.slots[keys[key]][row, off:off + size] = value.reshape(-1)
            views = {name: player.row_views(slot, row) for name, slot in self.slots.items()}
            for j, p in enumerate(params):
                opt.state[p] = {key: self.steps[row, j] if slot == "step" else views[slot][j]
                                for key, slot in keys.items()}

    def release(self) -> None:
        for row, opt in enumerate(self.optimizers):
            for p in self.player.models[row].parameters():
                if p in opt.state:
                    opt.state[p] = {k: v.clone() if torch.is_tensor(v) else v
                                    for k, v in opt.state[p].items()}

    @torch.no_grad()
    def step(self, ok: list[bool]) -> None:
        """Update the rows marked ok: Adam rows with torch's own fused Adam kernel (one call per
        set of equal hyperparameters, each row a tensor of its own), the others vectorised
        when all rows share their kind, row by row otherwise."""
        rows = [i for i, good in enumerate(ok) if good]
        for kind in ("adam", "rmsprop", "sgd"):
            kind_rows = [i for i in rows if self.kinds[i] == kind]
            if not kind_rows:
                continue
            if kind == "adam" and FUSED_ADAM is not None:
                self._fused_adam(kind_rows)
            elif len(kind_rows) == len(self.kinds):
                self._apply(kind, slice(None))
            else:
                for i in kind_rows:
                    self._apply(kind, slice(i, i + 1))

    def _fused_adam(self, rows: list[int]) -> None:
        """What torch.optim.Adam(fused=True) does for Trainer: steps += 1, then the kernel."""
        if len(rows) == len(self.kinds):
            self.steps += 1
        else:
            self.steps[rows] += 1
        groups: dict = {}
        for i in rows:
            key = (self.settings[i], float(self.steps[i, 0]))
            groups.setdefault(key, []).append(i)
        flat, grad, m, v = (self.player.flat, self.player.grad, self.slots["m"],
                            self.slots["v"])
        for ((lr, beta1, beta2), _), group in groups.items():
            FUSED_ADAM([flat[i] for i in group], [grad[i] for i in group],
                       [m[i] for i in group], [v[i] for i in group], [],
                       [self.steps[i, 0] for i in group], amsgrad=False, lr=lr, beta1=beta1,
                       beta2=beta2, weight_decay=0.0, eps=EPS, maximize=False)

    def _apply(self, kind: str, rows: slice) -> None:
        """torch.optim's arithmetic (fused Adam's CPU kernel, SGD's and RMSprop's single-tensor
        loops), with each row's own hyperparameters."""
        p, g = self.player.flat[rows], self.player.grad[rows]
        lr, momentum = self.lr[rows], self.momentum[rows]
        if kind == "sgd":
            # torch starts the buffer at the first gradient: 0 * m + g is exactly that
            buf = self.slots["buf"][rows]
            buf.mul_(momentum).add_(g)
            p.sub_(lr * buf)
            return
        self.steps[rows] += 1
        v = self.slots["v"][rows]
        if kind == "rmsprop":
            v.mul_(RMSPROP_ALPHA).addcmul_(g, g, value=1 - RMSPROP_ALPHA)
            buf = self.slots["buf"][rows]
            buf.mul_(momentum).add_(g / v.sqrt().add_(EPS))
            p.sub_(lr * buf)
            return
        t = self.steps[rows, :1].double()
        m = self.slots["m"][rows]
        m.mul_(self.beta1[rows]).add_(self.one_minus_beta1[rows] * g)
        v.mul_(self.beta2[rows]).addcmul_(g, self.one_minus_beta2[rows] * g)
        step_size = (self.lr64[rows] / (1 - self.beta1_64[rows] ** t)).to(p.dtype)
        bias2_sqrt = (1 - self.beta2_64[rows] ** t).sqrt().to(p.dtype)
        denom = v.sqrt().div_(bias2_sqrt).add_(EPS)
        p.sub_(step_size * m / denom)
