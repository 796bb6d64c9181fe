"""``step_times(n)``: n steps in one call, identical to n calls of ``step_time()``.

The fused loop runs each batch member through all n steps on one thread, with
its own spike-queue positions; everything it touches must come out bit for bit
as with step_time(), which runs every population for all members in turn. The
model exercises what could go wrong: random numbers in sim code (Poisson input,
keyed by step), a delayed population (axonal delay, queue positions), addToPre
(summed per row), spike recording, and several calls of different lengths.
Results must not depend on the number of threads either.
"""
from __future__ import annotations

import numpy as np
import pytest

import genn_eventprop.engine as pygenn

N_IN, N_HID = 40, 30
STEPS = 60

Leaky = pygenn.create_neuron_model(
    "StepTimesLeaky", params=["tau"], vars=[("V", "scalar"), ("back", "scalar")],
    additional_input_vars=[("fromPost", "scalar", 0.0)],
    sim_code="V += (Isyn - V / tau) * dt;\nback += fromPost;",
    threshold_condition_code="V >= 1.0", reset_code="V = 0.0;")

Feedback = pygenn.create_weight_update_model(
    "StepTimesFeedback", vars=[("g", "scalar"), ("n", "scalar")],
    post_neuron_var_refs=[("V_post", "scalar")],
    pre_spike_syn_code="addToPost(g);\nn += 1.0;\naddToPre(g * V_post);")


Events = pygenn.create_weight_update_model(
    "StepTimesEvents", vars=[("g", "scalar", pygenn.VarAccess.READ_ONLY)],
    pre_neuron_var_refs=[("V_pre", "scalar", pygenn.VarAccessMode.READ_ONLY)],
    pre_event_threshold_condition_code="V_pre > 0.4",
    pre_event_syn_code="addToPost(0.1 * g);\naddToPre(0.01 * g);")

Learning = pygenn.create_weight_update_model(
    "StepTimesLearning", vars=[("w", "scalar")],
    pre_spike_syn_code="addToPost(w);",
    post_spike_syn_code="w += 0.01 * gennrand_uniform();",
    synapse_dynamics_code="w *= 0.999;")


def add_rich_synapses(m, hid, out):
    """Spike-like events with addToPre (DENSE), and a SPARSE group with synapse
    dynamics, postsynaptic spike code and random numbers in synapse code."""
    ev = m.add_synapse_population(
        "hid_out_events", "DENSE", hid, out,
        pygenn.init_weight_update(Events, {}, {"g": pygenn.init_var("Uniform", {
            "min": 0.0, "max": 0.2})}, pre_var_refs={"V_pre": pygenn.create_var_ref(hid, "V")}),
        pygenn.init_postsynaptic("DeltaCurr"))
    ev.pre_target_var = "fromPost"
    m.add_synapse_population(
        "hid_out_sparse", "SPARSE", hid, out,
        pygenn.init_weight_update(Learning, {}, {"w": pygenn.init_var("Uniform", {
            "min": 0.0, "max": 0.1})}),
        pygenn.init_postsynaptic("ExpCurr", {"tau": 2.0}),
        pygenn.init_sparse_connectivity("FixedProbability", {"prob": 0.3}))


def build(name, batch, threads, rich=False):
    m = pygenn.GeNNModel("float", name, num_threads=threads)
    m.dt = 1.0
    m.batch_size = batch
    m.seed = 7
    src = m.add_neuron_population("src", N_IN, "Poisson", {"rate": 80.0}, {"timeStepToSpike": 0.0})
    hid = m.add_neuron_population("hid", N_HID, Leaky, {"tau": 10.0}, {"V": 0.0, "back": 0.0})
    out = m.add_neuron_population("out", N_HID, Leaky, {"tau": 5.0}, {"V": 0.0, "back": 0.0})
    src.spike_recording_enabled = True
    hid.spike_recording_enabled = True
    m.add_synapse_population(
        "src_hid", "DENSE", src, hid,
        pygenn.init_weight_update("StaticPulse", {}, {"g": pygenn.init_var("Uniform", {
            "min": 0.0, "max": 0.06})}),
        pygenn.init_postsynaptic("ExpCurr", {"tau": 3.0})).axonal_delay_steps = 2
    fb = m.add_synapse_population(
        "hid_out", "DENSE", hid, out,
        pygenn.init_weight_update(Feedback, {}, {"g": pygenn.init_var("Normal", {
            "mean": 0.05, "sd": 0.05}), "n": 0.0}, post_var_refs={
                "V_post": pygenn.create_var_ref(out, "V")}),
        pygenn.init_postsynaptic("DeltaCurr"))
    fb.pre_target_var = "fromPost"
    if rich:
        add_rich_synapses(m, hid, out)
    m.build()
    m.load(num_recording_timesteps=STEPS)
    return m


def state(m):
    out = {}
    for name, pop in m.neuron_populations.items():
        for var, v in pop.vars.items():
            v.pull_from_device()
            out[f"{name}.{var}"] = np.array(v.view)
        out[f"{name}.spikes"] = (m.neuron_populations[name].spike_recording_data
                                 if pop.spike_recording_enabled else None)
    for name, sg in m.synapse_populations.items():
        for var, v in sg.vars.items():
            v.pull_from_device()
            out[f"{name}.{var}"] = np.array(v.view)
    out["t"] = m.t
    out["timestep"] = m.timestep
    return out


def assert_same(a, b):
    assert a.keys() == b.keys()
    for k in a:
        if k.endswith(".spikes"):
            if a[k] is None:
                assert b[k] is None
                continue
            for (ta, ia), (tb, ib) in zip(a[k], b[k]):
                np.testing.assert_array_equal(ta, tb, err_msg=k)
                np.testing.assert_array_equal(ia, ib, err_msg=k)
        else:
            np.testing.assert_array_equal(a[k], b[k], err_msg=k)


def run_single_steps(m, n):
    for _ in range(n):
        m.step_time()
    m.pull_recording_buffers_from_device()
    return state(m)


def run_fused(m, chunks):
    for n in chunks:
        m.step_times(n)
    m.pull_recording_buffers_from_device()
    return state(m)


@pytest.mark.parametrize("batch", [1, 3])
def test_step_times_equals_repeated_step_time(batch):
    a = run_single_steps(build(f"st_single_b{batch}", batch, 2), STEPS)
    b = run_fused(build(f"st_single_b{batch}", batch, 2), [25, 0, 1, STEPS - 26])
    assert a["hid.spikes"] is not None and sum(t.size for t, _ in a["hid.spikes"]) > 0
    assert np.abs(a["hid.back"]).sum() > 0.0, "addToPre never reached the source"
    assert_same(a, b)


@pytest.mark.parametrize("batch", [1, 3])
def test_step_times_with_events_sparse_dynamics_and_post_code(batch):
    m = build(f"st_rich_b{batch}", batch, 2, rich=True)
    w = m.synapse_populations["hid_out_sparse"].vars["w"]
    w.pull_from_device()
    w0 = np.array(w.view)
    a = run_single_steps(m, STEPS)
    b = run_fused(build(f"st_rich_b{batch}", batch, 2, rich=True), [7, STEPS - 7])
    assert not np.array_equal(a["hid_out_sparse.w"], w0), "the sparse weights never changed"
    assert_same(a, b)


def test_step_times_does_not_depend_on_thread_count():
    one = run_fused(build("st_threads", 4, 1), [STEPS])
    two = run_fused(build("st_threads", 4, 2), [STEPS])
    assert_same(one, two)


def test_step_times_after_timestep_reset():
    """Setting ``timestep`` back (as a new trial does) keeps the queues where
    they are, in both ways of stepping."""
    ms = build("st_reset", 2, 2)
    mf = build("st_reset", 2, 2)
    for _ in range(2):
        for _ in range(17):
            ms.step_time()
        mf.step_times(17)
        ms.timestep = 0
        mf.timestep = 0
    assert_same(run_single_steps(ms, STEPS), run_fused(mf, [STEPS]))


@pytest.mark.parametrize("bad", [-1, 2.5, "3", True, 2 ** 32])
def test_step_times_rejects_bad_counts(bad):
    m = build("st_single_b1", 1, 1)
    with pytest.raises(ValueError, match="non-negative integer"):
        m.step_times(bad)


def test_state_arrays_are_64_byte_aligned():
    """Where vectorised sums start must not depend on the allocator (see aligned_zeros)."""
    m = build("st_single_b3", 3, 1)
    assert m._arrays, "no state arrays"
    for name, arr in m._arrays.items():
        assert arr.ctypes.data % 64 == 0, name
