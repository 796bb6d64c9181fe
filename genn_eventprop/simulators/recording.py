"""Recording of spikes, neuron variables, synapse variables and weights at chosen
``[epoch, trial]`` pairs of training (``REC_*_EPOCH_TRIAL``, ``W_OUTPUT_EPOCH_TRIAL``,
``W_EPOCH_INTERVAL``/``W_REPORT_INTERVAL``), saved to ``NAME_recordings.npz``.

``trial`` is the index (from 0) of the training mini-batch within the epoch;
every sample of that batch is recorded. Array names:

- ``spikes/<pop>/e<E>_t<T>/times``, ``.../ids``, ``.../samples``: every spike of
  the batch (ms, neuron, index of the sample in the batch), ordered by sample
  then time;
- ``neurons/<pop>/<var>/e<E>_t<T>``: steps x batch x neurons, after each step;
- ``synapses/<syn>/<var>/e<E>_t<T>``: pre x post, end of the trial;
- ``weights/<syn>/e<E>_t<T>``: pre x post, after the Adam step.

Names and pairs are checked before a run starts (``check_recording``): a pair
outside the run or an unknown population, connection or variable is an error.
"""
from __future__ import annotations

import math
import os
from typing import Callable, Dict, List, Optional

import numpy as np

from ..network import NetworkSpec, connection_variables, population_variables
from ..params import ParamError

POPULATIONS = {"input": "input", "hidden": "h0", "output": "out"}
WHEN_KEYS = ("REC_SPIKES_EPOCH_TRIAL", "REC_NEURONS_EPOCH_TRIAL", "REC_SYNAPSES_EPOCH_TRIAL",
             "W_OUTPUT_EPOCH_TRIAL")


def synapse_names(n_hidden_layers: int) -> Dict[str, str]:
    """The original's synapse population names -> connection names of the network."""
    last = f"h{n_hidden_layers - 1}"
    return {"in_to_hid": "in_h0", "hid_to_hid": "h0_h0", "hid_to_out": f"{last}_out"}


def check_recording(p, spec: NetworkSpec, n_train: int, what: str = "training") -> None:
    """Raise ParamError for recording settings that would record nothing or fail late.

    ``n_train``: training samples per epoch of the run (``what`` names it).
    """
    n_batches = math.ceil(n_train / p["N_BATCH"])
    for key in WHEN_KEYS:
        for epoch, trial in p.get(key, []):
            if epoch >= p["N_EPOCH"] or trial >= n_batches:
                raise ParamError(
                    f"{key}: [{epoch}, {trial}] lies outside the run: epochs 0..{p['N_EPOCH'] - 1}"
                    f", trials (mini-batches of the epoch) 0..{n_batches - 1} ({n_train} "
                    f"{what} samples in batches of {p['N_BATCH']})")
    pop_vars = population_variables(spec)
    for pop, var in p.get("REC_NEURONS", []):
        valid = pop_vars[POPULATIONS[pop]]
        if var not in valid:
            raise ParamError(f"REC_NEURONS: population '{pop}' has no variable '{var}'; "
                             f"valid: {', '.join(valid)}")
    syn_vars = connection_variables(spec)
    names = {k: v for k, v in synapse_names(len(spec.hidden)).items() if v in syn_vars}
    for syn, var in p.get("REC_SYNAPSES", []):
        if syn not in names:
            raise ParamError(f"REC_SYNAPSES: synapse population '{syn}' does not exist in this "
                             f"network; valid: {', '.join(names)}")
        if var not in syn_vars[names[syn]]:
            raise ParamError(f"REC_SYNAPSES: '{syn}' has no variable '{var}'; valid: "
                             f"{', '.join(syn_vars[names[syn]])}")


class Recorder:
    """Collects the recordings of one training run (see module docstring)."""

    def __init__(self, p, net, previous: Optional[str] = None):
        self.p = p
        self.net = net
        self.arrays: Dict[str, np.ndarray] = {}
        if previous is not None and os.path.exists(previous):
            # A resumed run keeps what its first part recorded.
            with np.load(previous) as data:
                self.arrays = {k: data[k] for k in data.files}
        self.syn = synapse_names(p.get("N_HID_LAYER", 1))
        self._neuron_trace = None
        self._when = {key: {tuple(x) for x in p.get(key, [])} for key in WHEN_KEYS}

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

    def after(self, epoch: int, trial: int, n_samples: int) -> None:
        """Store what is due after training trial ``trial`` (``n_samples`` in the batch)."""
        tag = f"e{epoch}_t{trial}"
        if self._neuron_trace is not None:
            for (pop, var), values in self._neuron_trace[2].items():
                self.arrays[f"neurons/{pop}/{var}/{tag}"] = np.stack(values)[:, :n_samples]
            self._neuron_trace = None
        if self.p["REC_SPIKES"] and self._due("REC_SPIKES_EPOCH_TRIAL", epoch, trial):
            for pop in self.p["REC_SPIKES"]:
                self._spikes(pop, tag, n_samples)
        if self.p["REC_SYNAPSES"] and self._due("REC_SYNAPSES_EPOCH_TRIAL", epoch, trial):
            for syn, var in self.p["REC_SYNAPSES"]:
                self.arrays[f"synapses/{syn}/{var}/{tag}"] = self._synapse_var(syn, var)
        if self._weights_due(epoch, trial):
            for syn, name in self.syn.items():
                if name in self.net.connections:
                    self.arrays[f"weights/{syn}/{tag}"] = self.net.get_weights(name)

    def _spikes(self, pop: str, tag: str, n_samples: int) -> None:
        times: List[np.ndarray] = []
        ids: List[np.ndarray] = []
        samples: List[np.ndarray] = []
        for b in range(n_samples):
            t, i = self.net.spikes(POPULATIONS[pop], b)
            times.append(t)
            ids.append(i)
            samples.append(np.full(t.size, b, dtype=np.int64))
        self.arrays[f"spikes/{pop}/{tag}/times"] = np.concatenate(times)
        self.arrays[f"spikes/{pop}/{tag}/ids"] = np.concatenate(ids)
        self.arrays[f"spikes/{pop}/{tag}/samples"] = np.concatenate(samples)

    def _weights_due(self, epoch, trial) -> bool:
        interval = self.p.get("W_EPOCH_INTERVAL", 0)
        periodic = (interval > 0 and epoch % interval == 0
                    and trial % self.p.get("W_REPORT_INTERVAL", 1) == 0)
        return periodic or self._due("W_OUTPUT_EPOCH_TRIAL", epoch, trial)

    def _synapse_var(self, syn, var) -> np.ndarray:
        sg = self.net.synapses[self.syn[syn]]
        v = np.array(sg.vars[var].view, dtype=np.float64)
        return v.reshape(-1, sg.src.size, sg.trg.size).squeeze(0) if v.size % (
            sg.src.size * sg.trg.size) == 0 else v

    def save(self, out) -> None:
        if self.arrays and self.p["WRITE_TO_DISK"]:
            out.recordings(self.arrays)
