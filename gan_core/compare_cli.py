"""`python -m gan_core compare`: train variants of one config side by side, in lockstep.

    python -m gan_core compare --variant loss=minimax --variant loss=nonsaturating --steps 2000
    python -m gan_core compare --preset objectives --seed 3 --json

Every TrainConfig option sets the base; each --variant is a comma-separated list of
`field=value` overrides on it (an empty --variant "" is the base itself). Variants whose networks
have the same shapes train in one batched pass (see gan_core.batched).
"""
from __future__ import annotations

import argparse
import json
import math
import time
from dataclasses import fields

from .batched import MAX_VARIANTS, PRESETS, Group, describe
from .cli import Progress, add_config_arguments, config_from_args, register, run_result
from .config import ConfigError, TrainConfig

FIELDS = {f.name: f for f in fields(TrainConfig)}
TRUE, FALSE = {"true", "yes", "on", "1"}, {"false", "no", "off", "0"}


# ---------------------------------------------------------------------- --variant parsing
def parse_variant(text: str) -> dict:
    """"loss=wgan, k=5" -> {"loss": "wgan", "k": 5}, each value parsed to its field's type.

    Field names may be written with - or _ (lr-d, lr_d). "" and "base" mean no overrides.
    A ConfigError names the field (and the variant) that is wrong.
    """
    overrides: dict = {}
    if text.strip().lower() in ("", "base"):
        return overrides
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        name, sep, raw = part.partition("=")
        name = name.strip().replace("-", "_")
        if not sep:
            raise ConfigError(f"variant {text!r}: expected field=value, got {part!r}")
        if name not in FIELDS:
            raise ConfigError(f"variant {text!r}: unknown setting {name!r}")
        if name in overrides:
            raise ConfigError(f"variant {text!r}: {name} is given twice")
        overrides[name] = parse_value(name, raw.strip())
    return overrides


def parse_value(name: str, raw: str):
    """A command-line string as the value of config field `name` (range checks come later,
    when the config is built)."""
    f = FIELDS[name]
    if name == "custom_points":
        from .points import read_points

        return read_points(raw)
    if f.type == "bool":
        if raw.lower() in TRUE:
            return True
        if raw.lower() in FALSE:
            return False
        raise ConfigError(f"{name}: expected true or false, got {raw!r}")
    if "None" in f.type and raw.lower() in ("none", "default", ""):
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


# ---------------------------------------------------------------------- the command
def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--variant", action="append", default=[], metavar="FIELD=VALUE,...",
                        help="one variant: comma-separated overrides of the base config, e.g. "
                             "'loss=wgan,k=5' ('' or 'base': the base itself); repeat, "
                             f"1 to {MAX_VARIANTS} variants")
    parser.add_argument("--preset", choices=sorted(PRESETS),
                        help="ready-made variants: " + "; ".join(
                            f"{name}: {' | '.join(describe(v) for v in variants)}"
                            for name, variants in PRESETS.items())
                        + " (--variant adds more)")
    parser.add_argument("--steps", type=int, default=3000,
                        help="iterations of the shared clock (default: 3000)")
    parser.add_argument("--json", action="store_true", help="print one JSON object and no bar")
    parser.add_argument("--no-batch", dest="batch", action="store_false",
                        help="train every variant with its own Trainer (still in lockstep)")
    add_config_arguments(parser)


def compare_run(base: TrainConfig, variants: list[dict], steps: int, show_progress: bool,
                batch: bool = True) -> tuple[Group, float, list]:
    """Train the variants `steps` clock iterations; returns (group, clock it/s, grouping)."""
    group = Group(base, variants, record_every=max(100, steps // 100), batch=batch)
    grouping = group.grouping             # as trained (a diverged variant leaves its stack)
    progress = Progress(steps, show_progress, label="comparing")
    elapsed = 0.0
    chunk = max(1, min(100, steps // 50 or 1))
    while group.iteration < steps:
        start = time.perf_counter()
        done = group.step(min(chunk, steps - group.iteration))
        elapsed += time.perf_counter() - start
        progress.show(group.iteration)
        if not done:                      # every variant has stopped
            break
    progress.close()
    return group, group.iteration / elapsed if elapsed else 0.0, grouping


def compare_command(args) -> int:
    if args.steps < 1:
        raise ConfigError("steps: must be at least 1")
    variants = [dict(v) for v in PRESETS[args.preset]] if args.preset else []
    for text in args.variant:
        try:
            variants.append(parse_variant(text))
        except ConfigError as err:
            message = str(err)
            raise ConfigError(message if message.startswith("variant") else
                              f"variant {text!r}: {message}") from None
    if not variants:
        raise ConfigError("compare: give at least one --variant or a --preset")
    base = config_from_args(args)
    group, rate, grouping = compare_run(base, variants, args.steps, not args.json, args.batch)
    result = {
        "base": base.to_dict(), "steps": args.steps, "iterations": group.iteration,
        "steps_per_s": round(rate, 1), "batched": grouping,
        "variants": [{"label": label, "overrides": _jsonable(overrides),
                      **run_result(member, args.steps, rate)}
                     for label, overrides, member in zip(group.labels, group.variants,
                                                         group.members)],
    }
    print(json.dumps(strict(result), allow_nan=False) if args.json else table(result))
    return 0


def _jsonable(overrides: dict) -> dict:
    return {k: [list(p) for p in v] if k == "custom_points" and v else v
            for k, v in overrides.items()}


def strict(value):
    """The result with NaN / infinite floats as null (e.g. reverse KL with no high-quality
    sample is inf): JSON has no such numbers, and strict parsers reject them."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: strict(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [strict(v) for v in value]
    return value


register("compare", "train variants of one config side by side, in lockstep",
         _arguments, compare_command)


# ---------------------------------------------------------------------- readable output
def table(result: dict) -> str:
    """A readable summary: one line per variant with its final metrics."""
    base = result["base"]
    units = ", ".join("[" + " ".join(str(i + 1) for i in unit) + "]"
                      for unit in result["batched"])
    lines = [f"{len(result['variants'])} variants of a {base['loss']} GAN on {base['dataset']} "
             f"(seed {base['seed']}): {result['iterations']} iterations at "
             f"{result['steps_per_s']:,.0f} it/s; trained together: {units}", ""]
    width = max(len("variant"), *(len(v["label"]) for v in result["variants"])) + 3
    head = f"{'':3}{'variant':{width}}{'modes':>8}{'HQ %':>8}{'rev KL':>9}{'w1':>9}  verdict"
    lines.append(head)
    lines.append("-" * len(head))
    for i, v in enumerate(result["variants"], start=1):
        m = v["metrics"]
        if m.get("modes_covered") is not None:
            modes = f"{m['modes_covered']}/{m['n_modes']}"
            hq = f"{100 * m['high_quality']:.1f}"
            kl = "-" if m["reverse_kl"] is None else f"{m['reverse_kl']:.3f}"
        else:
            modes = hq = kl = "-"
        status = v["status"] or v.get("verdict") or "ok"
        w1 = "-" if m.get("w1") is None else f"{m['w1']:.4f}"
        lines.append(f"{i:<3}{v['label']:{width}}{modes:>8}{hq:>8}{kl:>9}{w1:>9}  {status}")
    return "\n".join(lines)
