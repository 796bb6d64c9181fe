"""Input spikes as a host-computed schedule: the same emission rule as
``neurons.input_model``, worked out per spike instead of per neuron and step.

``input_model`` updates every input neuron in every step of both passes, so its
cost grows with inputs x steps. With the engine's spike schedule
(``NeuronGroup.enable_spike_schedule``) only the spikes cost work: the host
computes in which step each input spike is emitted and with which ``phi``, in
the model's floating-point precision so that the result is the same as the
neuron model's, and hands the steps to the engine for the forward pass and,
reversed, for the backward pass.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..engine import create_neuron_model


def input_events_model():
    """The scheduled input population: no dynamics; ``phi`` (the spike's offset in its
    step, a fraction of dt) is set by each scheduled spike for the synapses."""
    return create_neuron_model("EvpInputEvents", vars=[("phi", "scalar")])


@dataclass
class Emission:
    """Input spikes of one sample as the forward pass emits them, ordered by step, then
    id: ``steps`` (int64), ``ids`` (int64), ``phi`` (the model's precision);
    ``deferred``: spikes emitted after their own step (their neuron had already
    spiked in it); ``unemitted``: spikes deferred past the end of the trial."""
    steps: np.ndarray
    ids: np.ndarray
    phi: np.ndarray
    deferred: int
    unemitted: int

    def keep(self, mask: np.ndarray) -> "Emission":
        return Emission(self.steps[mask], self.ids[mask], self.phi[mask], self.deferred,
                        self.unemitted)


def emission(times: np.ndarray, ids: np.ndarray, order: np.ndarray, dt: float, n_steps: int,
             dtype) -> Emission:
    """When ``input_model`` emits each spike (times in ms; ``order``: the spikes sorted
    by neuron, then time).

    Step n spans [t_n, t_n + dt) with t_n = n dt (rounded to ``dtype`` as the kernel
    does). A spike at s is due in the first step with s < t_n + dt; a neuron emits
    one spike per step, so a spike due while its neuron's earlier spike is still
    pending waits for the next free step: e_k = max(due_k, e_(k-1) + 1). It carries
    phi = max((s - t_e) / dt, 0) (0 when deferred).
    """
    dtype = np.dtype(dtype)
    dt_c = dtype.type(dt)
    s = np.asarray(times, dtype=np.float64)[order].astype(dtype)
    nid = np.asarray(ids, dtype=np.int64)[order]

    def t_of(n):
        return (n.astype(np.float64) * np.float64(dt_c)).astype(dtype)

    def end_of(n):
        return t_of(n) + dt_c

    due = np.maximum(np.floor(s.astype(np.float64) / np.float64(dt_c)), 0).astype(np.int64)
    for _ in range(4):          # float rounding may put the boundary a step either way
        later = s >= end_of(due)
        earlier = (due > 0) & (s < end_of(np.maximum(due - 1, 0)))
        if not (later.any() or earlier.any()):
            break
        due = due + later - earlier
    emitted = _with_deferral(due, nid)
    t_e = t_of(emitted)
    deferred_flags = s < t_e
    phi = np.maximum((s - t_e) / dt_c, dtype.type(0.0))
    inside = emitted < n_steps
    by_step = np.lexsort((nid[inside], emitted[inside]))
    return Emission(emitted[inside][by_step], nid[inside][by_step],
                    phi[inside][by_step].astype(dtype), int(deferred_flags[inside].sum()),
                    int((~inside).sum()))


def _with_deferral(due: np.ndarray, nid: np.ndarray) -> np.ndarray:
    """e_k = max(due_k, e_(k-1) + 1) within each neuron's run of spikes (in time order):
    e_k = k + max_(j <= k) (due_j - j), with k the rank inside the neuron's run."""
    if due.size == 0:
        return due
    first = np.concatenate(([True], nid[1:] != nid[:-1]))
    run_start = np.maximum.accumulate(np.where(first, np.arange(due.size), 0))
    rank = np.arange(due.size) - run_start
    # A per-run offset larger than any due - rank keeps the running maximum inside a run.
    shift = np.cumsum(first) * (int(due.max()) + due.size + 1)
    best = np.maximum.accumulate(due - rank + shift) - shift
    return rank + best


def backward_schedule(em: Emission, n_steps: int):
    """(step, ids, phi) of the backward pass: a spike emitted in forward step e is
    replayed in backward step n_steps - 2 - e (``snippets.backward_event``); spikes of
    the last step reach no neuron within the trial and are not replayed. Ordered by
    step, then id."""
    live = em.steps <= n_steps - 2
    steps = (n_steps - 2 - em.steps[live])
    order = np.argsort(steps, kind="stable")
    return steps[order], em.ids[live][order], em.phi[live][order]
