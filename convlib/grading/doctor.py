"""Which layers of the grading sandbox this machine has: ``python -m convlib.grading.doctor``.

Starts one job through :func:`convlib.grading.isolation.enter` and prints, for each
layer (namespaces, unprivileged uid, capabilities, ``no_new_privs``, minimal
filesystem, rlimits, Landlock, seccomp, cgroup v2 controllers, GPU device nodes),
OK or MISSING and why. The exit status is 1 when a required layer is missing (the
grader then refuses to start without ``--isolation=process``), 0 otherwise.
"""
from __future__ import annotations

import argparse
import platform
import sys

from .isolation import OPTIONAL_LAYERS, Layer, Policy, probe

__all__ = ["format_layers", "main"]


def format_layers(layers: list[Layer]) -> str:
    """A table: layer, OK/MISSING, required/optional, why.

    Parameters
    ----------
    layers : list of Layer

    Examples
    --------
    >>> print(format_layers([Layer("seccomp", True, "filter mode", False)]))
    seccomp  OK       optional  filter mode
    """
    width = max(len(layer.name) for layer in layers)
    return "\n".join(f"{layer.name:<{width}}  {'OK' if layer.ok else 'MISSING':<7}  "
                     f"{'required' if layer.required else 'optional':<8}  {layer.detail}"
                     for layer in layers)


def main(argv: list[str] | None = None) -> int:
    """Print the sandbox's layers on this machine; 1 if a required one is missing.

    Parameters
    ----------
    argv : list of str, optional
        Command-line arguments (default ``sys.argv[1:]``).

    Examples
    --------
    >>> main(["--quiet"])
    0
    """
    parser = argparse.ArgumentParser(prog="python -m convlib.grading.doctor",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("--gpu", action="store_true", help="require the NVIDIA device nodes too")
    parser.add_argument("--require", action="append", default=[], choices=OPTIONAL_LAYERS,
                        help="also require this optional layer (repeatable)")
    parser.add_argument("--quiet", action="store_true", help="print nothing, only set the exit status")
    args = parser.parse_args(argv)
    layers = probe(Policy(gpu=args.gpu, require=tuple(args.require)))
    missing = [layer.name for layer in layers if layer.required and not layer.ok]
    if not args.quiet:
        print(f"grading sandbox on {platform.system()} {platform.release()} ({platform.machine()}), "
              f"Python {platform.python_version()}")
        print(format_layers(layers))
        print(f"required layers missing: {', '.join(missing)}" if missing
              else "every required layer is active: grading runs at the 'os' isolation level")
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
