"""Yin-Yang benchmark (Kriener et al. 2021) trained with a first-spike loss.

Usage, as with the original research code::

    from genn_eventprop.simulators.yinyang import p, YinYangModel
    p["NUM_HIDDEN"] = 200
    res = YinYangModel(p).train_test(p)

Each sample's four coordinates (x, y, 1-x, 1-y) become one spike each, at
2 dt + value (TRIAL_MS - 4 dt), plus a bias spike at 2 dt (5 input neurons);
the three LIF outputs are read out by their first spikes.
"""
from __future__ import annotations

from functools import lru_cache
from typing import Any, Dict


from ..datasets.yinyang import generate_yinyang, latency_encode
from ..network import NetworkSpec
from ..params import defaults
from ..params.mapping import network_spec
from .base import Simulator

N_INPUT, N_CLASS = 5, 3
SPLITS = {"train": ("N_TRAIN", "TRAIN_DATA_SEED"),
          "validate": ("N_VALIDATE", "VALIDATE_DATA_SEED"),
          "test": ("N_TEST", "TEST_DATA_SEED")}

#: The default parameters (a fresh copy; edit it and pass it in, as in the original).
p = defaults("yinyang")


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
        return latency_encode(values, p["TRIAL_MS"], p["DT_MS"]), classes

    def input_plane(self, split: str, p: Dict[str, Any]):
        size_key, seed_key = SPLITS[split]
        return _split(p[size_key], p[seed_key])[0][:, :2]

    def network_spec(self, p: Dict[str, Any]) -> NetworkSpec:
        return network_spec(p, N_INPUT, N_CLASS, f"yinyang_h{p['NUM_HIDDEN']}")


#: Name of the original research code's class.
yinyang = YinYangModel

__all__ = ["p", "YinYangModel", "yinyang"]
