"""The test session opts into the process-wide settings the app and the command line use
(gan_core.tuning: one torch thread, malloc kept, the stacked engine's layout note quiet), so
the tests train as they do. Importing gan_core alone never changes the process
(tests/test_tuning.py)."""
from gan_core import tuning

tuning.for_training()
