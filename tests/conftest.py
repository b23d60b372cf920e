"""The test session opts into the process-wide settings the app and the command line use
(gan_core.tuning: one torch thread, malloc kept, the stacked engine's layout note quiet), so
the tests train as they do. Importing gan_core alone never changes the process
(tests/test_tuning.py)."""
import pytest
import torch

from gan_core import tuning

tuning.for_training()


@pytest.fixture
def float64():
    """Torch's default dtype float64 for one test (exact comparisons of two engines)."""
    old = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(old)
