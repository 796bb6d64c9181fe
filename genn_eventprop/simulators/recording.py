"""Recording of spikes, neuron variables, synapse variables and weights at chosen
``[epoch, trial]`` pairs of training (``REC_*_EPOCH_TRIAL``, ``W_OUTPUT_EPOCH_TRIAL``,
``W_EPOCH_INTERVAL``/``W_REPORT_INTERVAL``), saved to ``NAME_recordings.npz``.

Array names: ``spikes/<pop>/e<E>_t<T>/times`` and ``.../ids`` (sample 0 of the
batch, ms), ``neurons/<pop>/<var>/e<E>_t<T>`` (steps x batch x neurons, after
each step), ``synapses/<syn>/<var>/e<E>_t<T>`` (pre x post, end of the trial),
``weights/<syn>/e<E>_t<T>`` (pre x post, after the Adam step).
"""
from __future__ import annotations

from typing import Callable, Dict, Optional

import numpy as np

POPULATIONS = {"input": "input", "hidden": "h0", "output": "out"}


def synapse_names(n_hidden_layers: int) -> Dict[str, str]:
    """The original's synapse population names -> connection names of the network."""
    last = f"h{n_hidden_layers - 1}"
    return {"in_to_hid": "in_h0", "hid_to_hid": "h0_h0", "hid_to_out": f"{last}_out"}


class Recorder:
    def __init__(self, p, net):
        self.p = p
        self.net = net
        self.arrays: Dict[str, np.ndarray] = {}
        self.syn = synapse_names(p.get("N_HID_LAYER", 1))
        self._neuron_trace = None
        self._when = {key: {tuple(x) for x in p.get(key, [])}
                      for key in ("REC_SPIKES_EPOCH_TRIAL", "REC_NEURONS_EPOCH_TRIAL",
                                  "REC_SYNAPSES_EPOCH_TRIAL", "W_OUTPUT_EPOCH_TRIAL")}
        for syn, _ in p["REC_SYNAPSES"]:
            if self.syn[syn] not in net.connections:
                raise ValueError(f"REC_SYNAPSES: '{syn}' does not exist in this network "
                                 f"(valid: {[k for k, v in self.syn.items() if v in net.connections]})")

    def _due(self, key, epoch, trial) -> bool:
        return (epoch, trial) in self._when[key]

    def before(self, epoch: int, trial: int) -> Optional[Callable[[int], None]]:
        """The per-step hook for this trial, if neuron variables are recorded now."""
        if not (self.p["REC_NEURONS"] and self._due("REC_NEURONS_EPOCH_TRIAL", epoch, trial)):
            return None
        trace = {(pop, var): [] for pop, var in self.p["REC_NEURONS"]}
        self._neuron_trace = (epoch, trial, trace)

        def hook(step):
            for (pop, var), values in trace.items():
                values.append(self.net.variable(POPULATIONS[pop], var))
        return hook

    def after(self, epoch: int, trial: int, result) -> None:
        tag = f"e{epoch}_t{trial}"
        if self._neuron_trace is not None:
            for (pop, var), values in self._neuron_trace[2].items():
                self.arrays[f"neurons/{pop}/{var}/{tag}"] = np.stack(values)
            self._neuron_trace = None
        if self.p["REC_SPIKES"] and self._due("REC_SPIKES_EPOCH_TRIAL", epoch, trial):
            for pop in self.p["REC_SPIKES"]:
                times, ids = self.net.spikes(POPULATIONS[pop], 0)
                self.arrays[f"spikes/{pop}/{tag}/times"] = times
                self.arrays[f"spikes/{pop}/{tag}/ids"] = ids
        if self.p["REC_SYNAPSES"] and self._due("REC_SYNAPSES_EPOCH_TRIAL", epoch, trial):
            for syn, var in self.p["REC_SYNAPSES"]:
                self.arrays[f"synapses/{syn}/{var}/{tag}"] = self._synapse_var(syn, var)
        if self._weights_due(epoch, trial):
            for syn, name in self.syn.items():
                if name in self.net.connections:
                    self.arrays[f"weights/{syn}/{tag}"] = self.net.get_weights(name)

    def _weights_due(self, epoch, trial) -> bool:
        interval = self.p.get("W_EPOCH_INTERVAL", 0)
        periodic = (interval > 0 and epoch % interval == 0
                    and trial % self.p.get("W_REPORT_INTERVAL", 1) == 0)
        return periodic or self._due("W_OUTPUT_EPOCH_TRIAL", epoch, trial)

    def _synapse_var(self, syn, var) -> np.ndarray:
        sg = self.net.synapses[self.syn[syn]]
        if var not in sg.vars:
            raise ValueError(f"REC_SYNAPSES: '{syn}' has no variable '{var}'; valid: "
                             f"{', '.join(sg.vars)}")
        v = np.array(sg.vars[var].view, dtype=np.float64)
        return v.reshape(-1, sg.src.size, sg.trg.size).squeeze(0) if v.size % (
            sg.src.size * sg.trg.size) == 0 else v

    def save(self, out) -> None:
        if self.arrays and self.p["WRITE_TO_DISK"]:
            out.recordings(self.arrays)
