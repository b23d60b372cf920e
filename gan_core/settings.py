"""The one settings language: `field=value[, field=value]`, read and written here only.

Every place that takes settings as text uses it: the command line (`compare --variant`,
`sweep --set` / `--axis`), Compare's variants box, the "Continue from here" box, the lecture
scenarios' variants and the URL query of a shared link. What it accepts:

- a field of TrainConfig by its name, with `-` or `_` (`lr-d=1e-3` is `lr_d=1e-3`);
- numbers as Python reads them (`3e-4`), whole numbers for whole-number fields;
- true/false, yes/no, on/off, 1/0 for switches;
- `none`, `default` or nothing for a setting that may be unset (`std=none`);
- custom points inline as `x:y;x:y;...`; a `.csv` / `.npy` file name only where the reader is
  the machine's own user (`files=True`: the command line), never from a link or a page;
- an empty text or `base`: no change; a sweep's axis is one field and its values, `k=1,5,10`.

Values are read by the field's type here; their ranges are checked where every config is checked,
when the TrainConfig is built, so the messages are TrainConfig's everywhere. A bad text raises
ConfigError naming the field ("k: expected a whole number, got 'two'").
"""
from __future__ import annotations

from dataclasses import fields

from .config import ConfigError, TrainConfig

FIELDS = {f.name: f for f in fields(TrainConfig)}
TRUE, FALSE = frozenset({"true", "yes", "on", "1"}), frozenset({"false", "no", "off", "0"})
UNSET = frozenset({"none", "default", ""})
POINT_FILES = (".csv", ".npy")


def is_true(text) -> bool:
    """A flag's reading (URL flags such as `present=1`): any of TRUE, else False."""
    return str(text).strip().lower() in TRUE


def field_name(name: str) -> str:
    """`lr-d` or `lr_d` -> "lr_d"; ConfigError for a name that is no setting."""
    clean = str(name).strip().replace("-", "_")
    if clean not in FIELDS:
        raise ConfigError(f"unknown setting {clean!r}")
    return clean


def parse_value(name: str, text, files: bool = False):
    """Setting `name`'s value read from `text` by the field's type (range checks come when the
    config is built). `files`: custom points may be a .csv / .npy file (the command line)."""
    name = field_name(name)
    f, raw = FIELDS[name], str(text).strip()
    if name == "custom_points":
        return _points(raw, files)
    if f.type == "bool":
        if raw.lower() in TRUE:
            return True
        if raw.lower() in FALSE:
            return False
        raise ConfigError(f"{name}: expected true or false, got {raw!r}")
    if "None" in f.type and raw.lower() in UNSET:
        return None
    if f.type == "int":
        try:
            return int(raw)
        except ValueError:
            raise ConfigError(f"{name}: expected a whole number, got {raw!r}") from None
    if f.type.startswith("float"):
        try:
            return float(raw)
        except ValueError:
            raise ConfigError(f"{name}: expected a number, got {raw!r}") from None
    return raw


def _points(raw: str, files: bool) -> tuple | None:
    if raw.lower() in UNSET:
        return None
    if raw.lower().endswith(POINT_FILES):
        if not files:
            raise ConfigError("custom_points: files are read on the command line only; "
                              "give the points as x:y;x:y;...")
        from .points import read_points

        return read_points(raw)
    try:
        return tuple(tuple(float(v) for v in pair.split(":")) for pair in raw.split(";")
                     if pair.strip())
    except ValueError:
        raise ConfigError(f"custom_points: expected x:y;x:y;... or a .csv / .npy file, "
                          f"got {raw[:40]!r}") from None


def parse_overrides(text: str, files: bool = False) -> dict:
    """"loss=wgan, k=5" -> {"loss": "wgan", "k": 5}; "" and "base" -> {}. ConfigError names
    the part or the field that is wrong."""
    overrides: dict = {}
    if str(text).strip().lower() in ("", "base"):
        return overrides
    for part in str(text).split(","):
        part = part.strip()
        if not part:
            continue
        name, sep, raw = part.partition("=")
        if not sep:
            raise ConfigError(f"expected field=value, got {part!r}")
        name = field_name(name)
        if name in overrides:
            raise ConfigError(f"{name} is given twice")
        overrides[name] = parse_value(name, raw, files)
    return overrides


def parse_axis(name: str, text: str, files: bool = False) -> tuple[str, list]:
    """One axis of a sweep: a field and its comma-separated values ("lr_d", "1e-4, 3e-4")
    -> ("lr_d", [0.0001, 0.0003]). ConfigError starts with "axis <field>: "."""
    try:
        name = field_name(name)
    except ConfigError as err:
        raise ConfigError(f"axis {str(name).strip()}: {err}") from None
    values = [v.strip() for v in str(text).split(",") if v.strip()]
    try:
        return name, [parse_value(name, v, files) for v in values]
    except ConfigError as err:
        raise ConfigError(f"axis {name}: {err}") from None


def parse_axis_text(text: str, files: bool = False) -> tuple[str, list]:
    """"lr_d=1e-4,3e-4" -> ("lr_d", [0.0001, 0.0003]) (`sweep --axis`)."""
    name, sep, raw = str(text).partition("=")
    if not sep:
        raise ConfigError(f"axis {text!r}: expected FIELD=v1,v2,...")
    return parse_axis(name, raw, files)


def format_value(name: str, value) -> str:
    """The text parse_value reads back as `value` (floats by repr; custom points as %g, to
    keep links short)."""
    if name == "custom_points":
        return "none" if value is None else ";".join(f"{x:g}:{y:g}" for x, y in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "none"
    return repr(value) if isinstance(value, float) else str(value)


def describe(overrides: dict) -> str:
    """A short label of overrides, in the language: "loss=wgan, k=5"; "base" for none.
    Floats are shown as %g and custom points by their count (for titles; format_value is the
    exact form)."""
    if not overrides:
        return "base"
    return ", ".join(f"{name}={_show(value)}" for name, value in overrides.items())


def _show(value) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, tuple):
        return f"{len(value)} points"
    return str(value)


def one_of(table: dict, name, what: str):
    """table[name], or ValueError naming `what` was asked for and the names there are."""
    try:
        return table[name]
    except (KeyError, TypeError):
        raise ValueError(f"unknown {what} {name!r}; choose one of: {', '.join(table)}") from None
