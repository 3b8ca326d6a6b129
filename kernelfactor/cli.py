"""The ``kernelfactor`` command line.

No numerics here: every subcommand parses arguments, calls the public API and
formats what it returns.  Errors are one line on stderr; exit status 2 for
usage errors, 1 for bad input, 0 on success.  ``--debug`` shows tracebacks.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import Any

__all__ = ["main"]


class _UsageError(Exception):
    """A usage error found after parsing (exit status 2)."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise _UsageError(f"{self.prog}: {message}")


def _print_json(obj: Any) -> None:
    print(json.dumps(obj, indent=2, sort_keys=True, allow_nan=True))


def _parse_kernel_spec(spec: str) -> tuple[str, dict[str, Any]]:
    """``"gaussian:size=15,sigma=2"`` -> ``("gaussian", {"size": 15, "sigma": 2.0})``."""
    name, _, rest = spec.partition(":")
    params: dict[str, Any] = {}
    for item in filter(None, (p.strip() for p in rest.split(","))):
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise _UsageError(
                f"kernel parameters must look like `name:key=value,key=value`; got {item!r} "
                f"in {spec!r}"
            )
        params[key.strip()] = _parse_value(value.strip())
    return name.strip(), params


def _parse_value(text: str) -> Any:
    low = text.lower()
    if low in ("true", "false"):
        return low == "true"
    if low in ("none", "null"):
        return None
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    return text


def _cmd_list(args: argparse.Namespace) -> int:
    import kernelfactor as kf

    rows = []
    for name in kf.list_kernels():
        info = kf.kernel_info(name)
        params = ", ".join(f"{k}={v}" for k, v in info.params.items())
        rows.append((name, params, info.definition))
    if args.json:
        _print_json([{"name": n, "params": p, "definition": d} for n, p, d in rows])
        return 0
    w0 = max(len(r[0]) for r in rows)
    w1 = max(len(r[1]) for r in rows)
    for name, params, definition in rows:
        print(f"{name:<{w0}}  {params:<{w1}}  {definition}")
    return 0


def _cmd_analyze(args: argparse.Namespace) -> int:
    import kernelfactor as kf

    name, params = _parse_kernel_spec(args.kernel)
    kernel = kf.get_kernel(name, **params)
    result = kf.analyze(kernel, rtol=args.rtol, atol=args.atol)
    if args.json:
        _print_json(result.to_dict())
    else:
        print(f"{args.kernel}: {result.shape[0]}x{result.shape[1]}")
        print(result)
    return 0


def _build_parser() -> _Parser:
    from . import __version__

    parser = _Parser(
        prog="kernelfactor",
        description="Does this convolution kernel factorise? Analyse, approximate, apply, cost.",
    )
    parser.add_argument("--version", action="version", version=f"kernelfactor {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    p = sub.add_parser("list", help="list the built-in kernel catalogue")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=_cmd_list)

    p = sub.add_parser("analyze", help="numeric separability verdict for one kernel")
    p.add_argument("kernel", help="catalogue name with parameters, e.g. gaussian:sigma=2")
    p.add_argument("--rtol", type=float, default=None, help="relative tolerance")
    p.add_argument("--atol", type=float, default=None, help="absolute tolerance")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=_cmd_analyze)
    return parser



def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    parser = _build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv
    try:
        args = parser.parse_args(argv)
        if not getattr(args, "func", None):
            parser.print_help(sys.stderr)
            return 2
        return int(args.func(args))
    except _UsageError as exc:
        if debug:
            raise
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except (ValueError, TypeError, OSError, KeyError) as exc:
        if debug:
            raise
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        print(f"error: {message}", file=sys.stderr)
        return 1
    except MemoryError:
        if debug:
            raise
        print("error: not enough memory for this request; ask for something smaller",
              file=sys.stderr)
        return 1
