"""`python -m gan_core export`: a run as an HTML animation, an animated GIF, a PNG or a record.

    python -m gan_core export --scenario NAME [--variant LABEL] --out run.html
    python -m gan_core export --loss wgan-gp --dataset grid --steps 2000 --out run.gif
    python -m gan_core export --record run.zip --out last.png

The run comes from a scenario (gan_core.scenarios; its first variant unless --variant), from
plain config options (every TrainConfig field, as for `train`), or from a saved run record.
Training records a coarse snapshot every steps/100 iterations, the frames of the animation.
The format is --format, or else the suffix of --out. Drawing lives in gan_draw.export (plotly
and Pillow), imported only when this command runs: the engine never needs plotly.
"""
from __future__ import annotations

import argparse
import importlib
import os
import time
from pathlib import Path

from gan_core.config import ConfigError, TrainConfig

from .common import (add_config_arguments, config_from_args, config_options_given,
                     train_with_progress)

HELP = "export a run as an HTML animation, a GIF, a PNG or a run record"

FORMATS = ("html", "gif", "png", "record")
SUFFIXES = {".html": "html", ".htm": "html", ".gif": "gif", ".png": "png", ".zip": "record"}
DEFAULT_STEPS = 3000
FRAMES = 100            # the trainer records every steps // FRAMES iterations
RECORD_GRID = 40        # the coarse snapshots of Trainer.records
PNG_GRID = 80           # a single frame can afford a finer surface


def add_arguments(parser: argparse.ArgumentParser) -> None:
    source = parser.add_argument_group(
        "what to export (a scenario, a saved run, or else the config options below)")
    source.add_argument("--scenario", metavar="NAME", help="a named scenario (gan_core.scenarios)")
    source.add_argument("--variant", metavar="LABEL",
                        help="which variant of the scenario (default: its first)")
    source.add_argument("--record", metavar="FILE.zip",
                        help="export a saved run record (train --save) instead of training")
    source.add_argument("--steps", type=int, metavar="N",
                        help=f"training iterations (default: the scenario's, else "
                             f"{DEFAULT_STEPS})")
    output = parser.add_argument_group("output")
    output.add_argument("--out", required=True, metavar="FILE",
                        help="where to write (.html, .gif, .png or .zip)")
    output.add_argument("--format", metavar="FORMAT",
                        help=f"one of {', '.join(FORMATS)} (default: from the suffix of --out)")
    output.add_argument("--size", metavar="N|WxH",
                        help="image size in pixels for gif/png (default: 480 for gif, 800 for "
                             "png; e.g. 1280x720 for a slide)")
    output.add_argument("--fps", type=float, default=10.0,
                        help="animation frames per second (default: 10)")
    output.add_argument("--layers", metavar="LIST",
                        help="comma-separated layers to draw (default: all of surface, "
                             "contour, real, fake, push, manifold)")
    output.add_argument("--title", help="a heading for the animation or image "
                                        "(default: the scenario's title)")
    output.add_argument("--quiet", action="store_true", help="no progress bar")
    add_config_arguments(parser)


# ---------------------------------------------------------------------- checks
def output_format(out: str, fmt: str | None) -> str:
    """--format if given, else the suffix of --out; ConfigError naming the choices."""
    if fmt is not None:
        fmt = fmt.lower().lstrip(".")
        fmt = {"htm": "html", "zip": "record"}.get(fmt, fmt)
        if fmt not in FORMATS:
            raise ConfigError(f"unknown format {fmt!r}; choose from {', '.join(FORMATS)}")
        return fmt
    suffix = Path(out).suffix.lower()
    if suffix not in SUFFIXES:
        raise ConfigError(f"cannot tell the format from {out!r}: give --format "
                          f"({', '.join(FORMATS)}) or end --out in "
                          f"{', '.join(sorted(set(SUFFIXES)))}")
    return SUFFIXES[suffix]


def check_writable(out: str) -> Path:
    """Fail before training, not after: the directory exists and can be written to."""
    path = Path(out).expanduser()
    if path.is_dir():
        raise ConfigError(f"--out {out}: is a directory; give a file name")
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise ConfigError(f"--out {out}: directory {parent} does not exist")
    if not os.access(parent, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise ConfigError(f"--out {out}: cannot write there (permission denied)")
    return path


def parse_size(text: str | None) -> tuple[int, int] | None:
    if text is None:
        return None
    parts = text.lower().replace("×", "x").split("x")
    try:
        size = tuple(int(p) for p in parts)
    except ValueError:
        raise ConfigError(f"size: give N or WxH in pixels, not {text!r}") from None
    if len(size) == 1:
        size = size * 2
    if len(size) != 2 or not all(64 <= v <= 4096 for v in size):
        raise ConfigError(f"size: width and height must be 64..4096 pixels, not {text!r}")
    return size


def parse_layers(text: str | None, known) -> tuple:
    if text is None:
        return tuple(known)
    layers = tuple(p.strip() for p in text.split(",") if p.strip())
    unknown = [p for p in layers if p not in known]
    if unknown or not layers:
        raise ConfigError(f"layers: unknown {', '.join(unknown) or '(none given)'}; "
                          f"choose from {', '.join(known)}")
    return layers


# ---------------------------------------------------------------------- the run
def scenario_config(name: str, variant: str | None) -> tuple:
    """(scenario, variant label, TrainConfig) of a named scenario; ConfigError if unknown."""
    try:
        scenarios = importlib.import_module("gan_core.scenarios")
    except ModuleNotFoundError as err:
        if err.name != "gan_core.scenarios":
            raise
        raise ConfigError("scenarios are not available in this version "
                          "(gan_core.scenarios is missing)") from None
    try:
        scenario = scenarios.get(name)
    except (KeyError, LookupError, ValueError) as err:
        known = _scenario_names(scenarios)
        raise ConfigError(f"unknown scenario {name!r}"
                          + (f"; choose from {', '.join(known)}" if known
                             else f" ({err})")) from None
    variants = list(scenarios.configs(scenario))
    if not variants:
        raise ConfigError(f"scenario {name!r} has no runs to export")
    if variant is None:
        return scenario, variants[0][0], variants[0][1]
    for label, config in variants:
        if label == variant:
            return scenario, label, config
    labels = ", ".join(repr(str(label)) for label, _ in variants)
    raise ConfigError(f"scenario {name!r} has no variant {variant!r}; its variants: {labels}")


def _scenario_names(module) -> list[str]:
    """The scenario names, whichever way the module lists them (best effort, for messages)."""
    for attr in ("names", "NAMES", "SCENARIOS", "ALL"):
        value = getattr(module, attr, None)
        try:
            value = value() if callable(value) else value
            if isinstance(value, dict):
                return [str(k) for k in value]
            if value is not None:
                return [str(getattr(v, "name", v)) for v in value]
        except Exception:  # a message helper must never hide the real error
            continue
    return []


def train_for_export(config: TrainConfig, steps: int, show_progress: bool):
    """Train `steps` iterations with a progress bar, recording ~FRAMES coarse snapshots."""
    from gan_core.training import Trainer

    trainer = Trainer(config, record_every=max(1, steps // FRAMES))
    train_with_progress(trainer, steps, show_progress)
    return trainer


def replay_snapshots(trainer) -> list:
    """The trainer's recorded snapshots, ending with its current state."""
    snaps = list(trainer.records)
    if not snaps or snaps[-1].iteration != trainer.iteration or \
            snaps[-1].status != trainer.status:
        snaps.append(trainer.snapshot(grid=RECORD_GRID, n_samples=500, manifold=11))
    return snaps


def _load_drawing():
    try:
        return importlib.import_module("gan_draw.export")
    except ImportError as err:
        raise ConfigError(f"export to images and HTML needs plotly and pillow "
                          f"(pip install -r requirements.txt): {err}") from None


# ---------------------------------------------------------------------- the command
def run(args) -> int:
    fmt = output_format(args.out, args.format)
    out = check_writable(args.out)
    size = parse_size(args.size)
    if not args.fps > 0:
        raise ConfigError("fps: must be > 0")
    if args.steps is not None and args.steps < 1:
        raise ConfigError("steps: must be at least 1")
    if args.variant is not None and args.scenario is None:
        raise ConfigError("--variant needs --scenario")
    drawing = None
    layers = None
    if fmt != "record":                  # check plotly/pillow and --layers before training
        drawing = _load_drawing()
        layers = parse_layers(args.layers, drawing.LAYERS)

    title = args.title
    if args.record is not None:
        if args.scenario is not None:
            raise ConfigError("give either --record or --scenario, not both")
        given = ["--" + n.replace("_", "-") for n in config_options_given(args)]
        given += ["--steps"] if args.steps is not None else []
        if given:
            raise ConfigError(f"--record exports a saved run as it is; "
                              f"{', '.join(given)} do not apply to it")
        from gan_core.records import load_run

        trainer = load_run(args.record)
        what = f"run record {args.record}"
    else:
        if args.scenario is not None:
            scenario, label, config = scenario_config(args.scenario, args.variant)
            config = config_from_args(args, base=config)    # explicit options still apply
            steps = args.steps if args.steps is not None else int(scenario.steps)
            if title is None:
                title = str(getattr(scenario, "title", "") or scenario.name)
                if len(getattr(scenario, "variants", ()) or ()) > 1 and label:
                    title += f" · {label}"
            what = f"scenario {scenario.name}" + (f" ({label})" if label else "")
        else:
            config = config_from_args(args)
            steps = args.steps if args.steps is not None else DEFAULT_STEPS
            what = f"{config.loss} GAN on {config.dataset}"
        trainer = train_for_export(config, steps, show_progress=not args.quiet)
        what += f", {trainer.iteration:,} iterations"

    start = time.perf_counter()
    if fmt == "record":
        from gan_core.records import save_run

        save_run(trainer, out)
        detail = f"{len(trainer.records)} snapshots"
    elif fmt == "png":
        snap = trainer.snapshot(grid=PNG_GRID)
        out.write_bytes(drawing.render_png(snap, size or (800, 800), layers, title=title))
        detail = f"iteration {snap.iteration:,}, {'x'.join(map(str, size or (800, 800)))}"
    else:
        snaps = replay_snapshots(trainer)
        if fmt == "html":
            fig_frames = min(len(snaps), drawing.MAX_HTML_FRAMES)
            out.write_text(drawing.html_animation(snaps, layers, title, fps=args.fps),
                           encoding="utf-8")
            detail = f"{fig_frames} frames"
        else:
            size = size or (480, 480)
            out.write_bytes(drawing.gif_animation(snaps, size, args.fps, layers, title=title))
            detail = (f"{min(len(snaps), drawing.MAX_GIF_FRAMES)} frames of "
                      f"{size[0]}x{size[1]} at {args.fps:g} fps")
    kb = out.stat().st_size / 1024
    status = f" — {trainer.status}" if trainer.status else ""
    print(f"wrote {out} ({fmt}: {detail}, {kb:,.0f} kB in {time.perf_counter() - start:.1f} s)"
          f" from {what}{status}")
    return 0

