"""Custom updates of the engine against numpy/scipy references.

Neuron custom updates (scaling with a dynamic parameter, EGP references),
softmax built from REDUCE_NEURON_MAX and REDUCE_NEURON_SUM custom updates that
reference each other's variables, batch reductions of neuron and per-batch
weight-update variables (REDUCE_BATCH_SUM/MAX custom-update vars and
VarAccessMode.REDUCE_SUM references onto shared variables), weight-update
custom updates using id_pre/id_post/batch, and an Adam step on DENSE and
SPARSE weights.
"""
from __future__ import annotations

import os
import sys

import numpy as np
import pytest
from scipy.special import softmax

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _syn_helpers import ACC_NEURON, acc_vars, batched  # noqa: E402

import genn_eventprop.engine as pygenn  # noqa: E402
from genn_eventprop.engine import (CustomUpdateVarAccess, VarAccess,  # noqa: E402
                                   VarAccessMode)

RO = VarAccessMode.READ_ONLY

# ============================================================================
# neuron-shaped custom updates
# ============================================================================
N_OUT = 10

OUT_NEURON = pygenn.create_neuron_model(
    "OutNeuron",
    vars=[("V", "scalar"), ("Pi", "scalar"),
          ("Tot", "scalar", VarAccess.READ_ONLY_SHARED_NEURON)],
    extra_global_params=[("gain", "scalar*")])

SCALE_CU = pygenn.create_custom_update_model(
    "Scale", params=["s"], var_refs=[("V", "scalar")], update_code="V *= s;")

SMAX_MAX = pygenn.create_custom_update_model(
    "SoftmaxMax",
    vars=[("MaxVal", "scalar", CustomUpdateVarAccess.REDUCE_NEURON_MAX)],
    var_refs=[("V", "scalar", RO)],
    update_code="MaxVal = V;")

SMAX_SUM = pygenn.create_custom_update_model(
    "SoftmaxSum",
    vars=[("SumExp", "scalar", CustomUpdateVarAccess.REDUCE_NEURON_SUM)],
    var_refs=[("V", "scalar", RO), ("MaxVal", "scalar", RO)],
    update_code="SumExp = exp(V - MaxVal);")

SMAX_APPLY = pygenn.create_custom_update_model(
    "SoftmaxApply",
    var_refs=[("V", "scalar", RO), ("MaxVal", "scalar", RO), ("SumExp", "scalar", RO),
              ("Pi", "scalar")],
    update_code="Pi = exp(V - MaxVal) / SumExp;")

GAIN_CU = pygenn.create_custom_update_model(
    "Gain", var_refs=[("V", "scalar")], extra_global_param_refs=[("gain", "scalar*")],
    update_code="V *= gain[id];")

REF_REDUCE_NEURON = pygenn.create_custom_update_model(
    "RefReduceNeuron", var_refs=[("V", "scalar", RO), ("Tot", "scalar", VarAccessMode.REDUCE_SUM)],
    update_code="Tot = V;")

BATCH_RED_NEURON = pygenn.create_custom_update_model(
    "BatchReduceNeuron",
    vars=[("Vsum", "scalar", CustomUpdateVarAccess.REDUCE_BATCH_SUM),
          ("Vmax", "scalar", CustomUpdateVarAccess.REDUCE_BATCH_MAX)],
    var_refs=[("V", "scalar", RO)],
    update_code="Vsum = V;\nVmax = V;")


@pytest.fixture(scope="module", params=[1, 3], ids=["b1", "b3"])
def neuron_cu(request):
    B = request.param
    model = pygenn.GeNNModel("float", f"cu_neuron_b{B}")
    model.batch_size = B
    out = model.add_neuron_population("Out", N_OUT, OUT_NEURON, {},
                                      {"V": 0.0, "Pi": 0.0, "Tot": 0.0})
    gain0 = np.linspace(0.5, 2.0, N_OUT)
    out.extra_global_params["gain"].set_init_values(gain0)
    vref = pygenn.create_var_ref(out, "V")
    cus = {}
    cus["scale"] = model.add_custom_update("ScaleV", "Scale", SCALE_CU, {"s": 2.0}, {},
                                           {"V": vref})
    cus["scale"].set_param_dynamic("s")
    cus["max"] = model.add_custom_update("SmMax", "Softmax1", SMAX_MAX, {}, {"MaxVal": 0.0},
                                         {"V": vref})
    max_ref = pygenn.create_var_ref(cus["max"], "MaxVal")
    cus["sum"] = model.add_custom_update("SmSum", "Softmax2", SMAX_SUM, {}, {"SumExp": 0.0},
                                         {"V": vref, "MaxVal": max_ref})
    cus["apply"] = model.add_custom_update(
        "SmApply", "Softmax3", SMAX_APPLY, {}, {},
        {"V": vref, "MaxVal": max_ref, "SumExp": pygenn.create_var_ref(cus["sum"], "SumExp"),
         "Pi": pygenn.create_var_ref(out, "Pi")})
    cus["gain"] = model.add_custom_update("GainV", "Gain", GAIN_CU, {}, {}, {"V": vref},
                                          egp_refs={"gain": pygenn.create_egp_ref(out, "gain")})
    cus["tot"] = model.add_custom_update("TotV", "Total", REF_REDUCE_NEURON, {}, {},
                                         {"V": vref, "Tot": pygenn.create_var_ref(out, "Tot")})
    cus["bred"] = model.add_custom_update("BatchRedV", "BatchRed", BATCH_RED_NEURON, {},
                                          {"Vsum": 0.0, "Vmax": 0.0}, {"V": vref})
    model.build()
    model.load()
    return dict(model=model, B=B, out=out, cus=cus, gain0=gain0,
                rng=np.random.default_rng(11 + B))


def _set_V(nc, V):
    view = nc["out"].vars["V"].view
    view[...] = V.reshape(view.shape)
    return V.astype(np.float32).astype(np.float64)


def _get(var, B):
    return batched(var.view, B).astype(np.float64)


def test_scale_with_dynamic_param(neuron_cu):
    """``V *= s`` on every neuron of every batch member; s changed after load with
    set_dynamic_param_value is used by the next custom_update call."""
    B = neuron_cu["B"]
    V = _set_V(neuron_cu, neuron_cu["rng"].normal(size=(B, N_OUT)))
    neuron_cu["model"].custom_update("Scale")
    np.testing.assert_allclose(_get(neuron_cu["out"].vars["V"], B), 2.0 * V, rtol=1e-6)
    neuron_cu["cus"]["scale"].set_dynamic_param_value("s", -0.5)
    neuron_cu["model"].custom_update("Scale")
    np.testing.assert_allclose(_get(neuron_cu["out"].vars["V"], B), -1.0 * V, rtol=1e-6)


def test_softmax_from_neuron_reductions(neuron_cu):
    """Three update groups: MaxVal (REDUCE_NEURON_MAX), SumExp (REDUCE_NEURON_SUM,
    reading MaxVal through a reference to the first custom update's var) and
    Pi = exp(V - MaxVal)/SumExp equal scipy.special.softmax per batch member.
    Reduced vars have one value per batch: shape (B, 1) or (1,)."""
    B, model, cus = neuron_cu["B"], neuron_cu["model"], neuron_cu["cus"]
    V = _set_V(neuron_cu, 3.0 * neuron_cu["rng"].normal(size=(B, N_OUT)) + 20.0)
    for g in ("Softmax1", "Softmax2", "Softmax3"):
        model.custom_update(g)
    shape = (B, 1) if B > 1 else (1,)
    assert cus["max"].vars["MaxVal"].view.shape == shape
    assert cus["sum"].vars["SumExp"].view.shape == shape
    np.testing.assert_allclose(_get(cus["max"].vars["MaxVal"], B)[:, 0], V.max(1), rtol=1e-7)
    np.testing.assert_allclose(_get(cus["sum"].vars["SumExp"], B)[:, 0],
                               np.exp(V - V.max(1, keepdims=True)).sum(1), rtol=1e-5)
    np.testing.assert_allclose(_get(neuron_cu["out"].vars["Pi"], B), softmax(V, axis=1),
                               rtol=1e-5, atol=1e-7)
    # running again on new input must not carry over the old reduction results
    V2 = _set_V(neuron_cu, neuron_cu["rng"].normal(size=(B, N_OUT)) - 30.0)
    for g in ("Softmax1", "Softmax2", "Softmax3"):
        model.custom_update(g)
    np.testing.assert_allclose(_get(cus["max"].vars["MaxVal"], B)[:, 0], V2.max(1), rtol=1e-7)
    np.testing.assert_allclose(_get(neuron_cu["out"].vars["Pi"], B), softmax(V2, axis=1),
                               rtol=1e-5, atol=1e-7)


def test_egp_reference(neuron_cu):
    """``V *= gain[id]`` with gain an EGP of the neuron population referenced via
    create_egp_ref; changing the EGP's values after load is seen by the update."""
    B, model = neuron_cu["B"], neuron_cu["model"]
    egp = neuron_cu["out"].extra_global_params["gain"]
    V = _set_V(neuron_cu, neuron_cu["rng"].normal(size=(B, N_OUT)))
    egp.view[:] = neuron_cu["gain0"]
    model.custom_update("Gain")
    g0 = neuron_cu["gain0"].astype(np.float32)
    np.testing.assert_allclose(_get(neuron_cu["out"].vars["V"], B), V * g0, rtol=1e-6)
    g1 = np.arange(N_OUT, dtype=np.float64) - 3.0
    egp.view[:] = g1
    egp.push_to_device()
    model.custom_update("Gain")
    np.testing.assert_allclose(_get(neuron_cu["out"].vars["V"], B), V * g0 * g1, rtol=1e-6)


def test_reduce_sum_ref_onto_shared_neuron_var(neuron_cu):
    """A VarAccessMode.REDUCE_SUM reference onto a READ_ONLY_SHARED_NEURON neuron var
    stores sum over neurons of V, one value per batch member."""
    B = neuron_cu["B"]
    V = _set_V(neuron_cu, neuron_cu["rng"].normal(size=(B, N_OUT)))
    neuron_cu["out"].vars["Tot"].view[...] = 123.0   # must be overwritten, not added to
    neuron_cu["model"].custom_update("Total")
    tot = neuron_cu["out"].vars["Tot"].view
    assert tot.shape == ((B, 1) if B > 1 else (1,))
    np.testing.assert_allclose(batched(tot, B)[:, 0], V.sum(1), rtol=1e-5, atol=1e-6)


def test_batch_reduction_of_neuron_var(neuron_cu):
    """REDUCE_BATCH_SUM / REDUCE_BATCH_MAX custom-update vars hold sum / max over
    the batch of V, one value per neuron (shape (n,))."""
    B = neuron_cu["B"]
    cu = neuron_cu["cus"]["bred"]
    V = _set_V(neuron_cu, neuron_cu["rng"].normal(size=(B, N_OUT)) - 5.0)
    cu.vars["Vsum"].view[:] = 50.0
    cu.vars["Vmax"].view[:] = 50.0
    neuron_cu["model"].custom_update("BatchRed")
    assert cu.vars["Vsum"].view.shape == (N_OUT,)
    np.testing.assert_allclose(cu.vars["Vsum"].view, V.sum(0), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(cu.vars["Vmax"].view, V.max(0), rtol=1e-7)


# ============================================================================
# weight-update custom updates
# ============================================================================
N_PRE, N_POST, B_WU = 6, 5, 3
BETA1, BETA2, EPS, LR = 0.9, 0.999, 1e-8, 0.01

GRAD_WU = pygenn.create_weight_update_model(
    "GradWU",
    vars=[("g", "scalar", VarAccess.READ_ONLY), ("dw", "scalar"),
          ("gsum", "scalar", VarAccess.READ_ONLY)],
    pre_spike_syn_code="addToPost(g);")

RED_BATCH = pygenn.create_custom_update_model(
    "ReduceBatchWU",
    vars=[("dwSum", "scalar", CustomUpdateVarAccess.REDUCE_BATCH_SUM),
          ("dwMax", "scalar", CustomUpdateVarAccess.REDUCE_BATCH_MAX)],
    var_refs=[("dw", "scalar", RO)],
    update_code="dwSum = dw;\ndwMax = dw;")

REF_RED_BATCH = pygenn.create_custom_update_model(
    "RefReduceBatchWU",
    var_refs=[("dw", "scalar", RO), ("gsum", "scalar", VarAccessMode.REDUCE_SUM)],
    update_code="gsum = dw;")

ADAM = pygenn.create_custom_update_model(
    "AdamStep",
    params=["beta1", "beta2", "epsilon", "alpha"],
    vars=[("m", "scalar"), ("v", "scalar")],
    var_refs=[("grad", "scalar", RO), ("w", "scalar")],
    update_code="""
m = beta1 * m + (1.0 - beta1) * grad;
v = beta2 * v + (1.0 - beta2) * grad * grad;
w -= alpha * m / (sqrt(v) + epsilon);
""")

DECAY_WU = pygenn.create_custom_update_model(
    "DecayDW", params=["k"], var_refs=[("dw", "scalar")], update_code="dw *= k;")

INDEX_WU = pygenn.create_custom_update_model(
    "IndexDW", var_refs=[("dw", "scalar")],
    update_code="dw = (scalar)(1000 * batch + 100 * id_pre + id_post + 0.5 * (num_pre + num_post));")


@pytest.fixture(scope="module")
def wu_cu():
    rng = np.random.default_rng(3)
    mask = rng.random((N_PRE, N_POST)) < 0.5
    mask[2] = False
    pre_s, post_s = np.nonzero(mask)
    perm = rng.permutation(pre_s.size)
    pre_s, post_s = pre_s[perm], post_s[perm]
    model = pygenn.GeNNModel("float", "cu_wu")
    model.batch_size = B_WU
    pre = model.add_neuron_population("Pre", N_PRE, ACC_NEURON, {}, acc_vars())
    post = model.add_neuron_population("Post", N_POST, ACC_NEURON, {}, acc_vars())
    g0 = {"D": rng.normal(size=N_PRE * N_POST), "S": rng.normal(size=pre_s.size)}
    sgs, cus = {}, {}
    for k, mt in (("D", "DENSE"), ("S", "SPARSE")):
        sg = model.add_synapse_population(
            "Syn" + k, mt, pre, post,
            pygenn.init_weight_update(GRAD_WU, {}, {"g": g0[k], "dw": 0.0, "gsum": 0.0}),
            pygenn.init_postsynaptic("DeltaCurr"))
        if mt == "SPARSE":
            sg.set_sparse_connections(pre_s, post_s)
        sgs[k] = sg
        dw_ref = pygenn.create_wu_var_ref(sg, "dw")
        cus["red" + k] = model.add_custom_update("Red" + k, "Reduce", RED_BATCH, {},
                                                 {"dwSum": 0.0, "dwMax": 0.0}, {"dw": dw_ref})
        cus["refred" + k] = model.add_custom_update(
            "RefRed" + k, "Reduce", REF_RED_BATCH, {}, {},
            {"dw": dw_ref, "gsum": pygenn.create_wu_var_ref(sg, "gsum")})
        cus["adam" + k] = model.add_custom_update(
            "Adam" + k, "Adam", ADAM,
            {"beta1": BETA1, "beta2": BETA2, "epsilon": EPS, "alpha": LR}, {"m": 0.0, "v": 0.0},
            {"grad": pygenn.create_wu_var_ref(sg, "gsum"), "w": pygenn.create_wu_var_ref(sg, "g")})
        cus["adam" + k].set_param_dynamic("alpha")
        cus["decay" + k] = model.add_custom_update("Decay" + k, "Decay", DECAY_WU, {"k": 0.5},
                                                   {}, {"dw": dw_ref})
        cus["index" + k] = model.add_custom_update("Index" + k, "Index", INDEX_WU, {}, {},
                                                   {"dw": dw_ref})
    model.build()
    model.load()
    return dict(model=model, sgs=sgs, cus=cus, g0=g0, pre_s=pre_s, post_s=post_s, rng=rng)


def _n_syn(wc, k):
    return N_PRE * N_POST if k == "D" else wc["pre_s"].size


def _set_dw(wc, k, dw):
    """Write a (B, n_syn) per-batch dw (synapses in row order) through the API."""
    var = wc["sgs"][k].vars["dw"]
    if k == "D":
        var.view[...] = dw
    else:
        var.values = dw
    return dw.astype(np.float32).astype(np.float64)


def _get_vals(var):
    return np.asarray(var.values, dtype=np.float64)


@pytest.mark.parametrize("k", ["D", "S"])
def test_batch_reduction_wu(wu_cu, k):
    """REDUCE_BATCH_SUM / REDUCE_BATCH_MAX custom-update vars and a REDUCE_SUM
    reference onto a READ_ONLY (batch-shared) WU var give numpy's sum / max over
    the batch of the per-batch dw, for every synapse (only existing ones for
    SPARSE); the reduced vars are not batched."""
    n = _n_syn(wu_cu, k)
    dw = _set_dw(wu_cu, k, wu_cu["rng"].normal(size=(B_WU, n)))
    wu_cu["model"].custom_update("Reduce")
    red = wu_cu["cus"]["red" + k]
    assert _get_vals(red.vars["dwSum"]).shape == (n,)
    np.testing.assert_allclose(_get_vals(red.vars["dwSum"]), dw.sum(0), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(_get_vals(red.vars["dwMax"]), dw.max(0), rtol=1e-7)
    gsum = _get_vals(wu_cu["sgs"][k].vars["gsum"])
    assert gsum.shape == (n,)
    np.testing.assert_allclose(gsum, dw.sum(0), rtol=1e-5, atol=1e-6)
    # a second reduction replaces (does not accumulate onto) the previous result
    dw2 = _set_dw(wu_cu, k, wu_cu["rng"].normal(size=(B_WU, n)))
    wu_cu["model"].custom_update("Reduce")
    np.testing.assert_allclose(_get_vals(wu_cu["sgs"][k].vars["gsum"]), dw2.sum(0),
                               rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(_get_vals(red.vars["dwMax"]), dw2.max(0), rtol=1e-7)


def _adam_reference(g0, grads, alphas):
    m = np.zeros_like(g0)
    v = np.zeros_like(g0)
    w = g0.copy()
    for grad, alpha in zip(grads, alphas):
        m = BETA1 * m + (1 - BETA1) * grad
        v = BETA2 * v + (1 - BETA2) * grad * grad
        w = w - alpha * m / (np.sqrt(v) + EPS)
    return w, m, v


@pytest.mark.parametrize("k", ["D", "S"])
def test_adam_on_weights(wu_cu, k):
    """Four Adam steps on DENSE / SPARSE weights: per-batch dw is reduced over the
    batch into gsum (REDUCE_SUM ref), then the Adam update (bias-corrected step
    size passed as a dynamic parameter) matches numpy for g, m and v. The Adam
    update only references batch-shared vars, so m and v are not batched."""
    wc = wu_cu
    n = _n_syn(wc, k)
    sg, adam = wc["sgs"][k], wc["cus"]["adam" + k]
    sg.vars["g"].values = wc["g0"][k]
    adam.vars["m"].values = 0.0
    adam.vars["v"].values = 0.0
    g0 = wc["g0"][k].astype(np.float32).astype(np.float64)
    grads, alphas = [], []
    for step in range(1, 5):
        dw = _set_dw(wc, k, wc["rng"].normal(size=(B_WU, n)))
        wc["model"].custom_update("Reduce")
        alpha = LR * np.sqrt(1 - BETA2 ** step) / (1 - BETA1 ** step)
        adam.set_dynamic_param_value("alpha", alpha)
        wc["model"].custom_update("Adam")
        grads.append(dw.sum(0))
        alphas.append(alpha)
    w, m, v = _adam_reference(g0, grads, alphas)
    assert _get_vals(adam.vars["m"]).shape == (n,)
    np.testing.assert_allclose(_get_vals(adam.vars["m"]), m, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(_get_vals(adam.vars["v"]), v, rtol=1e-4, atol=1e-7)
    np.testing.assert_allclose(_get_vals(sg.vars["g"]), w, rtol=1e-5, atol=1e-5)
    assert np.abs(w - g0).max() > 0.02   # weights actually moved


@pytest.mark.parametrize("k", ["D", "S"])
def test_wu_custom_update_per_batch_and_indices(wu_cu, k):
    """A batched WU custom update sees batch, id_pre, id_post, num_pre and num_post:
    ``dw = 1000*batch + 100*id_pre + id_post + (num_pre+num_post)/2``; then
    ``dw *= k`` (param) acts on every batch member's copy."""
    wc = wu_cu
    sg = wc["sgs"][k]
    wc["model"].custom_update("Index")
    if k == "D":
        pre, post = np.divmod(np.arange(N_PRE * N_POST), N_POST)
    else:
        pre, post = sg.get_sparse_pre_inds(), sg.get_sparse_post_inds()
        order = np.lexsort((wc["post_s"], wc["pre_s"]))
        np.testing.assert_array_equal(post, wc["post_s"][order])
    expected = (1000.0 * np.arange(B_WU)[:, None] + 100.0 * pre[None] + post[None]
                + 0.5 * (N_PRE + N_POST))
    np.testing.assert_array_equal(_get_vals(sg.vars["dw"]), expected)
    wc["model"].custom_update("Decay")
    np.testing.assert_array_equal(_get_vals(sg.vars["dw"]), 0.5 * expected)


def test_wu_var_ref_to_custom_update_var():
    """create_wu_var_ref on a weight-update custom update: a second custom update
    adds the first one's batch-reduced gradient (dwSum) to the weights."""
    rng = np.random.default_rng(21)
    B = 2
    model = pygenn.GeNNModel("double", "cu_wu_ref")
    model.batch_size = B
    pre = model.add_neuron_population("Pre", 4, ACC_NEURON, {}, acc_vars())
    post = model.add_neuron_population("Post", 3, ACC_NEURON, {}, acc_vars())
    g0 = rng.normal(size=12)
    sg = model.add_synapse_population(
        "Syn", "DENSE", pre, post,
        pygenn.init_weight_update(GRAD_WU, {}, {"g": g0, "dw": 0.0, "gsum": 0.0}),
        pygenn.init_postsynaptic("DeltaCurr"))
    red = model.add_custom_update("Red", "Reduce", RED_BATCH, {}, {"dwSum": 0.0, "dwMax": 0.0},
                                  {"dw": pygenn.create_wu_var_ref(sg, "dw")})
    apply = pygenn.create_custom_update_model(
        "ApplyGrad", params=["lr"], var_refs=[("w", "scalar"), ("grad", "scalar", RO)],
        update_code="w -= lr * grad;")
    model.add_custom_update("Apply", "Apply", apply, {"lr": 0.1}, {},
                            {"w": pygenn.create_wu_var_ref(sg, "g"),
                             "grad": pygenn.create_wu_var_ref(red, "dwSum")})
    model.build()
    model.load()
    dw = rng.normal(size=(B, 12))
    sg.vars["dw"].view[...] = dw
    model.custom_update("Reduce")
    model.custom_update("Apply")
    np.testing.assert_allclose(sg.vars["g"].view, g0 - 0.1 * dw.sum(0), rtol=1e-12)
