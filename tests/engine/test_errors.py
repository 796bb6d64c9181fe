"""Error reporting of the engine.

Every mistake a user can make while declaring, building or running a model
must raise the engine's specific exception class (SnippetError,
ModelDefinitionError, BuildError or StateError; all GeNNError subclasses),
and the message must say *where* (model and population / group, the snippet,
the line) and *what* (the offending name), and help fix it (suggest the
closest valid name or list the valid ones).
"""
from __future__ import annotations

import re

import numpy as np
import pytest

import genn_eventprop.engine as pygenn
from genn_eventprop.engine import (BuildError, GeNNError, ModelDefinitionError, SnippetError,
                                   StateError)

LIF_PARAMS = dict(C=1.0, TauM=20.0, Vrest=0.0, Vreset=0.0, Vthresh=1.0, Ioffset=0.0,
                  TauRefrac=2.0)
LIF_VARS = {"V": 0.0, "RefracTime": 0.0}

# "Did you mean 'x'?" or similar wording that proposes one specific name.
_SUGGEST = r"(?i)(did you mean|perhaps you meant|perhaps|closest|similar)\W+'?{}\b"


def assert_suggests(message: str, name: str):
    """The message proposes ``name`` as the fix (not merely lists it among others)."""
    assert re.search(_SUGGEST.format(re.escape(name)), message), (
        f"message does not suggest {name!r}:\n{message}")


def assert_line(message: str, line: int):
    """The message gives snippet line ``line`` (and no other 'line N')."""
    found = {int(x) for x in re.findall(r"\bline\s+(\d+)\b", message)}
    assert found == {line}, f"expected 'line {line}' only, found {sorted(found)}:\n{message}"


def lif_pair_model(name="errs_pair", record=False):
    """Two small LIF populations, no synapses; built but not loaded by callers."""
    m = pygenn.GeNNModel("float", name)
    a = m.add_neuron_population("popA", 4, "LIF", LIF_PARAMS, LIF_VARS)
    b = m.add_neuron_population("popB", 3, "LIF", LIF_PARAMS, LIF_VARS)
    a.spike_recording_enabled = record
    return m, a, b


# --------------------------------------------------------------------------- hierarchy
def test_exception_hierarchy():
    """All engine errors share GeNNError; the definition errors are ValueErrors and the
    build/phase errors RuntimeErrors, so generic handlers keep working."""
    for cls in (SnippetError, ModelDefinitionError, BuildError, StateError):
        assert issubclass(cls, GeNNError)
    assert issubclass(SnippetError, ValueError)
    assert issubclass(ModelDefinitionError, ValueError)
    assert issubclass(BuildError, RuntimeError)
    assert issubclass(StateError, RuntimeError)
    assert pygenn.GeNNError is GeNNError


# ------------------------------------------------------------ unknown names in snippets
def test_unknown_identifier_in_neuron_sim_code():
    """A typo on line 3 of a neuron sim_code: SnippetError naming the neuron model, the
    population, 'sim_code', line 3, the bad name, and suggesting the parameter it
    resembles."""
    nm = pygenn.create_neuron_model(
        "TypoNeuron", params=["tau", "Vthresh"], vars=[("V", "scalar")],
        sim_code="scalar dV = dt / tau;\nV += dV;\nif (V > Vthrsh) { V = Vthresh; }\n",
        threshold_condition_code="V >= Vthresh", reset_code="V = 0.0;")
    m = pygenn.GeNNModel("float", "errs_sim")
    m.add_neuron_population("excit", 5, nm, {"tau": 10.0, "Vthresh": 1.0}, {"V": 0.0})
    with pytest.raises(SnippetError) as info:
        m.build()
    msg = str(info.value)
    for part in ("TypoNeuron", "excit", "sim_code", "Vthrsh"):
        assert part in msg, (part, msg)
    assert_line(msg, 3)
    assert_suggests(msg, "Vthresh")


def test_snippet_and_compile_errors_number_lines_alike():
    """A triple-quoted snippet starts with a newline. The unknown-identifier check and
    the C++ compile error must count lines of the same snippet the same way; here the
    offending statement is on the same line of two otherwise identical snippets."""
    nm_typo = pygenn.create_neuron_model(
        "LeadTypo", params=["tau"], vars=[("V", "scalar")],
        sim_code="""
V += dt / tau;
V += tua;
""")
    nm_syntax = pygenn.create_neuron_model(
        "LeadSyntax", params=["tau"], vars=[("V", "scalar")],
        sim_code="""
V += dt / tau;
V = ;
""")
    m1 = pygenn.GeNNModel("float", "errs_lead1")
    m1.add_neuron_population("p", 2, nm_typo, {"tau": 1.0}, {"V": 0.0})
    with pytest.raises(SnippetError) as e1:
        m1.build()
    m2 = pygenn.GeNNModel("float", "errs_lead2")
    m2.add_neuron_population("p", 2, nm_syntax, {"tau": 1.0}, {"V": 0.0})
    with pytest.raises(BuildError) as e2:
        m2.build()
    head2 = str(e2.value).split("\n")[0]  # first line: the engine's own summary
    l1 = {int(x) for x in re.findall(r"\bline\s+(\d+)\b", str(e1.value))}
    l2 = {int(x) for x in re.findall(r"\bline\s+(\d+)\b", head2)}
    assert len(l1) == 1 and len(l2) == 1, (str(e1.value), head2)
    assert l1 == l2, f"SnippetError says line {l1}, BuildError says line {l2}"


def _wu_model(**code):
    return pygenn.create_weight_update_model(
        "TypoWU", params=["scale"], vars=[("g", "scalar")], **code)


def _add_synapses(m, a, b, wu):
    m.add_synapse_population("syn", "DENSE", a, b,
                             pygenn.init_weight_update(wu, {"scale": 1.0}, {"g": 1.0}),
                             pygenn.init_postsynaptic("DeltaCurr"))


def _case_wu_pre_spike(m, a, b):
    _add_synapses(m, a, b, _wu_model(pre_spike_syn_code="scalar x = g;\naddToPost(x * scal);"))
    return ("TypoWU", "syn", "pre_spike_syn_code", "scal", 2, "scale")


def _case_wu_dynamics(m, a, b):
    _add_synapses(m, a, b, _wu_model(synapse_dynamics_code="g *= scael;"))
    return ("TypoWU", "syn", "synapse_dynamics_code", "scael", 1, "scale")


def _case_custom_update(m, a, b):
    cu = pygenn.create_custom_update_model(
        "TypoCU", params=["scale"], var_refs=[("X", "scalar")],
        update_code="X = X * 2.0;\nX *= scael;")
    m.add_custom_update("cu", "Scale", cu, {"scale": 2.0}, {}, {"X": pygenn.create_var_ref(a, "V")})
    return ("TypoCU", "cu", "update_code", "scael", 2, "scale")


def _case_psm(m, a, b):
    ps = pygenn.create_postsynaptic_model("TypoPSM", params=["tau"],
                                          sim_code="injectCurrent(inSyn);\ninSyn *= exp(-dt / tua);")
    m.add_synapse_population("syn", "DENSE", a, b,
                             pygenn.init_weight_update("StaticPulseConstantWeight", {"g": 1.0}),
                             pygenn.init_postsynaptic(ps, {"tau": 5.0}))
    return ("TypoPSM", "syn", "sim_code", "tua", 2, "tau")


def _case_current_source(m, a, b):
    cs = pygenn.create_current_source_model("TypoCS", params=["amp"],
                                            injection_code="injectCurrent(ampl);")
    m.add_current_source("cs", cs, a, {"amp": 1.0})
    return ("TypoCS", "cs", "injection_code", "ampl", 1, "amp")


def _case_var_init(m, a, b):
    snip = pygenn.create_var_init_snippet("TypoInit", params=["lo", "hi"],
                                          var_init_code="value = lo + (hgi - lo) * 0.5;")
    m.add_neuron_population("popC", 3, "LIF", LIF_PARAMS,
                            {"V": pygenn.init_var(snip, {"lo": 0.0, "hi": 1.0}),
                             "RefracTime": 0.0})
    return ("TypoInit", "popC", "var_init_code", "hgi", 1, "hi")


def _case_threshold(m, a, b):
    nm = pygenn.create_neuron_model("TypoThresh", params=["Vthresh"], vars=[("V", "scalar")],
                                    sim_code="V += dt;", threshold_condition_code="V >= Vtresh",
                                    reset_code="V = 0.0;")
    m.add_neuron_population("popC", 3, nm, {"Vthresh": 1.0}, {"V": 0.0})
    return ("TypoThresh", "popC", "threshold_condition_code", "Vtresh", 1, "Vthresh")


def _case_reset(m, a, b):
    nm = pygenn.create_neuron_model("TypoReset", params=["Vreset"], vars=[("V", "scalar")],
                                    sim_code="V += dt;", threshold_condition_code="V >= 1.0",
                                    reset_code="V = Vrest;")
    m.add_neuron_population("popC", 3, nm, {"Vreset": 0.0}, {"V": 0.0})
    return ("TypoReset", "popC", "reset_code", "Vrest", 1, "Vreset")


@pytest.mark.parametrize("case", [_case_wu_pre_spike, _case_wu_dynamics, _case_custom_update,
                                  _case_psm, _case_current_source, _case_var_init,
                                  _case_threshold, _case_reset],
                         ids=lambda f: f.__name__[len("_case_"):])
def test_unknown_identifier_in_other_snippets(case):
    """Unknown names in weight-update, custom-update, postsynaptic, current-source,
    var-init, threshold and reset code: SnippetError naming the model definition, the
    group it belongs to, the snippet, the line and the bad name, suggesting the closest
    valid name. Raised by build(), before anything is compiled."""
    m, a, b = lif_pair_model("errs_snip_" + case.__name__[len("_case_"):])
    model_name, group, snippet, bad, line, good = case(m, a, b)
    with pytest.raises(SnippetError) as info:
        m.build()
    msg = str(info.value)
    for part in (model_name, group, snippet, bad):
        assert re.search(r"\b" + re.escape(part) + r"\b", msg), (part, msg)
    assert_line(msg, line)
    assert_suggests(msg, good)


# --------------------------------------------------------- parameters and variables
def test_misspelled_param_suggests_closest():
    """'TauRefac' for LIF: ModelDefinitionError naming the population, the model and the
    bad name, and suggesting 'TauRefrac'."""
    m = pygenn.GeNNModel("float", "errs_param")
    params = dict(LIF_PARAMS)
    params["TauRefac"] = params.pop("TauRefrac")
    with pytest.raises(ModelDefinitionError) as info:
        m.add_neuron_population("hidden", 3, "LIF", params, LIF_VARS)
    msg = str(info.value)
    for part in ("hidden", "LIF", "TauRefac"):
        assert part in msg
    assert_suggests(msg, "TauRefrac")


def test_missing_param_is_named():
    """Leaving out 'Vthresh': ModelDefinitionError naming the population and the missing
    parameter."""
    m = pygenn.GeNNModel("float", "errs_missing")
    params = {k: v for k, v in LIF_PARAMS.items() if k != "Vthresh"}
    with pytest.raises(ModelDefinitionError) as info:
        m.add_neuron_population("hidden", 3, "LIF", params, LIF_VARS)
    msg = str(info.value)
    assert "hidden" in msg and "Vthresh" in msg and "missing" in msg.lower()


def test_missing_var_is_named():
    """Leaving out the initial value of 'RefracTime' is reported by name."""
    m = pygenn.GeNNModel("float", "errs_missing_var")
    with pytest.raises(ModelDefinitionError) as info:
        m.add_neuron_population("hidden", 3, "LIF", LIF_PARAMS, {"V": 0.0})
    msg = str(info.value)
    assert "hidden" in msg and "RefracTime" in msg


def test_unknown_var_suggests_closest():
    """'RefracTme' instead of 'RefracTime'."""
    m = pygenn.GeNNModel("float", "errs_var")
    with pytest.raises(ModelDefinitionError) as info:
        m.add_neuron_population("hidden", 3, "LIF", LIF_PARAMS, {"V": 0.0, "RefracTme": 0.0})
    msg = str(info.value)
    assert "hidden" in msg and "RefracTme" in msg
    assert_suggests(msg, "RefracTime")


def test_misspelled_synapse_and_source_params():
    """Misspelled weight-update, postsynaptic and current-source parameters are reported
    against the synapse population / current source with a suggestion."""
    m, a, b = lif_pair_model("errs_syn_param")
    with pytest.raises(ModelDefinitionError) as info:
        m.add_synapse_population("syn", "DENSE", a, b,
                                 pygenn.init_weight_update("StaticPulseConstantWeight",
                                                           {"gg": 1.0}),
                                 pygenn.init_postsynaptic("DeltaCurr"))
    msg = str(info.value)
    assert "syn" in msg and "gg" in msg
    assert_suggests(msg, "g")
    with pytest.raises(ModelDefinitionError) as info:
        m.add_synapse_population("syn2", "DENSE", a, b,
                                 pygenn.init_weight_update("StaticPulse", {}, {"g": 1.0}),
                                 pygenn.init_postsynaptic("ExpCurr", {"tua": 5.0}))
    msg = str(info.value)
    assert "syn2" in msg and "tua" in msg
    assert_suggests(msg, "tau")
    with pytest.raises(ModelDefinitionError) as info:
        m.add_current_source("stim", "DC", a, {"ampl": 1.0})
    msg = str(info.value)
    assert "stim" in msg and "ampl" in msg
    assert_suggests(msg, "amp")


def test_unknown_synapse_var_and_var_ref_target():
    """An unknown weight-update variable name, and a variable reference to a variable
    the population does not have, are reported with the closest valid name."""
    m, a, b = lif_pair_model("errs_refs")
    with pytest.raises(ModelDefinitionError) as info:
        m.add_synapse_population("syn", "DENSE", a, b,
                                 pygenn.init_weight_update("StaticPulse", {}, {"gg": 1.0}),
                                 pygenn.init_postsynaptic("DeltaCurr"))
    msg = str(info.value)
    assert "syn" in msg and "gg" in msg
    assert_suggests(msg, "g")
    cu = pygenn.create_custom_update_model("SetV", var_refs=[("V", "scalar")],
                                           update_code="V = 0.0;")
    with pytest.raises(ModelDefinitionError) as info:
        m.add_custom_update("reset", "Reset", cu, {}, {},
                            {"V": pygenn.create_var_ref(a, "RefracTim")})
    msg = str(info.value)
    assert "reset" in msg and "popA" in msg and "RefracTim" in msg
    assert_suggests(msg, "RefracTime")


@pytest.mark.parametrize("kind,bad,good", [("neuron", "LIFF", "LIF"),
                                           ("poisson", "Poison", "Poisson"),
                                           ("psm", "ExpCur", "ExpCurr"),
                                           ("wu", "StaticPulseConstWeight",
                                            "StaticPulseConstantWeight"),
                                           ("init", "Uniorm", "Uniform"),
                                           ("cs", "DCC", "DC")])
def test_unknown_builtin_model_name(kind, bad, good):
    """An unknown built-in name: ModelDefinitionError naming the group and the bad name
    and suggesting the built-in meant."""
    m, a, b = lif_pair_model("errs_builtin")
    with pytest.raises(ModelDefinitionError) as info:
        if kind in ("neuron", "poisson"):
            m.add_neuron_population("newpop", 3, bad, {}, {})
        elif kind == "psm":
            m.add_synapse_population("newpop", "DENSE", a, b,
                                     pygenn.init_weight_update("StaticPulse", {}, {"g": 1.0}),
                                     pygenn.init_postsynaptic(bad, {"tau": 5.0}))
        elif kind == "wu":
            m.add_synapse_population("newpop", "DENSE", a, b,
                                     pygenn.init_weight_update(bad, {"g": 1.0}),
                                     pygenn.init_postsynaptic("DeltaCurr"))
        elif kind == "init":
            m.add_neuron_population("newpop", 3, "LIF", LIF_PARAMS,
                                    {"V": pygenn.init_var(bad, {"min": 0.0, "max": 1.0}),
                                     "RefracTime": 0.0})
        else:
            m.add_current_source("newpop", bad, a, {"amp": 1.0})
    msg = str(info.value)
    assert "newpop" in msg and bad in msg
    assert_suggests(msg, good)


@pytest.mark.parametrize("batch_size,shape", [(1, (4,)), (1, (2, 3)), (2, (3, 3)), (2, (2, 4))])
def test_wrong_shaped_initial_values(batch_size, shape):
    """An initial-value array that fits neither (n,) nor (batch, n) is rejected with a
    ModelDefinitionError naming the population and the variable (at declaration, build
    or load at the latest, never silently broadcast)."""
    m = pygenn.GeNNModel("float", f"errs_shape_{batch_size}")
    m.batch_size = batch_size
    with pytest.raises(ModelDefinitionError) as info:
        m.add_neuron_population("inp", 3, "LIF", LIF_PARAMS,
                                {"V": np.zeros(shape), "RefracTime": 0.0})
        m.build()
        m.load()
    msg = str(info.value)
    assert "inp" in msg and "'V'" in msg


def test_good_shaped_initial_values_accepted():
    """Counterpart of the above: (n,) and (batch, n) arrays are accepted and land in the
    view, so the shape check is not simply rejecting every array."""
    m = pygenn.GeNNModel("float", "errs_shape_ok")
    m.batch_size = 2
    v0 = np.array([[0.1, 0.2, 0.3], [0.4, 0.5, 0.6]])
    pop = m.add_neuron_population("inp", 3, "LIF", LIF_PARAMS,
                                  {"V": v0, "RefracTime": np.array([0.0, 1.0, 2.0])})
    m.build()
    m.load()
    np.testing.assert_allclose(pop.vars["V"].view, v0, rtol=1e-6)
    np.testing.assert_allclose(pop.vars["RefracTime"].view, [[0, 1, 2], [0, 1, 2]])


# -------------------------------------------------------------------------- phases
def test_step_time_before_load():
    """step_time on an unbuilt and on a built-but-unloaded model: StateError naming the
    model."""
    m, _, _ = lif_pair_model("errs_phase")
    with pytest.raises(StateError) as info:
        m.step_time()
    assert "errs_phase" in str(info.value)
    m.build()
    with pytest.raises(StateError) as info:
        m.step_time()
    assert "errs_phase" in str(info.value) and "load" in str(info.value)


def test_load_before_build():
    """load() without build(): StateError naming the model and telling to build."""
    m, _, _ = lif_pair_model("errs_phase")
    with pytest.raises(StateError) as info:
        m.load()
    msg = str(info.value)
    assert "errs_phase" in msg and "build" in msg


@pytest.mark.parametrize("what", ["neuron", "synapse", "current_source", "custom_update"])
def test_add_after_build(what):
    """Adding any group after build() (before or after load) is a StateError naming the
    model; PyGeNN raises 'GeNN model already built' here."""
    m, a, b = lif_pair_model("errs_phase")
    m.build()
    cu = pygenn.create_custom_update_model("ResetV", var_refs=[("V", "scalar")],
                                           update_code="V = 0.0;")

    def add():
        if what == "neuron":
            m.add_neuron_population("late", 3, "LIF", LIF_PARAMS, LIF_VARS)
        elif what == "synapse":
            m.add_synapse_population("late", "DENSE", a, b,
                                     pygenn.init_weight_update("StaticPulse", {}, {"g": 1.0}),
                                     pygenn.init_postsynaptic("DeltaCurr"))
        elif what == "current_source":
            m.add_current_source("late", "DC", a, {"amp": 1.0})
        else:
            m.add_custom_update("late", "Reset", cu, {}, {},
                                {"V": pygenn.create_var_ref(a, "V")})

    with pytest.raises(StateError) as info:
        add()
    assert "errs_phase" in str(info.value) and "built" in str(info.value)
    m.load()
    with pytest.raises(StateError):
        add()
    assert "late" not in m.neuron_populations and "late" not in m.synapse_populations


def test_compile_error_is_build_error():
    """A C++ syntax error (`V = ;` on line 2 of sim_code) passes the name check and fails
    in the compiler: BuildError naming the neuron model, the population, 'sim_code' and
    snippet line 2 (not a line of the generated file)."""
    nm = pygenn.create_neuron_model("SyntaxNeuron", params=["tau"], vars=[("V", "scalar")],
                                    sim_code="V += dt / tau;\nV = ;\nV *= 0.5;")
    m = pygenn.GeNNModel("float", "errs_cxx")
    m.add_neuron_population("broken", 2, nm, {"tau": 1.0}, {"V": 0.0})
    with pytest.raises(BuildError) as info:
        m.build()
    head = str(info.value).split("\n")[0]
    for part in ("SyntaxNeuron", "broken", "sim_code"):
        assert part in head, (part, head)
    assert_line(head, 2)
    # the model can not be loaded after a failed build
    with pytest.raises(StateError):
        m.load()


# ---------------------------------------------------------- custom updates, recording
@pytest.fixture(scope="module")
def loaded_recording_model():
    """LIF pair with recording on popA and a custom update group 'Reset' on popB."""
    m, a, b = lif_pair_model("errs_loaded", record=True)
    cu = pygenn.create_custom_update_model("SetV", params=["v"], var_refs=[("V", "scalar")],
                                           update_code="V = v;")
    m.add_custom_update("reset_b", "Reset", cu, {"v": -0.5}, {},
                        {"V": pygenn.create_var_ref(b, "V")})
    m.build()
    m.load(num_recording_timesteps=5)
    return m, a, b


def test_custom_update_unknown_group(loaded_recording_model):
    """custom_update('Rest') when only 'Reset' exists: ModelDefinitionError naming the bad
    group and suggesting 'Reset'; the existing group still runs."""
    m, a, b = loaded_recording_model
    with pytest.raises(ModelDefinitionError) as info:
        m.custom_update("Rest")
    msg = str(info.value)
    assert "Rest" in msg
    assert_suggests(msg, "Reset")
    m.custom_update("Reset")
    np.testing.assert_allclose(b.vars["V"].view, -0.5)


def test_custom_update_group_name_is_not_update_name(loaded_recording_model):
    """The argument of custom_update is the *group* name; passing the custom update's own
    name ('reset_b') is an error that lists the valid group 'Reset'."""
    m, _, _ = loaded_recording_model
    with pytest.raises(ModelDefinitionError) as info:
        m.custom_update("reset_b")
    assert "Reset" in str(info.value)


def test_spike_recording_data_when_not_enabled(loaded_recording_model):
    """Reading spike_recording_data of a population without recording: StateError naming
    the population and spike_recording_enabled."""
    m, a, b = loaded_recording_model
    with pytest.raises(StateError) as info:
        b.spike_recording_data
    msg = str(info.value)
    assert "popB" in msg and "spike_recording_enabled" in msg
    for _ in range(5):
        m.step_time()
    data = a.spike_recording_data  # the recording population works
    assert len(data) == 1 and len(data[0]) == 2


def test_load_without_num_recording_timesteps():
    """Recording enabled but load() without num_recording_timesteps: StateError naming
    the recording population and the missing argument (PyGeNN raises here too); a
    second load with the argument then succeeds."""
    m, a, b = lif_pair_model("errs_loaded", record=True)
    m.build()
    with pytest.raises(StateError) as info:
        m.load()
    msg = str(info.value)
    assert "popA" in msg and "num_recording_timesteps" in msg
    m.load(num_recording_timesteps=3)
    m.step_time()
    assert m.timestep == 1


def test_pull_recording_buffers_without_recording():
    """pull_recording_buffers_from_device when nothing records is a StateError."""
    m, _, _ = lif_pair_model("errs_phase")
    m.build()
    m.load()
    with pytest.raises(StateError):
        m.pull_recording_buffers_from_device()


@pytest.mark.parametrize("name,why", [("_k", "reserved"), ("id", "GeNN defines"),
                                      ("batch", "GeNN defines"), ("double", "keyword"),
                                      ("2x", "not a valid C identifier")])
def test_model_names_that_cannot_be_declared(name, why):
    """Names starting with '_', GeNN's own names, C keywords/types and non-identifiers
    are refused when the model is defined, naming the model and the name."""
    with pytest.raises(SnippetError) as info:
        pygenn.create_neuron_model("BadNames", params=["tau"], vars=[(name, "scalar")],
                                   sim_code="")
    msg = str(info.value)
    assert "BadNames" in msg and f"'{name}'" in msg and why in msg


def test_duplicate_declared_name():
    with pytest.raises(SnippetError) as info:
        pygenn.create_neuron_model("Dup", params=["tau"], vars=[("tau", "scalar")])
    assert "'tau'" in str(info.value) and "more than once" in str(info.value)
