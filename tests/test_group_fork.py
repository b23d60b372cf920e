"""Group replay and fork: every variant rewinds to one recorded iteration and continues, in
lockstep, from exactly the state it had there (Compare's and Lecture's "continue from here")."""
import itertools

import pytest
import torch

from gan_core.batched import Group
from gan_core.config import ConfigError, TrainConfig

pytestmark = pytest.mark.filterwarnings("ignore:grad and param do not obey")

BASE = TrainConfig(g_width=16, d_width=16, batch_size=32)
# a stacked pair (same shapes) and one variant on its own (other width)
VARIANTS = [{}, {"loss": "hinge"}, {"g_width": 8}]
DIVERGING = {"loss": "lsgan", "opt_d": "sgd", "opt_g": "sgd", "lr_d": 10.0, "lr_g": 10.0}


def params(trainer) -> list[torch.Tensor]:
    return [p.detach().clone() for p in itertools.chain(trainer.G.parameters(),
                                                        trainer.D.parameters())]


def same(a, b) -> bool:
    return all(torch.equal(x, y) for x, y in zip(params(a), params(b), strict=True))


def test_fork_without_changes_retraces_every_variant_bit_identically():
    group = Group(BASE, VARIANTS, record_every=10)
    group.step(30)
    fork = group.fork(10)
    assert fork is not group and fork.iteration == 10
    assert [m.iteration for m in fork.members] == [10, 10, 10]
    assert fork.grouping == group.grouping == [[0, 1], [2]]
    assert fork.labels == group.labels and fork.configs == group.configs
    assert all(len(m.history) == 10 for m in fork.members)
    assert [r.iteration for r in fork.members[0].records] == [0, 10]
    fork.step(20)
    assert all(same(a, b) for a, b in zip(fork.members, group.members))
    for a, b in zip(fork.members, group.members):
        assert (a.history.as_arrays()["g_loss"] == b.history.as_arrays()["g_loss"]).all()


def test_forking_leaves_the_original_group_untouched():
    group = Group(BASE, VARIANTS, record_every=10)
    group.step(20)
    before = [params(m) for m in group.members]
    fork = group.fork(10, {"lr_g": 1e-2})
    fork.step(15)
    assert group.iteration == 20 and all(m.iteration == 20 for m in group.members)
    for saved, member in zip(before, group.members):
        assert all(torch.equal(x, y) for x, y in zip(saved, params(member)))
    assert group.members[0].config.lr_g == BASE.lr_g


def test_a_change_for_one_variant_changes_only_that_variant():
    group = Group(BASE, VARIANTS, record_every=10)
    group.step(20)
    fork = group.fork(10, {"lr_g": 5e-3, "beta1": 0.9}, variant=1)
    assert fork.configs[1].lr_g == 5e-3 and fork.configs[1].beta1 == 0.9
    assert fork.configs[0] == group.configs[0] and fork.configs[2] == group.configs[2]
    assert fork.labels[1] == "loss=hinge, lr_g=0.005, beta1=0.9"
    assert fork.grouping == [[0, 1], [2]]     # still one batched pass: same shapes and schedule
    fork.step(10)
    assert same(fork.members[0], group.members[0]) and same(fork.members[2], group.members[2])
    assert not same(fork.members[1], group.members[1])


def test_a_schedule_change_takes_the_variant_out_of_its_batched_pass():
    group = Group(BASE, VARIANTS, record_every=10)
    group.step(10)
    fork = group.fork(10, {"k": 2}, variant=1)
    assert fork.grouping == [[0], [1], [2]]
    assert fork.step(5) == 5 and [m.iteration for m in fork.members] == [15, 15, 15]


def test_a_change_for_all_joins_every_variant():
    group = Group(BASE, [{"loss": "lsgan"}, {"loss": "hinge", "lr_g": 1e-3}], record_every=10)
    group.step(10)
    fork = group.fork(10, {"lr_g": 2e-3, "r1": 1.0})
    assert fork.base == BASE
    assert fork.variants == [{"loss": "lsgan", "lr_g": 2e-3, "r1": 1.0},
                             {"loss": "hinge", "lr_g": 2e-3, "r1": 1.0}]
    assert fork.labels == ["loss=lsgan, lr_g=0.002, r1=1", "loss=hinge, lr_g=0.002, r1=1"]
    assert all(c.lr_g == 2e-3 and c.r1 == 1.0 for c in fork.configs)


def test_explicit_labels_name_the_change():
    group = Group(BASE, [{}, {"loss": "hinge"}], labels=["minimax", "hinge"], record_every=10)
    group.step(10)
    fork = group.fork(0, {"lr_d": 1e-3}, variant=0)
    assert fork.labels == ["minimax, lr_d=0.001", "hinge"]
    assert fork.fork(0).labels == fork.labels


def test_live_changes_made_before_the_fork_are_kept():
    group = Group(BASE, VARIANTS, record_every=10)
    group.step(10)
    group.update(0, lr_d=3e-3)
    assert group.labels[0] == "lr_d=0.003"
    fork = group.fork(10)
    assert fork.configs[0].lr_d == 3e-3 and fork.labels[0] == "lr_d=0.003"


def test_replay_and_fork_points_follow_the_longest_run():
    group = Group(BASE, [{}, DIVERGING], record_every=5)
    group.step(40)
    bad = group.members[1]
    assert bad.status and bad.iteration < 40
    assert group.record_points() == list(range(0, 41, 5))
    snaps = group.records_at(40)
    assert snaps[0].iteration == 40
    assert snaps[1].iteration == max(p for p in range(0, 40, 5) if p <= bad.iteration)

    fork = group.fork(40)       # the stopped variant stays stopped, as it was
    assert fork.members[1].status == bad.status
    assert fork.members[1].iteration == bad.iteration and same(fork.members[1], bad)
    assert fork.step(3) == 3 and fork.members[1].iteration == bad.iteration

    early = group.fork(0)       # before it diverged: it runs again
    assert not early.members[1].status and early.members[1].iteration == 0


def test_a_change_can_rescue_a_stopped_variant():
    group = Group(BASE, [{}, DIVERGING], record_every=5)
    group.step(40)
    rescued = group.fork(0, {"lr_d": 1e-4, "lr_g": 1e-4}, variant=1)
    assert rescued.step(20) == 20
    assert not rescued.members[1].status and rescued.members[1].iteration == 20


def test_fork_rejects_bad_requests():
    group = Group(BASE, VARIANTS, record_every=10)
    group.step(20)
    with pytest.raises(ValueError, match="recorded point"):
        group.fork(15)
    with pytest.raises(ValueError, match="variant"):
        group.fork(10, {"lr_g": 1e-3}, variant=3)
    with pytest.raises(ValueError, match="g_width"):
        group.fork(10, {"g_width": 32})
    with pytest.raises(ConfigError, match="lr_g"):
        group.fork(10, {"lr_g": -1.0})
    assert group.iteration == 20
