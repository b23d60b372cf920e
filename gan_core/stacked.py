"""The stacked engine: K runs with the same shapes and schedule trained in one batched pass.

It follows the engine contract (gan_core.engine: the schedule, the losses with their
regularisers, the divergence rule, clipping) on K rows at once: the networks are gan_core.flat's
(K, P) tensors run as batched matmuls, each row with its own config and optimizer. It uses its
members, real Trainers, only through their public methods: their weights and optimizer states
are placed in rows of the flat tensors (Trainer.place_weights / place_optimizer_state, undone by
own_storage), members whose streams would draw the same numbers share one generator
(Trainer.use_stream), and each finished iteration is theirs (Trainer.complete_iteration,
Trainer.diverge). In float64 a row matches a lone Trainer to ~1e-15; in float32 to rounding per
step.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from . import engine
from . import objectives as obj
from .flat import FlatOptimizer, FlatPlayer
from .looking import SNAPSHOT_W1_SAMPLES
from .models import latent_grid, sample_latent
from .snapshot import Snapshot
from .training import Trainer

# Fields that decide what a data / latent generator produces, given its state.
DATA_FIELDS = ("dataset", "n_modes", "radius", "grid_size", "spacing", "custom_points")

# models.ACTIVATION_LAYERS, in place: a matmul's fresh output can be overwritten (its backward
# needs only its inputs), which saves a 400 kB allocation and copy per layer at K = 6.
INPLACE_ACTIVATIONS = {"relu": torch.relu_, "leakyrelu": lambda h: F.leaky_relu_(h, 0.2),
                       "tanh": torch.tanh_, "elu": F.elu_}


def _clone_generator(g: torch.Generator) -> torch.Generator:
    clone = torch.Generator()
    clone.set_state(g.get_state())
    return clone


def _state_bytes(g: torch.Generator) -> bytes:
    return g.get_state().numpy().tobytes()


class Stack:
    """K members with equal shapes and schedule (batched.stack_key), trained by batched
    matmuls over K networks."""

    def __init__(self, members: list[Trainer], indices: list[int]):
        self.members, self.indices = members, list(indices)
        self.K = len(members)
        self.configs = [m.config for m in members]
        cfg = self.configs[0]
        self.batch_size = cfg.batch_size
        self.schedule = engine.schedule(cfg)          # the same for every row (stack_key)
        act = INPLACE_ACTIVATIONS[cfg.activation]
        self.G = FlatPlayer(members, "g", act)
        self.D = FlatPlayer(members, "d", act)
        self.opt_g = FlatOptimizer(self.G, "g", members)
        self.opt_d = FlatOptimizer(self.D, "d", members)
        self.data_streams = self._share("rng_data", lambda c: tuple(
            [getattr(c, f) for f in DATA_FIELDS] + [c.resolved_std]))
        self.latent_streams = self._share("rng_latent", lambda c: (c.latent, c.latent_dim))
        self.noise_rngs = [m.stream("rng_noise") for m in members]     # never shared
        self.gp_rows = [i for i, c in enumerate(self.configs) if c.loss == "wgan-gp"]
        self.sigmoid = torch.tensor([c.uses_sigmoid for c in self.configs]).view(-1, 1, 1)

    def _share(self, name: str, key_of) -> list[tuple[list[int], torch.Generator]]:
        """Members whose generator `name` would draw the same numbers share one generator
        object, so a batch is drawn once for all of them: [(rows, generator), ...]."""
        streams: dict = {}
        for row, member in enumerate(self.members):
            gen = member.stream(name)
            key = (key_of(member.config), _state_bytes(gen))
            if key in streams:
                streams[key][0].append(row)
                member.use_stream(name, streams[key][1])
            else:
                streams[key] = ([row], gen)
        return list(streams.values())

    def release(self) -> None:
        """Give every member its own tensors and generators back; the stack is then unusable."""
        for member in self.members:
            member.own_storage()
        for name, streams in (("rng_data", self.data_streams),
                              ("rng_latent", self.latent_streams)):
            for rows, _ in streams:
                for row in rows[1:]:
                    member = self.members[row]
                    member.use_stream(name, _clone_generator(member.stream(name)))

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

    # ------------------------------------------------------------------ objectives
    def _d_objective(self, real: torch.Tensor, fake: torch.Tensor):
        """Per-row D losses (K,) with regularisers (engine.d_losses), and the raw scores.
        WGAN-GP differentiates each wgan-gp row's own D (its parameters are views of its row),
        so only those rows pay for the double backward; `_fold_penalty_grads` moves its weight
        gradients into the flat gradient."""
        losses, r, f = engine.d_losses(self.configs, self.D, real, fake, self.noise_rngs,
                                       lambda i: self.members[i].D)
        return torch.stack(losses), r, f

    def _fold_penalty_grads(self) -> None:
        for i in self.gp_rows:
            for p, view in zip(self.members[i].D.parameters(), self.D.row_views(self.D.grad, i)):
                if p.grad is not None:
                    view.add_(p.grad)
                    p.grad = None

    def _g_objective(self, fake: torch.Tensor) -> torch.Tensor:
        return torch.stack(engine.g_losses(self.configs, self.D, fake, self.noise_rngs))

    def _mean_output(self, scores: torch.Tensor) -> torch.Tensor:
        scores = scores.detach()
        return torch.where(self.sigmoid, torch.sigmoid(scores), scores).mean(dim=(1, 2))

    # ------------------------------------------------------------------ updates
    def iteration(self) -> bool:
        """One iteration of every running member; True if one of them diverged."""
        active = [not m.status for m in self.members]
        stats = [{} for _ in range(self.K)]
        updates = {engine.D_UPDATE: self._d_update, engine.G_UPDATE: self._g_update,
                   engine.BOTH_UPDATE: self._simultaneous_update}
        for kind in self.schedule:
            for i, row_stats in enumerate(updates[kind](active)):
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
            else:
                member.complete_iteration(stats[i])
        return diverged

    def _check(self, active, losses, norms) -> list[bool]:
        """Which rows may step (engine.healthy); the others that were active diverge and keep
        their last good state."""
        finite = engine.healthy(losses, norms)
        ok = []
        for i, member in enumerate(self.members):
            if active[i] and not finite[i]:
                member.diverge()
            ok.append(active[i] and finite[i])
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
        for i, config in enumerate(self.configs):
            if ok[i]:
                engine.clip_critic(config, [self.D.flat[i]])

    # ------------------------------------------------------------------ looking
    def snapshots(self, grid: int, n_samples: int, manifold: int,
                  w1_samples: int = SNAPSHOT_W1_SAMPLES) -> list[Snapshot]:
        """Every member's snapshot (Trainer.snapshot) with its views computed for all rows in
        one batched pass: G on the view codes, D on the surface grid, the push vectors and the
        latent grid. A page that plays Compare makes these several times a second, and K
        small forward passes cost K times the Python overhead of one."""
        members, configs = self.members, self.configs
        self.D.requires_grad_(False)         # gradients for the samples only
        try:
            with torch.no_grad():
                fake = self.G(torch.stack([m.view_z[:n_samples] for m in members]))
                xs, ys, points = zip(*(m.surface_grid(grid) for m in members))
                surface = self.D(torch.stack(points)).reshape(self.K, grid, grid)
                surface = torch.where(self.sigmoid, torch.sigmoid(surface), surface)
            x = fake.detach().requires_grad_(True)
            scores = self.D(x)
            per_sample = sum(obj.G_LOSSES[c.loss](scores[i]) for i, c in enumerate(configs))
            (grad,) = torch.autograd.grad(per_sample * n_samples, x)
        finally:
            self.D.requires_grad_(True)
        lattices = [latent_grid(c, manifold) for c in configs]
        if all(z is not None for z in lattices):
            with torch.no_grad():
                warped = self.G(torch.stack(lattices)).numpy().reshape(self.K, -1, manifold, 2)
        else:
            warped = [m.manifold_points(manifold) for m in members]
        return [m.snapshot_of(fake[i], (-grad[i]).numpy(), xs[i].numpy(), ys[i].numpy(),
                              surface[i].numpy(), warped[i], w1_samples)
                for i, m in enumerate(members)]
