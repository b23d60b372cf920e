"""Trainer, unit level: determinism, update counts, live settings, regularisers, divergence,
snapshots and their independence from training. Short runs of small models only; the long GAN
behaviour runs live in test_gan_behaviour.py."""
import itertools

import numpy as np
import pytest
import torch

from gan_core import objectives as obj
from gan_core.config import LOSSES, ConfigError, TrainConfig
from gan_core.models import sample_latent
from gan_core.training import HISTORY_COLUMNS, Trainer

SMALL = dict(g_width=16, d_width=16, batch_size=64)
NEVER = 10 ** 9          # record_every that never records during a test


def small(**changes) -> TrainConfig:
    return TrainConfig(**{**SMALL, **changes})


def params(trainer):
    return [p.detach().clone() for p in itertools.chain(trainer.G.parameters(),
                                                        trainer.D.parameters())]


def state_tensors(trainer):
    """Every parameter and buffer (spectral norm's u, v included) of both players."""
    out = {}
    for name, model in (("G", trainer.G), ("D", trainer.D)):
        for key, value in model.state_dict().items():
            out[f"{name}.{key}"] = value.detach().clone()
    return out


def assert_same_state(a, b):
    sa, sb = state_tensors(a), state_tensors(b)
    assert sa.keys() == sb.keys()
    for key in sa:
        assert torch.equal(sa[key], sb[key]), key


def all_finite(trainer):
    return all(torch.isfinite(p).all() for p in params(trainer))


# ---------------------------------------------------------------------------- determinism
def test_same_config_and_seed_give_bit_identical_runs():
    cfg = small(seed=3)
    a, b = Trainer(cfg, record_every=NEVER), Trainer(cfg, record_every=NEVER)
    assert a.step(30) == 30 and b.step(30) == 30
    for pa, pb in zip(params(a), params(b), strict=True):
        assert torch.equal(pa, pb)
    for name, values in a.history.as_arrays().items():
        np.testing.assert_array_equal(values, b.history.as_arrays()[name])
    np.testing.assert_array_equal(a.generate(50), b.generate(50))


def test_different_seeds_differ():
    a, b = Trainer(small(seed=0), record_every=NEVER), Trainer(small(seed=1), record_every=NEVER)
    a.step(30)
    b.step(30)
    assert not all(torch.equal(pa, pb) for pa, pb in zip(params(a), params(b)))


def test_training_does_not_touch_the_global_rng():
    torch.manual_seed(123)
    np.random.seed(123)
    expected_t, expected_np = torch.rand(3), np.random.rand(3)
    torch.manual_seed(123)
    np.random.seed(123)
    Trainer(small(), record_every=5).step(10)
    assert torch.equal(torch.rand(3), expected_t)
    np.testing.assert_array_equal(np.random.rand(3), expected_np)


def test_training_moves_the_weights():
    t = Trainer(small(), record_every=NEVER)
    before = params(t)
    t.step(5)
    after = params(t)
    assert not any(torch.equal(x, y) for x, y in zip(before, after)), "every tensor moves"


# ---------------------------------------------------------------------------- history / step
def test_history_has_one_finite_row_per_iteration():
    t = Trainer(small(), record_every=NEVER)
    assert t.step(30) == 30
    assert t.iteration == 30
    assert t.step(7) == 7
    assert t.iteration == 37
    arrays = t.history.as_arrays()
    assert set(arrays) == {"iteration", *HISTORY_COLUMNS}
    assert set(HISTORY_COLUMNS) == {"d_loss", "g_loss", "d_grad_norm", "g_grad_norm",
                                    "d_real", "d_fake"}
    np.testing.assert_array_equal(arrays["iteration"], np.arange(1, 38))
    for name in HISTORY_COLUMNS:
        assert len(arrays[name]) == 37
        assert np.isfinite(arrays[name]).all(), name
    # sigmoid loss: d_real / d_fake are probabilities; norms are non-negative
    assert ((arrays["d_real"] >= 0) & (arrays["d_real"] <= 1)).all()
    assert ((arrays["d_fake"] >= 0) & (arrays["d_fake"] <= 1)).all()
    assert (arrays["d_grad_norm"] >= 0).all() and (arrays["g_grad_norm"] >= 0).all()


def test_history_d_loss_is_the_loss_of_the_batch_seen():
    """The first row's d_loss equals the D loss recomputed on the same batches by hand."""
    cfg = small(seed=4)
    t = Trainer(cfg, record_every=NEVER)
    D0 = [p.detach().clone() for p in t.D.parameters()]
    ref = Trainer(cfg, record_every=NEVER)
    real = ref.data.sample(cfg.batch_size, torch.Generator().manual_seed(cfg.seed))
    z = sample_latent(cfg, cfg.batch_size, torch.Generator().manual_seed(cfg.seed + 1))
    with torch.no_grad():
        fake = ref.G(z)
        for p, p0 in zip(ref.D.parameters(), D0):
            assert torch.equal(p, p0)
        expected = obj.gan_d_loss(ref.D(real), ref.D(fake)).item()
    t.step(1)
    assert t.history.as_arrays()["d_loss"][0] == pytest.approx(expected, rel=1e-6)


def test_step_zero_does_nothing():
    t = Trainer(small(), record_every=NEVER)
    before = params(t)
    assert t.step(0) == 0
    assert t.iteration == 0 and len(t.history) == 0
    assert all(torch.equal(x, y) for x, y in zip(before, params(t)))


# ---------------------------------------------------------------------------- k, k_g, updates
def count_updates(monkeypatch, trainer):
    counts = {"d": 0, "g": 0, "sim": 0}
    for key, name in (("d", "_d_update"), ("g", "_g_update"), ("sim", "_simultaneous_update")):
        original = getattr(trainer, name)

        def wrapped(_original=original, _key=key):
            counts[_key] += 1
            return _original()
        monkeypatch.setattr(trainer, name, wrapped)
    return counts


@pytest.mark.parametrize("updates", ["alternating", "simultaneous"])
def test_k_discriminator_batches_per_iteration(monkeypatch, updates):
    cfg = small(k=3, k_g=2, updates=updates)
    t = Trainer(cfg, record_every=NEVER)
    counts = count_updates(monkeypatch, t)
    n = 4
    assert t.step(n) == n
    if updates == "alternating":
        assert counts == {"d": 3 * n, "g": 2 * n, "sim": 0}
    else:   # k-1 D steps, one joint step, k_g-1 G steps
        assert counts == {"d": 2 * n, "g": 1 * n, "sim": n}
    # Independently: the data generator advanced by exactly k real batches per iteration,
    # the latent generator by k (D's fakes) + k_g (G's fakes) batches, one shared in the
    # simultaneous step.
    g_data = torch.Generator().manual_seed(cfg.seed)
    for _ in range(3 * n):
        t.data.sample(cfg.batch_size, g_data)
    assert torch.equal(t.rng_data.get_state(), g_data.get_state())
    g_latent = torch.Generator().manual_seed(cfg.seed + 1)
    latent_batches = (3 + 2) * n if updates == "alternating" else (3 + 2 - 1) * n
    for _ in range(latent_batches):
        sample_latent(cfg, cfg.batch_size, g_latent)
    assert torch.equal(t.rng_latent.get_state(), g_latent.get_state())


def test_k1_draws_one_real_batch_per_iteration():
    cfg = small(k=1)
    t = Trainer(cfg, record_every=NEVER)
    t.step(5)
    g = torch.Generator().manual_seed(cfg.seed)
    for _ in range(5):
        t.data.sample(cfg.batch_size, g)
    assert torch.equal(t.rng_data.get_state(), g.get_state())


def test_simultaneous_runs_and_differs_from_alternating():
    alt = Trainer(small(updates="alternating"), record_every=NEVER)
    sim = Trainer(small(updates="simultaneous"), record_every=NEVER)
    assert alt.step(10) == 10 and sim.step(10) == 10
    assert not sim.status
    assert all_finite(sim)
    assert np.isfinite(sim.history.as_arrays()["g_loss"]).all()
    d_alt, d_sim = params(alt), params(sim)
    assert not all(torch.equal(x, y) for x, y in zip(d_alt, d_sim))


def test_simultaneous_first_step_uses_the_old_discriminator():
    """In the simultaneous step G's gradient is taken against D *before* D's update."""
    cfg = small(updates="simultaneous", opt_g="sgd", lr_g=0.1, seed=2)
    t = Trainer(cfg, record_every=NEVER)
    G0 = [p.detach().clone() for p in t.G.parameters()]
    # G's gradient by hand, against the initial D, on the latent batch drawn first
    ref = Trainer(cfg, record_every=NEVER)
    z = sample_latent(cfg, cfg.batch_size, torch.Generator().manual_seed(cfg.seed + 1))
    loss = obj.nonsaturating_g_loss(ref.D(ref.G(z)))
    grads = torch.autograd.grad(loss, list(ref.G.parameters()))
    t.step(1)
    for p, p0, g in zip(t.G.parameters(), G0, grads):
        torch.testing.assert_close(p.detach(), p0 - 0.1 * g, rtol=1e-5, atol=1e-6)


# ---------------------------------------------------------------------------- live settings
def test_update_lr_changes_the_optimizer_live_and_keeps_weights():
    t = Trainer(small(), record_every=NEVER)
    t.step(3)
    before = params(t)
    opt_d, opt_g = t.opt_d, t.opt_g
    t.update(lr_d=0.02, lr_g=0.005)
    assert t.config.lr_d == 0.02 and t.config.lr_g == 0.005
    assert t.opt_d is opt_d and t.opt_g is opt_g, "same optimizer: Adam's moments are kept"
    assert all(g["lr"] == 0.02 for g in t.opt_d.param_groups)
    assert all(g["lr"] == 0.005 for g in t.opt_g.param_groups)
    assert all(torch.equal(x, y) for x, y in zip(before, params(t)))
    assert t.step(2) == 2


def test_update_betas_and_momentum_live():
    t = Trainer(small(opt_g="sgd"), record_every=NEVER)
    t.update(beta1=0.0, beta2=0.9, momentum=0.5)
    assert all(g["betas"] == (0.0, 0.9) for g in t.opt_d.param_groups)
    assert all(g["momentum"] == 0.5 for g in t.opt_g.param_groups)
    assert t.step(2) == 2


def test_update_live_lr_matches_a_run_that_had_it_from_the_start():
    """Changing lr before any step is the same as configuring it: the live path is complete."""
    a = Trainer(small(opt_d="sgd", opt_g="sgd"), record_every=NEVER)
    a.update(lr_d=0.05, lr_g=0.02, momentum=0.3)
    b = Trainer(small(opt_d="sgd", opt_g="sgd", lr_d=0.05, lr_g=0.02, momentum=0.3),
                record_every=NEVER)
    a.step(10)
    b.step(10)
    assert_same_state(a, b)


def test_update_of_a_non_live_field_raises():
    t = Trainer(small(), record_every=NEVER)
    for change in ({"dataset": "grid"}, {"seed": 5}, {"g_width": 8}, {"spectral_norm": True}):
        with pytest.raises(ValueError, match=next(iter(change))):
            t.update(**change)
    assert t.config == small()


def test_update_with_a_bad_value_raises_config_error_and_keeps_config():
    t = Trainer(small(), record_every=NEVER)
    with pytest.raises(ConfigError, match="^lr_d:"):
        t.update(lr_d=-1.0)
    assert t.config.lr_d == 1e-3
    assert all(g["lr"] == 1e-3 for g in t.opt_d.param_groups)


def test_switching_opt_d_live_rebuilds_the_optimizer():
    t = Trainer(small(), record_every=NEVER)
    t.step(3)
    before = params(t)
    old = t.opt_d
    assert isinstance(old, torch.optim.Adam)
    t.update(opt_d="sgd", lr_d=0.05)
    assert isinstance(t.opt_d, torch.optim.SGD)
    assert t.opt_d is not old
    assert isinstance(t.opt_g, torch.optim.Adam)
    assert all(g["lr"] == 0.05 for g in t.opt_d.param_groups)
    # it optimizes D's own parameters
    opt_params = [p for g in t.opt_d.param_groups for p in g["params"]]
    assert len(opt_params) == len(list(t.D.parameters()))
    assert all(any(p is q for q in t.D.parameters()) for p in opt_params)
    assert all(torch.equal(x, y) for x, y in zip(before, params(t)))
    assert t.step(3) == 3
    assert all_finite(t)
    t.update(opt_d="rmsprop")
    assert isinstance(t.opt_d, torch.optim.RMSprop)
    assert t.step(2) == 2


def test_switching_loss_live():
    t = Trainer(small(), record_every=NEVER)
    t.step(2)
    t.update(loss="wgan", clip=0.02)
    t.step(2)
    for p in t.D.parameters():
        assert p.abs().max().item() <= 0.02


# ---------------------------------------------------------------------------- objectives
@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("extra", [{"r1": 1.0}, {"r2": 1.0}, {"instance_noise": 0.1},
                                   {"spectral_norm": True}],
                         ids=["r1", "r2", "instance_noise", "spectral_norm"])
def test_every_loss_with_every_regulariser_runs(loss, extra):
    t = Trainer(small(loss=loss, **extra), record_every=NEVER)
    assert t.step(5) == 5, t.status
    assert t.status == ""
    assert all_finite(t)
    for name, values in t.history.as_arrays().items():
        assert np.isfinite(values).all(), name


def test_regularisers_change_the_run():
    base = Trainer(small(), record_every=NEVER)
    base.step(3)
    for extra in ({"r1": 1.0}, {"r2": 1.0}, {"instance_noise": 0.1}):
        t = Trainer(small(**extra), record_every=NEVER)
        t.step(3)
        assert not all(torch.equal(x, y) for x, y in zip(params(base), params(t))), extra


def test_r1_penalty_is_added_to_the_d_loss():
    """With a huge R1 weight the recorded D loss exceeds the plain loss by γ/2·E‖∇D(real)‖²."""
    cfg = small(r1=100.0, seed=6)
    t = Trainer(cfg, record_every=NEVER)
    real = t.data.sample(cfg.batch_size, torch.Generator().manual_seed(cfg.seed))
    z = sample_latent(cfg, cfg.batch_size, torch.Generator().manual_seed(cfg.seed + 1))
    x = real.clone().requires_grad_(True)
    r = t.D(x)
    (grad,) = torch.autograd.grad(r.sum(), x)
    with torch.no_grad():
        plain = obj.gan_d_loss(r, t.D(t.G(z))).item()
    penalty = 50.0 * (grad ** 2).sum(dim=1).mean().item()
    t.step(1)
    assert t.history.as_arrays()["d_loss"][0] == pytest.approx(plain + penalty, rel=1e-5)


def test_wgan_clipping_keeps_weights_within_clip():
    clip = 0.03
    t = Trainer(small(loss="wgan", clip=clip, lr_d=0.05), record_every=NEVER)
    t.step(10)
    hit = False
    for p in t.D.parameters():
        assert p.abs().max().item() <= clip
        hit |= bool((p.abs() == clip).any())
    assert hit, "with lr 0.05 some weights reach the clip value"


def test_no_clipping_without_wgan():
    t = Trainer(small(loss="hinge", clip=0.001, lr_d=0.05), record_every=NEVER)
    t.step(5)
    assert max(p.abs().max().item() for p in t.D.parameters()) > 0.001


# ---------------------------------------------------------------------------- divergence
DIVERGING = dict(loss="lsgan", opt_d="sgd", opt_g="sgd", lr_d=10.0, lr_g=10.0)


@pytest.mark.parametrize("extra", [{}, {"momentum": 0.9}, {"loss": "hinge"},
                                   {"k": 3, "k_g": 2}, {"updates": "simultaneous"}],
                         ids=["lsgan", "momentum", "hinge", "k3", "simultaneous"])
def test_divergence_stops_the_run_with_finite_weights(extra):
    t = Trainer(small(**{**DIVERGING, **extra}), record_every=1)
    requested = 300
    done = t.step(requested)
    assert done < requested
    assert t.iteration == done
    assert t.status == f"diverged at iteration {t.iteration + 1}"
    assert all_finite(t)
    assert len(t.history) == t.iteration
    for name, values in t.history.as_arrays().items():
        assert np.isfinite(values).all(), name
    # a stopped run stays stopped
    frozen = params(t)
    rng_state = t.rng_data.get_state()
    assert t.step(10) == 0
    t.step_d()
    t.step_g()
    assert t.iteration == done
    assert all(torch.equal(x, y) for x, y in zip(frozen, params(t)))
    assert torch.equal(t.rng_data.get_state(), rng_state)
    snap = t.snapshot()
    assert snap.status == t.status


@pytest.mark.parametrize("updates", ["alternating", "simultaneous"])
def test_divergence_keeps_the_last_good_state(monkeypatch, updates):
    """When D's loss turns NaN, no update of that iteration is applied: G keeps its weights."""
    cfg = small(updates=updates)
    t = Trainer(cfg, record_every=NEVER)
    t.step(3)
    before = params(t)
    real_loss = obj.D_LOSSES[cfg.loss]
    monkeypatch.setitem(obj.D_LOSSES, cfg.loss, lambda r, f: real_loss(r, f) * float("nan"))
    assert t.step(5) == 0
    assert t.status == "diverged at iteration 4"
    assert t.iteration == 3 and len(t.history) == 3
    for x, y in zip(before, params(t)):
        assert torch.equal(x, y)


# ---------------------------------------------------------------------------- snapshots
def test_snapshot_shapes_and_ranges():
    t = Trainer(small(), record_every=NEVER)
    t.step(5)
    s = t.snapshot()
    assert s.iteration == 5
    assert s.real.shape == (1000, 2) and s.fake.shape == (1000, 2)
    assert s.push.shape == (1000, 2)
    assert s.grid_x.shape == (60,) and s.grid_y.shape == (60,)
    assert s.surface.shape == (60, 60)
    assert s.manifold.shape == (21, 21, 2)
    assert s.centers.shape == (8, 2)
    assert s.mode_counts.shape == (8,)
    assert s.surface_kind == "probability" and s.decision_level == 0.5
    assert ((s.surface >= 0) & (s.surface <= 1)).all()
    for a in (s.real, s.fake, s.push, s.surface, s.manifold):
        assert isinstance(a, np.ndarray) and np.isfinite(a).all()
    assert np.isfinite(s.metrics["w1"])
    assert s.loss == "nonsaturating" and s.status == ""
    x0, x1, y0, y1 = s.view_box
    assert s.grid_x[0] == pytest.approx(x0) and s.grid_x[-1] == pytest.approx(x1)
    assert s.grid_y[0] == pytest.approx(y0) and s.grid_y[-1] == pytest.approx(y1)
    small_snap = t.snapshot(grid=25, n_samples=300, manifold=7)
    assert small_snap.surface.shape == (25, 25)
    assert small_snap.fake.shape == (300, 2) and small_snap.push.shape == (300, 2)
    assert small_snap.manifold.shape == (7, 7, 2)


def test_snapshot_manifold_is_none_above_two_latent_dims():
    t = Trainer(small(latent_dim=3), record_every=NEVER)
    s = t.snapshot()
    assert s.manifold is None
    assert s.fake.shape == (1000, 2)


@pytest.mark.parametrize("loss,kind", [("minimax", "probability"), ("lsgan", "score"),
                                       ("wgan", "critic"), ("hinge", "critic")])
def test_surface_kind_follows_the_loss(loss, kind):
    t = Trainer(small(loss=loss), record_every=NEVER)
    t.step(2)
    s = t.snapshot(grid=20)
    assert s.surface_kind == kind
    if kind == "probability":
        assert ((s.surface >= 0) & (s.surface <= 1)).all()


def test_surface_is_d_on_the_grid():
    """surface[i, j] is D at (grid_x[j], grid_y[i]), through a sigmoid for sigmoid losses."""
    t = Trainer(small(), record_every=NEVER)
    t.step(5)
    s = t.snapshot(grid=30)
    t.D.eval()
    for i, j in ((0, 0), (0, 29), (29, 0), (7, 22), (15, 3)):
        point = torch.tensor([[s.grid_x[j], s.grid_y[i]]], dtype=torch.float32)
        with torch.no_grad():
            expected = torch.sigmoid(t.D(point)).item()
        assert s.surface[i, j] == pytest.approx(expected, abs=1e-6), (i, j)


def test_push_is_minus_the_gradient_of_each_samples_g_loss():
    t = Trainer(small(), record_every=NEVER)
    t.step(5)
    s = t.snapshot(n_samples=100)
    for i in (0, 17, 99):
        x = torch.tensor(s.fake[i:i + 1], requires_grad=True)
        loss = obj.nonsaturating_g_loss(t.D(x))       # one sample: its own loss
        (grad,) = torch.autograd.grad(loss, x)
        np.testing.assert_allclose(s.push[i], -grad[0].numpy(), rtol=1e-5, atol=1e-7)


def test_manifold_is_g_on_a_latent_grid():
    t = Trainer(small(), record_every=NEVER)
    s = t.snapshot(manifold=5)
    axis = np.linspace(-2.5, 2.5, 5)                      # ±2.5 std of the Gaussian latent
    for i, j in ((0, 0), (0, 4), (3, 1), (4, 4)):
        z = torch.tensor([[axis[j], axis[i]]], dtype=torch.float32)
        with torch.no_grad():
            expected = t.G(z)[0].numpy()
        np.testing.assert_allclose(s.manifold[i, j], expected, rtol=1e-5, atol=1e-6)


def test_snapshot_fake_is_the_fixed_latent_batch():
    t = Trainer(small(), record_every=NEVER)
    a, b = t.snapshot(), t.snapshot()
    np.testing.assert_array_equal(a.fake, b.fake)
    np.testing.assert_array_equal(a.real, b.real)
    t.step(3)
    assert not np.array_equal(t.snapshot().fake, a.fake)


@pytest.mark.parametrize("spectral_norm", [False, True], ids=["plain", "spectral_norm"])
def test_snapshots_do_not_change_training(spectral_norm):
    cfg = small(spectral_norm=spectral_norm, r1=0.5)
    watched = Trainer(cfg, record_every=1)           # a coarse record after every iteration
    plain = Trainer(cfg, record_every=NEVER)
    for _ in range(6):
        watched.step(1)
        watched.snapshot(grid=20, n_samples=200)
        watched.snapshot(grid=10, n_samples=50, manifold=5)
    plain.step(6)
    assert_same_state(watched, plain)
    for name, values in watched.history.as_arrays().items():
        np.testing.assert_array_equal(values, plain.history.as_arrays()[name])
    assert watched.D.training, "D is back in training mode after a snapshot"


def test_records_are_thinned_to_max_records():
    t = Trainer(small(), record_every=1, max_records=4)
    t.step(20)
    assert 1 <= len(t.records) <= 4
    its = [r.iteration for r in t.records]
    assert its[0] == 0
    assert all(a < b for a, b in zip(its, its[1:]))
    assert its[-1] > 10, "the kept records still reach the recent part of the run"
    assert t.record_every > 1
    assert len(t.metric_history) >= len(t.records)


def test_records_every_n_iterations():
    t = Trainer(small(), record_every=10, max_records=100)
    t.step(35)
    assert [r.iteration for r in t.records] == [0, 10, 20, 30]
    np.testing.assert_array_equal(t.metric_history.as_arrays()["iteration"], [0, 10, 20, 30])
