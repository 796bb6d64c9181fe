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


@pytest.mark.parametrize("regulariser,avg", [("simple", False), ("simple", True),
                                             ("Thomas1", False)])
def test_regularisers_equal_reference(regulariser, avg):
    """The per-spike regularisation drive tau_m LBD (n - NU_UPPER) (+ the Thomas1
    population term) enters the adjoint exactly as in the reference."""
    from genn_eventprop.genn_models.regularisers import RegParams, get_regulariser
    spec, weights, samples, labels = random_problem(9, "sum", False)
    reg = RegParams(lbd_upper=2e-3, lbd_lower=1e-3, nu_upper=3.0, avg_snsum=avg,
                    rho_upper=5.0, glb_upper=4e-3)
    ref_inputs = [as_reference_inputs(s) for s in samples]
    recs = [ref.simulate(spec, weights, inp, lab) for inp, lab in zip(ref_inputs, labels)]
    counts = {pop: np.array([r.spiked[pop].sum(0) for r in recs]) for pop in ("h0", "h1")}
    drives = {pop: get_regulariser(regulariser)(c, spec.tau_m, reg) for pop, c in counts.items()}
    ref_grads = None
    for b, (rec, lab) in enumerate(zip(recs, labels)):
        _, _, drive, dLds = ref.loss_from_record(spec, rec, lab)
        g = ref.backward(spec, weights, rec, drive, dLds,
                         spike_drive={pop: d[b] for pop, d in drives.items()})
        ref_grads = g if ref_grads is None else {k: ref_grads[k] + g[k] for k in g}
    net = EventPropNetwork(NetworkSpec(
        n_input=N_IN, hidden=[HiddenLayer(HIDDEN[0]), HiddenLayer(HIDDEN[1])], n_output=N_OUT,
        loss="sum", dt=DT, n_steps=T, batch_size=2, precision="double", regulariser=regulariser,
        reg=reg, name=f"vsref_reg_{regulariser}_{avg}"))
    for conn, w in weights.items():
        net.set_weights(conn, w)
    _, grads = net.gradients(samples, labels)
    plain = ref.batch_loss_and_grad(spec, weights, ref_inputs, labels)[1]
    for conn, g in ref_grads.items():
        g = g / 2
        if not conn.endswith("_out"):
            assert not np.allclose(g, plain[conn]), f"{conn}: regularisation had no effect"
        np.testing.assert_allclose(grads[conn], g, rtol=1e-7, atol=1e-9 * np.abs(g).max())


@pytest.mark.parametrize("phantom_softmax", [False, True])
@pytest.mark.parametrize("loss", ["first_spike", "first_spike_exp"])
def test_phantom_drive_of_a_silent_label_output_equals_reference(loss, phantom_softmax):
    """Sample 0's correct output (2) is silenced: its trial-end drive (ALPHA term,
    plus the softmax term with PHANTOM_SOFTMAX) enters the kernels' adjoint as in
    the reference; sample 1 (label 0) has spiking outputs and no drive."""
    spec, weights, samples, labels = random_problem(8, loss, False)
    spec = ref.Spec(**dict(vars(spec), phantom_softmax=phantom_softmax))
    weights["h1_out"] = weights["h1_out"].copy()
    weights["h1_out"][:, 2] = -np.abs(weights["h1_out"][:, 2])
    ref_inputs = [as_reference_inputs(s) for s in samples]
    recs = [ref.simulate(spec, weights, inp, lab) for inp, lab in zip(ref_inputs, labels)]
    assert recs[0].first_step[2] < 0 and recs[1].first_step[0] >= 0
    _, ref_grads = ref.batch_loss_and_grad(spec, weights, ref_inputs, labels, exact=True)
    net = EventPropNetwork(NetworkSpec(
        n_input=N_IN, hidden=[HiddenLayer(HIDDEN[0]), HiddenLayer(HIDDEN[1])], n_output=N_OUT,
        loss=loss, dt=DT, n_steps=T, batch_size=2, precision="double", tau_0=spec.tau_0,
        tau_1=spec.tau_1, alpha=spec.alpha, phantom_softmax=phantom_softmax,
        name=f"vsref_phantom_{loss}_{phantom_softmax}"))
    for conn, w in weights.items():
        net.set_weights(conn, w)
    res, grads = net.gradients(samples, labels)
    assert res.first_spike_t[0, 2] < 0
    for conn, g in ref_grads.items():
        np.testing.assert_allclose(grads[conn], g, rtol=1e-7, atol=1e-9 * np.abs(g).max())
    other = ref.Spec(**dict(vars(spec), phantom_softmax=not phantom_softmax))
    g_other = ref.batch_loss_and_grad(other, weights, ref_inputs, labels, exact=True)[1]
    assert not np.allclose(g_other["h1_out"], ref_grads["h1_out"])
