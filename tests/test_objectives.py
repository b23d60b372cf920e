"""Every GAN loss and regulariser of gan_core.objectives against values worked out by hand.

The expected values are computed here with the `math` module on tiny inputs, independently of
torch's softplus / relu implementations.
"""
import math

import pytest
import torch

from gan_core import objectives as obj
from gan_core.config import LOSSES

R = [0.0, 2.0]          # D's scores on two real samples
F = [-1.0, 1.0]         # D's scores on two fake samples


def t(values):
    return torch.tensor(values, dtype=torch.float64)


def sigmoid(x):
    return 1.0 / (1.0 + math.exp(-x))


def mean(xs):
    xs = list(xs)
    return sum(xs) / len(xs)


def close(tensor, expected, tol=1e-12):
    assert tensor.dim() == 0, "a loss is a scalar batch mean"
    assert tensor.item() == pytest.approx(expected, abs=tol, rel=tol)


# ---------------------------------------------------------------------------- losses
def test_gan_d_loss_by_hand():
    # -E[log σ(r)] - E[log(1 - σ(f))]
    expected = (-mean(math.log(sigmoid(r)) for r in R)
                - mean(math.log(1 - sigmoid(f)) for f in F))
    # r = 0: -log ½ = log 2; r = 2: log(1 + e^-2); f = ∓1: log(1 + e^∓1)
    assert expected == pytest.approx(
        (math.log(2) + math.log(1 + math.exp(-2))) / 2
        + (math.log(1 + math.exp(-1)) + math.log(1 + math.e)) / 2)
    close(obj.gan_d_loss(t(R), t(F)), expected)


def test_minimax_g_loss_by_hand():
    expected = mean(math.log(1 - sigmoid(f)) for f in F)     # E[log(1 - σ(f))], minimised by G
    assert expected < 0
    close(obj.minimax_g_loss(t(F)), expected)


def test_nonsaturating_g_loss_by_hand():
    expected = -mean(math.log(sigmoid(f)) for f in F)        # -E[log σ(f)]
    close(obj.nonsaturating_g_loss(t(F)), expected)


def test_wgan_losses_by_hand():
    close(obj.wgan_d_loss(t(R), t(F)), mean(F) - mean(R))    # 0 - 1 = -1
    close(obj.wgan_d_loss(t(R), t(F)), -1.0)
    close(obj.wgan_g_loss(t(F)), -mean(F))
    close(obj.wgan_g_loss(t([3.0, 5.0])), -4.0)


def test_lsgan_losses_by_hand():
    # ½E[(r-1)²] + ½E[f²] = ½·(1 + 1)/2 + ½·(1 + 1)/2 = 1
    close(obj.lsgan_d_loss(t(R), t(F)), 1.0)
    close(obj.lsgan_d_loss(t(R), t(F)),
          0.5 * mean((r - 1) ** 2 for r in R) + 0.5 * mean(f ** 2 for f in F))
    # ½E[(f-1)²] = ½·(4 + 0)/2 = 1
    close(obj.lsgan_g_loss(t(F)), 1.0)
    close(obj.lsgan_g_loss(t([0.0, 3.0])), 0.5 * (1 + 4) / 2)


def test_hinge_losses_by_hand():
    # E[max(0, 1-r)] + E[max(0, 1+f)] = (1 + 0)/2 + (0 + 2)/2 = 1.5
    close(obj.hinge_d_loss(t(R), t(F)), 1.5)
    close(obj.hinge_d_loss(t([0.5, 3.0]), t([-3.0, 0.25])), (0.5 + 0) / 2 + (0 + 1.25) / 2)
    assert obj.G_LOSSES["hinge"] is obj.wgan_g_loss
    close(obj.G_LOSSES["hinge"](t(F)), -mean(F))


def test_sigmoid_losses_are_stable_for_large_scores():
    """softplus form: no inf/nan where a naive log(sigmoid) would underflow."""
    big = t([1000.0, -1000.0])
    for loss in (obj.gan_d_loss(big, big), obj.minimax_g_loss(big),
                 obj.nonsaturating_g_loss(big)):
        assert torch.isfinite(loss)
    # -log σ(-1000) ≈ 1000, -log σ(1000) ≈ 0
    close(obj.nonsaturating_g_loss(big), 500.0, tol=1e-9)


def test_loss_tables_cover_every_configured_loss():
    assert set(obj.D_LOSSES) == set(LOSSES)
    assert set(obj.G_LOSSES) == set(LOSSES)
    assert len(LOSSES) == 6
    assert obj.D_LOSSES["minimax"] is obj.gan_d_loss
    assert obj.D_LOSSES["nonsaturating"] is obj.gan_d_loss
    assert obj.G_LOSSES["minimax"] is obj.minimax_g_loss
    assert obj.G_LOSSES["nonsaturating"] is obj.nonsaturating_g_loss
    assert obj.D_LOSSES["wgan-gp"] is obj.wgan_d_loss
    assert obj.D_LOSSES["lsgan"] is obj.lsgan_d_loss
    assert obj.D_LOSSES["hinge"] is obj.hinge_d_loss
    for name in LOSSES:
        d = obj.D_LOSSES[name](t(R), t(F))
        g = obj.G_LOSSES[name](t(F))
        assert d.dim() == 0 and g.dim() == 0
        assert torch.isfinite(d) and torch.isfinite(g)


# ---------------------------------------------------------------------------- saturation
@pytest.mark.parametrize("f0", [-10.0, -3.0, 0.0, 2.0])
def test_minimax_gradient_is_sigma_f_and_nonsaturating_is_sigma_f_minus_one(f0):
    f = torch.tensor([f0], dtype=torch.float64, requires_grad=True)
    (g_sat,) = torch.autograd.grad(obj.minimax_g_loss(f), f)
    f = torch.tensor([f0], dtype=torch.float64, requires_grad=True)
    (g_ns,) = torch.autograd.grad(obj.nonsaturating_g_loss(f), f)
    # d/df log(1 - σ(f)) = -σ(f): the saturating loss's gradient has magnitude σ(f);
    # the non-saturating -log σ(f) has gradient σ(f) - 1.
    assert float(g_sat) == pytest.approx(-sigmoid(f0), rel=1e-12)
    assert float(g_ns) == pytest.approx(sigmoid(f0) - 1, rel=1e-12)


def test_minimax_saturates_where_nonsaturating_does_not():
    f = torch.tensor([-10.0], dtype=torch.float64, requires_grad=True)
    (g_sat,) = torch.autograd.grad(obj.minimax_g_loss(f), f)
    f = torch.tensor([-10.0], dtype=torch.float64, requires_grad=True)
    (g_ns,) = torch.autograd.grad(obj.nonsaturating_g_loss(f), f)
    assert abs(float(g_sat)) < 1e-4                       # σ(-10) ≈ 4.5e-5: vanishing signal
    assert float(g_ns) == pytest.approx(-1.0, abs=1e-4)   # ≈ -1: G still pushes f up
    # Descending either loss raises f (fakes look more real): both gradients are negative.
    assert float(g_sat) < 0 and float(g_ns) < 0


# ---------------------------------------------------------------------------- gradients
def linear_d(w):
    return lambda x: x @ w


def test_input_gradient_of_linear_d_is_w():
    w = torch.tensor([0.5, -2.0], dtype=torch.float64)
    x = torch.tensor([[1.0, 2.0], [-3.0, 0.5], [0.0, 0.0]], dtype=torch.float64)
    score, grad = obj.input_gradient(linear_d(w), x)
    assert torch.allclose(score, torch.tensor([0.5 - 4.0, -1.5 - 1.0, 0.0], dtype=torch.float64))
    assert grad.shape == x.shape
    assert torch.equal(grad, w.expand_as(x))
    assert not x.requires_grad, "the caller's tensor is left alone"


def test_input_gradient_of_quadratic_d():
    x = torch.tensor([[1.0, 2.0], [-3.0, 0.5]], dtype=torch.float64)
    _, grad = obj.input_gradient(lambda v: (v ** 2).sum(dim=1), x)
    assert torch.allclose(grad, 2 * x)


def test_input_gradient_graph_reaches_d_weights():
    w = torch.tensor([3.0, 4.0], dtype=torch.float64, requires_grad=True)
    x = torch.ones(4, 2, dtype=torch.float64)
    _, grad = obj.input_gradient(linear_d(w), x)
    pen = obj.zero_centred_penalty(grad, gamma=2.0)       # = ‖w‖² = 25
    assert pen.requires_grad, "the graph is kept so the penalty can be backpropagated"
    assert pen.item() == pytest.approx(25.0)
    pen.backward()
    assert torch.allclose(w.grad, 2 * w.detach())          # d‖w‖²/dw = 2w


def test_zero_centred_penalty_by_hand():
    grad = t([[3.0, 4.0], [1.0, 0.0], [0.0, 0.0]])
    gamma = 10.0
    # γ/2 · mean(‖g‖²) = 5 · (25 + 1 + 0)/3
    expected = gamma / 2 * mean([25.0, 1.0, 0.0])
    close(obj.zero_centred_penalty(grad, gamma), expected)
    close(obj.zero_centred_penalty(grad, 0.0), 0.0)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_gradient_penalty_on_linear_d(seed):
    w = torch.tensor([1.2, -1.6], dtype=torch.float64)     # ‖w‖ = 2
    assert math.hypot(1.2, -1.6) == pytest.approx(2.0)
    g = torch.Generator().manual_seed(seed)
    real = torch.randn(16, 2, generator=g, dtype=torch.float64)
    fake = torch.randn(16, 2, generator=g, dtype=torch.float64) * 5
    weight = 3.0
    pen = obj.gradient_penalty(linear_d(w), real, fake, weight,
                               torch.Generator().manual_seed(seed))
    close(pen, weight * (2 - 1) ** 2, tol=1e-9)


def test_gradient_penalty_is_zero_for_unit_norm_critic():
    w = torch.tensor([0.6, 0.8], dtype=torch.float64)
    real, fake = torch.zeros(4, 2, dtype=torch.float64), torch.ones(4, 2, dtype=torch.float64)
    pen = obj.gradient_penalty(linear_d(w), real, fake, 10.0, torch.Generator().manual_seed(0))
    close(pen, 0.0, tol=1e-12)


def test_gradient_penalty_interpolates_between_real_and_fake():
    """With D(x) = ½‖x‖², ∇D(x̂) = x̂, so the penalty reveals where x̂ was taken."""
    real = torch.zeros(2000, 2, dtype=torch.float64)
    fake = torch.tensor([[1.0, 0.0]], dtype=torch.float64).expand(2000, 2)
    pen = obj.gradient_penalty(lambda x: 0.5 * (x ** 2).sum(dim=1), real, fake, 1.0,
                               torch.Generator().manual_seed(0))
    # x̂ = (1 - t, 0) with t ~ U(0, 1): ‖∇‖ = 1 - t ~ U(0,1), E[(u - 1)²] = 1/3
    assert pen.item() == pytest.approx(1 / 3, abs=0.03)


# ---------------------------------------------------------------------------- instance noise
def test_instance_noise_zero_sigma_returns_x():
    x = torch.randn(10, 2, generator=torch.Generator().manual_seed(0))
    g = torch.Generator().manual_seed(5)
    state = g.get_state()
    out = obj.add_instance_noise(x, 0.0, g)
    assert torch.equal(out, x)
    assert torch.equal(g.get_state(), state), "σ = 0 draws no random numbers"


def test_instance_noise_is_seeded_and_has_the_right_std():
    x = torch.full((20000, 2), 3.0)
    a = obj.add_instance_noise(x, 0.5, torch.Generator().manual_seed(7))
    b = obj.add_instance_noise(x, 0.5, torch.Generator().manual_seed(7))
    c = obj.add_instance_noise(x, 0.5, torch.Generator().manual_seed(8))
    assert torch.equal(a, b)
    assert not torch.equal(a, c)
    assert torch.equal(x, torch.full((20000, 2), 3.0)), "input not modified in place"
    noise = a - x
    assert float(noise.std()) == pytest.approx(0.5, rel=0.03)
    assert abs(float(noise.mean())) < 0.02
    # independent per coordinate
    corr = torch.corrcoef(noise.T)[0, 1]
    assert abs(float(corr)) < 0.05
