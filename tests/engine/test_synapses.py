"""Synapse populations of the engine against independent numpy/scipy references.

Covers spike propagation (DENSE and SPARSE, batch 1 and 3, float and double),
sparse connectivity initialisation and user-given connectivity, spike-like
events with ``addToPre``, postsynaptic learning, synapse dynamics, presynaptic
weight-update variables and per-batch synapse variables.

Timing conventions checked here (PyGeNN 5): a spike (or spike-like event)
emitted in the neuron update of step n is processed by the synapse update of
step n+1; with DeltaCurr the target sees it in the neuron update of step n+1.
Post-spike learning for a postsynaptic spike of step n runs in the synapse
update of step n+1. ``synapse_dynamics_code`` runs every step before spike
propagation, so its ``addToPost`` reaches the target in the same step.
"""
from __future__ import annotations

import os
import sys

import numpy as np
import pytest
from scipy import stats

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _syn_helpers import (ACC_NEURON, acc_vars, add_spike_source, batched,  # noqa: E402
                          random_spikes, sparse_dense_matrix, tol)

import genn_eventprop.engine as pygenn  # noqa: E402
from genn_eventprop.engine import VarAccess, VarAccessMode  # noqa: E402


def _dtype(precision):
    return np.float32 if precision == "float" else np.float64


def _as_prec(x, precision):
    """Round a float64 array to the model precision (what the engine stores)."""
    return np.asarray(x, dtype=np.float64).astype(_dtype(precision)).astype(np.float64)


def _delayed_input(spikes, W):
    """Per-step input (steps, batch, n_post): step k sees spikes of step k-1 through W."""
    B, T, _ = spikes.shape
    out = np.zeros((T, B, W.shape[1]))
    for b in range(B):
        out[1:, b] = spikes[b, :-1].astype(np.float64) @ W
    return out


# ============================================================================
# 1. spike propagation through DENSE / SPARSE with StaticPulse + DeltaCurr
# ============================================================================
N_SRC, N_TRG, T_PROP = 20, 15, 30


@pytest.fixture(scope="module",
                params=[("float", 1), ("float", 3), ("double", 1), ("double", 3)],
                ids=["float-b1", "float-b3", "double-b1", "double-b3"])
def prop(request):
    """A SpikeSourceArray driving three accumulators through DENSE, SPARSE
    (FixedProbability) and SPARSE (set_sparse_connections, shuffled order)."""
    precision, B = request.param
    rng = np.random.default_rng(1000 + 10 * B + (precision == "double"))
    spikes = random_spikes(rng, B, T_PROP, N_SRC, 0.25)
    W_dense = rng.normal(size=(N_SRC, N_TRG))
    mask = rng.random((N_SRC, N_TRG)) < 0.35
    mask[3, :] = False   # one presynaptic neuron without synapses
    pre_u, post_u = np.nonzero(mask)
    perm = rng.permutation(pre_u.size)
    pre_u, post_u = pre_u[perm], post_u[perm]
    g_u = rng.uniform(-2.0, 2.0, size=pre_u.size)

    model = pygenn.GeNNModel(precision, f"syn_prop_{precision}_b{B}")
    model.batch_size = B
    model.seed = 4321
    src = add_spike_source(model, "Src", spikes)
    posts = {k: model.add_neuron_population(f"Post{k}", N_TRG, ACC_NEURON, {}, acc_vars())
             for k in "DSU"}
    sgs = {}
    sgs["D"] = model.add_synapse_population(
        "SynD", "DENSE", src, posts["D"],
        pygenn.init_weight_update("StaticPulse", {}, {"g": W_dense.reshape(-1)}),
        pygenn.init_postsynaptic("DeltaCurr"))
    sgs["S"] = model.add_synapse_population(
        "SynS", "SPARSE", src, posts["S"],
        pygenn.init_weight_update("StaticPulse", {}, {
            "g": pygenn.init_var("Uniform", {"min": -1.0, "max": 1.0})}),
        pygenn.init_postsynaptic("DeltaCurr"),
        pygenn.init_sparse_connectivity("FixedProbability", {"prob": 0.3}))
    sgs["U"] = model.add_synapse_population(
        "SynU", "SPARSE", src, posts["U"],
        pygenn.init_weight_update("StaticPulse", {}, {"g": g_u}),
        pygenn.init_postsynaptic("DeltaCurr"))
    sgs["U"].set_sparse_connections(pre_u, post_u)
    model.build()
    model.load()
    last = {k: [] for k in "DSU"}
    for _ in range(T_PROP):
        model.step_time()
        for k in "DSU":
            last[k].append(batched(posts[k].vars["last"].view, B).astype(np.float64))
    return dict(model=model, precision=precision, B=B, spikes=spikes, W_dense=W_dense,
                pre_u=pre_u, post_u=post_u, g_u=g_u, posts=posts, sgs=sgs,
                last={k: np.array(v) for k, v in last.items()})


def test_dense_propagation_one_step_delay(prop):
    """Input at step k equals spikes(step k-1) @ W for every batch member (DENSE)."""
    W = _as_prec(prop["W_dense"], prop["precision"])
    expected = _delayed_input(prop["spikes"], W)
    rtol, atol = tol(prop["precision"])
    np.testing.assert_allclose(prop["last"]["D"], expected, rtol=rtol, atol=atol)
    # batches received different input (the raster differs per batch member)
    if prop["B"] > 1:
        assert not np.allclose(expected[:, 0], expected[:, 1])


def test_dense_accumulated_total(prop):
    """``acc`` after T steps = sum over steps 0..T-2 of spikes @ W (last step's
    spikes are not yet delivered)."""
    W = _as_prec(prop["W_dense"], prop["precision"])
    B = prop["B"]
    expected = np.stack([prop["spikes"][b, :-1].sum(0) @ W for b in range(B)])
    acc = batched(prop["posts"]["D"].vars["acc"].view, B)
    rtol, atol = tol(prop["precision"])
    np.testing.assert_allclose(acc, expected, rtol=rtol, atol=10 * atol)


def test_variable_shapes(prop):
    """READ_WRITE neuron vars are (B, n) when batched; StaticPulse ``g`` is
    READ_ONLY so it is shared by the batch: (n_pre*n_post,) for DENSE."""
    B = prop["B"]
    acc = prop["posts"]["D"].vars["acc"].view
    assert acc.shape == ((B, N_TRG) if B > 1 else (N_TRG,))
    assert acc.dtype == _dtype(prop["precision"])
    assert prop["sgs"]["D"].vars["g"].view.shape == (N_SRC * N_TRG,)
    np.testing.assert_array_equal(prop["sgs"]["D"].vars["g"].view,
                                  prop["W_dense"].reshape(-1).astype(_dtype(prop["precision"])))


def test_sparse_fixed_probability_propagation(prop):
    """SPARSE (FixedProbability, Uniform weights): input equals spikes(k-1) @ W with
    W rebuilt from get_sparse_pre_inds/get_sparse_post_inds and g.values."""
    sg = prop["sgs"]["S"]
    g = sg.vars["g"].values
    assert g.ndim == 1 and g.size == sg.get_sparse_pre_inds().size
    assert np.all((g >= -1.0) & (g <= 1.0))
    W = sparse_dense_matrix(sg, "g", N_SRC, N_TRG)
    assert np.count_nonzero(W) > 0.15 * W.size
    expected = _delayed_input(prop["spikes"], W)
    rtol, atol = tol(prop["precision"])
    np.testing.assert_allclose(prop["last"]["S"], expected, rtol=rtol, atol=atol)


def test_user_sparse_propagation_uses_user_order_weights(prop):
    """set_sparse_connections in shuffled order with g in the same (user) order:
    the delivered input equals spikes @ W where W[pre_u, post_u] = g_u, built
    directly from what the user passed (independent of engine read-back)."""
    W = np.zeros((N_SRC, N_TRG))
    W[prop["pre_u"], prop["post_u"]] = _as_prec(prop["g_u"], prop["precision"])
    expected = _delayed_input(prop["spikes"], W)
    rtol, atol = tol(prop["precision"])
    np.testing.assert_allclose(prop["last"]["U"], expected, rtol=rtol, atol=atol)


def test_user_sparse_round_trip(prop):
    """get_sparse_pre_inds/get_sparse_post_inds are row-major (sorted by pre, then
    post) and ``g.values`` is g_u permuted the same way (np.lexsort((post, pre)))."""
    sg = prop["sgs"]["U"]
    order = np.lexsort((prop["post_u"], prop["pre_u"]))
    np.testing.assert_array_equal(sg.get_sparse_pre_inds(), prop["pre_u"][order])
    np.testing.assert_array_equal(sg.get_sparse_post_inds(), prop["post_u"][order])
    np.testing.assert_array_equal(sg.vars["g"].values,
                                  prop["g_u"][order].astype(_dtype(prop["precision"])))


# ============================================================================
# 2. sparse connectivity initialisation
# ============================================================================
NA, NB, NC = 200, 300, 150
P_FP, P_NA = 0.1, 0.2
BAND_WIDTH, BAND_STRIDE = 4, 7

BAND = pygenn.create_sparse_connect_init_snippet(
    "StridedBand",
    params=[("width", "unsigned int"), ("stride", "unsigned int")],
    derived_params=[("span", lambda p, dt: float(p["width"] * p["stride"]))],
    row_build_code="""
for (unsigned int k = 0; k < width; k++) {
    addSynapse((id_pre + k * stride) % num_post);
}
""",
    calc_max_row_len_func=lambda num_pre, num_post, pars: int(pars["width"]))


@pytest.fixture(scope="module")
def conn():
    """One model holding FixedProbability, FixedProbabilityNoAutapse, OneToOne and
    a user snippet; only loaded (connectivity is built at load)."""
    model = pygenn.GeNNModel("float", "syn_connectivity")
    model.seed = 2024
    a = model.add_neuron_population("A", NA, ACC_NEURON, {}, acc_vars())
    b = model.add_neuron_population("B", NB, ACC_NEURON, {}, acc_vars())
    c = model.add_neuron_population("C", NC, ACC_NEURON, {}, acc_vars())
    wu = lambda: pygenn.init_weight_update("StaticPulse", {}, {"g": 1.0})  # noqa: E731
    ps = lambda: pygenn.init_postsynaptic("DeltaCurr")  # noqa: E731
    sgs = {
        "fp": model.add_synapse_population(
            "FP", "SPARSE", a, b, wu(), ps(),
            pygenn.init_sparse_connectivity("FixedProbability", {"prob": P_FP})),
        "na": model.add_synapse_population(
            "NoAut", "SPARSE", c, c, wu(), ps(),
            pygenn.init_sparse_connectivity("FixedProbabilityNoAutapse", {"prob": P_NA})),
        "o2o": model.add_synapse_population(
            "O2O", "SPARSE", c, c, wu(), ps(),
            pygenn.init_sparse_connectivity("OneToOne")),
        "band": model.add_synapse_population(
            "Band", "SPARSE", a, b, wu(), ps(),
            pygenn.init_sparse_connectivity(BAND, {"width": BAND_WIDTH,
                                                   "stride": BAND_STRIDE})),
    }
    model.build()
    model.load()
    return dict(model=model, sgs=sgs)


def _rows(sg, n_pre):
    pre = sg.get_sparse_pre_inds()
    post = sg.get_sparse_post_inds()
    assert pre.shape == post.shape
    assert np.all(np.diff(pre) >= 0), "pre indices must be in row order"
    return [post[pre == i] for i in range(n_pre)], pre, post


def _max_row_bound(n_pre, n_post, p):
    """GeNN's bound: binomial inverse CDF at 0.9999**(1/n_pre)."""
    return int(stats.binom.ppf(0.9999 ** (1.0 / n_pre), n_post, p))


def test_fixed_probability_fraction_and_columns(conn):
    """Connection count ~ Binomial(NA*NB, p) (5 sigma); column counts pass a
    chi-square test against Binomial(NA, p) each; row-length dispersion matches
    the binomial variance; rows differ from each other (independent streams)."""
    sg = conn["sgs"]["fp"]
    rows, pre, post = _rows(sg, NA)
    n = pre.size
    mean, sd = NA * NB * P_FP, np.sqrt(NA * NB * P_FP * (1 - P_FP))
    assert abs(n - mean) < 5 * sd, (n, mean, sd)
    col = np.bincount(post, minlength=NB)
    chi2 = np.sum((col - NA * P_FP) ** 2 / (NA * P_FP * (1 - P_FP)))
    assert stats.chi2.sf(chi2, NB) > 1e-4 and stats.chi2.cdf(chi2, NB) > 1e-4, chi2
    lens = np.array([len(r) for r in rows])
    ratio = lens.var(ddof=1) / (NB * P_FP * (1 - P_FP))
    assert 0.5 < ratio < 1.6, ratio
    assert len({tuple(r) for r in rows}) > NA - 5


def test_fixed_probability_rows_sorted_unique_and_bounded(conn):
    """Each row has strictly increasing post ids (sorted, no duplicates), all in
    range, and no row exceeds GeNN's maximum row length bound."""
    sg = conn["sgs"]["fp"]
    rows, _, post = _rows(sg, NA)
    assert post.min() >= 0 and post.max() < NB
    for r in rows:
        assert np.all(np.diff(r) > 0)
    bound = _max_row_bound(NA, NB, P_FP)
    assert max(len(r) for r in rows) <= bound


def test_fixed_probability_max_connections(conn):
    """``max_connections`` (PyGeNN SynapseGroup attribute) is GeNN's bound
    binomialInverseCDF(0.9999**(1/num_pre), num_post, prob)."""
    sg = conn["sgs"]["fp"]
    assert int(sg.max_connections) == _max_row_bound(NA, NB, P_FP)


def test_fixed_probability_no_autapse(conn):
    """FixedProbabilityNoAutapse: no i == j, rows sorted/unique, count ~
    Binomial(NC*(NC-1), p)."""
    sg = conn["sgs"]["na"]
    rows, pre, post = _rows(sg, NC)
    assert not np.any(pre == post)
    for r in rows:
        assert np.all(np.diff(r) > 0)
    m = NC * (NC - 1)
    assert abs(pre.size - m * P_NA) < 5 * np.sqrt(m * P_NA * (1 - P_NA))
    assert max(len(r) for r in rows) <= _max_row_bound(NC, NC, P_NA)
    # the neighbour just after the diagonal is still connected with prob p
    nxt = np.isin(np.arange(NC - 1) * NC + np.arange(1, NC), pre * NC + post).sum()
    assert abs(nxt - (NC - 1) * P_NA) < 5 * np.sqrt((NC - 1) * P_NA * (1 - P_NA))


def test_one_to_one(conn):
    """OneToOne: exactly one synapse i -> i for every i."""
    sg = conn["sgs"]["o2o"]
    np.testing.assert_array_equal(sg.get_sparse_pre_inds(), np.arange(NC))
    np.testing.assert_array_equal(sg.get_sparse_post_inds(), np.arange(NC))
    assert sg.vars["g"].values.shape == (NC,)


def test_user_snippet_connectivity(conn):
    """A user row_build_code with unsigned-int params: row i holds
    (i + k*stride) % num_post for k < width, in the order addSynapse was called."""
    sg = conn["sgs"]["band"]
    rows, pre, _ = _rows(sg, NA)
    for i, r in enumerate(rows):
        np.testing.assert_array_equal(r, (i + BAND_STRIDE * np.arange(BAND_WIDTH)) % NB)
    assert pre.size == NA * BAND_WIDTH
    np.testing.assert_array_equal(sg.vars["g"].values, np.ones(NA * BAND_WIDTH))


def test_set_sparse_connections_second_var_user_order():
    """Two synapse vars given in the user's (unsorted) order, including a per-batch
    READ_WRITE var given as (B, n_syn): both are permuted by the same lexsort."""
    rng = np.random.default_rng(5)
    pre = np.array([4, 0, 2, 4, 0, 1, 4])
    post = np.array([1, 3, 0, 0, 1, 2, 3])
    B = 2
    a = rng.normal(size=pre.size)
    c = rng.normal(size=(B, pre.size))
    wu = pygenn.create_weight_update_model(
        "TwoVars", vars=[("a", "scalar", VarAccess.READ_ONLY), ("c", "scalar")])
    model = pygenn.GeNNModel("double", "syn_user_order")
    model.batch_size = B
    s = model.add_neuron_population("S", 5, ACC_NEURON, {}, acc_vars())
    t = model.add_neuron_population("T", 4, ACC_NEURON, {}, acc_vars())
    sg = model.add_synapse_population("Syn", "SPARSE", s, t,
                                      pygenn.init_weight_update(wu, {}, {"a": a, "c": c}),
                                      pygenn.init_postsynaptic("DeltaCurr"))
    sg.set_sparse_connections(pre, post)
    model.build()
    model.load()
    order = np.lexsort((post, pre))
    np.testing.assert_array_equal(sg.get_sparse_pre_inds(), pre[order])
    np.testing.assert_array_equal(sg.get_sparse_post_inds(), post[order])
    np.testing.assert_array_equal(sg.vars["a"].values, a[order])
    np.testing.assert_array_equal(np.asarray(sg.vars["c"].values).reshape(B, -1),
                                  c[:, order])


# ============================================================================
# 3. spike-like events with addToPre (pre/post neuron var refs)
# ============================================================================
N_EPRE, N_EPOST, B_EV, T_EV = 12, 9, 2, 12
EV_THRESH = 0.3

EVENT_WU = pygenn.create_weight_update_model(
    "PreEventAddToPre",
    params=["thresh"],
    vars=[("g", "scalar", VarAccess.READ_ONLY)],
    pre_neuron_var_refs=[("x_pre", "scalar", VarAccessMode.READ_ONLY)],
    post_neuron_var_refs=[("y_post", "scalar", VarAccessMode.READ_ONLY)],
    pre_event_threshold_condition_code="x_pre > thresh",
    pre_event_syn_code="addToPre(g * y_post);")


@pytest.fixture(scope="module")
def events():
    """PreD -DENSE-> Post and PreS -SPARSE-> Post; pre events when x > thresh
    send g * y_post back to the presynaptic neuron with addToPre."""
    rng = np.random.default_rng(77)
    G = rng.normal(size=(N_EPRE, N_EPOST))
    mask = rng.random((N_EPRE, N_EPOST)) < 0.4
    pre_s, post_s = np.nonzero(mask)
    perm = rng.permutation(pre_s.size)
    pre_s, post_s = pre_s[perm], post_s[perm]
    g_s = rng.normal(size=pre_s.size)
    model = pygenn.GeNNModel("float", "syn_events")
    model.batch_size = B_EV
    pre_d = model.add_neuron_population("PreD", N_EPRE, ACC_NEURON, {}, acc_vars())
    pre_sp = model.add_neuron_population("PreS", N_EPRE, ACC_NEURON, {}, acc_vars())
    post = model.add_neuron_population("Post", N_EPOST, ACC_NEURON, {}, acc_vars())
    for name, pre, mt, g in (("EvD", pre_d, "DENSE", G.reshape(-1)),
                             ("EvS", pre_sp, "SPARSE", g_s)):
        sg = model.add_synapse_population(
            name, mt, pre, post,
            pygenn.init_weight_update(
                EVENT_WU, {"thresh": EV_THRESH}, {"g": g},
                pre_var_refs={"x_pre": pygenn.create_var_ref(pre, "x")},
                post_var_refs={"y_post": pygenn.create_var_ref(post, "y")}),
            pygenn.init_postsynaptic("DeltaCurr"))
        if mt == "SPARSE":
            sg.set_sparse_connections(pre_s, post_s)
    model.build()
    model.load()
    xs = rng.uniform(-0.2, 1.0, size=(T_EV, 2, B_EV, N_EPRE))
    ys = rng.normal(size=(T_EV, B_EV, N_EPOST))
    rec = {"D": [], "S": [], "post": []}
    for k in range(T_EV):
        pre_d.vars["x"].view[...] = xs[k, 0].reshape(pre_d.vars["x"].view.shape)
        pre_sp.vars["x"].view[...] = xs[k, 1].reshape(pre_sp.vars["x"].view.shape)
        post.vars["y"].view[...] = ys[k].reshape(post.vars["y"].view.shape)
        model.step_time()
        rec["D"].append(batched(pre_d.vars["last"].view, B_EV).astype(np.float64))
        rec["S"].append(batched(pre_sp.vars["last"].view, B_EV).astype(np.float64))
        rec["post"].append(batched(post.vars["last"].view, B_EV).astype(np.float64))
    Gs = np.zeros((N_EPRE, N_EPOST))
    Gs[pre_s, post_s] = _as_prec(g_s, "float")
    return dict(G={"D": _as_prec(G, "float"), "S": Gs}, xs=xs, ys=ys,
                rec={k: np.array(v) for k, v in rec.items()})


@pytest.mark.parametrize("kind", ["D", "S"])
def test_pre_event_add_to_pre(events, kind):
    """A presynaptic neuron whose x exceeded thresh in step k-1 receives, in step k,
    sum_j g[i, j] * y_post[j] (y as it is when the event is processed), per batch.
    Neurons without an event receive nothing."""
    xs = events["xs"][:, 0 if kind == "D" else 1]
    G = events["G"][kind]
    ys = events["ys"]
    expected = np.zeros((T_EV, B_EV, N_EPRE))
    for k in range(1, T_EV):
        for b in range(B_EV):
            ev = xs[k - 1, b] > EV_THRESH
            expected[k, b] = ev * (G @ ys[k, b])
    np.testing.assert_allclose(events["rec"][kind], expected, rtol=1e-5, atol=2e-5)
    # the test is meaningful: some but not all neurons had events
    ev_all = xs[:-1] > EV_THRESH
    assert ev_all.any() and not ev_all.all()


def test_pre_event_no_post_input(events):
    """The event code only calls addToPre: the postsynaptic neurons get no input."""
    np.testing.assert_array_equal(events["rec"]["post"], 0.0)


# ============================================================================
# 3b/4. post-spike learning, synapse dynamics, pre vars, per-batch WU vars
# ============================================================================
N_LPRE, N_LPOST, B_L, T_L = 10, 8, 3, 25
ETA, A_DYN, DECAY = 0.25, 0.1, 0.75

LEARN_WU = pygenn.create_weight_update_model(
    "PostSpikeLearn",
    params=["eta"],
    vars=[("w", "scalar")],
    post_vars=[("cnt", "scalar")],
    pre_neuron_var_refs=[("x_pre", "scalar", VarAccessMode.READ_ONLY)],
    post_spike_syn_code="w += eta * x_pre;",
    post_spike_code="cnt += 1.0;")

DYN_WU = pygenn.create_weight_update_model(
    "SynDynamics",
    params=["a"],
    vars=[("w", "scalar")],
    pre_neuron_var_refs=[("x_pre", "scalar", VarAccessMode.READ_ONLY)],
    post_neuron_var_refs=[("y_post", "scalar", VarAccessMode.READ_ONLY)],
    synapse_dynamics_code="w += a * x_pre * y_post;\naddToPost(w);")

TRACE_WU = pygenn.create_weight_update_model(
    "PreTrace",
    params=["decay"],
    vars=[("g", "scalar", VarAccess.READ_ONLY)],
    pre_vars=[("tr", "scalar")],
    pre_dynamics_code="tr *= decay;",
    pre_spike_code="tr += 1.0;",
    pre_spike_syn_code="addToPost(g * tr);")

DW_WU = pygenn.create_weight_update_model(
    "GradAccum",
    vars=[("g", "scalar", VarAccess.READ_ONLY), ("dw", "scalar")],
    post_neuron_var_refs=[("y_post", "scalar", VarAccessMode.READ_ONLY)],
    pre_spike_syn_code="addToPost(g);\ndw += y_post;")


@pytest.fixture(scope="module")
def learn():
    rng = np.random.default_rng(31)
    post_spikes = random_spikes(rng, B_L, T_L, N_LPOST, 0.3)
    pre_spikes = random_spikes(rng, B_L, T_L, N_LPRE, 0.3)
    w0 = rng.normal(size=(N_LPRE, N_LPOST))
    g_tr = rng.normal(size=(N_LPRE, N_LPOST))
    g_dw = rng.normal(size=(N_LPRE, N_LPOST))
    model = pygenn.GeNNModel("float", "syn_learn")
    model.batch_size = B_L
    model.seed = 99
    pre = model.add_neuron_population("Pre", N_LPRE, ACC_NEURON, {}, acc_vars())
    post_spk = add_spike_source(model, "PostSpk", post_spikes)
    src = add_spike_source(model, "Src", pre_spikes)
    tg = {k: model.add_neuron_population("Trg" + k, N_LPOST, ACC_NEURON, {}, acc_vars())
          for k in ("DynD", "DynS", "Tr", "DW")}
    fp = lambda p: pygenn.init_sparse_connectivity("FixedProbability", {"prob": p})  # noqa
    ps = lambda: pygenn.init_postsynaptic("DeltaCurr")  # noqa: E731
    sgs = {}
    for mt in ("DENSE", "SPARSE"):
        k = mt[0]
        sgs["learn" + k] = model.add_synapse_population(
            "Learn" + k, mt, pre, post_spk,
            # (post var given via init_var: numeric pre/post-var initial values of
            # SPARSE groups are tested separately in test_sparse_group_pre_post_vars)
            pygenn.init_weight_update(LEARN_WU, {"eta": ETA}, {"w": w0.reshape(-1)
                                                               if mt == "DENSE" else 0.5},
                                      post_vars={"cnt": pygenn.init_var(
                                          "Constant", {"constant": 0.0})},
                                      pre_var_refs={"x_pre": pygenn.create_var_ref(pre, "x")}),
            ps(), fp(0.5) if mt == "SPARSE" else None)
        sgs["dyn" + k] = model.add_synapse_population(
            "Dyn" + k, mt, pre, tg["Dyn" + k],
            pygenn.init_weight_update(
                DYN_WU, {"a": A_DYN}, {"w": 0.0},
                pre_var_refs={"x_pre": pygenn.create_var_ref(pre, "x")},
                post_var_refs={"y_post": pygenn.create_var_ref(tg["Dyn" + k], "y")}),
            ps(), fp(0.4) if mt == "SPARSE" else None)
        sgs["dw" + k] = model.add_synapse_population(
            "Dw" + k, mt, src, tg["DW"],
            pygenn.init_weight_update(
                DW_WU, {}, {"g": g_dw.reshape(-1) if mt == "DENSE" else 1.0, "dw": 0.0},
                post_var_refs={"y_post": pygenn.create_var_ref(tg["DW"], "y")}),
            ps(), fp(0.5) if mt == "SPARSE" else None)
    sgs["tr"] = model.add_synapse_population(
        "TrD", "DENSE", src, tg["Tr"],
        pygenn.init_weight_update(TRACE_WU, {"decay": DECAY}, {"g": g_tr.reshape(-1)},
                                  pre_vars={"tr": 0.0}),
        ps())
    model.build()
    model.load()
    xs = rng.normal(size=(T_L, B_L, N_LPRE))
    ys = {k: rng.normal(size=(T_L, B_L, N_LPOST)) for k in ("DynD", "DynS", "DW")}
    rec = {k: [] for k in ("DynD", "DynS", "Tr")}
    for k in range(T_L):
        pre.vars["x"].view[...] = xs[k].reshape(pre.vars["x"].view.shape)
        for name, y in ys.items():
            tg[name].vars["y"].view[...] = y[k].reshape(tg[name].vars["y"].view.shape)
        model.step_time()
        for name in rec:
            rec[name].append(batched(tg[name].vars["last"].view, B_L).astype(np.float64))
    return dict(model=model, sgs=sgs, post_spikes=post_spikes, pre_spikes=pre_spikes,
                w0=w0, g_tr=g_tr, g_dw=g_dw, xs=xs, ys=ys,
                rec={k: np.array(v) for k, v in rec.items()})


def _per_batch(sg, var, kind):
    """(B, n_pre, n_post) dense array of a per-batch synapse var (NaN where absent)."""
    if kind == "D":
        return np.asarray(sg.vars[var].view, dtype=np.float64).reshape(B_L, N_LPRE, N_LPOST)
    out = np.full((B_L, N_LPRE, N_LPOST), np.nan)
    pre, post = sg.get_sparse_pre_inds(), sg.get_sparse_post_inds()
    vals = np.asarray(sg.vars[var].values, dtype=np.float64).reshape(B_L, -1)
    out[:, pre, post] = vals
    return out


@pytest.mark.parametrize("kind", ["D", "S"])
def test_post_spike_learning(learn, kind):
    """post_spike_syn_code ``w += eta * x_pre``: a postsynaptic spike in step k-1
    updates column j in step k with the x_pre of that time, per batch member;
    only existing synapses exist/are updated for SPARSE."""
    sg = learn["sgs"]["learn" + kind]
    s, xs = learn["post_spikes"], learn["xs"]
    dw = np.zeros((B_L, N_LPRE, N_LPOST))
    for k in range(1, T_L):
        for b in range(B_L):
            dw[b] += ETA * np.outer(xs[k, b], s[b, k - 1])
    w0 = learn["w0"] if kind == "D" else np.full((N_LPRE, N_LPOST), 0.5)
    expected = _as_prec(w0, "float")[None] + dw
    got = _per_batch(sg, "w", kind)
    assert np.asarray(sg.vars["w"].view if kind == "D" else sg.vars["w"].values).shape[0] == B_L
    present = ~np.isnan(got)
    if kind == "S":
        assert 0.2 < present[0].mean() < 0.8
        assert np.array_equal(present[0], present[1])
    np.testing.assert_allclose(got[present], expected[present], rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("kind", ["D", "S"])
def test_post_spike_code_post_vars(learn, kind):
    """post_spike_code ``cnt += 1`` on a post var counts each target's spikes per
    batch (shape (B, n_post)), for DENSE and SPARSE groups alike."""
    cnt = learn["sgs"]["learn" + kind].post_vars["cnt"]
    assert cnt.view.shape == (B_L, N_LPOST)
    np.testing.assert_array_equal(cnt.view, learn["post_spikes"].sum(axis=1))
    np.testing.assert_array_equal(cnt.values, learn["post_spikes"].sum(axis=1))


@pytest.mark.parametrize("kind", ["D", "S"])
def test_synapse_dynamics(learn, kind):
    """synapse_dynamics_code ``w += a*x_pre*y_post; addToPost(w)`` every step:
    w_k = w_{k-1} + a*outer(x_k, y_k) on existing synapses and the target's input
    in step k is sum_i w_k[i, :], per batch."""
    sg = learn["sgs"]["dyn" + kind]
    name = "Dyn" + kind
    xs, ys = learn["xs"], learn["ys"][name]
    if kind == "D":
        mask = np.ones((N_LPRE, N_LPOST))
    else:
        mask = np.zeros((N_LPRE, N_LPOST))
        mask[sg.get_sparse_pre_inds(), sg.get_sparse_post_inds()] = 1.0
        assert 0.1 < mask.mean() < 0.7
    w = np.zeros((B_L, N_LPRE, N_LPOST))
    expected = np.zeros((T_L, B_L, N_LPOST))
    for k in range(T_L):
        for b in range(B_L):
            w[b] += A_DYN * np.outer(xs[k, b], ys[k, b]) * mask
            expected[k, b] = w[b].sum(0)
    np.testing.assert_allclose(learn["rec"][name], expected, rtol=1e-4, atol=1e-4)
    got = _per_batch(sg, "w", kind)
    present = ~np.isnan(got)
    np.testing.assert_allclose(got[present], w[present], rtol=1e-4, atol=1e-5)


def test_pre_vars_spike_and_dynamics_code(learn):
    """pre_dynamics_code ``tr *= decay`` then pre_spike_code ``tr += 1`` each step:
    tr_n = decay*tr_{n-1} + s_n. A spike of step n is delivered in step n+1 as
    g * tr_n. The pre var is per batch: shape (B, n_pre)."""
    s = learn["pre_spikes"].astype(np.float64)
    g = _as_prec(learn["g_tr"], "float")
    tr = np.zeros((B_L, N_LPRE))
    expected = np.zeros((T_L, B_L, N_LPOST))
    for k in range(T_L):
        if k > 0:
            for b in range(B_L):
                expected[k, b] = (s[b, k - 1] * tr[b]) @ g
        tr = DECAY * tr + s[:, k]
    np.testing.assert_allclose(learn["rec"]["Tr"], expected, rtol=1e-5, atol=1e-5)
    view = learn["sgs"]["tr"].pre_vars["tr"].view
    assert view.shape == (B_L, N_LPRE)
    np.testing.assert_allclose(view, tr, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("kind", ["D", "S"])
def test_per_batch_wu_var(learn, kind):
    """READ_WRITE synapse var ``dw += y_post`` on each presynaptic spike holds a
    separate value per batch: dw[b,i,j] = sum_k s_b[k-1, i] * y_b[k, j]; the
    READ_ONLY ``g`` of the same group is shared across the batch."""
    sg = learn["sgs"]["dw" + kind]
    s, ys = learn["pre_spikes"].astype(np.float64), learn["ys"]["DW"]
    expected = np.zeros((B_L, N_LPRE, N_LPOST))
    for k in range(1, T_L):
        for b in range(B_L):
            expected[b] += np.outer(s[b, k - 1], ys[k, b])
    got = _per_batch(sg, "dw", kind)
    present = ~np.isnan(got)
    np.testing.assert_allclose(got[present], expected[present], rtol=1e-5, atol=1e-5)
    assert not np.allclose(got[0][present[0]], got[1][present[1]])
    if kind == "D":
        assert sg.vars["dw"].view.shape == (B_L, N_LPRE * N_LPOST)
        assert sg.vars["g"].view.shape == (N_LPRE * N_LPOST,)
    else:
        n_syn = sg.get_sparse_pre_inds().size
        assert np.asarray(sg.vars["dw"].values).shape == (B_L, n_syn)
        assert np.asarray(sg.vars["g"].values).shape == (n_syn,)


def test_sparse_group_pre_post_vars():
    """Pre and post vars of a SPARSE group given numeric initial values (a scalar
    and an array) are per-neuron arrays like those of a DENSE group: counted by
    pre_spike_code/post_spike_code, with ``.values`` of shape (n_pre,)/(n_post,)."""
    rng = np.random.default_rng(8)
    n_pre, n_post, T = 6, 5, 20
    s_pre = random_spikes(rng, 1, T, n_pre, 0.3)
    s_post = random_spikes(rng, 1, T, n_post, 0.3)
    wu = pygenn.create_weight_update_model(
        "CountPrePost", vars=[("g", "scalar", VarAccess.READ_ONLY)],
        pre_vars=[("npre", "scalar")], post_vars=[("npost", "scalar")],
        pre_spike_code="npre += 1.0;", post_spike_code="npost += 1.0;")
    model = pygenn.GeNNModel("float", "syn_sparse_prepost")
    a = add_spike_source(model, "A", s_pre)
    b = add_spike_source(model, "B", s_post)
    post0 = np.arange(n_post, dtype=float)
    sg = model.add_synapse_population(
        "Syn", "SPARSE", a, b,
        pygenn.init_weight_update(wu, {}, {"g": 1.0}, pre_vars={"npre": 10.0},
                                  post_vars={"npost": post0}),
        pygenn.init_postsynaptic("DeltaCurr"),
        pygenn.init_sparse_connectivity("FixedProbability", {"prob": 0.5}))
    model.build()
    model.load()
    for _ in range(T):
        model.step_time()
    np.testing.assert_array_equal(sg.pre_vars["npre"].values, 10.0 + s_pre[0].sum(0))
    np.testing.assert_array_equal(sg.post_vars["npost"].values, post0 + s_post[0].sum(0))
    assert sg.pre_vars["npre"].view.shape == (n_pre,)


def run_all_to_all(name, matrix, batch, wu, wu_params, post_model, post_vars, W, spikes):
    """Spike source -> ``post_model`` through all-to-all ``wu`` (DENSE or SPARSE with
    every synapse present, weights ``W``); runs all steps and returns ``post``."""
    model = pygenn.GeNNModel("double", name)
    model.dt = 1.0
    model.batch_size = batch
    src = add_spike_source(model, "src", spikes)
    post = model.add_neuron_population("post", W.shape[1], post_model, {}, post_vars)
    sg = model.add_synapse_population("syn_pop", matrix, src, post,
                                      pygenn.init_weight_update(wu, wu_params, {"g": W.ravel()}),
                                      pygenn.init_postsynaptic("DeltaCurr"))
    if matrix == "SPARSE":
        sg.set_sparse_connections(*np.nonzero(np.ones_like(W)))
    model.build()
    model.load()
    for _ in range(spikes.shape[1]):
        model.step_time()
    return post


def delayed_totals(spikes, W):
    """Per batch member: sum over steps 0..T-2 of spikes @ W (last step undelivered)."""
    return np.stack([spikes[b, :-1].sum(0) @ W for b in range(spikes.shape[0])])


@pytest.mark.parametrize("matrix", ["DENSE", "SPARSE"])
@pytest.mark.parametrize("batch", [1, 2])
def test_user_names_that_generated_code_also_uses(matrix, batch):
    """Weight-update params called like loop counters of typical generated code
    (``syn``, ``s``, ``j``, ``cnt``, ``b``) must not change which synapse is read."""
    wu = pygenn.create_weight_update_model(
        "NamesWU", params=["syn", "s", "j", "cnt", "b"], vars=[("g", "scalar")],
        pre_spike_syn_code="addToPost(g * (syn + s + j + cnt + b));")
    rng = np.random.default_rng(4)
    spikes = random_spikes(rng, batch, 12, 6, 0.4)
    W = rng.normal(size=(6, 4))
    post = run_all_to_all(f"syn_names_{matrix}_{batch}", matrix, batch, wu,
                          {"syn": 1.0, "s": 0.5, "j": 0.25, "cnt": 0.125, "b": 0.125},
                          ACC_NEURON, acc_vars(), W, spikes)
    np.testing.assert_allclose(batched(post.vars["acc"].view, batch),
                               delayed_totals(spikes, 2.0 * W), rtol=1e-12, atol=1e-12)


TWO_INPUT_NEURON = pygenn.create_neuron_model(
    "TwoInput", vars=[("a", "scalar"), ("b", "scalar")],
    additional_input_vars=[("Vsyn", "scalar", 0.0)], sim_code="a += Isyn;\nb += Vsyn;")


@pytest.mark.parametrize("matrix", ["DENSE", "SPARSE"])
def test_add_to_post_input_feeds_a_second_input(matrix):
    """addToPostInput(Vsyn, x) accumulates into the named additional input of the
    target, next to addToPost into Isyn, per batch member."""
    wu = pygenn.create_weight_update_model(
        "TwoWU", vars=[("g", "scalar")],
        pre_spike_syn_code="addToPost(g);\naddToPostInput(Vsyn, -3.0 * g);")
    rng = np.random.default_rng(9)
    B = 2
    spikes = random_spikes(rng, B, 10, 5, 0.5)
    W = rng.normal(size=(5, 3))
    post = run_all_to_all(f"syn_post_input_{matrix}", matrix, B, wu, {}, TWO_INPUT_NEURON,
                          {"a": 0.0, "b": 0.0}, W, spikes)
    expected = delayed_totals(spikes, W)
    np.testing.assert_allclose(batched(post.vars["a"].view, B), expected, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(batched(post.vars["b"].view, B), -3.0 * expected, rtol=1e-12,
                               atol=1e-12)


def test_add_to_post_input_unknown_target_is_named():
    wu = pygenn.create_weight_update_model(
        "BadTargetWU", vars=[("g", "scalar")], pre_spike_syn_code="addToPostInput(Vsin, g);")
    model = pygenn.GeNNModel("double", "syn_post_input_bad")
    src = model.add_neuron_population("src", 2, "Poisson", {"rate": 10.0},
                                      {"timeStepToSpike": 0.0})
    post = model.add_neuron_population("post", 2, TWO_INPUT_NEURON, {}, {"a": 0.0, "b": 0.0})
    model.add_synapse_population("sg", "DENSE", src, post,
                                 pygenn.init_weight_update(wu, {}, {"g": 1.0}),
                                 pygenn.init_postsynaptic("DeltaCurr"))
    with pytest.raises(pygenn.ModelDefinitionError) as info:
        model.build()
    msg = str(info.value)
    assert "Vsin" in msg and "sg" in msg and "Vsyn" in msg
