"""Game diagnostics (gan_core.spectrum): the leading eigenvalues found by ARPACK on Hessian-vector
products equal those of the dense Jacobian (torch.autograd.functional.jacobian) of the game's
vector field, written out independently here, on a tiny model; the contraction region."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch.func import functional_call

from gan_core.config import TrainConfig
from gan_core.spectrum import (Spectrum, SpectrumHistory, _copies, field_operator, fixed_batch,
                               game_spectrum, leading_eigenvalues)
from gan_core.training import Trainer

TINY = dict(g_width=4, g_depth=1, d_width=4, d_depth=1, latent_dim=1, activation="tanh",
            batch_size=16)


def dense_eigenvalues(trainer, batch) -> np.ndarray:
    """Eigenvalues of (Λ/lr_d) J, J = ∂v/∂w, v = -(∇_θ L_G, ∇_ψ L_D): the non-saturating GAN with
    R1, written from the formulas, differentiated twice by torch.autograd.functional."""
    cfg = trainer.config
    G, D = _copies(trainer, torch.float64)
    real, z, _ = batch
    g_names = [n for n, _ in G.named_parameters()]
    d_names = [n for n, _ in D.named_parameters()]
    shapes = [p.shape for p in G.parameters()] + [p.shape for p in D.parameters()]
    sizes = [s.numel() for s in shapes]
    w0 = torch.cat([p.detach().reshape(-1) for p in [*G.parameters(), *D.parameters()]])

    def split(w):
        parts = [t.reshape(s) for t, s in zip(torch.split(w, sizes), shapes)]
        return (dict(zip(g_names, parts[:len(g_names)])),
                dict(zip(d_names, parts[len(g_names):])))

    def field(w):
        g, d = split(w)
        fake = functional_call(G, g, (z,))
        x = real.clone().requires_grad_(True)
        r = functional_call(D, d, (x,))
        (grad_x,) = torch.autograd.grad(r.sum(), x, create_graph=True)
        f = functional_call(D, d, (fake,))
        d_loss = (F.softplus(-r).mean() + F.softplus(f).mean()
                  + 0.5 * cfg.r1 * (grad_x ** 2).sum(1).mean())
        g_loss = F.softplus(-f).mean()
        gv = torch.autograd.grad(g_loss, list(g.values()), create_graph=True)
        dv = torch.autograd.grad(d_loss, list(d.values()), create_graph=True)
        return -torch.cat([t.reshape(-1) for t in gv + dv])

    J = torch.autograd.functional.jacobian(field, w0).numpy()
    n_g = sum(sizes[:len(g_names)])
    scale = np.ones(len(w0))
    scale[:n_g] = cfg.lr_g / cfg.lr_d
    return np.linalg.eigvals(scale[:, None] * J)


@pytest.mark.parametrize("changes", [{}, {"r1": 2.0, "lr_g": 3e-3}])
def test_leading_eigenvalues_equal_the_dense_jacobians(changes):
    trainer = Trainer(TrainConfig(**TINY, **changes))
    trainer.step(30)
    batch = fixed_batch(trainer, 64, torch.float64)
    dense = dense_eigenvalues(trainer, batch)
    G, D = _copies(trainer, torch.float64)
    op, lr_ref = field_operator(G, D, trainer.config, batch)
    assert op.shape == (len(dense), len(dense)) and lr_ref == trainer.config.lr_d
    ours = leading_eigenvalues(op, k=4, tol=1e-10, restarts=10_000)
    scale = np.abs(dense).max()
    for value in ours:                                   # each one is an eigenvalue of J
        assert np.abs(dense - value).min() < 1e-6 * scale
    rightmost = dense[np.argsort(-dense.real)][:4]
    assert np.allclose(sorted(ours.real)[-1], rightmost.real[0], atol=1e-6 * scale)
    largest = dense[np.argsort(-np.abs(dense))][:4]
    assert np.isclose(np.abs(ours).max(), np.abs(largest[0]), atol=1e-6 * scale)


def test_spectrum_of_a_run_and_its_history():
    trainer = Trainer(TrainConfig(**TINY))
    trainer.step(20)
    spectrum = game_spectrum(trainer)
    assert spectrum.iteration == 20 and 1 <= len(spectrum.eigenvalues) <= 8
    assert spectrum.max_real == spectrum.eigenvalues.real.max()
    assert spectrum.region == (complex(-1000.0, 0.0), 1000.0)      # lr_d = 1e-3
    again = game_spectrum(trainer)                       # the same batch: the same answer
    assert np.allclose(np.sort_complex(again.eigenvalues),
                       np.sort_complex(spectrum.eigenvalues), rtol=1e-3)
    history = SpectrumHistory()
    for it, ev in ((10, [-1 + 2j, -1 - 2j]), (20, [0.5 + 0j, -3 + 1j]), (15, [-2 + 0j])):
        history.append(Spectrum(it, np.array(ev), 1e-3, 0.0))
    arrays = history.arrays()                            # going back to 15 drops 20
    assert arrays["iteration"].tolist() == [10, 15]
    assert arrays["max_real"].tolist() == [-1.0, -2.0]
    assert arrays["rotation"].tolist() == [2.0, 0.0]


def test_contraction_region():
    inside = Spectrum(0, np.array([-500 + 100j, -1 + 0j]), 1e-3, 0.0)
    assert inside.contracts                              # |1 + 1e-3 λ| < 1
    assert not Spectrum(0, np.array([-500 + 100j, 0.1 + 0j]), 1e-3, 0.0).contracts
    assert not Spectrum(0, np.array([-2100 + 0j]), 1e-3, 0.0).contracts   # step too long
    assert Spectrum(0, np.array([1j, -1j]), 1e-3, 0.0).rotation == float("inf")
