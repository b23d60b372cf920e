"""The command line's entry point and its table of subcommands.

`gan-explorer COMMAND ...` (the package's console script), `python -m gan_cli COMMAND ...` and
`python -m gan_core COMMAND ...` (the original spelling) are the same program. Each command is
a module with HELP, add_arguments(parser) and run(args) -> exit code; COMMANDS lists them all,
in --help's order. The drawing package is imported only by `export`, when it runs.
"""
from __future__ import annotations

import argparse
import sys

from gan_core import tuning
from gan_core.config import ConfigError

from . import compare, dirac, export, reproduce, sweep, train

COMMANDS = {"train": train, "compare": compare, "dirac": dirac, "export": export,
            "sweep": sweep, "reproduce": reproduce}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m gan_core",
        description="Train small GANs on toy 2D data and measure them.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, command in COMMANDS.items():
        command.add_arguments(sub.add_parser(name, help=command.HELP, description=command.HELP))
    return parser


def main(argv=None) -> int:
    """Run one command; a bad value is one line `error: ...` on stderr and exit code 2."""
    args = build_parser().parse_args(argv)
    tuning.for_training()            # this process trains: opt into the process-wide settings
    try:
        return COMMANDS[args.command].run(args)
    except (ConfigError, ValueError, OSError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        return 130
