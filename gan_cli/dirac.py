"""`python -m gan_core dirac`: one Dirac-GAN run (see gan_core.dirac) from the command line.
One option per DiracConfig field (d_steps -> --d-steps); values are parsed here, not by
argparse, so a bad value is a one-line `error: <field> ...` and exit code 2."""
from __future__ import annotations

import argparse
import math
from dataclasses import fields

from gan_core.dirac import (LR_RATIO_RANGE, MOMENTUM_RANGE, OBJECTIVES, OPTIMIZERS, UPDATES,
                            DiracConfig)
from gan_core.dirac import run as run_dirac
from gan_core.dirac_stability import read

from .common import print_json

HELP = "run the Dirac-GAN (Mescheder et al. 2018) and report where it ends"

MEANING = {
    "objective": f"training method, one of: {', '.join(OBJECTIVES)}",
    "updates": f"update scheme, one of: {', '.join(UPDATES)}",
    "h": "step size (learning rate), > 0",
    "steps": "number of training iterations, >= 1",
    "d_steps": "discriminator steps per generator step (alternating updates only), >= 1",
    "theta0": "initial generator parameter θ",
    "psi0": "initial discriminator parameter ψ",
    "clip": "wgan: ψ is clipped to [-clip, clip], > 0",
    "gp_weight": "wgan-gp: penalty weight γ of (γ/2)(|ψ| - target)², >= 0",
    "gp_target": "wgan-gp: target gradient norm g₀, >= 0",
    "noise_std": "instance-noise: standard deviation σ of the noise, >= 0",
    "r1": "gradient-penalty: weight γ of the zero-centred R1 penalty (γ/2)ψ², >= 0",
    "consensus": "consensus: weight γ of the consensus term, >= 0",
    "optimizer": f"each player's update rule, one of: {', '.join(OPTIMIZERS)}",
    "momentum": "heavy-ball momentum β (negative allowed), in "
                f"[{MOMENTUM_RANGE[0]}, {MOMENTUM_RANGE[1]}]",
    "lr_ratio": "ψ's step size over θ's (ψ moves with h·lr_ratio), in "
                f"[{LR_RATIO_RANGE[0]}, {LR_RATIO_RANGE[1]}]",
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    for f in fields(DiracConfig):
        metavar = "NAME" if f.type == "str" else "N" if f.type == "int" else "X"
        parser.add_argument("--" + f.name.replace("_", "-"), dest=f.name, metavar=metavar,
                            default=argparse.SUPPRESS,
                            help=f"{MEANING[f.name]} (default: {f.default})")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--trajectory", action="store_true",
                        help="include the (steps+1, 2) list of (θ, ψ) in the JSON (long)")


def config_from_args(args: argparse.Namespace) -> DiracConfig:
    values = {}
    for f in fields(DiracConfig):
        if f.name not in vars(args):
            continue
        raw, kind = getattr(args, f.name), {"int": int, "float": float}.get(f.type, str)
        try:
            values[f.name] = kind(raw)
        except ValueError:
            raise ValueError(f"{f.name} must be {'an integer' if kind is int else 'a number'}, "
                             f"got {raw!r}") from None
    return DiracConfig(**values)


def _finite_or_none(value):
    return value if value is None or math.isfinite(value) else None


def run(args: argparse.Namespace) -> int:
    config = config_from_args(args)
    result = run_dirac(config)
    points = result.pop("trajectory")
    reading = read(config, points, result["diverged_at"])
    result.update(spectral_radius=reading.spectral_radius, outcome=reading.outcome,
                  verdict=reading.verdict, envelope_growth=reading.envelope_growth,
                  why=reading.reason)
    for key in ("distance", "envelope_growth"):   # overflow: keep the JSON strict
        result[key] = _finite_or_none(result[key])
    if args.json:
        if args.trajectory:
            result["trajectory"] = points
        print_json(result)
        return 0
    c = config
    extras = "".join(f", {name}={getattr(c, name)}" for name in ("momentum", "lr_ratio")
                     if getattr(c, name) != getattr(DiracConfig, name))
    print(f"Dirac-GAN, {c.objective}, {c.updates} updates, {c.optimizer}, h={c.h}{extras}, "
          f"{c.steps} steps from (θ, ψ) = ({c.theta0}, {c.psi0})")
    if result["diverged_at"] is not None:
        print(f"  blew up (non-finite) at step {result['diverged_at']}; last finite point:")
    dist = result["distance"]
    print(f"  final θ = {result['theta']:.6g}, ψ = {result['psi']:.6g}, distance from (0, 0) = "
          f"{'inf' if dist is None else format(dist, '.6g')}")
    rho = result["spectral_radius"]
    print(f"  spectral radius at the equilibrium: {'none' if rho is None else format(rho, '.6g')}")
    print(f"  {result['why']}")
    print(f"  {result['verdict']}")
    return 0

