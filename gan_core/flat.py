"""K same-shaped networks as one flat (K, P) tensor per player, and their optimizers.

The stacked engine (gan_core.stacked) trains K runs of the same shapes in one pass: each
player's weights live in one flat (K, P) tensor, the K networks run as batched matmuls
(torch.baddbmm), and each run's own optimizer (Adam through torch's fused Adam kernel, as
Trainer; SGD / RMSprop vectorised; its own lr, betas, momentum) updates its row. The runs' own
parameters and optimizer states are *views* of these tensors (Trainer.place_weights,
Trainer.place_optimizer_state), so a run's own code (snapshots, records, live changes) always
sees its current weights.
"""
from __future__ import annotations

import torch
from torch import nn

ALIGN = 16                               # floats: 64 bytes
FUSED_ADAM = getattr(torch, "_fused_adam_", None)   # the kernel of Adam(fused=True)
THIN = 4               # layers with at most this many inputs or outputs use BatchedLinear
RMSPROP_ALPHA, EPS = 0.99, 1e-8          # torch.optim defaults, as Trainer uses them


class BatchedLinear(torch.autograd.Function):
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


class FlatPlayer:
    """Player "g" or "d" of K runs with same-shaped MLPs (nn.Sequential of Linear +
    activation) as one (K, P) tensor.

    Each Linear's stacked weight (K, out, in) and bias (K, out) are leaf tensors that share
    memory with `flat`, and their .grad are views of one (K, P) gradient buffer, so backward
    writes every gradient in place and an optimizer updates all K networks with a few ops on
    `flat`. Each run's own parameters then live in its row of `flat` (Trainer.place_weights).
    """

    def __init__(self, members: list, player: str, activation):
        models = [m.G if player == "g" else m.D for m in members]
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
        for row, member in enumerate(members):
            member.place_weights(player, self.row_views(self.flat, row))

    def row_views(self, flat: torch.Tensor, row: int) -> list[torch.Tensor]:
        """Views of one row of a (K, P) tensor shaped like the parameters."""
        return [flat[row, off:off + size].view(shape)
                for shape, off, size in zip(self.shapes, self.offsets, self.sizes)]

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        """(K, B, in) -> (K, B, out): network k on x[k]."""
        leaves, h = self.leaves, x
        for layer in range(self.n_layers):
            weight, bias = leaves[2 * layer], leaves[2 * layer + 1]
            if min(weight.shape[1:]) <= THIN:
                h = BatchedLinear.apply(h, weight, bias)
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


class FlatOptimizer:
    """Adam, RMSprop and SGD as torch.optim computes them (Trainer.make_optimizer's settings),
    for K networks at once, each row with its own optimizer type and hyperparameters.

    Its state is (K, P) tensors, and each run's torch optimizer holds views of its row
    (Trainer.place_optimizer_state), so the run's optimizer (saved by records, used after the
    stack is released) is always current.
    """

    def __init__(self, player: FlatPlayer, name: str, members: list):
        self.player = player
        settings = [(getattr(m.config, f"opt_{name}"), getattr(m.config, f"lr_{name}"))
                    for m in members]
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
        self.slots = {slot: torch.zeros_like(player.flat) for slot in ("m", "v", "buf")}
        self.steps = torch.zeros(K, n_params)           # torch keeps a float32 step per tensor
        for row, member in enumerate(members):
            states = member.optimizer_state(name)
            keys = dict(_STATE_KEYS[self.kinds[row]])
            if cfgs[row].momentum == 0:       # torch keeps no momentum buffer then
                keys.pop("momentum_buffer", None)
            with torch.no_grad():
                for j, state in enumerate(states):
                    for key, value in state.items():
                        if value is None or key not in keys:
                            continue
                        if keys[key] == "step":
                            self.steps[row, j] = float(value)
                        else:
                            off, size = player.offsets[j], player.sizes[j]
                            self.slots[keys[key]][row, off:off + size] = value.reshape(-1)
            views = {slot: player.row_views(buf, row) for slot, buf in self.slots.items()}
            member.place_optimizer_state(name, [
                {key: self.steps[row, j] if slot == "step" else views[slot][j]
                 for key, slot in keys.items()} for j in range(n_params)])

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
