"""The Trainer's steps for the game optimisers and stabilisers of gan_core.game_updates
(issue 13's cures): unrolled D, consensus, G's gradient penalty (both players' losses at one
batch), extragradient and optimistic joint steps.

`GameSteps` is a part of Trainer (its base class), kept apart so that training.py holds the
plain schedule; the maths of each method is a small function in gan_core.game_updates. These
runs always train in the single Trainer (batched.stack_key never stacks them).
"""
from __future__ import annotations

import torch
from torch import nn

from . import game_updates as gu


class GameSteps:
    """Trainer's updates when a game optimiser or stabiliser is on (see the module docstring)."""

    def _unrolled_d(self, real: torch.Tensor, fake: torch.Tensor):
        """D after config.unroll steps of its own optimiser on this batch (fake still attached
        to G, so G's gradient flows through the steps), as a function of points."""
        names = [name for name, _ in self.D.named_parameters()]
        rule, state = gu.optimizer_rule(self.opt_d)

        def as_function(params):
            weights = dict(zip(names, params))
            return lambda x: torch.func.functional_call(self.D, weights, (x,))

        def loss_at(params):
            return self._d_objective(real, fake, D=as_function(params))[0]

        params = gu.lookahead(list(self.D.parameters()), loss_at, self.config.unroll, rule, state)
        return as_function(params)

    def _stabilised(self) -> bool:
        """True when a game stabiliser needs both players' losses at one batch."""
        cfg = self.config
        return bool(cfg.unroll or cfg.consensus or cfg.gp_g)

    def _game_losses(self, need_g: bool = True) -> tuple:
        """Both players' losses at one fresh batch, with the game stabilisers added:
        (d_total, g_total, d_loss, g_loss, r, f). The fake batch stays attached to G, so each
        player's gradient of the penalties sees the other player's dependence."""
        cfg = self.config
        real, fake = self._real_batch(), self._fake_batch()
        d_loss, r, f = self._d_objective(real, fake)
        d_params, g_params = list(self.D.parameters()), list(self.G.parameters())
        d_total = d_loss
        g_loss = g_total = None
        if need_g or cfg.consensus:
            g_loss = self._g_objective(fake, real)
            g_total = g_loss
        if cfg.consensus:
            reg = gu.consensus_penalty([(d_loss, d_params), (g_loss, g_params)], cfg.consensus)
            d_total, g_total = d_total + reg, g_total + reg
        if cfg.gp_g and g_total is not None:
            g_total = g_total + gu.gradient_norm_penalty(d_loss, d_params, cfg.gp_g)
        return d_total, g_total, d_loss, g_loss, r, f

    def _set_grads(self, model: nn.Module, loss: torch.Tensor) -> None:
        params = list(model.parameters())
        grads = torch.autograd.grad(loss, params, retain_graph=True, allow_unused=True)
        for p, g in zip(params, grads):
            p.grad = torch.zeros_like(p) if g is None else g

    def _stabilised_update(self, player: str) -> dict | None:
        """One update of `player` ("d" or "g") with unroll / consensus / gp_g active."""
        d_total, g_total, d_loss, g_loss, r, f = self._game_losses(need_g=player == "g")
        model, opt, total = ((self.D, self.opt_d, d_total) if player == "d"
                             else (self.G, self.opt_g, g_total))
        self._set_grads(model, total)
        norm = self._apply(opt, model, total)
        if norm is None:
            return None
        if player == "g":
            return {"g_loss": g_loss.item(), "g_grad_norm": norm}
        self._clip_critic()
        return {"d_loss": d_loss.item(), "d_grad_norm": norm, "d_real": self._mean_output(r),
                "d_fake": self._mean_output(f)}

    def _joint_grads(self) -> dict | None:
        """Both players' gradients at one fresh batch, set as .grad (stats), or None after a
        non-finite value (the run is then stopped by _apply)."""
        if self._stabilised():
            d_total, g_total, d_loss, g_loss, r, f = self._game_losses()
        else:
            real, fake = self._real_batch(), self._fake_batch()
            d_loss, r, f = self._d_objective(real, fake.detach())
            g_loss = self._g_objective(fake)
            d_total, g_total = d_loss, g_loss
        self._set_grads(self.D, d_total)
        self._set_grads(self.G, g_total)
        d_norm = self._apply(self.opt_d, self.D, d_total, step=False)
        g_norm = self._apply(self.opt_g, self.G, g_total, step=False)
        if d_norm is None or g_norm is None:
            return None
        return {"d_loss": d_loss.item(), "d_grad_norm": d_norm, "d_real": self._mean_output(r),
                "d_fake": self._mean_output(f), "g_loss": g_loss.item(), "g_grad_norm": g_norm}

    def _step_both(self) -> None:
        self.opt_d.step()
        self.opt_g.step()
        self._clip_critic()

    def _extragradient_update(self) -> dict | None:
        """Gidel et al. 2019: both players extrapolate, then step from where they were with
        the gradients of the extrapolated point (each gradient on a fresh batch)."""
        params = list(self.D.parameters()) + list(self.G.parameters())
        stats: dict = {}

        def grads_at():
            found = self._joint_grads()
            stats.update(found or {})       # the stats of the gradients actually applied
            return found

        ok = gu.extragradient(params, grads_at, lambda _: self._step_both())
        return stats if ok else None

    def _optimistic_update(self) -> dict | None:
        """Daskalakis et al. 2018: both players step by 2·u_t − u_(t−1)."""
        stats = self._joint_grads()
        if stats is None:
            return None
        before = {name: gu.copy_of(m.parameters()) for name, m in (("d", self.D), ("g", self.G))}
        self._step_both()
        for name, model in (("d", self.D), ("g", self.G)):
            self.previous_steps[name] = gu.optimistic_step(
                before[name], list(model.parameters()), self.previous_steps.get(name))
        self._clip_critic()
        return stats
