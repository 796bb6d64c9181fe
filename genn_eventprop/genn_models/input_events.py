"""Input spikes as a host-computed schedule: the same emission rule as
``neurons.input_model``, worked out per spike instead of per neuron and step.

``input_model`` updates every input neuron in every step of both passes, so its
cost grows with inputs x steps. With the engine's spike schedule
(``NeuronGroup.enable_spike_schedule``) only the spikes cost work: the host
computes in which step each input spike is emitted and with which ``phi``, in
the model's floating-point precision so that the result is the same as the
neuron model's, and hands the steps to the engine for the forward pass and,
reversed, for the backward pass. A whole batch is worked out at once.
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
    """Input spikes of a batch as the forward pass emits them, ordered by batch member,
    step, then id: ``member``, ``steps``, ``ids`` (int64), ``phi`` (the model's
    precision); per member, ``deferred`` (spikes emitted after their own step: their
    neuron had already spiked in it) and ``unemitted`` (deferred past the trial end)."""
    member: np.ndarray
    steps: np.ndarray
    ids: np.ndarray
    phi: np.ndarray
    deferred: np.ndarray
    unemitted: np.ndarray
    batch_size: int
    n_ids: int

    def keep(self, mask: np.ndarray) -> "Emission":
        return Emission(self.member[mask], self.steps[mask], self.ids[mask], self.phi[mask],
                        self.deferred, self.unemitted, self.batch_size, self.n_ids)

    def counts(self) -> np.ndarray:
        """Emitted spikes per member and neuron, shape (batch_size, n_ids)."""
        flat = np.bincount(self.member * self.n_ids + self.ids,
                           minlength=self.batch_size * self.n_ids)
        return flat.reshape(self.batch_size, self.n_ids)

    def schedule(self, backward: bool, n_steps: int):
        """(offsets (batch_size, rows + 1), ids, phi) for ``push_spike_schedule``: the
        forward emission (n_steps rows), or the backward replay (n_steps + 1 rows): a
        spike emitted in forward step e is replayed in backward step n_steps - 2 - e
        (``snippets.backward_event``); spikes of the last step reach no neuron within
        the trial and are not replayed."""
        if backward:
            live = self.steps <= n_steps - 2
            member, ids, phi = self.member[live], self.ids[live], self.phi[live]
            fwd = self.steps[live]
            steps, rows = n_steps - 2 - fwd, n_steps + 1
            # The forward order is (member, step, id); the backward one reverses the steps
            # and keeps the ids of a step in order: move whole blocks, no sort.
            full, offsets = self._row_starts(member, steps, rows)
            key = member * n_steps + fwd
            first = np.concatenate(([True], key[1:] != key[:-1])) if key.size else key.astype(bool)
            index = np.arange(key.size)
            rank = index - np.maximum.accumulate(np.where(first, index, 0))
            where = full[member * rows + steps] + rank
            ids_b, phi_b = np.empty_like(ids), np.empty_like(phi)
            ids_b[where], phi_b[where] = ids, phi
            return offsets, ids_b, phi_b
        return self._row_starts(self.member, self.steps, n_steps)[1], self.ids, self.phi

    def _row_starts(self, member, steps, rows):
        """(start of every (member, step) row in the flat order, the same as offsets of
        shape (batch_size, rows + 1))."""
        per_row = np.bincount(member * rows + steps, minlength=self.batch_size * rows)
        full = np.concatenate(([0], np.cumsum(per_row)))
        return full, full[np.arange(self.batch_size)[:, None] * rows + np.arange(rows + 1)]


def emission(samples, batch_size: int, n_ids: int, dt: float, n_steps: int,
             dtype) -> Emission:
    """When ``input_model`` emits each spike of a batch (``samples``: each member's
    spike times in ms and neuron ids).

    Step n spans [t_n, t_n + dt) with t_n = n dt (rounded to ``dtype`` as the kernel
    does). A spike at s is due in the first step with s < t_n + dt; a neuron emits
    one spike per step, in time order, so a spike due while its neuron's earlier
    spike is still pending waits for the next free step: e_k = max(due_k,
    e_(k-1) + 1). It carries phi = max((s - t_e) / dt, 0) (0 when deferred).
    """
    dtype = np.dtype(dtype)
    fast = _emit_batch_without_deferral(samples, batch_size, n_ids, dt, n_steps, dtype)
    if fast is not None:
        return fast
    parts = [_emit_one(t, i, n_ids, dt, n_steps, dtype) for t, i in samples]
    sizes = [p[0].size for p in parts]
    return Emission(np.repeat(np.arange(len(parts)), sizes),
                    _join([p[0] for p in parts], np.int64), _join([p[1] for p in parts], np.int64),
                    _join([p[2] for p in parts], dtype),
                    np.array([p[3] for p in parts] + [0] * (batch_size - len(parts))),
                    np.array([p[4] for p in parts] + [0] * (batch_size - len(parts))),
                    batch_size, n_ids)


def _emit_batch_without_deferral(samples, batch_size, n_ids, dt, n_steps, dtype):
    """The whole batch in one pass when no neuron has two spikes due in one step (binned
    data, single-spike codes): every spike is emitted in its due step. None otherwise."""
    sizes = [np.size(t) for t, _ in samples]
    t64 = _join([np.asarray(t, dtype=np.float64).reshape(-1) for t, _ in samples], np.float64)
    nid = _join([np.asarray(i).reshape(-1) for _, i in samples], np.int64)
    member = np.repeat(np.arange(len(samples)), sizes)
    s = t64.astype(dtype)
    due = _due_steps(s, dtype.type(dt), dtype)
    key = (member * (n_steps + 1) + np.minimum(due, n_steps)) * n_ids + nid
    order = np.argsort(key)
    key = key[order]
    if key.size and np.any(key[1:] == key[:-1]):
        return None
    member, emitted, nid = member[order], due[order], nid[order]
    phi, deferred = _carried(s[order], emitted, dtype.type(dt), dtype)
    inside = emitted < n_steps
    return Emission(member[inside], emitted[inside], nid[inside], phi[inside].astype(dtype),
                    np.bincount(member[inside & deferred], minlength=batch_size),
                    np.bincount(member[~inside], minlength=batch_size), batch_size, n_ids)


def _carried(s, emitted, dt_c, dtype):
    """(phi, deferred) of spikes at times s emitted in steps ``emitted``: phi = max((s -
    t_e)/dt, 0), and whether the spike came after its own step (s < t_e)."""
    t_e = _t_of(emitted, dt_c, dtype)
    return np.maximum((s - t_e) / dt_c, dtype.type(0.0)), s < t_e


def _t_of(n, dt_c, dtype):
    """t_n = n dt as the kernel computes it ((double)n * dt, rounded to the scalar type)."""
    return (n.astype(np.float64) * np.float64(dt_c)).astype(dtype)


def _due_steps(s, dt_c, dtype):
    """The first step n with s < t_n + dt, in the kernel's arithmetic."""
    def end_of(n):
        return _t_of(n, dt_c, dtype) + dt_c

    due = np.maximum(np.floor(s.astype(np.float64) / np.float64(dt_c)), 0).astype(np.int64)
    for _ in range(4):          # float rounding may put the boundary a step either way
        later = s >= end_of(due)
        earlier = (due > 0) & (s < end_of(np.maximum(due - 1, 0)))
        if not (later.any() or earlier.any()):
            break
        due = due + later - earlier
    return due


def _join(arrays, dtype):
    return np.concatenate(arrays).astype(dtype, copy=False) if arrays else np.zeros(0, dtype)


def _emit_one(times, ids, n_ids, dt, n_steps, dtype):
    """(steps, ids, phi, deferred, unemitted) of one sample, ordered by step, then id."""
    dt_c = dtype.type(dt)
    t64 = np.asarray(times, dtype=np.float64)
    s = t64.astype(dtype)
    nid = np.asarray(ids, dtype=np.int64)
    due = _due_steps(s, dt_c, dtype)
    key = due * n_ids + nid
    order = np.argsort(key)
    sorted_key = key[order]
    if sorted_key.size and np.any(sorted_key[1:] == sorted_key[:-1]):
        # A neuron has several spikes due in one step: defer in time order, re-sort.
        order = by_neuron_then_time(t64, nid, n_ids)
        emitted = _with_deferral(due[order], nid[order])
        by_step = np.argsort(emitted * n_ids + nid[order])     # unique after deferral
        order, emitted = order[by_step], emitted[by_step]
    else:
        emitted = due[order]
    nid = nid[order]
    phi, deferred = _carried(s[order], emitted, dt_c, dtype)
    inside = emitted < n_steps
    return (emitted[inside], nid[inside], phi[inside], int((inside & deferred).sum()),
            int((~inside).sum()))


def by_neuron_then_time(times: np.ndarray, ids: np.ndarray, n_ids: int) -> np.ndarray:
    """Order of spikes by neuron id, then time (as ``np.lexsort((times, ids))``).

    A vectorised sort of the times, then a stable radix sort of the ids (numpy
    sorts 16-bit keys by radix): ~4x faster than lexsort on SHD-sized samples.
    Equal times of one neuron are interchangeable, so the first sort need not
    be stable.
    """
    by_time = np.argsort(times)
    key = ids[by_time].astype(np.uint16 if n_ids <= 1 << 16 else np.uint32)
    return by_time[np.argsort(key, kind="stable")]


def _with_deferral(due: np.ndarray, group: np.ndarray) -> np.ndarray:
    """e_k = max(due_k, e_(k-1) + 1) within each run of one neuron's spikes (in time
    order): e_k = k + max_(j <= k) (due_j - j), with k the rank inside the run."""
    if due.size == 0:
        return due
    first = np.concatenate(([True], group[1:] != group[:-1]))
    run_start = np.maximum.accumulate(np.where(first, np.arange(due.size), 0))
    rank = np.arange(due.size) - run_start
    # A per-run offset larger than any due - rank keeps the running maximum inside a run.
    shift = np.cumsum(first) * (int(due.max()) + due.size + 1)
    best = np.maximum.accumulate(due - rank + shift) - shift
    return rank + best
