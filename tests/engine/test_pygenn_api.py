"""PyGeNN 5 API compatibility.

A small network script written exactly as for PyGeNN 5 (only the import line
differs) must run unchanged and give the numbers of an independent float64
numpy re-implementation of GeNN 5's step semantics. The public names a PyGeNN 5
script uses (access enums, SynapseMatrixType, create_*/init_* functions, the
built-in model names with their parameter names, the keyword names of the main
functions) must exist.
"""
from __future__ import annotations

import inspect

import numpy as np
import pytest

import genn_eventprop.engine as pygenn

# ------------------------------------------------------------------ the user script
# Written against the PyGeNN 5 documentation; `pygenn.` prefix everywhere.
SCRIPT = '''
import numpy as np
import genn_eventprop.engine as pygenn

# ---- custom models
leaky_out = pygenn.create_neuron_model(
    "LeakyOut",
    params=["tau"],
    derived_params=[("alpha", lambda pars, dt: np.exp(-dt / pars["tau"]))],
    vars=[("V", "scalar", pygenn.VarAccess.READ_WRITE)],
    extra_global_params=[("bias", "scalar*")],
    sim_code="""
    V = (alpha * V) + Isyn + bias[id];
    """)

counting_syn = pygenn.create_weight_update_model(
    "CountingSyn",
    vars=[("g", "scalar"), ("n", "scalar")],
    pre_spike_syn_code="""
    addToPost(g);
    n += 1.0;
    """)

set_value = pygenn.create_custom_update_model(
    "SetValue",
    params=["value"],
    var_refs=[("V", "scalar", pygenn.VarAccessMode.READ_WRITE)],
    update_code="V = value;")

scale_weights = pygenn.create_custom_update_model(
    "ScaleWeights",
    params=["factor"],
    var_refs=[("g", "scalar")],
    update_code="g *= factor;")

# ---- model
model = pygenn.GeNNModel("float", "api_net")
model.dt = 0.5
model.seed = 1234

lif_params = {"C": 1.0, "TauM": 10.0, "Vrest": 0.0, "Vreset": 0.0, "Vthresh": 1.0,
              "Ioffset": 0.0, "TauRefrac": 2.0}
lif_init = {"V": pygenn.init_var("Uniform", {"min": 0.0, "max": 0.5}), "RefracTime": 0.0}

# spike source: neuron 0 at 2, 10.5, 30; neuron 1 at 5, 5.5, 6; neuron 2 at 20, 40
ids = np.array([0, 1, 2, 0, 1, 1, 0, 2])
times = np.array([2.0, 5.0, 20.0, 10.5, 5.5, 6.0, 30.0, 40.0])
end_spike = np.cumsum(np.bincount(ids, minlength=3))
start_spike = np.concatenate(([0], end_spike[:-1]))
inp = model.add_neuron_population("inp", 3, "SpikeSourceArray", {},
                                  {"startSpike": start_spike, "endSpike": end_spike})
inp.extra_global_params["spikeTimes"].set_init_values(times[np.lexsort((times, ids))])

exc = model.add_neuron_population("exc", 4, "LIF", lif_params, lif_init)
out = model.add_neuron_population("out", 3, leaky_out, {"tau": 8.0}, {"V": 0.0})
out.extra_global_params["bias"].set_init_values(np.array([0.0, 0.01, -0.02]))

model.add_current_source("drive", "DC", exc, {"amp": 0.085})

g_in = np.array([[0.9, 0.2, 0.0, 1.4],
                 [0.5, 0.8, 1.1, 0.3],
                 [0.0, 1.3, 0.6, 0.9]])
in_syn = model.add_synapse_population(
    "inp_exc", "DENSE", inp, exc,
    pygenn.init_weight_update("StaticPulse", {}, {"g": g_in.flatten()}),
    pygenn.init_postsynaptic("ExpCurr", {"tau": 5.0}))

pre_ind = np.array([3, 0, 0, 1, 2, 3])
post_ind = np.array([2, 1, 0, 1, 2, 0])
g_out = np.array([0.6, 0.2, 0.1, 0.3, 0.4, 0.5])
out_syn = model.add_synapse_population(
    "exc_out", pygenn.SynapseMatrixType.SPARSE, exc, out,
    pygenn.init_weight_update(counting_syn, {}, {"g": g_out, "n": 0.0}),
    pygenn.init_postsynaptic("DeltaCurr"))
out_syn.set_sparse_connections(pre_ind, post_ind)

model.add_custom_update("reset_exc", "Reset", set_value, {"value": -0.3}, {},
                        {"V": pygenn.create_var_ref(exc, "V")})
model.add_custom_update("reset_out", "Reset", set_value, {"value": 0.25}, {},
                        {"V": pygenn.create_var_ref(out, "V")})
model.add_custom_update("scale", "Scale", scale_weights, {"factor": 2.0}, {},
                        {"g": pygenn.create_wu_var_ref(out_syn, "g")})

exc.spike_recording_enabled = True

model.build()
model.load(num_recording_timesteps=NUM_STEPS)

exc.vars["V"].pull_from_device()
v_exc_init = exc.vars["V"].values

v_exc_trace = []
v_out_trace = []
while model.timestep < NUM_STEPS:
    if model.timestep == RESET_STEP:
        model.custom_update("Reset")
    if model.timestep == SCALE_STEP:
        model.custom_update("Scale")
    model.step_time()
    exc.vars["V"].pull_from_device()
    out.vars["V"].pull_from_device()
    v_exc_trace.append(exc.vars["V"].values)
    v_out_trace.append(out.vars["V"].values)

model.pull_recording_buffers_from_device()
spike_times, spike_ids = exc.spike_recording_data[0]
out_syn.vars["n"].pull_from_device()
syn_count = out_syn.vars["n"].values
syn_g = out_syn.vars["g"].values
syn_pre = out_syn.get_sparse_pre_inds()
syn_post = out_syn.get_sparse_post_inds()
final_t = model.t
'''

NUM_STEPS = 120
RESET_STEP = 60
SCALE_STEP = 70


def numpy_reference(v_exc_init):
    """float64 re-implementation of the script's network with GeNN 5 step semantics:
    synapse update (spikes of the previous step) -> neuron update (PSMs inject, current
    sources inject, sim code, threshold, reset) -> t += dt; custom updates between steps.
    Returns traces, spikes (times, ids), per-synapse counts keyed by (pre, post), the
    final weights and the smallest distance of V from threshold (sanity of the test)."""
    dt = 0.5
    ids = np.array([0, 1, 2, 0, 1, 1, 0, 2])
    times = np.array([2.0, 5.0, 20.0, 10.5, 5.5, 6.0, 30.0, 40.0])
    src_times = [sorted(times[ids == i]) for i in range(3)]
    src_next = [0, 0, 0]
    g_in = np.array([[0.9, 0.2, 0.0, 1.4], [0.5, 0.8, 1.1, 0.3], [0.0, 1.3, 0.6, 0.9]])
    conns = list(zip([3, 0, 0, 1, 2, 3], [2, 1, 0, 1, 2, 0]))
    g_out = dict(zip(conns, [0.6, 0.2, 0.1, 0.3, 0.4, 0.5]))
    count = {c: 0.0 for c in conns}
    C, tau_m, vthresh, tau_ref, amp = 1.0, 10.0, 1.0, 2.0, 0.085
    exp_tc = np.exp(-dt / tau_m)
    tau_syn = 5.0
    exp_decay = np.exp(-dt / tau_syn)
    init = tau_syn * (1.0 - np.exp(-dt / tau_syn)) / dt
    alpha_out = np.exp(-dt / 8.0)
    bias = np.array([0.0, 0.01, -0.02])

    v = np.asarray(v_exc_init, dtype=np.float64).copy()
    refrac = np.zeros(4)
    in_exc = np.zeros(4)
    v_out = np.zeros(3)
    in_out = np.zeros(3)
    prev_src, prev_exc = [], []
    spikes = []
    trace_exc, trace_out = [], []
    margin = np.inf
    for step in range(NUM_STEPS):
        if step == RESET_STEP:
            v[:] = -0.3
            v_out[:] = 0.25
        if step == SCALE_STEP:
            g_out = {c: 2.0 * w for c, w in g_out.items()}
        t = step * dt
        # synapse update
        for i in prev_src:
            in_exc += g_in[i]
        for i in prev_exc:
            for (pre, post) in conns:
                if pre == i:
                    in_out[post] += g_out[(pre, post)]
                    count[(pre, post)] += 1.0
        # neuron update: spike source
        src_spk = []
        for i in range(3):
            if src_next[i] < len(src_times[i]) and t >= src_times[i][src_next[i]]:
                src_spk.append(i)
                src_next[i] += 1
        # LIF with ExpCurr + DC
        isyn = init * in_exc + amp
        in_exc *= exp_decay
        active = refrac <= 0.0
        alpha = isyn * (tau_m / C)
        v = np.where(active, alpha - exp_tc * (alpha - v), v)
        refrac = np.where(active, refrac, refrac - dt)
        can = refrac <= 0.0
        if can.any():
            margin = min(margin, np.min(np.abs(v[can] - vthresh)))
        spk = np.flatnonzero(can & (v >= vthresh))
        for i in spk:
            spikes.append((t, i))
        v[spk] = 0.0
        refrac[spk] = tau_ref
        # leaky output with DeltaCurr
        v_out = alpha_out * v_out + in_out + bias
        in_out[:] = 0.0
        prev_src, prev_exc = src_spk, list(spk)
        trace_exc.append(v.copy())
        trace_out.append(v_out.copy())
    return dict(trace_exc=np.array(trace_exc), trace_out=np.array(trace_out), spikes=spikes,
                count=count, g_out=g_out, margin=margin)


@pytest.fixture(scope="module")
def script_run():
    ns = {"NUM_STEPS": NUM_STEPS, "RESET_STEP": RESET_STEP, "SCALE_STEP": SCALE_STEP}
    exec(compile(SCRIPT, "pygenn5_script.py", "exec"), ns)
    yield ns
    ns["model"].unload()


@pytest.fixture(scope="module")
def reference(script_run):
    return numpy_reference(script_run["v_exc_init"])


def test_script_initialisation(script_run):
    """Uniform(0, 0.5) initial V of 'exc' lies in range and is not constant."""
    v0 = script_run["v_exc_init"]
    assert v0.shape == (4,)
    assert np.all((v0 >= 0.0) & (v0 <= 0.5)) and np.ptp(v0) > 0


def test_reference_is_well_conditioned(reference):
    """The network spikes, and no threshold crossing is within 1e-3 of the threshold,
    so float32 and float64 must agree on every spike."""
    assert len(reference["spikes"]) >= 6
    assert reference["margin"] > 1e-3, reference["margin"]
    assert max(reference["count"].values()) > 0


def test_script_spikes_match_reference(script_run, reference):
    """Recorded exc spikes (time, id) equal the reference spikes."""
    got = sorted(zip(np.round(script_run["spike_times"], 6).tolist(),
                     script_run["spike_ids"].tolist()))
    want = sorted((round(t, 6), int(i)) for t, i in reference["spikes"])
    assert got == want


def test_script_voltage_traces_match_reference(script_run, reference):
    """exc and out membrane traces over all 120 steps match (float32 tolerance)."""
    np.testing.assert_allclose(np.array(script_run["v_exc_trace"]), reference["trace_exc"],
                               atol=2e-5, rtol=1e-4)
    np.testing.assert_allclose(np.array(script_run["v_out_trace"]), reference["trace_out"],
                               atol=2e-5, rtol=1e-4)


def test_script_synapse_state_matches_reference(script_run, reference):
    """Sparse per-synapse spike counts and the scaled weights, matched by (pre, post)."""
    pre, post = script_run["syn_pre"], script_run["syn_post"]
    assert sorted(zip(pre.tolist(), post.tolist())) == sorted(reference["count"])
    for k, (i, j) in enumerate(zip(pre.tolist(), post.tolist())):
        assert script_run["syn_count"][k] == reference["count"][(i, j)]
        assert script_run["syn_g"][k] == pytest.approx(reference["g_out"][(i, j)], rel=1e-6)


def test_script_time(script_run):
    """After 120 steps of 0.5 ms: model.timestep 120 and model.t 60 ms."""
    assert script_run["model"].timestep == NUM_STEPS
    assert script_run["final_t"] == pytest.approx(NUM_STEPS * 0.5)


# --------------------------------------------------------------------------- names
def test_access_enums_exist():
    """Access flags with their PyGeNN 5 member names, and the documented dimension
    relations (READ_ONLY is shared across the batch, READ_WRITE is not)."""
    for name in ("READ_WRITE", "READ_ONLY", "READ_ONLY_DUPLICATE", "READ_ONLY_SHARED_NEURON"):
        assert hasattr(pygenn.VarAccess, name), name
    for name in ("READ_WRITE", "READ_ONLY", "REDUCE_SUM", "REDUCE_MAX"):
        assert hasattr(pygenn.VarAccessMode, name), name
    for name in ("ELEMENT", "BATCH"):
        assert hasattr(pygenn.VarAccessDim, name), name
    for name in ("READ_WRITE", "READ_ONLY", "READ_ONLY_SHARED", "READ_ONLY_SHARED_NEURON",
                 "REDUCE_BATCH_SUM", "REDUCE_BATCH_MAX", "REDUCE_NEURON_SUM",
                 "REDUCE_NEURON_MAX"):
        assert hasattr(pygenn.CustomUpdateVarAccess, name), name
    for name in ("DENSE", "SPARSE"):
        assert hasattr(pygenn.SynapseMatrixType, name), name
    va, dim = pygenn.VarAccess, pygenn.VarAccessDim
    assert int(va.READ_WRITE) & int(dim.BATCH) and int(va.READ_WRITE) & int(dim.ELEMENT)
    assert not int(va.READ_ONLY) & int(dim.BATCH)
    assert int(va.READ_ONLY_DUPLICATE) & int(dim.BATCH)
    assert not int(va.READ_ONLY_SHARED_NEURON) & int(dim.ELEMENT)


FUNCTIONS = ["create_neuron_model", "create_weight_update_model", "create_postsynaptic_model",
             "create_current_source_model", "create_custom_update_model",
             "create_var_init_snippet", "create_sparse_connect_init_snippet", "create_var_ref",
             "create_wu_var_ref", "create_psm_var_ref", "create_egp_ref",
             "create_out_post_var_ref", "init_var", "init_weight_update", "init_postsynaptic",
             "init_sparse_connectivity"]


@pytest.mark.parametrize("name", FUNCTIONS)
def test_pygenn_functions_exist(name):
    assert callable(getattr(pygenn, name, None)), name


@pytest.mark.parametrize("name", ["create_wu_pre_var_ref", "create_wu_post_var_ref"])
def test_pygenn5_names_of_wu_pre_post_var_refs(name):
    """PyGeNN 5 spells the references to weight-update pre/post variables
    create_wu_pre_var_ref / create_wu_post_var_ref; the engine implements these
    references, so the PyGeNN 5 names must be available."""
    assert callable(getattr(pygenn, name, None)), name


# PyGeNN 5 keyword names (deprecated aliases and unsupported features left out)
SIGNATURES = {
    "create_neuron_model": ["class_name", "params", "vars", "derived_params", "sim_code",
                            "threshold_condition_code", "reset_code", "extra_global_params",
                            "additional_input_vars", "auto_refractory_required"],
    "create_weight_update_model": [
        "class_name", "params", "vars", "pre_vars", "post_vars", "pre_neuron_var_refs",
        "post_neuron_var_refs", "psm_var_refs", "derived_params", "pre_spike_syn_code",
        "pre_event_syn_code", "post_event_syn_code", "post_spike_syn_code",
        "synapse_dynamics_code", "pre_event_threshold_condition_code",
        "post_event_threshold_condition_code", "pre_spike_code", "post_spike_code",
        "pre_dynamics_code", "post_dynamics_code", "extra_global_params"],
    "create_postsynaptic_model": ["class_name", "params", "vars", "neuron_var_refs",
                                  "derived_params", "sim_code", "extra_global_params"],
    "create_current_source_model": ["class_name", "params", "vars", "neuron_var_refs",
                                    "derived_params", "injection_code", "extra_global_params"],
    "create_custom_update_model": ["class_name", "params", "vars", "derived_params", "var_refs",
                                   "update_code", "extra_global_params",
                                   "extra_global_param_refs"],
    "create_var_init_snippet": ["class_name", "params", "derived_params", "var_init_code",
                                "extra_global_params"],
    "create_sparse_connect_init_snippet": ["class_name", "params", "derived_params",
                                           "row_build_code", "calc_max_row_len_func",
                                           "calc_max_col_len_func", "extra_global_params"],
    "init_var": ["snippet", "params"],
    "init_sparse_connectivity": ["snippet", "params"],
    "init_postsynaptic": ["snippet", "params", "vars", "var_refs"],
    "init_weight_update": ["snippet", "params", "vars", "pre_vars", "post_vars", "pre_var_refs",
                           "post_var_refs", "psm_var_refs"],
}
METHODS = {
    "add_neuron_population": ["pop_name", "num_neurons", "neuron", "params", "vars"],
    "add_synapse_population": ["pop_name", "matrix_type", "source", "target",
                               "weight_update_init", "postsynaptic_init", "connectivity_init"],
    "add_current_source": ["cs_name", "current_source_model", "pop", "params", "vars",
                           "var_refs"],
    "add_custom_update": ["cu_name", "group_name", "custom_update_model", "params", "vars",
                          "var_refs", "egp_refs"],
    "build": ["path_to_model", "always_rebuild", "never_rebuild"],
    "load": ["num_recording_timesteps"],
    "custom_update": ["name"],
}


@pytest.mark.parametrize("name", sorted(SIGNATURES))
def test_function_keywords(name):
    """Every PyGeNN 5 keyword of the function is accepted under the same name, so
    keyword-style scripts work."""
    params = inspect.signature(getattr(pygenn, name)).parameters
    missing = [k for k in SIGNATURES[name] if k not in params]
    assert not missing, f"{name} lacks keywords {missing}"


@pytest.mark.parametrize("name", sorted(METHODS))
def test_genn_model_method_arguments(name):
    """GeNNModel methods take PyGeNN 5's arguments in PyGeNN 5's order (scripts call
    them positionally)."""
    params = list(inspect.signature(getattr(pygenn.GeNNModel, name)).parameters)[1:]
    assert params[:len(METHODS[name])] == METHODS[name]


def test_genn_model_defaults():
    """GeNNModel("float", name): dt 0.5 ms, batch_size 1, seed 0, precision kept;
    dT is an alias of dt."""
    m = pygenn.GeNNModel("float", "api_defaults")
    assert m.dt == 0.5 and m.batch_size == 1 and m.seed == 0
    assert m.precision == "float" and m.name == "api_defaults"
    m.dt = 0.25
    assert m.dT == 0.25
    for d in ("neuron_populations", "synapse_populations", "current_sources",
              "custom_updates"):
        assert getattr(m, d) == {}


LIF_PARAMS = {"C": 1.0, "TauM": 20.0, "Vrest": 0.0, "Vreset": 0.0, "Vthresh": 1.0,
              "Ioffset": 0.0, "TauRefrac": 2.0}


def test_builtins_with_pygenn5_parameter_names():
    """Every built-in the engine provides is accepted by name with exactly PyGeNN 5's
    parameter and variable names, and a model using all of them builds, loads and runs:
    neurons LIF, Poisson, SpikeSourceArray; weight updates StaticPulse,
    StaticPulseConstantWeight; postsynaptic DeltaCurr, ExpCurr; current source DC; var
    inits Constant, Uniform, Normal, NormalClipped, Exponential; connectivity
    FixedProbability, FixedProbabilityNoAutapse, OneToOne."""
    m = pygenn.GeNNModel("float", "api_builtins")
    m.seed = 5
    lif = m.add_neuron_population("lif", 20, "LIF", LIF_PARAMS, {
        "V": pygenn.init_var("Normal", {"mean": 0.0, "sd": 0.1}),
        "RefracTime": pygenn.init_var("Constant", {"constant": 0.0})})
    pois = m.add_neuron_population("pois", 20, "Poisson", {"rate": 50.0},
                                   {"timeStepToSpike": pygenn.init_var(
                                       "Exponential", {"lambda": 1.0})})
    ssa = m.add_neuron_population("ssa", 2, "SpikeSourceArray", {},
                                  {"startSpike": [0, 1], "endSpike": [1, 2]})
    ssa.extra_global_params["spikeTimes"].set_init_values([1.0, 2.0])
    m.add_current_source("dc", "DC", lif, {"amp": 0.01})
    m.add_synapse_population("s1", "SPARSE", pois, lif,
                             pygenn.init_weight_update("StaticPulse", {}, {
                                 "g": pygenn.init_var("Uniform", {"min": 0.0, "max": 0.1})}),
                             pygenn.init_postsynaptic("ExpCurr", {"tau": 5.0}),
                             pygenn.init_sparse_connectivity("FixedProbability", {"prob": 0.3}))
    m.add_synapse_population("s2", "SPARSE", lif, lif,
                             pygenn.init_weight_update("StaticPulseConstantWeight", {"g": 0.05}),
                             pygenn.init_postsynaptic("DeltaCurr"),
                             pygenn.init_sparse_connectivity("FixedProbabilityNoAutapse",
                                                             {"prob": 0.2}))
    m.add_synapse_population("s3", "SPARSE", pois, lif,
                             pygenn.init_weight_update("StaticPulse", {}, {
                                 "g": pygenn.init_var("NormalClipped", {
                                     "mean": 0.05, "sd": 0.02, "min": 0.0, "max": 0.1})}),
                             pygenn.init_postsynaptic("DeltaCurr"),
                             pygenn.init_sparse_connectivity("OneToOne"))
    m.build()
    m.load()
    for _ in range(20):
        m.step_time()
    assert m.timestep == 20
    assert np.all(np.isfinite(lif.vars["V"].view))
    s3 = m.synapse_populations["s3"]
    np.testing.assert_array_equal(s3.get_sparse_post_inds(), np.arange(20))
    s2 = m.synapse_populations["s2"]
    assert not np.any(s2.get_sparse_pre_inds() == s2.get_sparse_post_inds())
