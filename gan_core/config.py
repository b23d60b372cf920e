"""One frozen dataclass describes a run; it is validated once, when it is made.

Widgets, command-line flags, URL queries and scenarios all become a TrainConfig, so the UI, the
CLI and the tests can never disagree about what a run is. Settings written as text
(`field=value, ...`) are read in one place, gan_core.settings.
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field, fields

LOSSES = ("minimax", "nonsaturating", "wgan", "wgan-gp", "lsgan", "hinge")
DATASETS = ("ring", "grid", "gaussian", "moons", "circles", "spiral", "swissroll",
            "checkerboard", "custom")
OPTIMIZERS = ("adam", "sgd", "rmsprop")
ACTIVATIONS = ("relu", "leakyrelu", "tanh", "elu")
LATENTS = ("gaussian", "uniform")
UPDATES = ("alternating", "simultaneous", "extragradient", "optimistic")

# The std each dataset uses when the config leaves `std` unset (None).
DEFAULT_STD = {"ring": 0.01, "grid": 0.05, "gaussian": 1.0, "moons": 0.05, "circles": 0.03,
               "spiral": 0.05, "swissroll": 0.25, "checkerboard": 0.05, "custom": 0.02}

# Settings a running game takes without a reset; anything else rebuilds data or models.
LIVE_FIELDS = frozenset({
    "loss", "clip", "gp_weight", "r1", "r2", "instance_noise", "k", "k_g", "lr_d", "lr_g",
    "opt_d", "opt_g", "beta1", "beta2", "momentum", "batch_size", "updates",
    "unroll", "consensus", "ema", "gp_g",
})

MAX_CUSTOM_POINTS = 10_000
MAX_COORDINATE = 1e4       # custom points further out than this are refused (not a toy set)


class ConfigError(ValueError):
    """A config value is out of range; the message names the field and what is allowed."""


def _spec(help_text: str, **limits):
    return {"help": help_text, **limits}


@dataclass(frozen=True)
class TrainConfig:
    # --- data
    dataset: str = field(default="ring", metadata=_spec("toy distribution", choices=DATASETS))
    n_modes: int = field(default=8, metadata=_spec("modes on the ring", lo=1, hi=64))
    radius: float = field(default=1.0, metadata=_spec("ring radius", lo=0.01, hi=100))
    grid_size: int = field(default=5, metadata=_spec("modes per side of the grid", lo=1, hi=12))
    spacing: float = field(default=2.0, metadata=_spec("distance between grid modes",
                                                       lo=0.01, hi=100))
    std: float | None = field(default=None, metadata=_spec(
        "noise std of each mode / of the data (None: the dataset's default)",
        lo=0.0, hi=100, open_lo=True))
    custom_points: tuple | None = field(default=None, metadata=_spec(
        "points of the custom dataset, ((x, y), ...); on the CLI a .csv or .npy file"))
    seed: int = field(default=0, metadata=_spec("seed of data, latent noise and weights",
                                                lo=0, hi=2**31 - 1))
    # --- models
    latent_dim: int = field(default=2, metadata=_spec("size of the latent code", lo=1, hi=16))
    latent: str = field(default="gaussian", metadata=_spec("latent distribution",
                                                          choices=LATENTS))
    g_width: int = field(default=64, metadata=_spec("generator hidden width", lo=1, hi=1024))
    g_depth: int = field(default=3, metadata=_spec("generator hidden layers", lo=1, hi=8))
    d_width: int = field(default=64, metadata=_spec("discriminator hidden width", lo=1, hi=1024))
    d_depth: int = field(default=3, metadata=_spec("discriminator hidden layers", lo=1, hi=8))
    activation: str = field(default="relu", metadata=_spec("hidden activation",
                                                          choices=ACTIVATIONS))
    spectral_norm: bool = field(default=False, metadata=_spec("spectral normalisation on D"))
    # --- objective
    loss: str = field(default="nonsaturating", metadata=_spec("GAN objective", choices=LOSSES))
    clip: float = field(default=0.01, metadata=_spec("WGAN weight clip value", lo=0.0, hi=10,
                                                     open_lo=True))
    gp_weight: float = field(default=0.1, metadata=_spec("WGAN-GP penalty weight lambda",
                                                         lo=0.0, hi=1000))
    r1: float = field(default=0.0, metadata=_spec("R1 penalty weight gamma (real data)",
                                                  lo=0.0, hi=1000))
    r2: float = field(default=0.0, metadata=_spec("R2 penalty weight gamma (fake data)",
                                                  lo=0.0, hi=1000))
    instance_noise: float = field(default=0.0, metadata=_spec(
        "std of Gaussian noise added to D's inputs", lo=0.0, hi=100))
    # --- training
    k: int = field(default=1, metadata=_spec("D updates per iteration", lo=1, hi=100))
    k_g: int = field(default=1, metadata=_spec("G updates per iteration", lo=1, hi=100))
    lr_d: float = field(default=1e-3, metadata=_spec("discriminator learning rate", lo=0.0,
                                                     hi=10, open_lo=True))
    lr_g: float = field(default=1e-3, metadata=_spec("generator learning rate", lo=0.0,
                                                     hi=10, open_lo=True))
    opt_d: str = field(default="adam", metadata=_spec("D optimizer", choices=OPTIMIZERS))
    opt_g: str = field(default="adam", metadata=_spec("G optimizer", choices=OPTIMIZERS))
    beta1: float = field(default=0.5, metadata=_spec("Adam beta1", lo=0.0, hi=1.0,
                                                     open_hi=True))
    beta2: float = field(default=0.999, metadata=_spec("Adam beta2", lo=0.0, hi=1.0,
                                                       open_hi=True))
    momentum: float = field(default=0.0, metadata=_spec(
        "SGD / RMSprop momentum; negative (SGD only) is Gidel et al. 2019's negative momentum",
        lo=-0.9, hi=0.999))
    batch_size: int = field(default=256, metadata=_spec("minibatch size", lo=1, hi=8192))
    updates: str = field(default="alternating", metadata=_spec(
        "alternating: D then G sees the new D; simultaneous: both step from the same point; "
        "extragradient: both step from a look-ahead point's gradients (Gidel et al. 2019); "
        "optimistic: both step by 2u_t - u_(t-1) (Daskalakis et al. 2018)",
        choices=UPDATES))
    # --- game stabilisers (gan_core.game_updates); 0 / 1 is off
    unroll: int = field(default=0, metadata=_spec(
        "unrolled D: G's loss against D after this many look-ahead steps (Metz et al. 2017)",
        lo=0, hi=20))
    consensus: float = field(default=0.0, metadata=_spec(
        "consensus optimisation gamma: both players also descend gamma/2 |v|^2 "
        "(Mescheder et al. 2017)", lo=0.0, hi=100))
    ema: float = field(default=0.0, metadata=_spec(
        "generator averaging beta: EMA of G's weights, drawn as 'averaged G'; 0 is off",
        lo=0.0, hi=0.999))
    pack: int = field(default=1, metadata=_spec(
        "PacGAN packing m: D judges m samples at once (Lin et al. 2018)", lo=1, hi=8))
    gp_g: float = field(default=0.0, metadata=_spec(
        "G gradient penalty eta: G's loss + eta |grad_D V|^2 (Nagarajan & Kolter 2017)",
        lo=0.0, hi=100))

    def __post_init__(self):
        if self.custom_points is not None:
            object.__setattr__(self, "custom_points", _as_point_tuple(self.custom_points))
        for f in fields(self):
            _check_field(f, getattr(self, f.name))
        if self.dataset == "custom" and not self.custom_points:
            raise ConfigError("custom_points: the custom dataset needs at least 1 point")
        if self.momentum < 0 and "rmsprop" in (self.opt_d, self.opt_g):
            raise ConfigError(f"momentum: {self.momentum!r} is negative, which only SGD allows; "
                              f"allowed [0.0, 0.999] with rmsprop")

    def replace(self, **changes) -> "TrainConfig":
        """A validated copy with `changes` applied."""
        unknown = set(changes) - {f.name for f in fields(self)}
        if unknown:
            raise ConfigError(f"unknown setting(s): {', '.join(sorted(unknown))}")
        return dataclasses.replace(self, **changes)

    def resolved(self) -> "TrainConfig":
        """The same run with `std` filled in, so that it compares equal to what widgets show."""
        return self if self.std is not None else dataclasses.replace(self, std=self.resolved_std)

    @property
    def resolved_std(self) -> float:
        return DEFAULT_STD[self.dataset] if self.std is None else self.std

    @property
    def uses_sigmoid(self) -> bool:
        """True when D's score is a logit (its sigmoid is a probability)."""
        return self.loss in ("minimax", "nonsaturating")

    def to_dict(self) -> dict:
        """Every setting with defaults filled in (std resolved), JSON-ready."""
        out = dataclasses.asdict(self)
        out["std"] = self.resolved_std
        if self.custom_points is not None:
            out["custom_points"] = [list(p) for p in self.custom_points]
        return out

    @classmethod
    def from_dict(cls, data: dict) -> "TrainConfig":
        if not isinstance(data, dict):
            raise ConfigError("config: expected a mapping of setting names to values")
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ConfigError(f"unknown setting(s): {', '.join(sorted(unknown))}")
        return cls(**data)


def _as_point_tuple(points) -> tuple:
    try:
        pts = tuple((float(p[0]), float(p[1])) for p in points)
        if any(len(p) != 2 for p in points):
            raise ValueError
    except (TypeError, ValueError, IndexError, OverflowError):   # float(10**400) overflows
        raise ConfigError("custom_points: expected a list of (x, y) pairs of numbers") from None
    if len(pts) > MAX_CUSTOM_POINTS:
        raise ConfigError(f"custom_points: at most {MAX_CUSTOM_POINTS} points, got {len(pts)}")
    if not all(math.isfinite(v) for p in pts for v in p):
        raise ConfigError("custom_points: every coordinate must be a finite number")
    if any(abs(v) > MAX_COORDINATE for p in pts for v in p):
        raise ConfigError(f"custom_points: every coordinate must be within ±{MAX_COORDINATE:,.0f}")
    return pts


def _check_field(f, value) -> None:
    meta = f.metadata
    name = f.name
    if f.type in ("bool",):
        if not isinstance(value, bool):
            raise ConfigError(f"{name}: expected true or false, got {value!r}")
        return
    if "choices" in meta:
        if value not in meta["choices"]:
            raise ConfigError(f"{name}: unknown value {value!r}; choose one of "
                              f"{', '.join(meta['choices'])}")
        return
    if "lo" not in meta or (value is None and "None" in f.type):
        return
    if f.type == "int":
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{name}: expected a whole number, got {value!r}")
    elif isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigError(f"{name}: expected a number, got {value!r}")
    lo, hi = meta["lo"], meta["hi"]
    finite = isinstance(value, int) or math.isfinite(value)   # isfinite(10**400) overflows
    ok = finite and (value > lo if meta.get("open_lo") else value >= lo) and (
        value < hi if meta.get("open_hi") else value <= hi)
    if not ok:
        left = "(" if meta.get("open_lo") else "["
        right = ")" if meta.get("open_hi") else "]"
        raise ConfigError(f"{name}: {_show(value)} is out of range; "
                          f"allowed {left}{lo}, {hi}{right}")


def _show(value) -> str:
    try:
        return repr(value)
    except ValueError:      # an int past Python's digit limit for str()
        return "a number too large to show"


def problems(values: dict) -> list[str]:
    """Every problem of a would-be config (field -> value), one sentence each, in field order;
    [] when TrainConfig(**values) is valid. The UI lists them all at once."""
    known = {f.name: f for f in fields(TrainConfig)}
    found = [f"unknown setting {name!r}" for name in values if name not in known]
    for name, f in known.items():
        if name not in values:
            continue
        value = values[name]
        try:
            if name == "custom_points" and value is not None:
                value = _as_point_tuple(value)
            _check_field(f, value)
        except ConfigError as err:
            found.append(str(err))
    if not found:
        try:
            TrainConfig(**values)
        except ConfigError as err:
            found.append(str(err))
    return found


def field_of(name: str):
    """The dataclass field of setting `name` (its type and metadata: help, range, choices)."""
    for f in fields(TrainConfig):
        if f.name == name:
            return f
    raise ConfigError(f"unknown setting {name!r}")


def range_text(meta: dict) -> str:
    """"allowed (0.0, 10]" for a field's metadata, as the range messages say it."""
    if "lo" not in meta:
        return ""
    left = "(" if meta.get("open_lo") else "["
    right = ")" if meta.get("open_hi") else "]"
    return f"allowed {left}{meta['lo']}, {meta['hi']}{right}"
