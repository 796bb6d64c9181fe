"""The spike-schedule extension: a population whose spikes come from the host, one
entry per spike, instead of from a per-neuron update (``enable_spike_schedule``,
``push_spike_schedule``). Expected values are worked out by hand."""
from __future__ import annotations

import numpy as np
import pytest

import genn_eventprop.engine as pygenn
from genn_eventprop.engine import VarAccessMode
from genn_eventprop.engine.errors import ModelDefinitionError, StateError

SOURCE = pygenn.create_neuron_model("SchedSource", vars=[("x", "scalar")])
ACC = pygenn.create_neuron_model("SchedAcc", vars=[("acc", "scalar")], sim_code="acc += Isyn;")
#: Each spike adds x_pre * g to the target: shows the schedule value is set before
#: the spike's weight-update code runs, and the synapse sees the spike.
SEEN = pygenn.create_weight_update_model(
    "SchedSeen", params=["g"], pre_vars=[("xs", "scalar")],
    pre_neuron_var_refs=[("x_pre", "scalar", VarAccessMode.READ_ONLY)],
    pre_spike_code="xs = x_pre;", pre_spike_syn_code="addToPost(g * xs);")


def build(batch, name, n_src=5):
    model = pygenn.GeNNModel("double", name)
    model.batch_size = batch
    model.dt = 1.0
    src = model.add_neuron_population("src", n_src, SOURCE, {}, {"x": 0.0})
    src.spike_recording_enabled = True
    src.enable_spike_schedule(["x"])
    dst = model.add_neuron_population("dst", 1, ACC, {}, {"acc": 0.0})
    model.add_synapse_population(
        "s", "DENSE", src, dst,
        pygenn.init_weight_update(SEEN, {"g": 1.0}, {}, pre_vars={"xs": 0.0},
                                  pre_var_refs={"x_pre": pygenn.create_var_ref(src, "x")}),
        pygenn.init_postsynaptic("DeltaCurr"))
    model.build()
    model.load(num_recording_timesteps=5)
    return model, src, dst


def test_scheduled_spikes_are_emitted_in_their_step_with_their_values():
    model, src, dst = build(2, "sched_b2")
    # member 0: step 0 ids 1, 3 (x 1, 10); step 2 id 0 (x 100); member 1: step 1 id 4 (x 7)
    offsets = np.array([[0, 2, 2, 3], [3, 3, 4, 4]])
    src.push_spike_schedule(offsets, [1, 3, 0, 4], {"x": [1.0, 10.0, 100.0, 7.0]})
    for _ in range(5):
        model.step_time()
    model.pull_recording_buffers_from_device()
    (t0, i0), (t1, i1) = src.spike_recording_data
    np.testing.assert_array_equal(t0, [0.0, 0.0, 2.0])
    np.testing.assert_array_equal(i0, [1, 3, 0])
    np.testing.assert_array_equal(t1, [1.0])
    np.testing.assert_array_equal(i1, [4])
    # a spike in step s reaches the target in step s + 1
    np.testing.assert_array_equal(np.asarray(dst.vars["acc"].view).reshape(-1), [111.0, 7.0])
    np.testing.assert_array_equal(np.asarray(src.vars["x"].view),
                                  [[100.0, 1.0, 0.0, 10.0, 0.0], [0.0, 0.0, 0.0, 0.0, 7.0]])


def test_steps_beyond_the_schedule_emit_nothing_and_a_new_schedule_replaces_it():
    model, src, dst = build(1, "sched_b1")
    src.push_spike_schedule([[0, 1]], [2], {"x": [3.0]})
    for _ in range(3):
        model.step_time()
    model.timestep = 0
    src.push_spike_schedule([[0, 0, 2]], [0, 4], {"x": [5.0, 6.0]})
    for _ in range(3):
        model.step_time()
    np.testing.assert_array_equal(np.asarray(dst.vars["acc"].view).reshape(-1), [14.0])


@pytest.mark.parametrize("offsets,ids,match", [
    ([[0, 2]], [3, 1], "strictly ascending"),
    ([[0, 2]], [1, 1], "strictly ascending"),
    ([[0, 1]], [5], r"lie in \[0, 5\)"),
    ([[0, 2, 1]], [1, 2], "non-decreasing"),
    ([[0, 1]], [1, 2], "end at len"),
    ([0, 1], [1], "shape"),
])
def test_bad_schedules_are_refused(offsets, ids, match):
    _, src, _ = build(1, "sched_bad")
    with pytest.raises(ValueError, match=match):
        src.push_spike_schedule(offsets, ids, {"x": np.zeros(len(ids))})
    with pytest.raises(ValueError, match="missing"):
        src.push_spike_schedule([[0, 0]], [], {})


def test_scheduled_population_definitions_are_checked():
    model = pygenn.GeNNModel("float", "sched_def")
    lif = model.add_neuron_population("lif", 2, "LIF", {"C": 1.0, "TauM": 20.0, "Vrest": 0.0,
                                                         "Vreset": 0.0, "Vthresh": 1.0,
                                                         "Ioffset": 0.0, "TauRefrac": 0.0},
                                      {"V": 0.0, "RefracTime": 0.0})
    with pytest.raises(ModelDefinitionError, match="never runs its neuron code"):
        lif.enable_spike_schedule()
    src = model.add_neuron_population("src", 2, SOURCE, {}, {"x": 0.0})
    with pytest.raises(ModelDefinitionError, match="valid: x"):
        src.enable_spike_schedule(["y"])
    with pytest.raises(StateError, match="enable_spike_schedule"):
        src.push_spike_schedule([[0]], [], {})
    src.enable_spike_schedule(["x"])
    model.add_synapse_population("into", "DENSE", lif, src,
                                 pygenn.init_weight_update("StaticPulse", {}, {"g": 1.0}),
                                 pygenn.init_postsynaptic("DeltaCurr"))
    with pytest.raises(ModelDefinitionError, match="receives synapses"):
        model.build()
