"""Snapshot's decision level: where the surface says "cannot tell real from fake"."""
import numpy as np
import pytest

from gan_core.snapshot import Snapshot


def snap(loss: str, kind: str, surface_of, real, fake) -> Snapshot:
    xs, ys = np.linspace(-2, 2, 41), np.linspace(-2, 2, 41)
    X, Y = np.meshgrid(xs, ys)
    real, fake = np.asarray(real, float), np.asarray(fake, float)
    return Snapshot(iteration=0, real=real, fake=fake, push=np.zeros_like(fake), grid_x=xs,
                    grid_y=ys, surface=surface_of(X, Y), surface_kind=kind,
                    view_box=(-2, 2, -2, 2), loss=loss)


REAL = [[1.0, 0.0], [1.0, 0.5]]
FAKE = [[-1.0, 0.0], [-1.0, -0.5], [-1.0, 1.0]]


def test_surface_at_reads_the_nearest_grid_node():
    s = snap("hinge", "critic", lambda X, Y: 10 * X + Y, REAL, FAKE)
    np.testing.assert_allclose(s.surface_at([[1.0, 0.5], [-0.52, 1.96]]), [10.5, -5.0 + 2.0])


@pytest.mark.parametrize("loss", ["wgan", "wgan-gp"])
def test_a_wasserstein_critic_is_centred_halfway_between_real_and_fake(loss):
    # the critic is 3x + 7: its offset 7 is arbitrary, real scores 10, fake scores 4
    s = snap(loss, "critic", lambda X, Y: 3 * X + 7, REAL, FAKE)
    assert s.decision_level == pytest.approx(7.0)
    moved = snap(loss, "critic", lambda X, Y: 3 * X - 100, REAL, FAKE)
    assert moved.decision_level == pytest.approx(-100.0)


def test_targets_fix_the_level_of_the_other_objectives():
    for loss, kind, level in (("hinge", "critic", 0.0), ("lsgan", "score", 0.5),
                              ("nonsaturating", "probability", 0.5)):
        s = snap(loss, kind, lambda X, Y: 3 * X + 7, REAL, FAKE)
        assert s.decision_level == level


def test_without_samples_a_critic_falls_back_to_its_median():
    s = snap("wgan", "critic", lambda X, Y: 3 * X + 7, np.zeros((0, 2)), FAKE)
    assert s.decision_level == pytest.approx(7.0)
