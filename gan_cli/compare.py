"""`python -m gan_core compare`: train variants of one config side by side, in lockstep.

    python -m gan_core compare --variant loss=minimax --variant loss=nonsaturating --steps 2000
    python -m gan_core compare --preset objectives --seed 3 --json

Every TrainConfig option sets the base; each --variant is a comma-separated list of
`field=value` overrides on it (an empty --variant "" is the base itself). Variants whose networks
have the same shapes train in one batched pass (see gan_core.batched).
"""
from __future__ import annotations

import argparse

from gan_core.batched import MAX_VARIANTS, PRESETS, Group
from gan_core.config import ConfigError, TrainConfig
from gan_core.settings import describe, parse_overrides

from .common import (add_config_arguments, check_steps, config_from_args, print_json,
                     run_result, train_with_progress)

HELP = "train variants of one config side by side, in lockstep"


def parse_variant(text: str) -> dict:
    """"loss=wgan, k=5" -> {"loss": "wgan", "k": 5} (gan_core.settings, files allowed); a
    ConfigError names the variant and the field."""
    try:
        return parse_overrides(text, files=True)
    except ConfigError as err:
        raise ConfigError(f"variant {text!r}: {err}") from None


# ---------------------------------------------------------------------- the command
def add_arguments(parser: argparse.ArgumentParser) -> None:
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
    rate = train_with_progress(group, steps, show_progress, label="comparing", chunk=100)
    return group, rate, grouping


def run(args) -> int:
    check_steps(args.steps)
    variants = [dict(v) for v in PRESETS[args.preset]] if args.preset else []
    variants += [parse_variant(text) for text in args.variant]
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
    if args.json:
        print_json(result)
    else:
        print(table(result))
    return 0


def _jsonable(overrides: dict) -> dict:
    return {k: [list(p) for p in v] if k == "custom_points" and v else v
            for k, v in overrides.items()}


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
