"""Engine behaviour that must match GeNN 5.4's generated code exactly.

References (GeNN 5.4.0 sources): the neuron kernel order of
``neuronUpdateGroupMerged.cc`` (generateNeuronUpdate) and the CPU backend's
``genEmitTrueSpike`` (``single_threaded_cpu/backend.cc``); the weight update
model validation of ``weightUpdateModels.cc``; the const bindings of
``applySynapseSubstitutions`` (``synapseUpdateGroupMerged.cc``) and
``addLocalVarRefs(true)``; ``CurrentSource::setTargetVar``.

Expected numbers are worked out by hand from counter neurons whose state is a
known function of the step, so nothing here depends on engine internals.
"""
from __future__ import annotations

import numpy as np
import pytest

import genn_eventprop.engine as pygenn
from genn_eventprop.engine import VarAccessMode
from genn_eventprop.engine.errors import BuildError, ModelDefinitionError

_RO = VarAccessMode.READ_ONLY


def counter_model(name: str, period: int):
    """V counts steps (V = 1, 2, ... after sim_code); it spikes when V reaches
    ``period`` and reset sets V = 0, so it spikes in steps period-1, 2*period-1, ...
    ``on`` (a bool, stored as a copy) is true exactly when the threshold holds
    after sim_code; reset clears it."""
    return pygenn.create_neuron_model(
        name, vars=[("V", "scalar"), ("on", "bool")],
        sim_code=f"V += 1.0;\non = (V >= {period}.0);",
        threshold_condition_code=f"V >= {period}.0",
        reset_code="V = 0.0;\non = false;")


ACC = pygenn.create_neuron_model("SemAcc", vars=[("acc", "scalar")], sim_code="acc += Isyn;")


def per_batch(var, batch):
    """A variable's values as (batch, n) float64."""
    return np.asarray(var.view, dtype=np.float64).reshape(batch, -1)


# ============================================================================
# 1. WU pre/post spike code runs before sT = t and before reset_code
# ============================================================================
SPIKE_SEEN_WU = pygenn.create_weight_update_model(
    "SemSpikeSeen",
    pre_vars=[("pV", "scalar"), ("pOn", "scalar"), ("pSt", "scalar")],
    post_vars=[("qV", "scalar"), ("qSt", "scalar")],
    pre_neuron_var_refs=[("Vp", "scalar", _RO), ("onp", "bool", _RO)],
    post_neuron_var_refs=[("Vq", "scalar", _RO)],
    pre_spike_code="pV = Vp;\npOn = onp ? 1.0 : 0.0;\npSt = st_pre;",
    post_spike_code="qV = Vq;\nqSt = st_post;")


@pytest.mark.parametrize("batch", [1, 2])
def test_spike_code_sees_state_before_reset_and_previous_spike_time(batch):
    """Pre A (period 3) spikes in steps 2, 5; post B (period 2) in steps 1, 3, 5
    (dt = 1, so t = step). In GeNN 5.4 the WU spike code runs before ``sT = t``
    and before reset: after step 5 pre_spike_code has seen V = 3 (not the reset
    0), the bool ``on`` = true as set by sim_code, and st_pre = 2 (the previous
    spike, not 5); post_spike_code has seen V = 2 and st_post = 3. The neurons
    are still reset (V = 0, on = false) and their spikes are recorded."""
    model = pygenn.GeNNModel("float", f"sem_spike_order_{batch}")
    model.dt = 1.0
    model.batch_size = batch
    a = model.add_neuron_population("A", 2, counter_model("SemCount3", 3), {},
                                    {"V": 0.0, "on": False})
    b = model.add_neuron_population("B", 3, counter_model("SemCount2", 2), {},
                                    {"V": 0.0, "on": False})
    a.spike_recording_enabled = True
    sg = model.add_synapse_population(
        "AB", "DENSE", a, b,
        pygenn.init_weight_update(SPIKE_SEEN_WU, {}, {},
                                  pre_vars={"pV": -1.0, "pOn": -1.0, "pSt": -1.0},
                                  post_vars={"qV": -1.0, "qSt": -1.0},
                                  pre_var_refs={"Vp": pygenn.create_var_ref(a, "V"),
                                                "onp": pygenn.create_var_ref(a, "on")},
                                  post_var_refs={"Vq": pygenn.create_var_ref(b, "V")}),
        pygenn.init_postsynaptic("DeltaCurr"))
    model.build()
    model.load(num_recording_timesteps=6)
    for _ in range(6):
        model.step_time()
    np.testing.assert_array_equal(per_batch(sg.pre_vars["pV"], batch), 3.0)
    np.testing.assert_array_equal(per_batch(sg.pre_vars["pOn"], batch), 1.0)
    np.testing.assert_array_equal(per_batch(sg.pre_vars["pSt"], batch), 2.0)
    np.testing.assert_array_equal(per_batch(sg.post_vars["qV"], batch), 2.0)
    np.testing.assert_array_equal(per_batch(sg.post_vars["qSt"], batch), 3.0)
    np.testing.assert_array_equal(per_batch(a.vars["V"], batch), 0.0)
    np.testing.assert_array_equal(per_batch(a.vars["on"], batch), 0)
    model.pull_recording_buffers_from_device()
    data = a.spike_recording_data
    for k in range(batch):
        times, ids = data[k]
        got = sorted(zip(np.round(times).astype(int).tolist(), ids.tolist()))
        assert got == [(s, i) for s in (2, 5) for i in (0, 1)]


# ============================================================================
# 2. spike-like event conditions run after sim/dynamics code, before reset
# ============================================================================
PRE_EVENT_WU = pygenn.create_weight_update_model(
    "SemPreEvent",
    vars=[("g", "scalar", pygenn.VarAccess.READ_ONLY)],
    pre_vars=[("m", "scalar")],
    pre_neuron_var_refs=[("Vp", "scalar", _RO)],
    pre_dynamics_code="m = Vp;",
    pre_event_threshold_condition_code="m >= 3.0",
    pre_event_syn_code="addToPost(g);")

POST_EVENT_WU = pygenn.create_weight_update_model(
    "SemPostEvent",
    vars=[("w", "scalar")],
    post_neuron_var_refs=[("Vq", "scalar", _RO)],
    post_event_threshold_condition_code="Vq >= 2.0",
    post_event_syn_code="w += 1.0;")


@pytest.mark.parametrize("batch", [1, 2])
def test_event_conditions_see_state_before_reset(batch):
    """The event condition ``m >= 3`` (m = V of A copied by pre_dynamics_code)
    holds exactly in A's spike steps 2 and 5, because GeNN evaluates it after
    sim_code and the WU dynamics but before reset. The events reach the target
    in steps 3 and 6 from both A neurons: after 7 steps acc = 2 * 2 * g. The post
    event ``Vq >= 2`` on B (spikes in steps 1, 3, 5) is processed in steps 2, 4, 6:
    w = 3. Evaluated after reset (V = 0) neither condition would ever hold."""
    g = 0.75
    model = pygenn.GeNNModel("float", f"sem_event_order_{batch}")
    model.dt = 1.0
    model.batch_size = batch
    a = model.add_neuron_population("A", 2, counter_model("SemCount3", 3), {},
                                    {"V": 0.0, "on": False})
    b = model.add_neuron_population("B", 1, counter_model("SemCount2", 2), {},
                                    {"V": 0.0, "on": False})
    acc = model.add_neuron_population("Acc", 3, ACC, {}, {"acc": 0.0})
    model.add_synapse_population(
        "AAcc", "DENSE", a, acc,
        pygenn.init_weight_update(PRE_EVENT_WU, {}, {"g": g}, pre_vars={"m": 0.0},
                                  pre_var_refs={"Vp": pygenn.create_var_ref(a, "V")}),
        pygenn.init_postsynaptic("DeltaCurr"))
    sg = model.add_synapse_population(
        "AccB", "DENSE", acc, b,
        pygenn.init_weight_update(POST_EVENT_WU, {}, {"w": 0.0},
                                  post_var_refs={"Vq": pygenn.create_var_ref(b, "V")}),
        pygenn.init_postsynaptic("DeltaCurr"))
    model.build()
    model.load()
    for _ in range(7):
        model.step_time()
    np.testing.assert_allclose(per_batch(acc.vars["acc"], batch), 2 * 2 * g)
    np.testing.assert_array_equal(per_batch(sg.vars["w"], batch), 3.0)


# ============================================================================
# 3. spike-like event code needs both its condition and its handler
# ============================================================================
@pytest.mark.parametrize("given,missing", [
    ("pre_event_syn_code", "pre_event_threshold_condition_code"),
    ("pre_event_threshold_condition_code", "pre_event_syn_code"),
    ("post_event_syn_code", "post_event_threshold_condition_code"),
    ("post_event_threshold_condition_code", "post_event_syn_code")])
def test_event_code_without_its_other_half_is_rejected(given, missing):
    """GeNN 5.4 rejects a weight update model with only one of event condition and
    event handler (weightUpdateModels.cc validate); build() names model,
    population and the missing code instead of silently never running it."""
    code = "true" if "condition" in given else "addToPost(1.0);"
    wu = pygenn.create_weight_update_model(f"SemHalf_{given}", **{given: code})
    model = pygenn.GeNNModel("float", "sem_half_event")
    a = model.add_neuron_population("A", 1, ACC, {}, {"acc": 0.0})
    b = model.add_neuron_population("B", 1, ACC, {}, {"acc": 0.0})
    model.add_synapse_population("Half", "DENSE", a, b, pygenn.init_weight_update(wu),
                                 pygenn.init_postsynaptic("DeltaCurr"))
    with pytest.raises(ModelDefinitionError) as err:
        model.build()
    msg = str(err.value)
    assert f"SemHalf_{given}" in msg and "'Half'" in msg
    assert given in msg and missing in msg


# ============================================================================
# 4. what GeNN makes const cannot be written
# ============================================================================
def _wu_case(name, pop_kw, **wu_kw):
    def build(model, a, b):
        wu = pygenn.create_weight_update_model(name, **wu_kw)
        refs = {k: pygenn.create_var_ref(a if k.endswith("p") else b, "acc")
                for k in pop_kw}
        model.add_synapse_population(
            "S", "DENSE", a, b,
            pygenn.init_weight_update(
                wu, {}, {}, pre_vars={v[0]: 0.0 for v in wu_kw.get("pre_vars", [])},
                post_vars={v[0]: 0.0 for v in wu_kw.get("post_vars", [])},
                pre_var_refs={k: v for k, v in refs.items() if k.endswith("p")},
                post_var_refs={k: v for k, v in refs.items() if k.endswith("q")}),
            pygenn.init_postsynaptic("DeltaCurr"))
    return build


def _neuron_case(name, code):
    def build(model, a, b):
        nm = pygenn.create_neuron_model(name, vars=[("x", "scalar")],
                                        additional_input_vars=[("Iextra", "scalar", 0.0)],
                                        sim_code=code)
        model.add_neuron_population("N", 1, nm, {}, {"x": 0.0})
    return build


def _cs_case(model, a, b):
    cs = pygenn.create_current_source_model(
        "SemCSWritesRef", neuron_var_refs=[("accr", "scalar")],
        injection_code="injectCurrent(1.0);\naccr = 0.0;")
    model.add_current_source("CS", cs, a, {}, {}, {"accr": pygenn.create_var_ref(a, "acc")})


CONST_CASES = {
    # per-synapse code: pre/post WU vars are const (applySynapseSubstitutions)
    "pre var in pre_spike_syn_code": (
        "SemPreVarSyn", "pre_spike_syn_code", 2,
        _wu_case("SemPreVarSyn", [], pre_vars=[("pv", "scalar")],
                 pre_spike_syn_code="addToPost(1.0);\npv += 1.0;")),
    "post var in synapse_dynamics_code": (
        "SemPostVarDyn", "synapse_dynamics_code", 1,
        _wu_case("SemPostVarDyn", [], post_vars=[("qv", "scalar")],
                 synapse_dynamics_code="qv = 1.0;")),
    # per-neuron WU code: neuron var refs are const (addLocalVarRefs(true)),
    # even when the reference is declared READ_WRITE
    "pre neuron var ref in pre_spike_code": (
        "SemRefPreSpike", "pre_spike_code", 1,
        _wu_case("SemRefPreSpike", ["accp"], pre_neuron_var_refs=[("accp", "scalar")],
                 pre_spike_code="accp = 0.0;")),
    "post neuron var ref in post_dynamics_code": (
        "SemRefPostDyn", "post_dynamics_code", 1,
        _wu_case("SemRefPostDyn", ["accq"], post_neuron_var_refs=[("accq", "scalar")],
                 post_dynamics_code="accq *= 0.5;")),
    "neuron var ref in injection_code": ("SemCSWritesRef", "injection_code", 2, _cs_case),
    # sim_code reads its inputs only
    "Isyn in sim_code": ("SemWriteIsyn", "sim_code", 2,
                         _neuron_case("SemWriteIsyn", "x = 1.0;\nIsyn = 0.0;")),
    "additional input in sim_code": ("SemWriteIextra", "sim_code", 2,
                                     _neuron_case("SemWriteIextra", "x = 1.0;\nIextra += 1.0;")),
}


@pytest.mark.parametrize("case", list(CONST_CASES))
def test_writing_const_binding_fails_at_build(case):
    """Writes GeNN 5.4 rejects as assignments to const fail to compile; the error
    names the model, the snippet and the snippet line of the write."""
    model_name, snippet, line, add = CONST_CASES[case]
    model = pygenn.GeNNModel("float", "sem_const")
    a = model.add_neuron_population("A", 1, ACC, {}, {"acc": 0.0})
    b = model.add_neuron_population("B", 1, ACC, {}, {"acc": 0.0})
    add(model, a, b)
    with pytest.raises(BuildError) as err:
        model.build()
    head = str(err.value).splitlines()[0]
    assert model_name in head and snippet in head and f"line {line}:" in head


def test_allowed_writes_still_build():
    """Control: pre/post vars written in pre/post spike and dynamics code, neuron vars
    in sim/reset code and current-source vars are writable in GeNN and here."""
    wu = pygenn.create_weight_update_model(
        "SemAllowed", pre_vars=[("pv", "scalar")], post_vars=[("qv", "scalar")],
        pre_neuron_var_refs=[("accp", "scalar", _RO)],
        pre_spike_code="pv += accp;", post_dynamics_code="qv += 1.0;",
        pre_spike_syn_code="addToPost(pv + qv);")
    cs = pygenn.create_current_source_model("SemAllowedCS", vars=[("c", "scalar")],
                                            injection_code="c += 1.0;\ninjectCurrent(c);")
    model = pygenn.GeNNModel("float", "sem_allowed")
    a = model.add_neuron_population("A", 1, counter_model("SemCount3", 3), {},
                                    {"V": 0.0, "on": False})
    b = model.add_neuron_population("B", 1, ACC, {}, {"acc": 0.0})
    model.add_synapse_population(
        "S", "DENSE", a, b,
        pygenn.init_weight_update(wu, {}, {}, pre_vars={"pv": 0.0}, post_vars={"qv": 0.0},
                                  pre_var_refs={"accp": pygenn.create_var_ref(a, "V")}),
        pygenn.init_postsynaptic("DeltaCurr"))
    model.add_current_source("CS", cs, b, {}, {"c": 0.0})
    model.build()
    model.load()
    for _ in range(4):
        model.step_time()
    # A spikes in step 2 with V = 3 (before reset): pv = 3; qv = 4 after 4 steps
    # (3 when the spike is delivered in step 3); c = 1+2+3+4 injected = 10
    np.testing.assert_array_equal(np.asarray(b.vars["acc"].view).reshape(-1),
                                  [10.0 + 3.0 + 3.0])


# ============================================================================
# 5. CurrentSource.target_var
# ============================================================================
TWO_INPUT = pygenn.create_neuron_model(
    "SemTwoInput", vars=[("a", "scalar"), ("b", "scalar")],
    additional_input_vars=[("Iextra", "scalar", 0.5)],
    sim_code="a = Isyn;\nb = Iextra;")


@pytest.mark.parametrize("batch", [1, 2])
def test_current_source_target_var(batch):
    """A DC source with target_var = 'Iextra' adds to that additional input, which
    GeNN initialises (0.5) before current sources are applied: Iextra = 0.5 + 2;
    a second DC source with the default target feeds Isyn = 3 only; a synaptic
    input to Iextra (post_target_var) and the current source add up."""
    model = pygenn.GeNNModel("float", f"sem_cs_target_{batch}")
    model.dt = 1.0
    model.batch_size = batch
    pop = model.add_neuron_population("P", 2, TWO_INPUT, {}, {"a": 0.0, "b": 0.0})
    cs = model.add_current_source("ToExtra", "DC", pop, {"amp": 2.0})
    cs.target_var = "Iextra"
    model.add_current_source("ToIsyn", "DC", pop, {"amp": 3.0})
    src = model.add_neuron_population("Src", 1, "SpikeSourceArray", {},
                                      {"startSpike": 0, "endSpike": 1})
    src.extra_global_params["spikeTimes"].set_init_values([0.0])
    sg = model.add_synapse_population(
        "Syn", "DENSE", src, pop, pygenn.init_weight_update("StaticPulse", {}, {"g": 4.0}),
        pygenn.init_postsynaptic("DeltaCurr"))
    sg.post_target_var = "Iextra"
    model.build()
    model.load()
    # the spike of step 0 arrives in step 1
    for expected_b in (2.5, 6.5, 2.5):
        model.step_time()
        np.testing.assert_array_equal(per_batch(pop.vars["a"], batch), 3.0)
        np.testing.assert_array_equal(per_batch(pop.vars["b"], batch), expected_b)


def test_current_source_unknown_target_var():
    """An unknown target_var is rejected, naming the current source and listing
    the valid inputs (Isyn and the target model's additional input vars)."""
    model = pygenn.GeNNModel("float", "sem_cs_bad_target")
    pop = model.add_neuron_population("P", 2, TWO_INPUT, {}, {"a": 0.0, "b": 0.0})
    cs = model.add_current_source("Bad", "DC", pop, {"amp": 2.0})
    with pytest.raises(ModelDefinitionError) as err:
        cs.target_var = "Inope"      # PyGeNN may reject here already
        model.build()
    msg = str(err.value)
    assert "Inope" in msg and "'Bad'" in msg
    assert "Isyn" in msg and "Iextra" in msg


# ============================================================================
# Floating-point literals and maths functions are typed as GeNN 5 types them
# ============================================================================
TYPED = pygenn.create_neuron_model(
    "SemTyped", vars=[("lit", "scalar"), ("dbl", "scalar"), ("fexp", "scalar")],
    sim_code=("lit = 1.0e-8 + 1.0 - 1.0;  // 1.0 is a scalar: 1e-8 is lost in a float\n"
              "dbl = 1.0e-8d + 1.0d - 1.0d;\n"
              "fexp = exp(-103.0) * 1.0e10;"))


@pytest.mark.parametrize("precision", ["float", "double"])
def test_unsuffixed_literals_are_scalar_and_maths_follows_its_argument(precision):
    """GeNN 5: an unsuffixed literal has the scalar type, ``d`` makes a double, and
    exp of a float is the float function: exp(-103) is subnormal in single precision,
    so the kernels flush it to zero, where the double function's 1.4e-45 would give
    1.4e-35."""
    model = pygenn.GeNNModel(precision, f"sem_typed_{precision}")
    pop = model.add_neuron_population("x", 1, TYPED, {}, {"lit": 0.0, "dbl": 0.0, "fexp": 0.0})
    model.build()
    model.load()
    model.step_time()
    got = {k: float(np.asarray(pop.vars[k].view)[0]) for k in ("lit", "dbl", "fexp")}
    if precision == "float":
        f = np.float32
        assert got["lit"] == 0.0
        assert f(np.exp(f(-103.0))) > 0.0       # subnormal, not flushed, in numpy
        assert got["fexp"] == 0.0
    else:
        assert got["lit"] == pytest.approx(1e-8, rel=1e-6)
        assert got["fexp"] == pytest.approx(np.exp(-103.0) * 1e10, rel=1e-12)
    assert got["dbl"] == pytest.approx(1e-8, rel=1e-6)


# ============================================================================
# Subnormal numbers are flushed to zero in the kernels, not in the caller
# ============================================================================
HALVING = pygenn.create_neuron_model("SemHalving", vars=[("v", "scalar")],
                                     sim_code="v = v * 0.5;")


@pytest.mark.parametrize("precision,start,smallest", [("float", 1e-36, 1.1754944e-38),
                                                       ("double", 1e-305, 2.2250738585072014e-308)])
@pytest.mark.parametrize("batch", [1, 3])
def test_subnormals_are_flushed_in_kernels_only(precision, start, smallest, batch):
    """Halving a small value: numpy passes through the subnormal range before reaching
    0; the kernels jump from the smallest normal number straight to 0, on every
    thread, and the caller's own arithmetic keeps its subnormals afterwards."""
    model = pygenn.GeNNModel(precision, f"sem_halving_{precision}_{batch}")
    model.batch_size = batch
    pop = model.add_neuron_population("x", 64, HALVING, {}, {"v": start})
    model.build()
    model.load()
    dtype = np.float32 if precision == "float" else np.float64
    expected = np.full(64, start, dtype)
    for _ in range(40):
        model.step_time()
        expected = expected * dtype(0.5)
        expected[expected < dtype(smallest)] = 0.0
        got = np.asarray(pop.vars["v"].view).reshape(batch, 64)
        np.testing.assert_array_equal(got, np.broadcast_to(expected, got.shape))
    assert expected[0] == 0.0
    assert dtype(smallest) / dtype(4.0) > 0.0      # the caller still has subnormals
