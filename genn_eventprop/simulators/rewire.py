"""REWIRE_SILENT, shared by the simulators whose original had it (SHD/SSC, SMNIST,
DVS gesture): after each epoch, hidden neurons that did not spike all epoch get
new input weights."""
from __future__ import annotations

from typing import Any, Dict

import numpy as np


def rewire_silent(p: Dict[str, Any], net, spike_totals: Dict[str, np.ndarray],
                  epoch: int) -> None:
    """The input weights of hidden neurons silent all epoch are raised by REWIRE_LIFT,
    or (REWIRE_LIFT 0) redrawn from the initial distribution with a fresh draw per
    epoch (seeded by TRAIN_DATA_SEED and the epoch, so a resumed run draws the same).
    Nothing happens without REWIRE_SILENT."""
    if not p["REWIRE_SILENT"]:
        return
    rng = np.random.default_rng([p["TRAIN_DATA_SEED"], 3, epoch])
    for layer in range(p["N_HID_LAYER"]):
        silent = spike_totals.get(f"h{layer}", np.zeros(0)) == 0
        if not silent.any():
            continue
        conn = "in_h0" if layer == 0 else f"h{layer - 1}_h{layer}"
        w = net.get_weights(conn)
        if p["REWIRE_LIFT"] != 0.0:
            w[:, silent] += p["REWIRE_LIFT"]
        else:
            mean, sd = ((p["INPUT_HIDDEN_MEAN"], p["INPUT_HIDDEN_STD"]) if layer == 0 else
                        (p["HIDDEN_HIDDENFWD_MEAN"], p["HIDDEN_HIDDENFWD_STD"]))
            w[:, silent] = rng.normal(mean, sd, (w.shape[0], int(silent.sum())))
        net.set_weights(conn, w)
