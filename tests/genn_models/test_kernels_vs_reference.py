"""The generated kernels against the independent numpy reference (``_reference.py``).

Same random network, inputs and labels: forward results (loss, predictions,
first-spike times, spike counts) and the exact gradients of every loss agree
to double-precision rounding; the float build agrees to float tolerance.
"""
from __future__ import annotations

import os
import sys

import numpy as np
import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _reference as ref  # noqa: E402

from genn_eventprop.network import EventPropNetwork, HiddenLayer, NetworkSpec  # noqa: E402

N_IN, HIDDEN, N_OUT, DT, T = 5, (4, 3), 3, 0.05, 600


def random_problem(seed, loss, recurrent):
    rng = np.random.default_rng(seed)
    spec = ref.Spec(dt=DT, T=T, n_in=N_IN, hidden=HIDDEN, recurrent=(recurrent, False),
                    n_out=N_OUT, loss=loss, tau_0=2.0, alpha=0.01)
    scale = {"in_h0": (1.5, 0.5), "h0_h0": (0.0, 0.3), "h0_h1": (1.0, 0.5),
             "h1_out": (1.0, 0.5)}
    weights = {name: rng.normal(*scale[name], size=shape)
               for name, shape in ref.weight_shapes(spec).items()}
    samples = []
    for _ in range(2):
        ids = rng.integers(0, N_IN, 25)
        times = rng.uniform(0.0, 25.0, 25)
        samples.append((times, ids))
    return spec, weights, samples, [2, 0]


def as_reference_inputs(sample):
    times, ids = sample
    return [np.sort(times[ids == j]) for j in range(N_IN)]


def kernel_network(spec, weights, loss, recurrent, precision, name):
    net = EventPropNetwork(NetworkSpec(
        n_input=N_IN, hidden=[HiddenLayer(HIDDEN[0], recurrent=recurrent), HiddenLayer(HIDDEN[1])],
        n_output=N_OUT, loss=loss, dt=DT, n_steps=T, batch_size=2, precision=precision,
        tau_0=spec.tau_0, tau_1=spec.tau_1, alpha=spec.alpha, name=name))
    for conn, w in weights.items():
        net.set_weights(conn, w)
    return net


@pytest.mark.parametrize("loss,recurrent", [("sum", True), ("sum_weigh_exp", False),
                                            ("max", True), ("first_spike", True),
                                            ("first_spike_exp", False)])
def test_double_kernels_equal_reference(loss, recurrent):
    spec, weights, samples, labels = random_problem(7, loss, recurrent)
    ref_inputs = [as_reference_inputs(s) for s in samples]
    ref_loss, ref_grads = ref.batch_loss_and_grad(spec, weights, ref_inputs, labels, exact=True)
    net = kernel_network(spec, weights, loss, recurrent, "double", f"vsref_{loss}_{recurrent}")
    res, grads = net.gradients(samples, labels)
    recs = [ref.simulate(spec, weights, inp, lab) for inp, lab in zip(ref_inputs, labels)]
    for b, rec in enumerate(recs):
        for pop in ("h0", "h1"):
            np.testing.assert_array_equal(res.spike_counts[pop][b], rec.spiked[pop].sum(0))
        assert res.predictions[b] == rec.prediction
        if spec.first_spike:
            t = np.where(rec.first_step >= 0, rec.first_t, -1.0)
            np.testing.assert_allclose(res.first_spike_t[b], t, rtol=1e-10, atol=1e-10)
    assert sum(c.sum() for c in res.spike_counts.values()) > 0
    if not (spec.first_spike and (res.first_spike_t < 0).any()):
        assert res.loss == pytest.approx(ref_loss, rel=1e-9)
    for conn, g in ref_grads.items():
        assert np.abs(g).max() > 0, conn
        np.testing.assert_allclose(grads[conn], g, rtol=1e-7, atol=1e-9 * np.abs(g).max())


def test_float_kernels_close_to_reference():
    spec, weights, samples, labels = random_problem(8, "sum", False)
    ref_inputs = [as_reference_inputs(s) for s in samples]
    _, ref_grads = ref.batch_loss_and_grad(spec, weights, ref_inputs, labels, exact=True)
    net = kernel_network(spec, weights, "sum", False, "float", "vsref_float")
    _, grads = net.gradients(samples, labels)
    for conn, g in ref_grads.items():
        err = np.linalg.norm(grads[conn] - g) / np.linalg.norm(g)
        assert err < 1e-3, (conn, err)
