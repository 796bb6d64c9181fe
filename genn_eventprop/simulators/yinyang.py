"""Yin-Yang benchmark (Kriener et al. 2021) trained with a first-spike loss.

Usage, as with the original research code::

    from genn_eventprop.simulators.yinyang import p, YinYangModel
    p["NUM_HIDDEN"] = 200
    res = YinYangModel(p).train_test(p)

Each sample's four coordinates (x, y, 1-x, 1-y) become one spike each, at
2 dt + value (W - 4 dt), plus a bias spike at 2 dt (5 input neurons), where
W is INPUT_WINDOW_MS (default TRIAL_MS); the three LIF outputs are read out by
their first spikes, which may come after W while the trial lasts.
"""
from __future__ import annotations

from functools import lru_cache
from typing import Any, Dict


from ..datasets.yinyang import generate_yinyang, latency_encode
from ..network import NetworkSpec
from ..params import defaults
from ..params.spec import ParamError
from ..params.mapping import network_spec
from .base import Simulator

N_INPUT, N_CLASS = 5, 3
SPLITS = {"train": ("N_TRAIN", "TRAIN_DATA_SEED"),
          "validate": ("N_VALIDATE", "VALIDATE_DATA_SEED"),
          "test": ("N_TEST", "TEST_DATA_SEED")}

#: The default parameters (a fresh copy; edit it and pass it in, as in the original).
p = defaults("yinyang")


def input_window(p: Dict[str, Any]) -> float:
    """The span of the input latencies (ms): INPUT_WINDOW_MS, else TRIAL_MS."""
    window = p["TRIAL_MS"] if p["INPUT_WINDOW_MS"] is None else p["INPUT_WINDOW_MS"]
    if window > p["TRIAL_MS"]:
        raise ParamError(f"INPUT_WINDOW_MS ({window}) must not exceed TRIAL_MS "
                         f"({p['TRIAL_MS']}): input spikes would fall after the trial")
    if window <= 4 * p["DT_MS"]:
        raise ParamError(f"INPUT_WINDOW_MS ({window}) must exceed 4 DT_MS ({4 * p['DT_MS']}): "
                         f"inputs are placed in [2 DT_MS, INPUT_WINDOW_MS - 2 DT_MS]")
    return float(window)


@lru_cache(maxsize=8)
def _split(size: int, seed: int):
    return generate_yinyang(size, seed)


class YinYangModel(Simulator):
    """Yin-Yang classification with EventProp (see module docstring)."""

    benchmark = "yinyang"
    n_classes = N_CLASS

    def load_split(self, split: str, p: Dict[str, Any]):
        size_key, seed_key = SPLITS[split]
        values, classes = _split(p[size_key], p[seed_key])
        return latency_encode(values, input_window(p), p["DT_MS"]), classes

    def input_plane(self, split: str, p: Dict[str, Any]):
        size_key, seed_key = SPLITS[split]
        return _split(p[size_key], p[seed_key])[0][:, :2]

    def network_spec(self, p: Dict[str, Any]) -> NetworkSpec:
        input_window(p)
        return network_spec(p, N_INPUT, N_CLASS, f"yinyang_h{p['NUM_HIDDEN']}")


#: Name of the original research code's class.
yinyang = YinYangModel

__all__ = ["p", "YinYangModel", "yinyang"]
