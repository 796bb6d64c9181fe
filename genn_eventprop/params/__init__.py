"""Parameter dicts ``p`` of the benchmarks: defaults, one doc line per key, validation.

``defaults(benchmark)`` returns a fresh copy of a benchmark's defaults;
``validate(p, benchmark)`` checks a user's dict at the boundary (unknown keys
with the closest valid key, wrong types and ranges naming the key) and returns
a validated copy, so every run works on its own dict.
"""
from __future__ import annotations

import copy
import difflib
from typing import Any, Dict, List, Tuple

from .spec import ParamError, ParamSpec
from .dvs_gesture import DVS_GESTURE
from .mnist import MNIST
from .smnist import SMNIST
from .shd import SHD, SSC
from .yinyang import YINYANG

BENCHMARKS: Dict[str, Dict[str, ParamSpec]] = {"yinyang": YINYANG, "shd": SHD, "ssc": SSC,
                                               "mnist": MNIST, "smnist": SMNIST,
                                               "dvs_gesture": DVS_GESTURE}


def _specs(benchmark: str) -> Dict[str, ParamSpec]:
    if benchmark not in BENCHMARKS:
        raise ParamError(f"unknown benchmark '{benchmark}'; valid: {', '.join(BENCHMARKS)}")
    return BENCHMARKS[benchmark]


def defaults(benchmark: str) -> Dict[str, Any]:
    """A fresh copy of the default ``p`` of ``benchmark``."""
    return {k: copy.deepcopy(s.default) for k, s in _specs(benchmark).items()}


def describe(benchmark: str) -> List[Tuple[str, Any, str]]:
    """(key, default, doc) for every parameter of ``benchmark``."""
    return [(k, s.default, s.doc) for k, s in _specs(benchmark).items()]


def validate(p: Dict[str, Any], benchmark: str) -> Dict[str, Any]:
    """Check ``p`` against the benchmark's parameters and return a full, private copy.

    Missing keys take their defaults; unknown keys, wrong types and values out of
    range raise ``ParamError`` naming the key (and the closest valid key).
    """
    specs = _specs(benchmark)
    if not isinstance(p, dict):
        raise ParamError(f"p must be a dict of parameters, got {type(p).__name__}")
    out = defaults(benchmark)
    for key, value in p.items():
        if key not in specs:
            close = difflib.get_close_matches(str(key), list(specs), n=1, cutoff=0.6)
            hint = f" Did you mean '{close[0]}'?" if close else ""
            raise ParamError(f"unknown parameter '{key}' for {benchmark}.{hint} "
                             f"(`genn-eventprop {benchmark} --list-params` lists them all)")
        out[key] = specs[key].check(key, copy.deepcopy(value))
    return out


__all__ = ["BENCHMARKS", "ParamError", "ParamSpec", "defaults", "describe", "validate"]
