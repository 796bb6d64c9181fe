"""Command line: ``genn-eventprop <benchmark> [--set KEY=VALUE ...] [--params file.json]``.

Runs ``train_test`` (or ``--mode train|test|cross_validate``) of a benchmark
with its default ``p`` updated from ``--params`` and then ``--set`` (values
are parsed as JSON where possible, e.g. ``--set REC_SPIKES='["hidden"]'``),
and prints the test (or validation) accuracy. A user error (bad parameter,
missing checkpoint, results that would be overwritten) is one message on
stderr and exit status 2; a traceback means a bug.
"""
from __future__ import annotations

import argparse
import json
import sys
from typing import Any, Dict, List, Optional

from .errors import UserError
from .params import BENCHMARKS, ParamError, describe

MODES = ("train_test", "train", "test", "cross_validate")


def _simulators():
    from .simulators.yinyang import YinYangModel
    return {"yinyang": YinYangModel}


def parse_value(text: str) -> Any:
    """JSON if it parses (numbers, true/false, null, lists), else the string itself."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def build_params(args) -> Dict[str, Any]:
    p: Dict[str, Any] = {}
    if args.params:
        try:
            with open(args.params) as f:
                p.update(json.load(f))
        except FileNotFoundError:
            raise ParamError(f"--params: no such file '{args.params}'")
        except json.JSONDecodeError as e:
            raise ParamError(f"--params: '{args.params}' is not valid JSON ({e})")
    for item in args.set or []:
        if "=" not in item:
            raise ParamError(f"--set expects KEY=VALUE, got '{item}'")
        key, value = item.split("=", 1)
        p[key.strip()] = parse_value(value)
    return p


def list_params(benchmark: str) -> str:
    rows = describe(benchmark)
    width = max(len(k) for k, _, _ in rows)
    return "\n".join(f"{k:<{width}}  {json.dumps(d):<14}  {doc}" for k, d, doc in rows)


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(
        prog="genn-eventprop",
        description="Train spiking networks with EventProp. Benchmarks: "
                    + ", ".join(BENCHMARKS) + ".")
    parser.add_argument("benchmark", choices=sorted(BENCHMARKS), help="benchmark to run")
    parser.add_argument("--set", action="append", metavar="KEY=VALUE",
                        help="override a parameter (repeatable)")
    parser.add_argument("--params", metavar="FILE", help="JSON file of parameters")
    parser.add_argument("--mode", choices=MODES, default="train_test")
    parser.add_argument("--list-params", action="store_true",
                        help="print every parameter with its default and doc, then exit")
    args = parser.parse_args(argv)
    if args.list_params:
        print(list_params(args.benchmark))
        return 0
    try:
        p = build_params(args)
        sim = _simulators()[args.benchmark](p)
        result = getattr(sim, args.mode)(sim.p)
    except UserError as e:
        print(f"genn-eventprop: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("genn-eventprop: interrupted", file=sys.stderr)
        return 130
    if result.test_accuracy is not None:
        print(f"test accuracy: {result.test_accuracy:.4f} (loss {result.test_loss:.4f})")
    if result.epochs and result.epochs[-1].validation_accuracy is not None:
        print(f"validation accuracy (last epoch): {result.epochs[-1].validation_accuracy:.4f}")
    if result.folds:
        print(f"cross-validation accuracy (mean of {len(result.folds)} folds): "
              f"{result.best_validation_accuracy:.4f}")
    if result.tape_overflow:
        print(f"warning: {result.tape_overflow} spikes did not fit the tape "
              f"(raise N_MAX_SPIKE)", file=sys.stderr)
    print(f"results in {sim.p['OUT_DIR']} ({result.name}_*)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
