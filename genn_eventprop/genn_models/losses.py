"""Loss functions of the original EventProp code, as pieces of output-neuron code.

Each loss says which output neuron it needs (non-spiking ``LI`` or spiking
``LIF``), how the forward pass builds the per-class ``score`` that goes into the
softmax, and how the backward pass is driven (``docs/eventprop.md``). The
registry ``LOSSES`` is the only place that knows the names.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Dict, Optional, Tuple

import numpy as np


@dataclass(frozen=True)
class Loss:
    """One loss.

    ``kind``: ``"LI"`` (voltage-based) or ``"LIF"`` (first-spike based).
    LI losses: ``weight`` is a C expression of ``u`` (= t_n/trial_t) or the
    sample index ``n`` weighting the voltage samples of a sum-type score, or
    None for the max score; ``per_step`` losses drive the adjoint with the
    softmax of the voltages at every sample (their score, the mean voltage,
    only gives the prediction). ``egps``: arrays the output model needs.
    LIF losses: ``g`` is the ALPHA term's time function g(t, trial_t, tau_1)
    (numpy, for the loss value) and ``g_prime`` its derivative as a C
    expression of ``tf`` (for the adjoint, and the phantom drive applied when
    the correct output is silent).
    """
    name: str
    kind: str
    weight: Optional[str] = None
    g_prime: Optional[str] = None
    doc: str = ""
    g: Optional[Callable] = None
    per_step: bool = False
    egps: Tuple[Tuple[str, str], ...] = ()

    @property
    def is_max(self) -> bool:
        return self.kind == "LI" and self.weight is None and not self.per_step


LOSSES: Dict[str, Loss] = {
    "sum": Loss("sum", "LI", "1.0", doc="mean voltage over the trial"),
    "sum_weigh_linear": Loss("sum_weigh_linear", "LI", "(1.0 - u)",
                             doc="mean voltage weighted by 1 - t/trial_t"),
    "sum_weigh_exp": Loss("sum_weigh_exp", "LI", "exp(-u)",
                          doc="mean voltage weighted by exp(-t/trial_t)"),
    "sum_weigh_sigmoid": Loss("sum_weigh_sigmoid", "LI", "(1.0 / (1.0 + exp((u - 0.5) / 0.2)))",
                              doc="mean voltage weighted by a falling sigmoid of t/trial_t"),
    "max": Loss("max", "LI", None, doc="maximum voltage over the trial"),
    "sum_weigh_input": Loss(
        "sum_weigh_input", "LI", "input_weight[(size_t)batch * (size_t)n_steps + n - 1]",
        doc="mean voltage weighted by the low-pass filtered input activity a(t)",
        egps=(("input_weight", "scalar*"),)),
    "avg_xentropy": Loss("avg_xentropy", "LI", "1.0", per_step=True,
                         doc="cross-entropy of softmax(V(t)) averaged over the trial",
                         egps=(("tape_Vout", "scalar*"),)),
    "first_spike": Loss("first_spike", "LIF",
                        g_prime="(1.0 / ((1.01 * trial_t - tf) * (1.01 * trial_t - tf)))",
                        doc="softmax of -t_first/TAU_0 plus ALPHA/(1.01 trial_t - t_first)",
                        g=lambda t, trial_t, tau_1: 1.0 / (1.01 * trial_t - t)),
    "first_spike_exp": Loss("first_spike_exp", "LIF", g_prime="(exp(tf / tau_1) / tau_1)",
                            doc="softmax of -t_first/TAU_0 plus ALPHA exp(t_first/TAU_1)",
                            g=lambda t, trial_t, tau_1: np.exp(t / tau_1)),
}

def get_loss(name: str) -> Loss:
    """The registered loss ``name``; an unknown name lists the valid ones."""
    if name in LOSSES:
        return LOSSES[name]
    raise ValueError(f"unknown loss '{name}'; valid losses: {', '.join(LOSSES)}")
