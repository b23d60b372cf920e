"""batched.Group: variants in lockstep, same-shaped ones trained in one batched pass.

The central claim is that a batched variant trains exactly like a Trainer with its config. In
float64 the two agree to ~1e-15 after dozens of iterations for every objective, regulariser,
optimizer and schedule, which only an exact re-implementation can do. In float32 they agree to
rounding per step (~1e-7): matmuls over K stacked networks sum in another order than a lone
nn.Linear, and GAN dynamics amplify such differences over hundreds of iterations (a hinge run
on the default nets drifts to ~1e-2 relative by iteration 50), so float32 is checked over a
few iterations only.
"""
import itertools

import numpy as np
import pytest
import torch

from gan_core import objectives as obj
from gan_core.batched import MAX_VARIANTS, PRESETS, Group, describe
from gan_core.stacked import Stack as _Stack
from gan_core.config import LOSSES, ConfigError, TrainConfig
from gan_core.records import load_run, save_run
from gan_core.training import HISTORY_COLUMNS, Trainer

SMALL = dict(g_width=16, d_width=16, batch_size=32)
NEVER = 10 ** 9
# autograd notes once per process that the stacked weights are strided views (intended)
pytestmark = pytest.mark.filterwarnings("ignore:grad and param do not obey")


def small(**changes) -> TrainConfig:
    return TrainConfig(**{**SMALL, **changes})


def params(trainer) -> list[torch.Tensor]:
    return [p.detach().clone() for p in itertools.chain(trainer.G.parameters(),
                                                        trainer.D.parameters())]


def assert_close_runs(a, b, rtol, atol, history=True):
    for x, y in zip(params(a), params(b), strict=True):
        torch.testing.assert_close(x, y, rtol=rtol, atol=atol)
    assert a.iteration == b.iteration and a.status == b.status
    if history:
        ha, hb = a.history.as_arrays(), b.history.as_arrays()
        assert ha.keys() == hb.keys()
        for name in ha:
            np.testing.assert_allclose(ha[name], hb[name], rtol=rtol, atol=atol, err_msg=name)


def standalone(config, steps, record_every=NEVER) -> Trainer:
    t = Trainer(config, record_every=record_every)
    t.step(steps)
    return t


# ---------------------------------------------------------------------------- fairness
def test_variants_start_from_the_same_weights_and_see_the_same_batches(monkeypatch):
    variants = [{"loss": "minimax"}, {"loss": "wgan"}, {"loss": "hinge", "lr_d": 4e-3}]
    drawn = []
    real_batch = _Stack._real_batch

    def record(self):
        batch = real_batch(self)
        drawn.append(batch.clone())
        return batch

    monkeypatch.setattr(_Stack, "_real_batch", record)
    group = Group(small(), variants, record_every=NEVER)
    assert group.grouping == [[0, 1, 2]]
    first = params(group.members[0])
    for member in group.members[1:]:
        for x, y in zip(first, params(member), strict=True):
            assert torch.equal(x, y)
    # a lone Trainer of the base config draws the same real batches, in the same order
    reference = Trainer(small(), record_every=NEVER)
    expected = []
    own_batch = reference._real_batch
    reference._real_batch = lambda: expected.append(own_batch()) or expected[-1]
    group.step(3)
    reference.step(3)
    assert len(drawn) == len(expected) == 3
    for stacked, alone in zip(drawn, expected):
        assert stacked.shape == (3, 32, 2)
        for row in stacked:
            assert torch.equal(row, alone)
    # ... and every member's data generator ends where the lone Trainer's does
    for member in group.members:
        assert torch.equal(member.rng_data.get_state(), reference.rng_data.get_state())
        assert torch.equal(member.rng_latent.get_state(), reference.rng_latent.get_state())


def test_unbatched_variants_also_share_batches_and_weights():
    group = Group(small(), [{"loss": "lsgan"}, {"loss": "hinge"}], record_every=NEVER,
                  batch=False)
    assert group.grouping == [[0], [1]]
    batches = [[] for _ in group.members]
    for i, member in enumerate(group.members):
        own = member._real_batch
        member._real_batch = lambda own=own, i=i: batches[i].append(own()) or batches[i][-1]
    a, b = group.members
    assert all(torch.equal(x, y) for x, y in zip(params(a), params(b)))
    group.step(4)
    assert len(batches[0]) == 4
    assert all(torch.equal(x, y) for x, y in zip(batches[0], batches[1]))


# ---------------------------------------------------------------------------- batched ≡ alone
EQUIVALENCE_CASES = {
    "objectives": ({}, [{"loss": loss} for loss in LOSSES]),
    "r1": ({"r1": 1.0}, [{"loss": loss} for loss in LOSSES]),
    "r2+noise": ({"r2": 0.5, "instance_noise": 0.1}, [{"loss": loss} for loss in LOSSES]),
    "simultaneous": ({"updates": "simultaneous"}, [{"loss": loss} for loss in LOSSES]),
    "k3_kg2": ({"k": 3, "k_g": 2}, [{"loss": "wgan"}, {"loss": "wgan-gp"}, {"loss": "hinge"}]),
    "optimizers": ({}, [{"opt_d": "sgd", "momentum": 0.9}, {"opt_g": "rmsprop"},
                        {"opt_d": "rmsprop", "opt_g": "sgd", "momentum": 0.5, "lr_d": 1e-2},
                        {"beta1": 0.0, "beta2": 0.9}, {"lr_g": 3e-4},
                        {"opt_d": "sgd", "opt_g": "sgd"}]),
    "seeds+data": ({}, [{"seed": 1}, {"seed": 2, "loss": "wgan-gp"}, {"dataset": "moons"},
                        {"latent": "uniform"}, {"dataset": "grid", "seed": 1},
                        {"clip": 0.05, "loss": "wgan"}]),
    "gp+r1+noise sim": ({"updates": "simultaneous", "loss": "wgan-gp", "r1": 0.3,
                         "instance_noise": 0.05}, [{}, {"gp_weight": 1.0}, {"loss": "hinge"}]),
    "activations": ({"activation": "tanh"}, [{}, {"loss": "lsgan"}, {"r1": 1.0}]),
}


@pytest.mark.parametrize("case", EQUIVALENCE_CASES, ids=list(EQUIVALENCE_CASES))
def test_batched_training_equals_one_trainer_per_variant_float64(float64, case):
    base, variants = EQUIVALENCE_CASES[case]
    group = Group(small(**base), variants, record_every=10)
    assert len(group.grouping) == 1, "these variants all fit in one batched pass"
    assert group.step(30) == 30
    for config, member in zip(group.configs, group.members, strict=True):
        alone = standalone(config, 30, record_every=10)
        assert_close_runs(member, alone, rtol=1e-10, atol=1e-12)
        ma, mb = member.metric_history.as_arrays(), alone.metric_history.as_arrays()
        for name in ma:
            np.testing.assert_allclose(ma[name], mb[name], rtol=1e-6, err_msg=name)
        # the member's own torch optimizer holds the stacked optimizer state
        for p, q in zip(member.D.parameters(), alone.D.parameters()):
            for key, value in alone.opt_d.state[q].items():
                mine = member.opt_d.state[p][key]
                torch.testing.assert_close(torch.as_tensor(mine, dtype=torch.float64),
                                           torch.as_tensor(value, dtype=torch.float64),
                                           rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(member.generate(64), alone.generate(64), rtol=1e-9,
                                   atol=1e-12)


def test_vectorised_adam_fallback_matches_torch_adam(float64, monkeypatch):
    """Without torch's fused Adam kernel the stack uses its own vectorised Adam."""
    import gan_core.flat as flat

    monkeypatch.setattr(flat, "FUSED_ADAM", None)
    group = Group(small(), [{"lr_d": 2e-3, "beta1": 0.0}, {"loss": "hinge", "beta2": 0.9},
                            {"opt_g": "sgd"}], record_every=NEVER)
    group.step(20)
    for config, member in zip(group.configs, group.members):
        assert_close_runs(member, standalone(config, 20), rtol=1e-9, atol=1e-12)


def test_batched_training_matches_trainers_to_rounding_in_float32():
    group = Group(TrainConfig(), [{"loss": loss} for loss in LOSSES], record_every=NEVER)
    group.step(5)
    for config, member in zip(group.configs, group.members):
        assert_close_runs(member, standalone(config, 5), rtol=1e-4, atol=1e-6)


def test_identical_variants_give_identical_results():
    group = Group(small(), [{}, {"loss": "wgan"}, {}, {"r1": 0.0}], record_every=5)
    assert group.grouping == [[0, 1, 2, 3]]
    group.step(12)
    a = group.members[0]
    for b in (group.members[2], group.members[3]):
        for x, y in zip(params(a), params(b), strict=True):
            assert torch.equal(x, y)
        for name, values in a.history.as_arrays().items():
            np.testing.assert_array_equal(values, b.history.as_arrays()[name])
        np.testing.assert_array_equal(a.generate(100), b.generate(100))
    assert not torch.equal(params(a)[-1], params(group.members[1])[-1])


# ---------------------------------------------------------------------------- per variant
def test_different_losses_train_different_weights():
    group = Group(small(), [{"loss": loss} for loss in LOSSES], record_every=NEVER)
    group.step(5)
    weights = [torch.cat([p.reshape(-1) for p in params(m)]) for m in group.members]
    for i, j in itertools.combinations(range(len(LOSSES)), 2):
        assert not torch.allclose(weights[i], weights[j]), (LOSSES[i], LOSSES[j])


def test_each_variant_gets_its_own_learning_rate():
    group = Group(small(), [{"lr_d": 1e-3}, {"lr_d": 1e-2}, {"lr_g": 1e-2}],
                  record_every=NEVER)
    assert group.grouping == [[0, 1, 2]]
    start = [params(m) for m in group.members]
    group.step(1)

    def largest_change(i, player):
        n = len(list(group.members[i].G.parameters()))
        pairs = list(zip(start[i], params(group.members[i])))
        pairs = pairs[n:] if player == "D" else pairs[:n]
        return max((after - before).abs().max().item() for before, after in pairs)

    # Adam's first step moves every weight by about lr (|m̂ / √v̂| = 1)
    assert largest_change(0, "D") == pytest.approx(1e-3, rel=0.05)
    assert largest_change(1, "D") == pytest.approx(1e-2, rel=0.05)
    assert largest_change(2, "D") == pytest.approx(1e-3, rel=0.05)
    assert largest_change(2, "G") == pytest.approx(1e-2, rel=0.05)
    assert largest_change(0, "G") == pytest.approx(1e-3, rel=0.05)


# ---------------------------------------------------------------------------- fallback
def test_shape_differing_variants_fall_back_and_stay_in_lockstep():
    variants = [{}, {"g_width": 8}, {"d_depth": 2}, {"loss": "wgan"}, {"spectral_norm": True},
                {"activation": "tanh"}, {"k": 2}]
    group = Group(small(), variants, record_every=NEVER)
    assert group.grouping == [[0, 3], [1], [2], [4], [5], [6]]
    assert group.step(6) == 6
    assert group.iteration == 6
    for config, member in zip(group.configs, group.members):
        assert member.iteration == 6 and len(member.history) == 6
    for i in (1, 2, 4, 5, 6):           # a lone member is a Trainer: bit-identical
        alone = standalone(group.configs[i], 6)
        for x, y in zip(params(group.members[i]), params(alone), strict=True):
            assert torch.equal(x, y)


# ---------------------------------------------------------------------------- divergence
DIVERGING = dict(loss="lsgan", opt_d="sgd", opt_g="sgd", lr_d=10.0, lr_g=10.0)


def test_a_diverging_variant_stops_while_the_others_go_on():
    group = Group(small(), [{}, DIVERGING, {"loss": "hinge"}], record_every=NEVER)
    assert group.grouping == [[0, 1, 2]]
    assert group.step(60) == 60
    bad = group.members[1]
    assert bad.status.startswith("diverged at iteration ")
    assert bad.status == f"diverged at iteration {bad.iteration + 1}"
    assert bad.iteration < 60 and len(bad.history) == bad.iteration
    assert all(torch.isfinite(p).all() for p in params(bad))
    for values in bad.history.as_arrays().values():
        assert np.isfinite(values).all()
    assert group.grouping == [[0, 2], [1]]
    for i in (0, 2):
        assert group.members[i].iteration == 60 and not group.members[i].status
    frozen = params(bad)
    group.step(5)
    assert group.iteration == 65 and group.members[0].iteration == 65
    assert all(torch.equal(x, y) for x, y in zip(frozen, params(bad)))
    assert bad.snapshot(grid=10, w1_samples=0).status == bad.status


@pytest.mark.parametrize("updates", ["alternating", "simultaneous"])
def test_divergence_in_a_stack_keeps_the_last_good_state_and_spares_the_rest(
        float64, monkeypatch, updates):
    """A NaN loss for one variant: no update of its iteration is applied, as in Trainer; the
    other rows of the same batched pass train exactly as if alone."""
    base = small(updates=updates)
    group = Group(base, [{"loss": "lsgan"}, {"loss": "hinge"}], record_every=NEVER)
    group.step(3)
    before = params(group.members[0])
    real_loss = obj.D_LOSSES["lsgan"]
    monkeypatch.setitem(obj.D_LOSSES, "lsgan", lambda r, f: real_loss(r, f) * float("nan"))
    assert group.step(4) == 4
    bad, good = group.members
    assert bad.status == "diverged at iteration 4" and bad.iteration == 3
    assert all(torch.equal(x, y) for x, y in zip(before, params(bad)))
    monkeypatch.undo()
    assert_close_runs(good, standalone(group.configs[1], 7), rtol=1e-10, atol=1e-12)


def test_the_clock_stops_when_every_variant_has_stopped():
    group = Group(small(), [DIVERGING, {**DIVERGING, "lr_d": 9.0}], record_every=NEVER)
    done = group.step(500)
    assert done < 500 and group.iteration == done
    assert all(m.status for m in group.members)
    assert group.step(5) == 0


# ---------------------------------------------------------------------------- live changes
def test_update_changes_one_variant_like_trainer_update(float64):
    group = Group(small(), [{}, {"loss": "wgan"}, {"loss": "hinge"}], record_every=NEVER)
    alone = [Trainer(c, record_every=NEVER) for c in group.configs]
    changes = [{"lr_d": 5e-3, "loss": "lsgan"}, {"opt_d": "sgd", "momentum": 0.5},
               {"k": 2, "beta1": 0.9}]
    group.step(4)
    for t in alone:
        t.step(4)
    for i, change in enumerate(changes):
        group.update(i, **change)
        alone[i].update(**change)
        assert group.configs[i] == group.members[i].config == alone[i].config
    assert group.grouping == [[0, 1], [2]]     # k=2 leaves the stack, the others stay
    group.step(5)
    for t in alone:
        t.step(5)
    for member, t in zip(group.members, alone):
        assert_close_runs(member, t, rtol=1e-10, atol=1e-12)


def test_update_rejects_bad_changes_and_keeps_training():
    group = Group(small(), [{}, {"loss": "wgan"}], record_every=NEVER)
    group.step(2)
    with pytest.raises(ValueError, match="g_width"):
        group.update(0, g_width=32)
    with pytest.raises(ConfigError, match="lr_d"):
        group.update(1, lr_d=-1.0)
    with pytest.raises(ValueError, match="index"):
        group.update(5, lr_d=1e-3)
    assert group.grouping == [[0, 1]]
    assert group.step(3) == 3 and all(m.iteration == 5 for m in group.members)


# ---------------------------------------------------------------------------- validation
def test_variants_are_validated_with_the_field_and_the_variant_named():
    with pytest.raises(ConfigError, match=r"variant 2 .*bogus"):
        Group(small(), [{}, {"bogus": 1}])
    with pytest.raises(ConfigError, match=r"variant 1 \(k=0\): k: 0 is out of range"):
        Group(small(), [{"k": 0}])
    with pytest.raises(ConfigError, match="loss"):
        Group(small(), [{"loss": "nope"}])
    with pytest.raises(ConfigError, match="variant 1"):
        Group(small(), ["loss=wgan"])
    with pytest.raises(ConfigError, match="between 1 and 8"):
        Group(small(), [])
    with pytest.raises(ConfigError, match="between 1 and 8"):
        Group(small(), [{}] * (MAX_VARIANTS + 1))
    with pytest.raises(ConfigError, match="labels"):
        Group(small(), [{}, {}], labels=["one"])


def test_labels_describe_the_overrides():
    group = Group(small(), [{}, {"loss": "wgan", "k": 5}, {"lr_d": 4e-3}], record_every=NEVER)
    assert group.labels == ["base", "loss=wgan, k=5", "lr_d=0.004"]
    assert Group(small(), [{}], labels=["mine"], record_every=NEVER).labels == ["mine"]
    assert describe({"spectral_norm": True}) == "spectral_norm=true"


def test_presets_are_valid_variant_lists():
    assert set(PRESETS) >= {"objectives", "k", "ttur", "r1"}
    assert [v["loss"] for v in PRESETS["objectives"]] == list(LOSSES)
    for variants in PRESETS.values():
        assert 1 <= len(variants) <= MAX_VARIANTS
        for overrides in variants:
            TrainConfig().replace(**overrides)


# ---------------------------------------------------------------------------- looking
def test_members_record_and_snapshot_like_trainers():
    group = Group(small(), [{}, {"loss": "lsgan"}, {"g_width": 8}], record_every=4)
    group.step(9)
    for member in group.members:
        assert [s.iteration for s in member.records] == [0, 4, 8]
        assert list(member.metric_history.as_arrays()["iteration"]) == [0, 4, 8]
        assert member.history.columns == ("iteration",) + HISTORY_COLUMNS
        assert list(member.history.as_arrays()["iteration"]) == list(range(1, 10))
        assert not np.isnan(member.history.as_arrays()["g_loss"]).any()
    snaps = group.snapshots(grid=12, w1_samples=0)
    assert [s.iteration for s in snaps] == [9, 9, 9]
    assert snaps[0].surface.shape == (12, 12) and snaps[1].loss == "lsgan"
    metrics = group.members[1].final_metrics(n=500, w1_samples=100)
    assert 0 <= metrics["modes_covered"] <= 8 and np.isfinite(metrics["w1"])


def test_a_stacked_member_saves_and_resumes(tmp_path):
    group = Group(small(), [{}, {"loss": "hinge"}], record_every=NEVER)
    group.step(4)
    path = save_run(group.members[1], tmp_path / "hinge.zip")
    restored = load_run(path)
    assert restored.iteration == 4 and restored.config.loss == "hinge"
    for x, y in zip(params(restored), params(group.members[1]), strict=True):
        assert torch.equal(x, y)
    for p, q in zip(restored.opt_d.state.values(), group.members[1].opt_d.state.values()):
        assert torch.equal(p["exp_avg"], q["exp_avg"])
    restored.step(2)           # a restored member trains on alone (its own torch optimizer)
    group.step(2)
    assert_close_runs(restored, group.members[1], rtol=1e-4, atol=1e-6, history=False)


def test_cure_variants_train_alone_in_lockstep_on_the_same_batches():
    """Game optimisers the batched pass cannot stack run by their own Trainer; averaging does
    not change training, so the ema variant's raw G stays with the stacked base's."""
    from gan_core.config import TrainConfig

    base = TrainConfig(g_width=16, d_width=16, batch_size=32, seed=4)
    group = Group(base, [{}, {"lr_d": 2e-3}, {"ema": 0.9}, {"unroll": 2},
                         {"updates": "extragradient"}, {"pack": 2}])
    assert group.grouping == [[0, 1], [2], [3], [4], [5]]
    group.step(4)
    assert [m.iteration for m in group.members] == [4] * 6
    for a, b in zip(group.members[0].G.parameters(), group.members[2].G.parameters()):
        assert torch.allclose(a, b, atol=1e-5)
    assert group.members[2].G_avg is not None
