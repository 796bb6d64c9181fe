"""PyGeNN settings the engine cannot honour raise; the ones it accepts work.

The rule: the engine never accepts a PyGeNN 5.4 setting (group property,
preference, access flag, reference, initialiser argument) and then silently
does something else. Each test sets one of them and checks either the error
(naming the group, the setting and what is supported) or the behaviour.
"""
from __future__ import annotations

import numpy as np
import pytest

import genn_eventprop.engine as pygenn
from genn_eventprop.engine import (CustomUpdateVarAccess, ModelDefinitionError, StateError,
                                   VarAccess, VarAccessMode)

from _syn_helpers import ACC_NEURON, acc_vars, add_spike_source

LIF_PARAMS = dict(C=1.0, TauM=20.0, Vrest=0.0, Vreset=0.0, Vthresh=1.0, Ioffset=0.0,
                  TauRefrac=2.0)
LIF_VARS = {"V": 0.0, "RefracTime": 0.0}


def two_pops(name, batch=1):
    m = pygenn.GeNNModel("double", name)
    m.dt = 1.0
    m.batch_size = batch
    src = add_spike_source(m, "src", np.eye(4, dtype=bool)[None].repeat(batch, 0))
    trg = m.add_neuron_population("trg", 3, ACC_NEURON, {}, acc_vars())
    return m, src, trg


def static_synapse(m, src, trg, wu="StaticPulse", name="syn", **wu_kw):
    return m.add_synapse_population(
        name, "DENSE", src, trg,
        pygenn.init_weight_update(wu, {}, {"g": 1.0} if wu == "StaticPulse" else {}, **wu_kw),
        pygenn.init_postsynaptic("DeltaCurr"))


# ------------------------------------------------------------- axonal delay reads
READS_PRE = {
    "neuron var ref": pygenn.create_weight_update_model(
        "ReadsPreRef", vars=[("g", "scalar")], pre_neuron_var_refs=[("s_pre", "scalar")],
        pre_spike_syn_code="addToPost(g * s_pre);"),
    "pre var": pygenn.create_weight_update_model(
        "ReadsPreVar", vars=[("g", "scalar")], pre_vars=[("count", "scalar")],
        pre_spike_code="count += 1.0;", pre_spike_syn_code="addToPost(g * count);"),
    "st_pre": pygenn.create_weight_update_model(
        "ReadsStPre", vars=[("g", "scalar")], post_spike_syn_code="g += st_pre;"),
}


def delayed_synapse(kind, delay, name):
    m, src, trg = two_pops(name)
    wu = READS_PRE[kind]
    kw = {}
    if kind == "neuron var ref":
        kw["pre_var_refs"] = {"s_pre": pygenn.create_var_ref(src, "startSpike")}
        wu = pygenn.create_weight_update_model(
            "ReadsPreRefU", vars=[("g", "scalar")],
            pre_neuron_var_refs=[("s_pre", "unsigned int")],
            pre_spike_syn_code="addToPost(g * s_pre);")
    init = pygenn.init_weight_update(wu, {}, {"g": 1.0},
                                     {"count": 0.0} if kind == "pre var" else {}, **kw)
    sg = m.add_synapse_population("syn", "DENSE", src, trg, init,
                                  pygenn.init_postsynaptic("DeltaCurr"))
    sg.axonal_delay_steps = delay
    return m


@pytest.mark.parametrize("kind", sorted(READS_PRE))
def test_delayed_reads_of_presynaptic_state_are_rejected(kind):
    """GeNN reads these as they were when the spike was emitted; the engine has no history."""
    with pytest.raises(ModelDefinitionError, match=r"synapse population 'syn'.*axonal_delay_steps = 2"):
        delayed_synapse(kind, 2, f"set_delay_{kind.replace(' ', '_')}").build()
    delayed_synapse(kind, 0, f"set_nodelay_{kind.replace(' ', '_')}").build()


def test_axonal_delay_without_presynaptic_reads_builds_and_delays():
    m, src, trg = two_pops("set_delay_plain")
    static_synapse(m, src, trg).axonal_delay_steps = 2
    m.build()
    m.load()
    seen = []
    for _ in range(8):
        m.step_time()
        seen.append(float(trg.vars["last"].view[0]))
    # source neuron k spikes in step k (weight 1); its input arrives 1 + 2 steps later
    assert seen == [0.0, 0.0, 0.0, 1.0, 1.0, 1.0, 1.0, 0.0]


# ------------------------------------------------------------- group settings
def test_synapse_group_delay_settings():
    m, src, trg = two_pops("set_sg_delays")
    sg = static_synapse(m, src, trg)
    sg.back_prop_delay_steps = 0
    sg.max_dendritic_delay_timesteps = 1
    with pytest.raises(ModelDefinitionError, match=r"'syn'.*back_prop_delay_steps = 2.*only 0"):
        sg.back_prop_delay_steps = 2
    with pytest.raises(ModelDefinitionError, match=r"'syn'.*max_dendritic_delay_timesteps = 5.*only 1"):
        sg.max_dendritic_delay_timesteps = 5
    assert sg.back_prop_delay_steps == 0 and sg.max_dendritic_delay_timesteps == 1


@pytest.mark.parametrize("name", ["parallelism_hint", "num_threads_per_spike", "output_location",
                                  "narrow_sparse_ind_enabled", "max_source_connections"])
def test_gpu_settings_of_synapse_groups_raise(name):
    m, src, trg = two_pops(f"set_gpu_{name}")
    sg = static_synapse(m, src, trg)
    with pytest.raises(ModelDefinitionError, match=rf"synapse population 'syn'.*'{name}' is not "
                                                   r"supported.*CUDA backend"):
        setattr(sg, name, 1)


def test_misspelt_setting_raises_and_own_attributes_are_kept():
    m, src, trg = two_pops("set_typo")
    sg = static_synapse(m, src, trg)
    with pytest.raises(ModelDefinitionError, match="Did you mean 'axonal_delay_steps'"):
        sg.axonal_delay_step = 2
    with pytest.raises(ModelDefinitionError, match="Did you mean 'spike_recording_enabled'"):
        trg.spike_recording_enable = True
    with pytest.raises(ModelDefinitionError, match="Did you mean 'timing_enabled'"):
        m.timing_enable = True
    sg.my_label = "kept"     # PyGeNN groups accept a script's own attributes
    assert sg.my_label == "kept"


def test_neuron_group_recording_settings():
    m, src, trg = two_pops("set_rec")
    with pytest.raises(ModelDefinitionError, match="spike-like event recording is not supported"):
        trg.spike_event_recording_enabled = True
    trg.spike_event_recording_enabled = False
    with pytest.raises(ModelDefinitionError, match="'spike_time_location' is not supported"):
        trg.spike_time_location = 1
    m.build()
    with pytest.raises(StateError, match="spike_recording_enabled must be set before build"):
        src.spike_recording_enabled = True


def test_partial_recording_buffer_is_an_error():
    m, src, trg = two_pops("set_partial_rec")
    src.spike_recording_enabled = True
    m.build()
    m.load(num_recording_timesteps=4)
    for _ in range(3):
        m.step_time()
    with pytest.raises(StateError, match=r"buffer is full \(4 steps, 3 simulated\)"):
        src.spike_recording_data
    m.step_time()
    times, ids = src.spike_recording_data[0]
    np.testing.assert_array_equal(ids, [0, 1, 2, 3])
    np.testing.assert_array_equal(times, [0.0, 1.0, 2.0, 3.0])


def test_synapse_dynamic_parameters_use_pygenn_names():
    wu = pygenn.create_weight_update_model("ScaledPulse", params=["k"], vars=[("g", "scalar")],
                                           pre_spike_syn_code="addToPost(k * g);")
    m, src, trg = two_pops("set_wu_dynamic")
    sg = m.add_synapse_population("syn", "DENSE", src, trg,
                                  pygenn.init_weight_update(wu, {"k": 1.0}, {"g": 1.0}),
                                  pygenn.init_postsynaptic("DeltaCurr"))
    with pytest.raises(ModelDefinitionError, match="set_wu_param_dynamic"):
        sg.set_param_dynamic("k")
    with pytest.raises(ModelDefinitionError, match="dynamic postsynaptic-model parameters"):
        sg.set_ps_param_dynamic("x")
    sg.set_wu_param_dynamic("k")
    m.build()
    m.load()
    m.step_time()
    m.step_time()
    assert float(trg.vars["last"].view[0]) == 1.0
    sg.set_dynamic_param_value("k", 2.5)
    m.step_time()
    assert float(trg.vars["last"].view[0]) == 2.5
    assert sg.psm_extra_global_params is sg.ps_extra_global_params


def test_integer_parameters_cannot_be_dynamic():
    nm = pygenn.create_neuron_model("IntParam", params=[("n", "int")], vars=[("x", "scalar")],
                                    sim_code="x = n;")
    m = pygenn.GeNNModel("float", "set_int_dyn")
    pop = m.add_neuron_population("p", 2, nm, {"n": 3}, {"x": 0.0})
    with pytest.raises(ModelDefinitionError, match="parameter 'n' has type 'int'"):
        pop.set_param_dynamic("n")


# ------------------------------------------------------------- model settings
@pytest.mark.parametrize("pref", ["manual_device_id", "block_size_select_method",
                                  "generate_line_info", "genn_log_level"])
def test_genn_only_preferences_raise(pref):
    with pytest.raises(ModelDefinitionError, match=rf"preference '{pref}' is .*remove it"):
        pygenn.GeNNModel("float", "set_pref", **{pref: 1})


def test_unknown_preference_suggests():
    with pytest.raises(ModelDefinitionError, match="Did you mean 'num_threads'"):
        pygenn.GeNNModel("float", "set_pref2", num_thread=2)


def test_single_threaded_backend_runs_one_thread():
    assert pygenn.GeNNModel("float", "st", backend="single_threaded_cpu").num_threads == 1
    with pytest.raises(ModelDefinitionError, match="one thread"):
        pygenn.GeNNModel("float", "st2", backend="single_threaded_cpu", num_threads=2)


def test_debug_code_compiles_without_optimisation():
    m, src, trg = two_pops("set_debug")
    m2 = pygenn.GeNNModel("double", "set_debug2", debug_code=True)
    assert m2._compile_flags == ["-O0", "-g"]
    assert pygenn.GeNNModel("double", "o", optimize_code=False)._compile_flags == ["-O0"]
    assert m._compile_flags == []


def test_time_precision_and_model_gpu_settings():
    m = pygenn.GeNNModel("float", "set_tp")
    m.time_precision = "float"
    with pytest.raises(ModelDefinitionError, match="time_precision 'double' differs"):
        m.time_precision = "double"
    with pytest.raises(ModelDefinitionError, match="time_precision"):
        pygenn.GeNNModel("float", "set_tp2", time_precision="double")
    with pytest.raises(ModelDefinitionError, match="'default_var_location' is not supported"):
        m.default_var_location = 1


def test_timers_need_timing_enabled():
    m, src, trg = two_pops("set_timing_off")
    static_synapse(m, src, trg)
    m.build()
    m.load()
    m.step_time()
    with pytest.raises(StateError, match="timing_enabled = True before build"):
        m.neuron_update_time
    with pytest.raises(StateError, match="already built"):
        m.timing_enabled = True
    m2, src2, trg2 = two_pops("set_timing_on")
    static_synapse(m2, src2, trg2)
    m2.timing_enabled = True
    m2.build()
    m2.load()
    m2.step_time()
    assert m2.neuron_update_time >= 0.0 and m2.presynaptic_update_time >= 0.0


# ------------------------------------------------------------- model definitions
def test_access_flags_must_be_of_the_right_enum():
    with pytest.raises(ModelDefinitionError, match=r"variable 'y'.*must be a VarAccess member"):
        pygenn.create_neuron_model("BadAccess", vars=[("y", "scalar", VarAccessMode.READ_WRITE)])
    with pytest.raises(ModelDefinitionError, match="must be a CustomUpdateVarAccess member"):
        pygenn.create_custom_update_model("BadCU", vars=[("s", "scalar", VarAccess.READ_ONLY)],
                                          var_refs=[("v", "scalar")])
    with pytest.raises(ModelDefinitionError, match="must be a VarAccessMode member"):
        pygenn.create_custom_update_model("BadRef", var_refs=[("v", "scalar", VarAccess.READ_ONLY)])
    assert not hasattr(CustomUpdateVarAccess, "READ_WRITE_SHARED")  # absent in GeNN 5.4


def test_non_array_extra_global_parameters_raise():
    with pytest.raises(ModelDefinitionError, match=r"'gain'.*not an array.*'scalar\*'"):
        pygenn.create_neuron_model("ScalarEGP", extra_global_params=[("gain", "scalar")])


def test_reference_types_must_match():
    cu = pygenn.create_custom_update_model("ScalarRef", var_refs=[("v", "scalar")],
                                           update_code="v = v / 2;")
    m = pygenn.GeNNModel("float", "set_reftype")
    pop = m.add_neuron_population("p", 2, pygenn.create_neuron_model(
        "IntVar", vars=[("n", "unsigned int")]), {}, {"n": 5})
    with pytest.raises(ModelDefinitionError, match=r"reference 'v' is declared 'scalar' but 'n'"
                                                   r" of 'p' is 'unsigned int'"):
        m.add_custom_update("half", "g", cu, {}, {}, {"v": pygenn.create_var_ref(pop, "n")})
    ok = pygenn.create_custom_update_model("FloatRef", var_refs=[("v", "float")])
    pop2 = m.add_neuron_population("q", 2, pygenn.create_neuron_model(
        "ScalarVar", vars=[("x", "scalar")]), {}, {"x": 0.0})
    m.add_custom_update("fine", "g", ok, {}, {}, {"v": pygenn.create_var_ref(pop2, "x")})
    egp_cu = pygenn.create_custom_update_model("EgpRef", var_refs=[("v", "scalar")],
                                               extra_global_param_refs=[("e", "int*")])
    src = m.add_neuron_population("s", 2, pygenn.create_neuron_model(
        "HasEgp", vars=[("x", "scalar")], extra_global_params=[("e", "scalar*")]), {}, {"x": 0.0})
    with pytest.raises(ModelDefinitionError, match="extra global parameter reference 'e'"):
        m.add_custom_update("egp", "g", egp_cu, {}, {}, {"v": pygenn.create_var_ref(src, "x")},
                            {"e": pygenn.create_egp_ref(src, "e")})


def test_unused_reference_arguments_raise():
    m, src, trg = two_pops("set_refs_kw")
    with pytest.raises(ModelDefinitionError, match="unknown postsynaptic model variable reference"):
        static_synapse(m, src, trg, psm_var_refs={"x": pygenn.create_var_ref(trg, "acc")})
    with pytest.raises(ModelDefinitionError, match="unknown neuron variable reference"):
        m.add_synapse_population(
            "syn2", "DENSE", src, trg, pygenn.init_weight_update("StaticPulse", {}, {"g": 1.0}),
            pygenn.init_postsynaptic("DeltaCurr", var_refs={"V": pygenn.create_var_ref(trg, "acc")}))


def test_custom_update_shapes_follow_genn():
    m, src, trg = two_pops("set_cu_shapes", batch=2)
    sg = static_synapse(m, src, trg)
    shared = m.add_neuron_population("sh", 3, pygenn.create_neuron_model(
        "Shared", vars=[("s", "scalar", VarAccess.READ_ONLY_SHARED_NEURON),
                        ("x", "scalar")]), {}, {"s": 1.0, "x": 0.0})
    with pytest.raises(ModelDefinitionError, match="must reference variables"):
        m.add_custom_update("none", "g", pygenn.create_custom_update_model(
            "NoRefs", vars=[("a", "scalar")], update_code="a = 1;"), {}, {"a": 0.0}, {})
    only_shared = pygenn.create_custom_update_model("OnlyShared", var_refs=[
        ("s", "scalar", VarAccessMode.READ_ONLY)])
    with pytest.raises(ModelDefinitionError, match="shared across neurons"):
        m.add_custom_update("os", "g", only_shared, {}, {}, {"s": pygenn.create_var_ref(shared, "s")})
    writes_shared = pygenn.create_custom_update_model("WritesShared", var_refs=[
        ("s", "scalar"), ("x", "scalar")], update_code="s = x;")
    with pytest.raises(ModelDefinitionError, match="reference 's' writes 's'.*shared across neurons"):
        m.add_custom_update("ws", "g", writes_shared, {}, {},
                            {"s": pygenn.create_var_ref(shared, "s"),
                             "x": pygenn.create_var_ref(shared, "x")})
    neuron_reduce = pygenn.create_custom_update_model(
        "WUNeuronReduce", vars=[("r", "scalar", CustomUpdateVarAccess.REDUCE_NEURON_SUM)],
        var_refs=[("g", "scalar", VarAccessMode.READ_ONLY)], update_code="r = g;")
    with pytest.raises(ModelDefinitionError, match=r"variable 'r'.*synapse variables.*'syn'"):
        m.add_custom_update("wr", "g", neuron_reduce, {}, {"r": 0.0},
                            {"g": pygenn.create_wu_var_ref(sg, "g")})
    copy = pygenn.create_custom_update_model("WUCopy", vars=[("c", "scalar")],
                                             var_refs=[("g", "scalar", VarAccessMode.READ_ONLY)],
                                             update_code="c = g;")
    wu_cu = m.add_custom_update("wc", "g", copy, {}, {"c": 0.0},
                                {"g": pygenn.create_wu_var_ref(sg, "g")})
    with pytest.raises(ModelDefinitionError, match="use create_wu_var_ref"):
        m.add_custom_update("bad", "g", pygenn.create_custom_update_model(
            "ReadC", var_refs=[("c", "scalar", VarAccessMode.READ_ONLY)]), {}, {},
            {"c": pygenn.create_var_ref(wu_cu, "c")})


def test_custom_update_synapse_variables_follow_set_sparse_connections_order():
    """Initial values of a custom update's per-synapse variable are given in the order of
    set_sparse_connections (as PyGeNN reorders them), like the synapse group's own."""
    m, src, trg = two_pops("set_cu_order")
    sg = m.add_synapse_population("syn", "SPARSE", src, trg,
                                  pygenn.init_weight_update("StaticPulse", {}, {"g": [5., 6., 7.]}),
                                  pygenn.init_postsynaptic("DeltaCurr"))
    sg.set_sparse_connections(np.array([2, 0, 1]), np.array([0, 1, 2]))
    copy = pygenn.create_custom_update_model(
        "WUAdd", vars=[("c", "scalar")], var_refs=[("g", "scalar", VarAccessMode.READ_ONLY)],
        update_code="c += g;")
    cu = m.add_custom_update("add", "add", copy, {}, {"c": np.array([20.0, 0.0, 10.0])},
                             {"g": pygenn.create_wu_var_ref(sg, "g")})
    m.build()
    m.load()
    m.custom_update("add")
    pre, post = sg.get_sparse_pre_inds(), sg.get_sparse_post_inds()
    by_synapse = {(int(i), int(j)): float(c) for i, j, c in zip(pre, post, cu.vars["c"].values)}
    g = {(int(i), int(j)): float(x) for i, j, x in zip(pre, post, sg.vars["g"].values)}
    assert g == {(2, 0): 5.0, (0, 1): 6.0, (1, 2): 7.0}
    assert by_synapse == {(2, 0): 25.0, (0, 1): 6.0, (1, 2): 17.0}
