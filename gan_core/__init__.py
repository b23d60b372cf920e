"""gan_core: train small GANs on toy 2D data, measure them, record them. No UI in here."""
from .config import ConfigError, TrainConfig

__all__ = ["ConfigError", "TrainConfig"]
