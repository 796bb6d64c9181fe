"""EventProp gradients of the generated kernels against finite differences.

For small networks and every loss, dL/dW from the backward pass agrees with
central differences of the forward loss (perturbations too small to add or
remove a spike, which is asserted). Also: recurrence, two hidden layers,
heterogeneous time constants, ALIF, dt convergence, batch of N vs N runs of
batch 1. The backward pass is the exact adjoint of the simulated (discrete)
model, so the agreement is limited only by the finite differences.
"""
from __future__ import annotations

import numpy as np
import pytest

from genn_eventprop.network import EventPropNetwork, HiddenLayer, NetworkSpec, WeightInit

EPS = 1e-6
TOL = 1e-4  # relative error (norm over the checked entries): the adjoint is exact


def make_batch(rng, n_samples, n_input, n_spikes, t_max):
    return [(rng.uniform(0.0, t_max, n_spikes), rng.integers(0, n_input, n_spikes))
            for _ in range(n_samples)]


def small_spec(loss, name, hidden=None, dt=0.05, trial_ms=30.0, batch_size=2, **kw):
    first = loss.startswith("first_spike")
    hidden = hidden or [HiddenLayer(4, tau_m=20.0, tau_syn=5.0)]
    weights = {"in_h0": WeightInit(1.5, 0.5)}
    for i in range(1, len(hidden)):
        weights[f"h{i - 1}_h{i}"] = WeightInit(0.8, 0.4)
    for i, h in enumerate(hidden):
        if h.recurrent:
            weights[f"h{i}_h{i}"] = WeightInit(0.0, 0.3)
    weights[f"h{len(hidden) - 1}_out"] = WeightInit(1.0, 0.5)
    return NetworkSpec(n_input=5, hidden=hidden, n_output=3, loss=loss, dt=dt,
                       n_steps=int(round((40.0 if first else trial_ms) / dt)),
                       batch_size=batch_size, precision="double", tau_0=2.0, alpha=0.01,
                       weights=weights, seed=3, name=name, **kw)


def fd_gradient(net, batch, labels, name, entries):
    """Central differences of the batch loss for the given (pre, post) entries."""
    ref = net.forward(batch, labels)
    W = net.get_weights(name)
    out = []
    for idx in entries:
        vals = []
        for sign in (1.0, -1.0):
            W2 = W.copy()
            W2[idx] += sign * EPS
            net.set_weights(name, W2)
            res = net.forward(batch, labels)
            for pop, counts in res.spike_counts.items():
                assert np.array_equal(counts, ref.spike_counts[pop]), \
                    f"perturbing {name}{idx} changed the spikes of {pop}"
            vals.append(res.loss)
        out.append((vals[0] - vals[1]) / (2.0 * EPS))
    net.set_weights(name, W)
    return np.array(out)


def check_gradients(net, batch, labels, n_entries=8, seed=0):
    res, grads = net.gradients(batch, labels)
    rng = np.random.default_rng(seed)
    errors = {}
    for name, g in grads.items():
        flat = rng.choice(g.size, size=min(n_entries, g.size), replace=False)
        entries = [np.unravel_index(i, g.shape) for i in flat]
        fd = fd_gradient(net, batch, labels, name, entries)
        ours = np.array([g[i] for i in entries])
        assert np.linalg.norm(fd) > 1e-6, f"{name}: finite differences vanish, test is void"
        errors[name] = np.linalg.norm(ours - fd) / np.linalg.norm(fd)
    assert all(e < TOL for e in errors.values()), errors
    return res, grads


@pytest.mark.parametrize("loss", ["sum", "sum_weigh_linear", "sum_weigh_exp",
                                  "sum_weigh_sigmoid", "sum_weigh_input", "max",
                                  "avg_xentropy", "first_spike", "first_spike_exp"])
def test_gradients_match_finite_differences(loss):
    net = EventPropNetwork(small_spec(loss, f"grad_{loss}"))
    batch = make_batch(np.random.default_rng(0), 2, 5, 20, 25.0)
    res, _ = check_gradients(net, batch, [0, 2])
    assert all(c.sum() > 0 for c in res.spike_counts.values())
    if loss.startswith("first_spike"):
        assert (res.first_spike_t > 0).all(), "every output must spike (no phantom drive)"


@pytest.mark.parametrize("loss", ["sum", "first_spike"])
def test_recurrent_gradients(loss):
    spec = small_spec(loss, f"grad_rec_{loss}",
                      hidden=[HiddenLayer(4, tau_m=20.0, tau_syn=5.0, recurrent=True)])
    net = EventPropNetwork(spec)
    batch = make_batch(np.random.default_rng(1), 2, 5, 20, 25.0)
    _, grads = check_gradients(net, batch, [1, 0])
    assert np.abs(grads["h0_h0"]).max() > 0


def test_two_hidden_layers_and_het_time_constants():
    hidden = [HiddenLayer(4, tau_m=20.0, tau_syn=5.0),
              HiddenLayer(4, neuron="hetLIF", tau_m=15.0, tau_syn=4.0)]
    spec = small_spec("sum", "grad_two_layers", hidden=hidden)
    net = EventPropNetwork(spec)
    batch = make_batch(np.random.default_rng(2), 2, 5, 25, 25.0)
    res, grads = check_gradients(net, batch, [2, 1])
    assert res.spike_counts["h1"].sum() > 0
    assert set(grads) == {"in_h0", "h0_h1", "h1_out"}


@pytest.mark.parametrize("loss", ["sum", "first_spike"])
def test_alif_gradients(loss):
    hidden = [HiddenLayer(4, neuron="ALIF", tau_m=20.0, tau_syn=5.0, tau_B=30.0, B_incr=0.3,
                          recurrent=True)]
    net = EventPropNetwork(small_spec(loss, f"grad_alif_{loss}", hidden=hidden))
    batch = make_batch(np.random.default_rng(6), 2, 5, 25, 25.0)
    res, grads = check_gradients(net, batch, [2, 1])
    assert res.spike_counts["h0"].sum() > 0 and np.abs(grads["h0_h0"]).max() > 0


def test_gradients_converge_when_dt_halves():
    batch = make_batch(np.random.default_rng(3), 2, 5, 20, 25.0)
    grads = {}
    for dt in (0.1, 0.05, 0.025):
        net = EventPropNetwork(small_spec("sum", f"grad_dt_{dt}".replace(".", "p"), dt=dt))
        grads[dt] = net.gradients(batch, [0, 1])[1]["in_h0"]
    d1 = np.linalg.norm(grads[0.1] - grads[0.025])
    d2 = np.linalg.norm(grads[0.05] - grads[0.025])
    assert d2 < d1 and d2 < 0.05 * np.linalg.norm(grads[0.025])


def test_batch_equals_mean_of_single_runs():
    batch = make_batch(np.random.default_rng(4), 3, 5, 20, 25.0)
    labels = [0, 1, 2]
    big = EventPropNetwork(small_spec("sum", "grad_batch3", batch_size=3))
    one = EventPropNetwork(small_spec("sum", "grad_batch1", batch_size=1))
    for name in big.connections:
        one.set_weights(name, big.get_weights(name))
    res, grads = big.gradients(batch, labels)
    singles = [one.gradients([batch[b]], [labels[b]]) for b in range(3)]
    assert res.loss == pytest.approx(np.mean([r.loss for r, _ in singles]), rel=1e-12)
    for name in grads:
        mean = np.mean([g[name] for _, g in singles], axis=0)
        np.testing.assert_allclose(grads[name], mean, rtol=1e-9, atol=1e-12)


def test_partial_batch_uses_only_given_samples():
    batch = make_batch(np.random.default_rng(5), 2, 5, 20, 25.0)
    net = EventPropNetwork(small_spec("sum", "grad_partial", batch_size=3))
    res2, g2 = net.gradients(batch, [0, 1])
    net1 = EventPropNetwork(small_spec("sum", "grad_partial_b2", batch_size=2))
    for name in net.connections:
        net1.set_weights(name, net.get_weights(name))
    res1, g1 = net1.gradients(batch, [0, 1])
    assert res2.scores.shape == (2, 3) and res2.loss == pytest.approx(res1.loss, rel=1e-12)
    for name in g1:
        np.testing.assert_allclose(g2[name], g1[name], rtol=1e-9, atol=1e-12)


def fd_tau_gradient(net, batch, labels, pop, name):
    """Central differences of the loss in each neuron's tau_m or tau_syn."""
    ref = net.forward(batch, labels)
    taus = net.get_time_constants(pop)[name]
    out = []
    for i in range(taus.size):
        vals = []
        for sign in (1.0, -1.0):
            t2 = taus.copy()
            t2[i] += sign * EPS
            net.set_time_constants(pop, **{name: t2})
            res = net.forward(batch, labels)
            for p, counts in res.spike_counts.items():
                assert np.array_equal(counts, ref.spike_counts[p]), f"{pop}.{name}[{i}]: {p}"
            vals.append(res.loss)
        out.append((vals[0] - vals[1]) / (2.0 * EPS))
    net.set_time_constants(pop, **{name: taus})
    return np.array(out)


@pytest.mark.parametrize("loss", ["sum", "max", "first_spike"])
def test_time_constant_gradients(loss):
    """dL/dtau_m and dL/dtau_syn of hidden (TRAIN_TAU) and output (TRAIN_TAU_OUTPUT)
    neurons equal finite differences: exact for the discrete model."""
    hidden = [HiddenLayer(4, neuron="hetLIF", tau_m=20.0, tau_syn=5.0, train_tau=True,
                          recurrent=True)]
    net = EventPropNetwork(small_spec(loss, f"grad_tau_{loss}", hidden=hidden,
                                      train_tau_output=True))
    batch = make_batch(np.random.default_rng(8), 2, 5, 20, 25.0)
    res, grads = net.gradients(batch, [0, 2])
    taus = net.get_time_constants("h0")["tau_m"]
    assert np.unique(taus).size == taus.size, "hetLIF: per-neuron initial tau_m"
    for pop in ("h0", "out"):
        for name in ("tau_m", "tau_syn"):
            fd = fd_tau_gradient(net, batch, [0, 2], pop, name)
            g = grads[f"{pop}.{name}"]
            assert np.linalg.norm(fd) > 1e-6
            assert np.linalg.norm(g - fd) / np.linalg.norm(fd) < TOL, (pop, name, g, fd)


def test_time_constant_training_respects_bounds_and_flags():
    hidden = [HiddenLayer(4, tau_m=20.0, tau_syn=5.0, train_tau=True)]
    spec = small_spec("sum", "train_tau_bounds", hidden=hidden, learning_rate=5.0,
                      min_tau_m=19.0, min_tau_syn=4.5, train_w=False)
    net = EventPropNetwork(spec)
    batch = make_batch(np.random.default_rng(9), 2, 5, 20, 25.0)
    w_in, w_out = net.get_weights("in_h0"), net.get_weights("h0_out")
    for _ in range(3):
        net.train_step(batch, [0, 2])
    taus = net.get_time_constants("h0")
    assert taus["tau_m"].min() >= 19.0 and taus["tau_syn"].min() >= 4.5
    assert not np.allclose(taus["tau_m"], 20.0)
    np.testing.assert_array_equal(net.get_weights("in_h0"), w_in)   # TRAIN_W off
    assert not np.array_equal(net.get_weights("h0_out"), w_out)     # TRAIN_W_OUTPUT on
