"""Scheduled inputs (``NetworkSpec.event_driven_input``, the default) against the
``input_model`` neuron population they replace: the same spikes in the same steps
with the same phi, hence bit-identical scores, spike counts and gradients, in both
precisions, with spikes on step boundaries, several spikes of one neuron in a step
(deferred), spikes deferred past the trial end and delay lines."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

from genn_eventprop.genn_models.input_events import _with_deferral
from genn_eventprop.network import EventPropNetwork, HiddenLayer, NetworkSpec, WeightInit


def grid_sample(rng, dt, n_steps, n_input):
    """Binned data (as SHD's): at most one spike per neuron and step, on step starts."""
    cells = rng.choice(n_steps * n_input, 60, replace=False)
    return (cells // n_input) * dt, cells % n_input


def sample(rng, dt, n_steps, n_input):
    trial = n_steps * dt
    times = np.concatenate([
        rng.uniform(0.0, trial, 40),
        np.arange(1, 12) * dt,                       # on step boundaries (float64 k * dt)
        np.full(3, 5.2 * dt), np.full(2, 9.0 * dt),  # one neuron, same step: deferred
        trial - np.array([0.3, 0.2, 0.1]) * dt,      # last step: two deferred past the end
    ])
    ids = np.concatenate([rng.integers(0, n_input, 40), rng.integers(0, n_input, 11),
                          [2, 2, 2, 4, 4], [1, 1, 1]])
    return times, ids


@pytest.mark.parametrize("precision", ["float", "double"])
@pytest.mark.parametrize("dt,delay", [(0.1, 0), (0.5, 2)])
@pytest.mark.parametrize("binned", [False, True])
def test_scheduled_inputs_give_the_neuron_models_results_exactly(precision, dt, delay, binned):
    n_steps, n_input = 80, 6
    rng = np.random.default_rng(11)
    batch = [(grid_sample if binned else sample)(rng, dt, n_steps, n_input) for _ in range(3)]
    labels = [0, 2, 1]
    out = {}
    for event_driven in (True, False):
        spec = NetworkSpec(
            n_input=n_input, hidden=[HiddenLayer(10, recurrent=True)], n_output=3, loss="sum",
            dt=dt, n_steps=n_steps, batch_size=4, precision=precision, seed=3,
            n_input_delay=delay, input_delay=1.7, n_max_spike=100,
            weights={"in_h0": WeightInit(0.6, 0.4), "h0_h0": WeightInit(0.0, 0.3),
                     "h0_out": WeightInit(0.5, 0.5)},
            event_driven_input=event_driven, name=f"evin_{precision}_{int(dt * 10)}_{binned}_{event_driven}")
        net = EventPropNetwork(spec)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)   # the unemitted spikes
            res, grads = net.gradients(batch, labels)
        out[event_driven] = (res, grads, [net.spikes("input", b) for b in range(3)])
    (a, ga, sa), (b, gb, sb) = out[True], out[False]
    assert a.deferred_input_spikes == b.deferred_input_spikes
    assert a.unemitted_input_spikes == b.unemitted_input_spikes
    if not binned:
        assert a.deferred_input_spikes >= 3 * 4 and a.unemitted_input_spikes >= 3 * 2
    np.testing.assert_array_equal(a.scores, b.scores)
    for pop in b.spike_counts:
        np.testing.assert_array_equal(a.spike_counts[pop], b.spike_counts[pop])
    assert a.spike_counts["h0"].sum() > 0
    for key in gb:
        np.testing.assert_array_equal(ga[key], gb[key])
        assert np.any(gb[key] != 0)
    for (ta, ia), (tb, ib) in zip(sa, sb):
        np.testing.assert_array_equal(ia, ib)
        np.testing.assert_allclose(ta, tb, rtol=0, atol=1e-12)


def test_deferral_follows_the_rule():
    """e_k = max(due_k, e_(k-1) + 1) per neuron, against a plain loop."""
    rng = np.random.default_rng(4)
    nid = np.sort(rng.integers(0, 5, 200))
    due = np.concatenate([np.sort(rng.integers(0, 30, int((nid == n).sum()))) for n in range(5)])
    expected, last = [], {}
    for d, n in zip(due, nid):
        e = max(int(d), last.get(n, -1) + 1)
        last[n] = e
        expected.append(e)
    np.testing.assert_array_equal(_with_deferral(due, nid), expected)
