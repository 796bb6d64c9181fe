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
from ..network import HiddenLayer, NetworkSpec, WeightInit
from ..params import defaults
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
        hidden = [HiddenLayer(p["NUM_HIDDEN"], neuron=p["HIDDEN_NEURON_TYPE"],
                              recurrent=p["RECURRENT"], tau_m=p["TAU_MEM"],
                              tau_syn=p["TAU_SYN"], theta=p["V_THRESH"],
                              p_drop=p["PDROP_HIDDEN"], tau_B=p["TAU_B"], B_incr=p["B_INCR"],
                              noise=p["HIDDEN_NOISE"], train_tau=p["TRAIN_TAU"])
                  for _ in range(p["N_HID_LAYER"])]
        weights = {"in_h0": WeightInit(p["INPUT_HIDDEN_MEAN"], p["INPUT_HIDDEN_STD"]),
                   f"h{len(hidden) - 1}_out": WeightInit(p["HIDDEN_OUTPUT_MEAN"],
                                                         p["HIDDEN_OUTPUT_STD"])}
        for i in range(len(hidden)):
            if p["RECURRENT"]:
                weights[f"h{i}_h{i}"] = WeightInit(p["HIDDEN_HIDDEN_MEAN"],
                                                   p["HIDDEN_HIDDEN_STD"])
            if i > 0:
                weights[f"h{i - 1}_h{i}"] = WeightInit(p["HIDDEN_HIDDENFWD_MEAN"],
                                                       p["HIDDEN_HIDDENFWD_STD"])
        return NetworkSpec(
            n_input=N_INPUT, hidden=hidden, n_output=N_CLASS, loss=p["LOSS_TYPE"],
            dt=p["DT_MS"], n_steps=int(round(p["TRIAL_MS"] / p["DT_MS"])),
            batch_size=p["N_BATCH"], tau_m_out=p["TAU_MEM"], tau_syn_out=p["TAU_SYN"],
            theta_out=p["V_THRESH"], tau_0=p["TAU_0"], tau_1=p["TAU_1"], alpha=p["ALPHA"],
            weights=weights, seed=p["SEED"], n_max_spike=p["N_MAX_SPIKE"],
            p_drop_input=p["PDROP_INPUT"], learning_rate=p["ETA"],
            adam_beta1=p["ADAM_BETA1"], adam_beta2=p["ADAM_BETA2"], adam_epsilon=p["ADAM_EPS"],
            num_threads=p["NUM_THREADS"], train_w=p["TRAIN_W"],
            train_w_output=p["TRAIN_W_OUTPUT"], train_tau_output=p["TRAIN_TAU_OUTPUT"],
            min_tau_m=p["MIN_TAU_M"], min_tau_syn=p["MIN_TAU_SYN"],
            name=f"yinyang_h{p['NUM_HIDDEN']}")


#: Name of the original research code's class.
yinyang = YinYangModel

__all__ = ["p", "YinYangModel", "yinyang"]
