"""Hidden spike-count regularisers of the original EventProp code.

A regulariser turns the spike counts of one hidden population in the trial
being back-propagated into ``reg_drive``: an amount added to lambda_V = dL/dV
(natural adjoint, per sample) at each of the neuron's spikes in the backward
pass. In the original's scaled adjoint (lambda_orig = -lambda/tau_m, divided
by the batch size) this is ``lambda_V -= LBD * (n - NU_UPPER) / N_batch`` at a
backward spike. It is a heuristic drive, not the gradient of a loss.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Dict

import numpy as np


@dataclass(frozen=True)
class RegParams:
    """LBD_UPPER/LBD_LOWER: stiffness above/below NU_UPPER spikes per trial;
    AVG_SNSUM: use each neuron's batch-mean count; RHO_UPPER, GLB_UPPER: the
    Thomas1 population term (total spikes per sample above RHO_UPPER)."""
    lbd_upper: float = 2e-9
    lbd_lower: float = 2e-9
    nu_upper: float = 14.0
    avg_snsum: bool = False
    rho_upper: float = 10000.0
    glb_upper: float = 1e-8


def _neuron_term(counts: np.ndarray, p: RegParams) -> np.ndarray:
    """LBD (n - NU_UPPER), LBD = LBD_UPPER above the target, LBD_LOWER below."""
    n = counts.mean(axis=0, keepdims=True).repeat(counts.shape[0], 0) if p.avg_snsum else counts
    lbd = np.where(n > p.nu_upper, p.lbd_upper, p.lbd_lower)
    return lbd * (n - p.nu_upper)


def none(counts, tau_m, p: RegParams) -> np.ndarray:
    return np.zeros(counts.shape)


def simple(counts, tau_m, p: RegParams) -> np.ndarray:
    """tau_m LBD (n - NU_UPPER) per neuron."""
    return tau_m * _neuron_term(counts, p)


def thomas1(counts, tau_m, p: RegParams) -> np.ndarray:
    """``simple`` plus tau_m GLB_UPPER max(C - RHO_UPPER, 0)/N, C = spikes of the
    population in the sample (the original's intended Thomas1 term)."""
    total = counts.sum(axis=1, keepdims=True)
    glob = p.glb_upper * np.maximum(total - p.rho_upper, 0.0) / counts.shape[1]
    return tau_m * (_neuron_term(counts, p) + glob)


REGULARISERS: Dict[str, Callable] = {"none": none, "simple": simple, "Thomas1": thomas1}


def get_regulariser(name: str) -> Callable:
    if name not in REGULARISERS:
        raise ValueError(f"unknown regulariser '{name}'; valid: {', '.join(REGULARISERS)}")
    return REGULARISERS[name]
