"""The one mapping from a validated ``p`` to a network description, for every benchmark.

A benchmark says only how many input channels and classes it has (and the name
of its network); everything else comes from the common keys (``params.common``).
"""
from __future__ import annotations

from typing import Any, Dict

from ..genn_models.regularisers import RegParams
from ..network import HiddenLayer, NetworkSpec, WeightInit
from .spec import ParamError

FIRST_SPIKE_LOSSES = ("first_spike", "first_spike_exp")


def hidden_layers(p: Dict[str, Any]):
    """N_HID_LAYER identical hidden layers."""
    return [HiddenLayer(p["NUM_HIDDEN"], neuron=p["HIDDEN_NEURON_TYPE"], recurrent=p["RECURRENT"],
                        tau_m=p["TAU_MEM"], tau_syn=p["TAU_SYN"], theta=p["V_THRESH"],
                        p_drop=p["PDROP_HIDDEN"], tau_B=p["TAU_B"], B_incr=p["B_INCR"],
                        noise=p["HIDDEN_NOISE"], train_tau=p["TRAIN_TAU"])
            for _ in range(p["N_HID_LAYER"])]


def initial_weights(p: Dict[str, Any], n_layers: int) -> Dict[str, WeightInit]:
    """Normal initial weights of every connection from the *_MEAN/*_STD keys."""
    weights = {"in_h0": WeightInit(p["INPUT_HIDDEN_MEAN"], p["INPUT_HIDDEN_STD"]),
               f"h{n_layers - 1}_out": WeightInit(p["HIDDEN_OUTPUT_MEAN"],
                                                  p["HIDDEN_OUTPUT_STD"])}
    for i in range(n_layers):
        if p["RECURRENT"]:
            weights[f"h{i}_h{i}"] = WeightInit(p["HIDDEN_HIDDEN_MEAN"], p["HIDDEN_HIDDEN_STD"])
        if i > 0:
            weights[f"h{i - 1}_h{i}"] = WeightInit(p["HIDDEN_HIDDENFWD_MEAN"],
                                                   p["HIDDEN_HIDDENFWD_STD"])
    return weights


def regularisation(p: Dict[str, Any]) -> RegParams:
    return RegParams(lbd_upper=p["LBD_UPPER"], lbd_lower=p["LBD_LOWER"], nu_upper=p["NU_UPPER"],
                     avg_snsum=p["AVG_SNSUM"], rho_upper=p["RHO_UPPER"],
                     glb_upper=p["GLB_UPPER"])


def check_combinations(p: Dict[str, Any]) -> None:
    """Settings that are valid one by one but cannot be honoured together."""
    if p["LOSS_TYPE"] in FIRST_SPIKE_LOSSES and p["OUTPUT_NEURON_TYPE"] != "LI":
        raise ParamError(f"OUTPUT_NEURON_TYPE '{p['OUTPUT_NEURON_TYPE']}' applies to the voltage "
                         f"losses; LOSS_TYPE '{p['LOSS_TYPE']}' reads spiking LIF outputs "
                         "(leave OUTPUT_NEURON_TYPE at 'LI')")
    if p["PHANTOM_SOFTMAX"] and p["LOSS_TYPE"] not in FIRST_SPIKE_LOSSES:
        raise ParamError(f"PHANTOM_SOFTMAX drives silent spiking outputs of the first-spike "
                         f"losses; LOSS_TYPE '{p['LOSS_TYPE']}' has none (set "
                         "PHANTOM_SOFTMAX=false or a first-spike loss)")
    if round(p["TRIAL_MS"] / p["DT_MS"]) < 1 or abs(
            round(p["TRIAL_MS"] / p["DT_MS"]) * p["DT_MS"] - p["TRIAL_MS"]) > 1e-6 * p["TRIAL_MS"]:
        raise ParamError(f"TRIAL_MS ({p['TRIAL_MS']}) must be a whole number of time steps "
                         f"DT_MS ({p['DT_MS']})")


def network_spec(p: Dict[str, Any], n_input: int, n_output: int, name: str) -> NetworkSpec:
    """The network of a benchmark with ``n_input`` channels and ``n_output`` classes."""
    check_combinations(p)
    hidden = hidden_layers(p)
    tau_m_out = p["TAU_MEM"] if p["TAU_MEM_OUTPUT"] is None else p["TAU_MEM_OUTPUT"]
    return NetworkSpec(
        n_input=n_input, hidden=hidden, n_output=n_output, loss=p["LOSS_TYPE"],
        dt=p["DT_MS"], n_steps=int(round(p["TRIAL_MS"] / p["DT_MS"])), batch_size=p["N_BATCH"],
        tau_m_out=tau_m_out, tau_syn_out=p["TAU_SYN"], theta_out=p["V_THRESH"],
        tau_accumulator=p["TAU_ACCUMULATOR"], tau_0=p["TAU_0"], tau_1=p["TAU_1"],
        alpha=p["ALPHA"], phantom_softmax=p["PHANTOM_SOFTMAX"],
        weights=initial_weights(p, len(hidden)), seed=p["SEED"],
        n_max_spike=p["N_MAX_SPIKE"], p_drop_input=p["PDROP_INPUT"],
        n_input_delay=p["N_INPUT_DELAY"], input_delay=p["INPUT_DELAY"],
        learning_rate=p["ETA"], adam_beta1=p["ADAM_BETA1"], adam_beta2=p["ADAM_BETA2"],
        adam_epsilon=p["ADAM_EPS"], num_threads=p["NUM_THREADS"],
        output_neuron=p["OUTPUT_NEURON_TYPE"], train_w=p["TRAIN_W"],
        train_w_output=p["TRAIN_W_OUTPUT"], train_tau_output=p["TRAIN_TAU_OUTPUT"],
        min_tau_m=p["MIN_TAU_M"], min_tau_syn=p["MIN_TAU_SYN"], regulariser=p["REG_TYPE"],
        reg=regularisation(p), name=name)
