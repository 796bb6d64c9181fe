"""Shared helpers for the synapse and custom-update engine tests.

Nothing here uses engine internals: models are built through the public
PyGeNN 5 style API and reference results are computed with numpy.
"""
from __future__ import annotations

import numpy as np

import genn_eventprop.engine as pygenn

# Non-spiking "accumulator" neuron: ``acc`` integrates the total input, ``last``
# holds the input of the most recent step, ``x``/``y`` are free state that tests
# set from Python and read through neuron variable references.
ACC_NEURON = pygenn.create_neuron_model(
    "AccNeuron",
    vars=[("acc", "scalar"), ("last", "scalar"), ("x", "scalar"), ("y", "scalar")],
    sim_code="acc += Isyn;\nlast = Isyn;\n")


def acc_vars(n_batch_shape=None):
    """Initial values for ACC_NEURON (all zero)."""
    return {"acc": 0.0, "last": 0.0, "x": 0.0, "y": 0.0}


def random_spikes(rng, batch, steps, n, p):
    """Boolean (batch, steps, n) spike raster: spike of neuron i emitted in step n."""
    return rng.random((batch, steps, n)) < p


def spike_source_array_init(spikes, dt):
    """SpikeSourceArray ``startSpike``/``endSpike`` and ``spikeTimes`` for a raster.

    ``spikes`` is (batch, steps, n). Spike times are ``step * dt`` (exact binary
    fractions for dt = 0.5 or 1.0), laid out batch-major then neuron-major so that
    every (batch, neuron) owns the slice ``spikeTimes[start:end]``.
    Returns (start, end, times) with start/end of shape (batch, n).
    """
    batch, steps, n = spikes.shape
    start = np.zeros((batch, n), dtype=np.uint32)
    end = np.zeros((batch, n), dtype=np.uint32)
    times = []
    k = 0
    for b in range(batch):
        for i in range(n):
            st = np.nonzero(spikes[b, :, i])[0] * dt
            start[b, i] = k
            times.extend(st.tolist())
            k += st.size
            end[b, i] = k
    if not times:
        times = [1e9]
    return start, end, np.asarray(times, dtype=np.float64)


def add_spike_source(model, name, spikes):
    """Add a SpikeSourceArray population replaying ``spikes`` (batch, steps, n)."""
    start, end, times = spike_source_array_init(spikes, model.dt)
    if model.batch_size == 1:
        start, end = start[0], end[0]
    pop = model.add_neuron_population(name, spikes.shape[2], "SpikeSourceArray", {},
                                      {"startSpike": start, "endSpike": end})
    pop.extra_global_params["spikeTimes"].set_init_values(times)
    return pop


def batched(view, batch):
    """A variable view as (batch, n) whatever the batch size."""
    v = np.asarray(view)
    return v.reshape(batch, -1)


def sparse_dense_matrix(sg, var_name, n_pre, n_post, batch=None):
    """Dense (n_pre, n_post) matrix of a SPARSE synapse variable via the public API.

    Uses ``get_sparse_pre_inds``/``get_sparse_post_inds`` and ``.values``; for a
    batched variable pass ``batch`` to select one batch member.
    """
    pre = sg.get_sparse_pre_inds()
    post = sg.get_sparse_post_inds()
    vals = np.asarray(sg.vars[var_name].values)
    if batch is not None:
        vals = vals.reshape(-1, pre.size)[batch]
    W = np.zeros((n_pre, n_post), dtype=np.float64)
    W[pre, post] = vals
    return W


def tol(precision):
    """(rtol, atol) suited to accumulated sums of O(1) terms in a precision."""
    return (2e-5, 2e-5) if precision == "float" else (1e-12, 1e-12)
