"""The training loop of one run: k discriminator updates, then k_G generator updates, per
iteration (the schedule, the losses, the divergence rule and clipping are gan_core.engine's).

Goodfellow et al.'s algorithm: each D update and each G update draws a fresh minibatch. Every
random draw comes from a seeded torch.Generator of its own (data, latent, noise), so the same
config gives bit-identical weights, and variants that share a seed share their batches.

Besides training itself, a Trainer offers the stacked engine (gan_core.stacked) what it needs
to train it in a batched pass, as public methods: its streams (`stream`, `use_stream`), where
its weights and optimizer state live (`place_weights`, `place_optimizer_state`, `own_storage`),
and the end of an iteration (`complete_iteration`, `diverge`).
"""
from __future__ import annotations

import copy
import threading

import numpy as np
import torch
from torch import nn

from . import engine
from . import game_updates as gu
from .config import TrainConfig
from .distributions import make_distribution
from .game_steps import GameSteps
from .history import History
from .locking import locked
from .looking import VIEW_SAMPLES, Looking
from .metrics import verdict_code
from .models import build_models, sample_latent
from .snapshot import Snapshot

HISTORY_COLUMNS = ("d_loss", "g_loss", "d_grad_norm", "g_grad_norm", "d_real", "d_fake")
METRIC_COLUMNS = ("modes_covered", "high_quality", "reverse_kl", "w1",
                  "verdict", "dominant_mode")   # verdict: metrics.verdict_code, for events
STREAMS = ("rng_data", "rng_latent", "rng_noise")


def _cloned(tree):
    """A deep copy of a (nested) state dict's tensors, so later training cannot change it."""
    if isinstance(tree, torch.Tensor):
        return tree.detach().clone()
    if isinstance(tree, dict):
        return {k: _cloned(v) for k, v in tree.items()}
    if isinstance(tree, (list, tuple)):
        return type(tree)(_cloned(v) for v in tree)
    return tree


def make_optimizer(name: str, params, lr: float, config: TrainConfig) -> torch.optim.Optimizer:
    params = list(params)
    if name == "adam":
        return torch.optim.Adam(params, lr=lr, betas=(config.beta1, config.beta2), fused=True)
    if name == "rmsprop":
        return torch.optim.RMSprop(params, lr=lr, momentum=config.momentum)
    opt = torch.optim.SGD(params, lr=lr, momentum=abs(config.momentum))
    # Negative momentum (Gidel et al. 2019): torch's SGD refuses β < 0 when it is made, but its
    # heavy-ball step buf ← β·buf + g, θ ← θ − lr·buf is just as valid for β in [-0.9, 0).
    for group in opt.param_groups:
        group["momentum"] = config.momentum
    return opt


class Trainer(GameSteps, Looking):
    """One run: its models, optimizers, streams, history and replay records; how it trains
    (gan_core.engine's contract; the game methods' steps from GameSteps) and, from Looking,
    what it shows."""

    def __init__(self, config: TrainConfig, record_every: int = 100, max_records: int = 120):
        self._lock = threading.RLock()     # see `locked`
        self.config = config
        self.data = make_distribution(config)
        self.G, self.D = build_models(config)
        seed = config.seed
        self.rng_data = torch.Generator().manual_seed(seed)
        self.rng_latent = torch.Generator().manual_seed(seed + 1)
        self.rng_noise = torch.Generator().manual_seed(seed + 2)
        self.view_z = sample_latent(config, VIEW_SAMPLES, torch.Generator().manual_seed(seed + 3))
        self.view_real = self.data.sample(VIEW_SAMPLES, torch.Generator().manual_seed(seed + 4))
        self.opt_d = make_optimizer(config.opt_d, self.D.parameters(), config.lr_d, config)
        self.opt_g = make_optimizer(config.opt_g, self.G.parameters(), config.lr_g, config)
        self.G_avg = self._averaged_copy() if config.ema > 0 else None   # generator averaging
        self.previous_steps: dict = {}   # optimistic updates: each player's last step u_(t-1)
        self.iteration = 0
        self.d_updates = self.g_updates = 0   # every D / G update, Step D and Step G included
        self.status = ""            # "" while healthy, "diverged at iteration N" after NaN/inf
        self.history = History(HISTORY_COLUMNS)
        self.metric_history = History(METRIC_COLUMNS, capacity=2_000)
        self.record_every = record_every
        self.max_records = max_records
        self.records: list[Snapshot] = []
        self.checkpoints: list[dict] = []   # state at each record, for "continue from here"
        self._record(grid=40)

    # ------------------------------------------------------------------ settings
    @locked
    def update(self, **changes) -> None:
        """Apply live settings (config.LIVE_FIELDS) to the running game, keeping its weights."""
        from .config import LIVE_FIELDS

        not_live = set(changes) - LIVE_FIELDS
        if not_live:
            raise ValueError(f"{', '.join(sorted(not_live))}: changing this needs a new run")
        old, new = self.config, self.config.replace(**changes)
        self.config = new
        if new.ema == 0:
            self.G_avg = None
        elif self.G_avg is None:        # averaging switched on: the average starts at G
            self.G_avg = self._averaged_copy()
        if new.updates != old.updates:
            self.previous_steps = {}
        for player, opt_name, lr in (("d", new.opt_d, new.lr_d), ("g", new.opt_g, new.lr_g)):
            model = self.D if player == "d" else self.G
            # RMSprop makes its momentum buffer only if it starts with momentum: rebuild it.
            rmsprop_momentum = opt_name == "rmsprop" and (new.momentum > 0) != (old.momentum > 0)
            if opt_name != getattr(old, f"opt_{player}") or rmsprop_momentum:
                setattr(self, f"opt_{player}", make_optimizer(opt_name, model.parameters(), lr, new))
                continue
            for group in getattr(self, f"opt_{player}").param_groups:
                group["lr"] = lr
                if "betas" in group:
                    group["betas"] = (new.beta1, new.beta2)
                if "momentum" in group:
                    group["momentum"] = new.momentum

    # ------------------------------------------------------------------ training
    @locked
    def step(self, n: int = 1) -> int:
        """Advance up to n iterations; returns how many ran (fewer if the run diverged)."""
        done = 0
        while done < n and not self.status:
            if not self._iteration():
                break
            done += 1
        return done

    @locked
    def step_d(self) -> None:
        """One discriminator update alone (GAN Lab's "step D"); does not count an iteration."""
        if not self.status and self._d_update() is not None:
            self.d_updates += 1

    @locked
    def step_g(self) -> None:
        """One generator update alone; does not count an iteration."""
        if not self.status and self._g_update() is not None:
            self.g_updates += 1

    _UPDATES = {engine.D_UPDATE: "_d_update", engine.G_UPDATE: "_g_update",
                engine.BOTH_UPDATE: "_joint_update"}
    _JOINT = {"simultaneous": "_simultaneous_update", "extragradient": "_extragradient_update",
              "optimistic": "_optimistic_update"}

    def _joint_update(self) -> dict | None:
        """The step where both players move together, by the config's update scheme."""
        return getattr(self, self._JOINT[self.config.updates])()

    def _iteration(self) -> bool:
        stats: dict = {}
        for kind in engine.schedule(self.config):
            stats.update(getattr(self, self._UPDATES[kind])() or {})
            if self.status:      # stop at the first non-finite update: keep the last good state
                return False
        self.complete_iteration(stats)
        return True

    def complete_iteration(self, stats: dict) -> None:
        """Count one finished iteration (its D and G updates, its row of `stats` in the
        history) and record a snapshot when one is due. Also called by the stacked engine."""
        if self.G_avg is not None:       # generator averaging: once per iteration
            gu.ema_update(list(self.G_avg.parameters()), list(self.G.parameters()),
                          self.config.ema)
        self.iteration += 1
        self.d_updates += self.config.k
        self.g_updates += self.config.k_g
        self.history.append(self.iteration, stats)
        if self.iteration % self.record_every == 0:
            self._record(grid=40)

    def diverge(self) -> None:
        """Stop the run where it is (its last good state): the divergence rule was broken."""
        self.status = engine.diverged_status(self.iteration)

    # ------------------------------------------------------------------ storage (stacked engine)
    def stream(self, name: str) -> torch.Generator:
        """One of the run's random streams (STREAMS: data batches, latent codes, noise)."""
        if name not in STREAMS:
            raise ValueError(f"stream: one of {', '.join(STREAMS)}, got {name!r}")
        return getattr(self, name)

    def use_stream(self, name: str, generator: torch.Generator) -> None:
        """Draw stream `name` from `generator` from now on (runs whose streams would draw the
        same numbers share one generator in a batched pass, so a batch is drawn once)."""
        self.stream(name)
        setattr(self, name, generator)

    def _player(self, player: str) -> tuple[nn.Module, torch.optim.Optimizer]:
        if player not in ("g", "d"):
            raise ValueError(f"player: 'g' or 'd', got {player!r}")
        return (self.G, self.opt_g) if player == "g" else (self.D, self.opt_d)

    def optimizer_state(self, player: str) -> list[dict]:
        """Player "g" or "d": its optimizer's state of each parameter (torch's keys), in
        parameter order ({} before the first step)."""
        model, opt = self._player(player)
        return [dict(opt.state.get(p, {})) for p in model.parameters()]

    def place_weights(self, player: str, views: list[torch.Tensor]) -> None:
        """Let the player's parameters live in `views` (same shapes and values, e.g. one row of
        the stacked engine's buffers), so updates there are this run's; own_storage() ends it."""
        model, _ = self._player(player)
        with torch.no_grad():
            for p, view in zip(model.parameters(), views, strict=True):
                p.data = view

    def place_optimizer_state(self, player: str, states: list[dict]) -> None:
        """Let the player's optimizer state live in `states` (one dict per parameter, torch's
        keys; tensors may be views of the stacked engine's buffers)."""
        model, opt = self._player(player)
        for p, state in zip(model.parameters(), states, strict=True):
            opt.state[p] = state

    def own_storage(self) -> None:
        """Give weights and optimizer states storage of their own again (copies)."""
        for player in ("g", "d"):
            model, opt = self._player(player)
            with torch.no_grad():
                for p in model.parameters():
                    p.data = p.data.clone()
            for p in model.parameters():
                if p in opt.state:
                    opt.state[p] = {k: v.clone() if torch.is_tensor(v) else v
                                    for k, v in opt.state[p].items()}

    def _real_batch(self) -> torch.Tensor:
        """batch_size real samples; with packing, batch_size packs of `pack` samples."""
        m = self.config.pack
        return gu.pack(self.data.sample(self.config.batch_size * m, self.rng_data), m)

    def _fake_batch(self) -> torch.Tensor:
        m = self.config.pack
        z = sample_latent(self.config, self.config.batch_size * m, self.rng_latent)
        return gu.pack(self.G(z), m)

    def _averaged_copy(self) -> nn.Module:
        """A copy of G that only generator averaging changes (no gradients)."""
        average = copy.deepcopy(self.G)
        average.requires_grad_(False)
        return average

    def _d_objective(self, real: torch.Tensor, fake: torch.Tensor, D=None) -> tuple:
        """D's loss with its regularisers (engine.d_losses, one run), and the raw scores. `D`:
        another function of the same shape (an unrolled D's look-ahead weights); default self.D."""
        D = D or self.D
        (loss,), r, f = engine.d_losses([self.config], D, real, fake, [self.rng_noise],
                                        lambda _: D)
        return loss, r, f

    def _g_objective(self, fake: torch.Tensor, real: torch.Tensor | None = None) -> torch.Tensor:
        """G's loss (engine.g_losses); with `unroll` (and a real batch) against the unrolled D
        (Metz et al. 2017)."""
        D = self.D
        if self.config.unroll and real is not None:
            D = self._unrolled_d(real, fake)
        return engine.g_losses([self.config], D, fake, [self.rng_noise])[0]

    def _d_update(self) -> dict | None:
        if self.config.consensus:
            return self._stabilised_update("d")
        real = self._real_batch()
        with torch.no_grad():
            fake = self._fake_batch()
        loss, r, f = self._d_objective(real, fake)
        self.opt_d.zero_grad(set_to_none=True)
        loss.backward()
        norm = self._apply(self.opt_d, self.D, loss)
        if norm is None:
            return None
        self._clip_critic()
        return {"d_loss": loss.item(), "d_grad_norm": norm, "d_real": self._mean_output(r),
                "d_fake": self._mean_output(f)}

    def _g_update(self) -> dict | None:
        if self._stabilised():
            return self._stabilised_update("g")
        self.D.requires_grad_(False)      # G's step needs no gradient for D's weights
        try:
            loss = self._g_objective(self._fake_batch())
            self.opt_g.zero_grad(set_to_none=True)
            loss.backward()
        finally:
            self.D.requires_grad_(True)
        norm = self._apply(self.opt_g, self.G, loss)
        return None if norm is None else {"g_loss": loss.item(), "g_grad_norm": norm}

    def _simultaneous_update(self) -> dict | None:
        """Both players step from the same point: D's and G's gradients use the same batch."""
        if self._stabilised():
            stats = self._joint_grads()
            if stats is not None:
                self._step_both()
            return stats
        real, fake = self._real_batch(), self._fake_batch()
        d_loss, r, f = self._d_objective(real, fake.detach())
        g_loss = self._g_objective(fake)
        d_params, g_params = list(self.D.parameters()), list(self.G.parameters())
        d_grads = torch.autograd.grad(d_loss, d_params)
        g_grads = torch.autograd.grad(g_loss, g_params)
        for params, grads in ((d_params, d_grads), (g_params, g_grads)):
            for p, g in zip(params, grads):
                p.grad = g
        d_norm = self._apply(self.opt_d, self.D, d_loss, step=False)
        g_norm = self._apply(self.opt_g, self.G, g_loss, step=False)
        if d_norm is None or g_norm is None:
            return None
        self.opt_d.step()
        self.opt_g.step()
        self._clip_critic()
        return {"d_loss": d_loss.item(), "d_grad_norm": d_norm, "d_real": self._mean_output(r),
                "d_fake": self._mean_output(f), "g_loss": g_loss.item(), "g_grad_norm": g_norm}

    def _apply(self, opt, model: nn.Module, loss: torch.Tensor, step: bool = True):
        """Step `opt` unless the loss or the gradients are NaN/inf: then stop the run where its
        weights are still finite (the last good state) and return None."""
        grads = [p.grad for p in model.parameters() if p.grad is not None]
        norm = torch.nn.utils.get_total_norm(grads).item() if grads else 0.0
        if not engine.healthy_one(loss.item(), norm):
            self.diverge()
            return None
        if step:
            opt.step()
        return norm

    def _clip_critic(self) -> None:
        engine.clip_critic(self.config, list(self.D.parameters()))

    def _mean_output(self, scores: torch.Tensor) -> float:
        """Mean of what D shows: P(real) for sigmoid losses, the raw score otherwise."""
        scores = scores.detach()
        return (torch.sigmoid(scores) if self.config.uses_sigmoid else scores).mean().item()

    def _record(self, grid: int) -> None:
        """Keep a coarse snapshot for replay and a row of metrics; thin out when over budget."""
        snap = self.snapshot(grid=grid, n_samples=500, manifold=11)
        row = {k: (np.nan if snap.metrics.get(k) is None else float(snap.metrics[k]))
               for k in METRIC_COLUMNS if k != "verdict"}
        row["verdict"] = verdict_code(snap.metrics.get("verdict"))
        self.metric_history.append(self.iteration, row)
        self.records.append(snap)
        self.checkpoints.append(self.state())
        if len(self.records) > self.max_records:
            self.records = self.records[::2]
            self.checkpoints = self.checkpoints[::2]
            self.record_every *= 2

    # ------------------------------------------------------------------ state, replay, fork
    @locked
    def state(self) -> dict:
        """Copies of all that the future of the run depends on: weights, optimizer states and
        random streams. load_state(state()) continues bit-identically."""
        return {"G": _cloned(self.G.state_dict()), "D": _cloned(self.D.state_dict()),
                "opt_g": _cloned(self.opt_g.state_dict()),
                "opt_d": _cloned(self.opt_d.state_dict()),
                "rng": {name: getattr(self, name).get_state()
                        for name in ("rng_data", "rng_latent", "rng_noise")},
                "iteration": self.iteration, "updates": (self.d_updates, self.g_updates),
                **self._game_state()}

    def _game_state(self) -> dict:
        """The state of generator averaging and optimistic updates, when they are on (so a
        plain run's state is as it always was)."""
        out = {}
        if self.G_avg is not None:
            out["G_avg"] = _cloned(self.G_avg.state_dict())
        if self.previous_steps:
            out["previous_steps"] = _cloned(self.previous_steps)
        return out

    @locked
    def load_state(self, state: dict) -> None:
        self.G.load_state_dict(state["G"])
        self.D.load_state_dict(state["D"])
        self.opt_g.load_state_dict(state["opt_g"])
        self.opt_d.load_state_dict(state["opt_d"])
        for name, rng_state in state["rng"].items():
            getattr(self, name).set_state(rng_state)
        self.iteration = int(state.get("iteration", self.iteration))
        if self.G_avg is not None:    # a state from before averaging was on: start it at G
            self.G_avg.load_state_dict(state.get("G_avg", self.G.state_dict()))
        self.previous_steps = _cloned(state.get("previous_steps", {}))
        cfg = self.config     # states saved before the counters existed: k and k_G per iteration
        self.d_updates, self.g_updates = (int(n) for n in state.get(
            "updates", (cfg.k * self.iteration, cfg.k_g * self.iteration)))

    @locked
    def fork(self, index: int, **changes) -> "Trainer":
        """A new run that continues from recorded point `index` (see `records`), with live
        settings changed; its history is this run's up to that point."""
        from .config import LIVE_FIELDS

        not_live = set(changes) - LIVE_FIELDS
        if not_live:
            raise ValueError(f"{', '.join(sorted(not_live))}: cannot change on a fork "
                             f"(it needs new networks or data)")
        if not 0 <= index < len(self.checkpoints):
            raise ValueError(f"index: no recorded point {index} (0..{len(self.checkpoints) - 1})")
        state = self.checkpoints[index]
        child = Trainer(self.config, record_every=self.record_every,
                        max_records=self.max_records)
        child.load_state(state)
        if changes:
            child.update(**changes)
        upto = state["iteration"]
        child.history = self.history.truncated(upto)
        child.metric_history = self.metric_history.truncated(upto)
        child.records = self.records[: index + 1]
        child.checkpoints = self.checkpoints[: index + 1]
        return child
