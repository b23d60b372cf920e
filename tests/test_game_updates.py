"""Game optimisers and stabilisers (gan_core.game_updates): each update against a step computed
by hand on a tiny problem, then each wired into the Trainer."""
from __future__ import annotations

import pytest
import torch

from gan_core import game_updates as gu
from gan_cli.main import main
from gan_core.config import ConfigError, TrainConfig
from gan_core.models import PackedD, build_models
from gan_core.training import Trainer, make_optimizer

TINY = dict(g_width=8, g_depth=1, d_width=8, d_depth=1, batch_size=16, seed=3)


def scalar(value: float) -> torch.Tensor:
    return torch.tensor([value], requires_grad=True)


def bilinear_grads(x, y):
    """f(x, y) = x·y: x descends f, y descends −f, so the field is (y, −x)."""
    return [y.detach().clone(), -x.detach().clone()]


# ---------------------------------------------------------------------- the updates
def test_extragradient_sgd_on_the_bilinear_game():
    """x = y = 1, η = 0.1: x½ = 0.9, y½ = 1.1; then from (1, 1) with the field at (x½, y½):
    x' = 1 − 0.1·1.1 = 0.89, y' = 1 + 0.1·0.9 = 1.09."""
    x, y = scalar(1.0), scalar(1.0)
    opt = torch.optim.SGD([x, y], lr=0.1)

    def apply(grads):
        x.grad, y.grad = grads
        opt.step()

    assert gu.extragradient([x, y], lambda: bilinear_grads(x, y), apply)
    assert x.item() == pytest.approx(0.89) and y.item() == pytest.approx(1.09)


def test_extragradient_stops_where_it_was_on_a_non_finite_gradient():
    x = scalar(1.0)
    calls = []

    def grads_at():
        calls.append(1)
        return [torch.ones(1)] if len(calls) == 1 else None

    opt = torch.optim.SGD([x], lr=0.1)

    def apply(grads):
        x.grad = grads[0]
        opt.step()

    assert not gu.extragradient([x], grads_at, apply)
    assert x.item() == 1.0


def test_optimistic_sgd_two_steps_by_hand():
    """f = x²/2, η = 0.1, x0 = 1: x1 = 1 − 2·0.1·1 = 0.8 (no g_−1), then
    x2 = 0.8 − 2·0.1·0.8 + 0.1·1 = 0.74."""
    x = scalar(1.0)
    opt = torch.optim.SGD([x], lr=0.1)
    previous = None
    seen = []
    for _ in range(2):
        before = gu.copy_of([x])
        x.grad = x.detach().clone()
        opt.step()
        previous = gu.optimistic_step(before, [x], previous)
        seen.append(x.item())
    assert seen == pytest.approx([0.8, 0.74])


def test_consensus_penalty_gradient_by_hand():
    """L_D = a·b, L_G = −a·b: v = (b, −a), γ/2‖v‖² = γ/2 (a² + b²). At a = 1, b = 2, γ = 0.5
    the penalty is 1.25 and its gradient (γa, γb) = (0.5, 1)."""
    a, b = scalar(1.0), scalar(2.0)
    penalty = gu.consensus_penalty([((a * b).sum(), [a]), ((-a * b).sum(), [b])], 0.5)
    assert penalty.item() == pytest.approx(1.25)
    ga, gb = torch.autograd.grad(penalty, [a, b])
    assert (ga.item(), gb.item()) == pytest.approx((0.5, 1.0))


def test_g_gradient_penalty_by_hand():
    """L_D = a·b: η‖∂L_D/∂a‖² = η b²; at η = 0.25, b = 2: 1.0, with ∂/∂b = 2ηb = 1.0."""
    a, b = scalar(1.0), scalar(2.0)
    penalty = gu.gradient_norm_penalty((a * b).sum(), [a], 0.25)
    assert penalty.item() == pytest.approx(1.0)
    (gb,) = torch.autograd.grad(penalty, [b])
    assert gb.item() == pytest.approx(1.0)


def test_lookahead_sgd_differentiates_through_the_steps():
    """D's loss (a − b)²/2, SGD lr = 0.5, two steps: a2 = ¼a + ¾b. G's loss a2·b has
    d/db = a2 + b·¾ = 1.75 + 1.5 = 3.25 at a = 1, b = 2 (against 1.0 + 0 without unrolling)."""
    a, b = scalar(1.0), scalar(2.0)
    rule = {"name": "sgd", "lr": 0.5}
    (a2,) = gu.lookahead([a], lambda p: ((p[0] - b) ** 2).sum() / 2, 2, rule, [{}])
    assert a2.item() == pytest.approx(1.75)
    (gb,) = torch.autograd.grad((a2 * b).sum(), [b])
    assert gb.item() == pytest.approx(3.25)
    assert a.item() == 1.0                          # the real D is not moved


@pytest.mark.parametrize("name", ["adam", "sgd", "rmsprop"])
def test_differentiable_step_matches_torch_optimizers(name):
    """Three steps of the differentiable rule, starting from the optimiser's own state after
    one real step, land where torch's optimiser lands."""
    torch.manual_seed(0)
    target = torch.randn(5)
    w = torch.randn(5, requires_grad=True)
    cfg = TrainConfig(beta1=0.5, beta2=0.9, momentum=0.3)
    opt = make_optimizer(name, [w], 0.05, cfg)

    def loss(p):
        return ((p - target) ** 4).sum()

    def real_step():
        opt.zero_grad()
        loss(w).backward()
        opt.step()

    real_step()
    rule, state = gu.optimizer_rule(opt)
    ahead = gu.lookahead([w], lambda p: loss(p[0]), 3, rule, state)[0].detach()
    for _ in range(3):
        real_step()
    assert torch.allclose(ahead, w.detach(), atol=1e-6)


def test_negative_momentum_heavy_ball_by_hand():
    """f = x²/2, lr 0.1, β = −0.5: x1 = 0.9; buf = −0.5·1 + 0.9 = 0.4, x2 = 0.86."""
    x = scalar(1.0)
    opt = make_optimizer("sgd", [x], 0.1, TrainConfig(opt_d="sgd", opt_g="sgd", momentum=-0.5))
    seen = []
    for _ in range(2):
        x.grad = x.detach().clone()
        opt.step()
        seen.append(x.item())
    assert seen == pytest.approx([0.9, 0.86])


def test_ema_update_by_hand():
    avg, p = torch.zeros(1), torch.ones(1)
    gu.ema_update([avg], [p], 0.9)
    gu.ema_update([avg], [p], 0.9)
    assert avg.item() == pytest.approx(0.19)


def test_pack_puts_consecutive_samples_side_by_side():
    x = torch.arange(12.0).reshape(6, 2)
    packed = gu.pack(x, 3)
    assert packed.tolist() == [[0, 1, 2, 3, 4, 5], [6, 7, 8, 9, 10, 11]]
    assert gu.pack(x, 1) is x


def test_packed_d_judges_a_lone_point_packed_with_copies_of_itself():
    _, D = build_models(TrainConfig(pack=3, **TINY))
    assert isinstance(D, PackedD) and D.net[0].in_features == 6
    x = torch.randn(4, 2)
    assert torch.equal(D(x), D.net(torch.cat([x, x, x], dim=1)))


# ---------------------------------------------------------------------- in the Trainer
def test_first_optimistic_sgd_step_is_a_simultaneous_step_of_twice_the_rate():
    """θ1 = θ0 + 2u0 (no u_−1): the same batches as a simultaneous SGD step with lr doubled."""
    base = TrainConfig(opt_d="sgd", opt_g="sgd", **TINY)
    optimistic = Trainer(base.replace(updates="optimistic", lr_d=0.01, lr_g=0.01))
    simultaneous = Trainer(base.replace(updates="simultaneous", lr_d=0.02, lr_g=0.02))
    optimistic.step(1)
    simultaneous.step(1)
    for a, b in zip(list(optimistic.G.parameters()) + list(optimistic.D.parameters()),
                    list(simultaneous.G.parameters()) + list(simultaneous.D.parameters())):
        assert torch.allclose(a, b, atol=1e-7)
    optimistic.step(1)        # the second step differs: it subtracts the first one
    assert not torch.allclose(next(optimistic.G.parameters()),
                              next(simultaneous.G.parameters()))


def test_extragradient_trainer_step_by_hand():
    """One extragradient iteration with SGD equals: simultaneous half-step on batch 1, the
    gradients there on batch 2, applied from the starting weights."""
    cfg = TrainConfig(opt_d="sgd", opt_g="sgd", lr_d=0.05, lr_g=0.05,
                      updates="extragradient", **TINY)
    eg = Trainer(cfg)
    by_hand = Trainer(cfg.replace(updates="simultaneous"))
    start = [p.detach().clone() for p in list(by_hand.D.parameters()) + list(by_hand.G.parameters())]
    by_hand.step(1)                                     # to the extrapolated point (batch 1)
    by_hand._joint_grads()                              # its gradients on batch 2
    with torch.no_grad():
        for p, p0 in zip(list(by_hand.D.parameters()) + list(by_hand.G.parameters()), start):
            p.copy_(p0 - 0.05 * p.grad)
    eg.step(1)
    for a, b in zip(list(eg.D.parameters()) + list(eg.G.parameters()),
                    list(by_hand.D.parameters()) + list(by_hand.G.parameters())):
        assert torch.allclose(a, b, atol=1e-7)


def test_averaged_g_follows_the_ema_of_g_each_iteration():
    t = Trainer(TrainConfig(ema=0.8, **TINY))
    expected = [p.detach().clone() for p in t.G.parameters()]
    for _ in range(3):
        t.step(1)
        expected = [0.8 * e + 0.2 * p.detach() for e, p in zip(expected, t.G.parameters())]
    for a, e in zip(t.G_avg.parameters(), expected):
        assert torch.allclose(a, e, atol=1e-6)
    snap = t.snapshot(grid=10)
    assert snap.fake_avg.shape == snap.fake.shape and not (snap.fake_avg == snap.fake).all()
    assert snap.metrics_avg["modes_covered"] is not None


def test_ema_switched_on_live_starts_the_average_at_g():
    t = Trainer(TrainConfig(**TINY))
    t.step(2)
    t.update(ema=0.5)
    assert all(torch.equal(a, p) for a, p in zip(t.G_avg.parameters(), t.G.parameters()))
    t.update(ema=0.0)
    assert t.G_avg is None


def test_unrolled_g_step_leaves_d_alone_and_differs_from_the_plain_step():
    """(G uses SGD: Adam's first step is ±lr whatever the gradient's size.)"""
    base = TrainConfig(opt_g="sgd", lr_g=0.1, lr_d=0.05, **TINY)
    plain, unrolled = Trainer(base), Trainer(base.replace(unroll=3))
    d_before = [p.detach().clone() for p in unrolled.D.parameters()]
    plain.step_g()
    unrolled.step_g()
    assert all(torch.equal(a, b) for a, b in zip(unrolled.D.parameters(), d_before))
    assert not torch.allclose(next(plain.G.parameters()), next(unrolled.G.parameters()))


@pytest.mark.parametrize("changes", [
    {"unroll": 2}, {"updates": "extragradient"}, {"updates": "optimistic"}, {"consensus": 0.5},
    {"ema": 0.9}, {"pack": 2}, {"gp_g": 0.2},
    {"opt_d": "sgd", "opt_g": "sgd", "momentum": -0.5, "lr_d": 0.01, "lr_g": 0.01}])
def test_each_method_trains_and_continues_bit_identically_from_its_state(changes):
    t = Trainer(TrainConfig(**TINY).replace(**changes))
    t.step(5)
    assert not t.status and t.iteration == 5
    twin = Trainer(t.config)
    twin.load_state(t.state())
    t.step(3)
    twin.step(3)
    for a, b in zip(t.G.parameters(), twin.G.parameters()):
        assert torch.equal(a, b)


# ---------------------------------------------------------------------- bad input
@pytest.mark.parametrize("changes, message", [
    ({"unroll": 21}, "unroll: 21 is out of range; allowed [0, 20]"),
    ({"unroll": -1}, "unroll: -1 is out of range; allowed [0, 20]"),
    ({"consensus": -0.1}, "consensus: -0.1 is out of range; allowed [0.0, 100]"),
    ({"ema": 1.0}, "ema: 1.0 is out of range; allowed [0.0, 0.999]"),
    ({"momentum": -0.95}, "momentum: -0.95 is out of range; allowed [-0.9, 0.999]"),
    ({"pack": 9}, "pack: 9 is out of range; allowed [1, 8]"),
    ({"pack": 0}, "pack: 0 is out of range; allowed [1, 8]"),
    ({"gp_g": -1.0}, "gp_g: -1.0 is out of range; allowed [0.0, 100]"),
    ({"momentum": -0.5, "opt_d": "rmsprop"}, "momentum: -0.5 is negative, which only SGD"),
])
def test_out_of_range_values_are_refused_in_one_sentence(changes, message):
    with pytest.raises(ConfigError) as err:
        TrainConfig(**changes)
    assert str(err.value).startswith(message)


def test_cli_refuses_an_out_of_range_unroll_before_training(capsys):
    assert main(["train", "--unroll", "25", "--steps", "5"]) == 2
    err = capsys.readouterr().err
    assert err.strip() == "error: unroll: 25 is out of range; allowed [0, 20]"


def test_compare_lines_and_links_carry_every_cure():
    from gan_core.settings import parse_overrides
    from explorer.links import config_from_query, query_from_config

    line = "unroll=5, updates=extragradient, consensus=0.5, momentum=-0.5, ema=0.99, pack=2, gp_g=0.1"
    overrides = parse_overrides(line)
    assert overrides == {"unroll": 5, "updates": "extragradient", "consensus": 0.5,
                         "momentum": -0.5, "ema": 0.99, "pack": 2, "gp_g": 0.1}
    config = TrainConfig(opt_d="sgd", opt_g="sgd", **overrides)
    back, notes = config_from_query(query_from_config(config))
    assert back == config.resolved() and not notes


def test_a_run_record_keeps_the_average_and_the_optimistic_memory(tmp_path):
    from gan_core.records import load_run, save_run

    t = Trainer(TrainConfig(ema=0.9, updates="optimistic", **TINY), record_every=2)
    t.step(4)
    loaded = load_run(save_run(t, tmp_path / "run.zip"))
    assert loaded.records[-1].fake_avg is not None and loaded.records[-1].metrics_avg
    t.step(2)
    loaded.step(2)
    for a, b in zip(list(t.G_avg.parameters()) + list(t.G.parameters()),
                    list(loaded.G_avg.parameters()) + list(loaded.G.parameters())):
        assert torch.equal(a, b)
