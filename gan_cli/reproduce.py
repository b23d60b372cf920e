"""`python -m gan_core reproduce NAME [--runs N] [--steps N] [--json]`: a published 2D
experiment (gan_core.reproduce) with its measured numbers beside the paper's."""
from __future__ import annotations

import sys

from gan_core import reproduce

from .common import print_json

HELP = "run a published 2D experiment (PacGAN, unrolled GAN) beside the paper's numbers"


def add_arguments(parser) -> None:
    parser.add_argument("name", choices=sorted(reproduce.REPRODUCTIONS),
                        help="which reproduction: " + "; ".join(
                            f"{r.name}: {r.title}" for r in reproduce.REPRODUCTIONS.values()))
    parser.add_argument("--runs", type=int, default=3,
                        help="runs per arm, seeds 0..N-1 (default: 3; the papers used 10)")
    parser.add_argument("--steps", type=int, default=None,
                        help="iterations per run (default: the reproduction's CPU budget; "
                             "the papers': 400,000 for PacGAN, 25,000 for the unrolled GAN)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")


def run(args) -> int:
    def progress(label, seed, metrics):
        if not args.json:
            print(f"  {label}, run {seed + 1}/{args.runs}: {metrics['modes']} modes, "
                  f"{metrics['high_quality']:.1f}% high quality", file=sys.stderr)

    result = reproduce.run(args.name, runs=args.runs, steps=args.steps, progress=progress)
    if args.json:
        print_json(result)
    else:
        print(reproduce.report_text(result))
    return 0
