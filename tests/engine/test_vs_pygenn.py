"""The embedded engine against real PyGeNN 5.4 (differential tests).

The PyGeNN 5 script of ``test_pygenn_api.py`` runs unchanged (only the import
line differs) on GeNN's own CPU backend and on the embedded engine; spikes,
voltage traces, synapse state and time must agree. Needs a real ``pygenn``
(``.ci/pygenn-wheel`` builds one from ``../shared/third_party``); without it
these tests skip, saying so.
"""
from __future__ import annotations

import contextlib
import os
import sys

import numpy as np
import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_pygenn_api import NUM_STEPS, RESET_STEP, SCALE_STEP, SCRIPT  # noqa: E402

pytest.importorskip("pygenn", reason="real PyGeNN is not installed (build it with "
                                     ".ci/pygenn-wheel and pip install the wheel)")

RANDOM_INIT = 'pygenn.init_var("Uniform", {"min": 0.0, "max": 0.5})'
FIXED_INIT = "np.array([0.05, 0.31, 0.12, 0.47])"


@contextlib.contextmanager
def in_folder(folder):
    """Work in ``folder``: GeNN writes its generated code to the working directory."""
    cwd = os.getcwd()
    os.makedirs(folder, exist_ok=True)
    os.chdir(folder)
    try:
        yield
    finally:
        os.chdir(cwd)


def exec_script(source: str, folder, name: str, ns: dict) -> dict:
    with in_folder(folder):
        exec(compile(source, name, "exec"), ns)
    return ns


def both_engines(run, tmp_path_factory, tag: str):
    """Run ``run(module, folder)`` on real PyGeNN and on the embedded engine; unload both
    models afterwards."""
    genn = run("pygenn", tmp_path_factory.mktemp(f"{tag}_genn"))
    embedded = run("genn_eventprop.engine", tmp_path_factory.mktemp(f"{tag}_embedded"))
    yield genn, embedded
    embedded["model"].unload()
    genn["model"].unload()


def assert_same_spikes(genn: dict, embedded: dict) -> None:
    """Same (time, id) spikes; the order within a time step may differ."""
    tg, ig = genn["spike_times"], genn["spike_ids"]
    te, ie = embedded["spike_times"], embedded["spike_ids"]
    og, oe = np.lexsort((ig, tg)), np.lexsort((ie, te))
    np.testing.assert_array_equal(ie[oe], ig[og])
    np.testing.assert_allclose(te[oe], tg[og], rtol=0, atol=1e-9)


def run_script(module: str, folder) -> dict:
    """Run the script with ``import <module> as pygenn``; the random initial voltages
    are replaced by fixed ones so that both engines start from the same state."""
    assert RANDOM_INIT in SCRIPT
    script = SCRIPT.replace("import genn_eventprop.engine as pygenn",
                            f"import {module} as pygenn").replace(RANDOM_INIT, FIXED_INIT)
    ns = {"NUM_STEPS": NUM_STEPS, "RESET_STEP": RESET_STEP, "SCALE_STEP": SCALE_STEP}
    return exec_script(script, folder, f"pygenn5_script_{module}.py", ns)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    yield from both_engines(run_script, tmp_path_factory, "api")


def test_same_spikes(runs):
    genn, embedded = runs
    assert len(genn["spike_ids"]) > 5
    assert_same_spikes(genn, embedded)


def test_same_voltage_traces(runs):
    genn, embedded = runs
    for name in ("v_exc_trace", "v_out_trace"):
        g, e = np.array(genn[name]), np.array(embedded[name])
        assert g.shape == e.shape == (NUM_STEPS, g.shape[1])
        np.testing.assert_allclose(e, g, rtol=1e-5, atol=1e-6, err_msg=name)


def synapses_by_pair(run) -> dict:
    """(spike count, weight) of each sparse synapse, keyed by (pre, post): the two
    engines may store the synapses of a row in different orders."""
    return {(int(a), int(b)): (float(n), float(w)) for a, b, n, w in zip(
        run["syn_pre"], run["syn_post"], np.ravel(run["syn_count"]), np.ravel(run["syn_g"]))}


def test_same_synapse_state_and_time(runs):
    genn, embedded = (synapses_by_pair(run) for run in runs)
    assert genn.keys() == embedded.keys() and len(genn) == 6
    for pair, (n, w) in genn.items():
        assert embedded[pair] == pytest.approx((n, w), rel=1e-6)
    assert runs[1]["final_t"] == pytest.approx(runs[0]["final_t"])


#: A second PyGeNN 5 script: a trace-based plasticity rule (presynaptic and
#: postsynaptic variables, pre/post spike and dynamics code, post_spike_syn_code)
#: and axonal delays on a SPARSE recurrent projection. (GeNN's CPU backend runs
#: batch size 1 only, so batching cannot be compared here.)
PLASTIC_SCRIPT = '''
import numpy as np
import {module} as pygenn

trace_rule = pygenn.create_weight_update_model(
    "TraceRule",
    params=["tau_trace", "eta"],
    vars=[("g", "scalar")],
    pre_vars=[("x", "scalar")],
    post_vars=[("y", "scalar")],
    pre_spike_syn_code="addToPost(g);\\ng += eta * y;",
    post_spike_syn_code="g -= 0.5 * eta * x;",
    pre_spike_code="x += 1.0;",
    post_spike_code="y += 1.0;",
    pre_dynamics_code="x *= exp(-dt / tau_trace);",
    post_dynamics_code="y *= exp(-dt / tau_trace);")

model = pygenn.GeNNModel("float", "plastic_net")
model.dt = 0.25
lif = {{"C": 1.0, "TauM": 12.0, "Vrest": 0.0, "Vreset": 0.0, "Vthresh": 1.0,
        "Ioffset": 0.0, "TauRefrac": 1.0}}
times = np.array([1.0, 4.0, 4.0, 9.0, 15.0, 22.0, 23.0, 30.0, 2.0, 8.5, 12.0, 27.5])
ids = np.array([0, 1, 2, 0, 3, 1, 2, 3, 3, 0, 1, 2])
end = np.cumsum(np.bincount(ids, minlength=4))
start = end - np.bincount(ids, minlength=4)
inp = model.add_neuron_population("inp", 4, "SpikeSourceArray", {{}},
                                  {{"startSpike": start, "endSpike": end}})
inp.extra_global_params["spikeTimes"].set_init_values(times[np.lexsort((times, ids))])
exc = model.add_neuron_population("exc", 5, "LIF", lif, {{"V": 0.0, "RefracTime": 0.0}})
g_in = np.linspace(0.3, 1.2, 20).reshape(4, 5)
plastic = model.add_synapse_population(
    "inp_exc", "DENSE", inp, exc,
    pygenn.init_weight_update(trace_rule, {{"tau_trace": 6.0, "eta": 0.05}}, {{"g": g_in.flatten()}},
                              {{"x": 0.0}}, {{"y": 0.0}}),
    pygenn.init_postsynaptic("ExpCurr", {{"tau": 4.0}}))
rec = model.add_synapse_population(
    "exc_exc", "SPARSE", exc, exc,
    pygenn.init_weight_update("StaticPulse", {{}}, {{"g": np.array([0.4, -0.3, 0.5, 0.2, 0.35])}}),
    pygenn.init_postsynaptic("DeltaCurr"))
rec.set_sparse_connections(np.array([0, 1, 2, 3, 4]), np.array([1, 2, 3, 4, 0]))
rec.axonal_delay_steps = 6
exc.spike_recording_enabled = True
model.build()
model.load(num_recording_timesteps=160)
v_trace = []
while model.timestep < 160:
    model.step_time()
    exc.vars["V"].pull_from_device()
    v_trace.append(exc.vars["V"].values.copy())
model.pull_recording_buffers_from_device()
spike_times, spike_ids = exc.spike_recording_data[0]
plastic.vars["g"].pull_from_device()
g_final = plastic.vars["g"].values.copy()
'''


def run_plastic(module: str, folder) -> dict:
    return exec_script(PLASTIC_SCRIPT.format(module=module), folder,
                       f"plastic_{module}.py", {})


@pytest.fixture(scope="module")
def plastic_runs(tmp_path_factory):
    yield from both_engines(run_plastic, tmp_path_factory, "plastic")


def test_plasticity_with_delays_matches(plastic_runs):
    genn, embedded = plastic_runs
    ids = genn["spike_ids"]
    assert len(ids) > 3 and len(set(ids.tolist())) > 2
    assert_same_spikes(genn, embedded)
    np.testing.assert_allclose(np.array(embedded["v_trace"]), np.array(genn["v_trace"]),
                               rtol=1e-5, atol=1e-5)
    g0 = np.linspace(0.3, 1.2, 20)
    assert np.abs(np.ravel(genn["g_final"]) - g0).max() > 1e-3, "no plasticity"
    np.testing.assert_allclose(np.ravel(embedded["g_final"]), np.ravel(genn["g_final"]),
                               rtol=1e-5, atol=1e-6)


def as_pygenn_neuron_model(model):
    """The same neuron model declared through real PyGeNN (same code and fields)."""
    import pygenn
    return pygenn.create_neuron_model(
        model.name, params=[p.name for p in model.params],
        vars=[(v.name, v.type) for v in model.vars],
        derived_params=[(d.name, d.func) for d in model.derived_params],
        sim_code=model.code.get("sim_code"),
        threshold_condition_code=model.code.get("threshold_condition_code"),
        extra_global_params=[(e.name, e.type) for e in model.extra_global_params],
        additional_input_vars=[(a.name, a.type, a.init) for a in model.additional_input_vars])


def run_hidden_neurons(module: str, folder) -> dict:
    """The package's hidden EventProp LIF driven through DeltaCurr StaticPulse synapses
    by a spike source, in PyGeNN 5 calls: the forward pass (spike tape), then, with
    the dynamic parameter ``backward`` set and time restarted, the reverse pass of
    the adjoint, driven by a regularisation jump at each taped spike."""
    import importlib
    from genn_eventprop.genn_models.neurons import lif_model
    pygenn = importlib.import_module(module)
    engine_model = lif_model()
    neuron = (as_pygenn_neuron_model(engine_model) if module == "pygenn" else engine_model)
    n_steps, n_max = 400, 20
    with in_folder(folder):
        model = pygenn.GeNNModel("float", "evp_hidden")
        model.dt = 0.1
        times = np.array([1.0, 3.3, 3.3, 7.25, 12.0, 20.05, 21.0, 30.0])
        ids = np.array([0, 1, 0, 1, 0, 1, 1, 0])
        end = np.cumsum(np.bincount(ids, minlength=2))
        inp = model.add_neuron_population("inp", 2, "SpikeSourceArray", {},
                                          {"startSpike": end - np.bincount(ids, minlength=2),
                                           "endSpike": end})
        inp.extra_global_params["spikeTimes"].set_init_values(times[np.lexsort((times, ids))])
        params = {"tau_m": 20.0, "tau_syn": 5.0, "theta": 1.0, "p_drop": 0.0,
                  "n_steps": float(n_steps), "n_max_spike": float(n_max), "backward": 0.0,
                  "noise": 0.0}
        state = {"V": 0.0, "I": 0.0, "lambda_V": 0.0, "lambda_I": 0.0, "lamE_V": 0.0,
                 "jr_V": 0.0, "rev_hold": 0.0, "next_step": -10, "event_step": -10,
                 "reg_drive": 0.0, "tape_next": -1, "phi": 0.0, "spk": 0, "tape_len": 0,
                 "tape_event": -1, "tape_lost": 0}
        assert set(params) == {p.name for p in engine_model.params}
        assert set(state) == {v.name for v in engine_model.vars}
        hid = model.add_neuron_population("hid", 3, neuron, params, state)
        size = 3 * n_max
        hid.extra_global_params["tape_step"].set_init_values(np.zeros(size, np.int32))
        hid.extra_global_params["tape_phi"].set_init_values(np.zeros(size, np.float32))
        hid.extra_global_params["tape_slope"].set_init_values(np.ones(size, np.float32))
        model.add_synapse_population(
            "inp_hid", "DENSE", inp, hid,
            pygenn.init_weight_update("StaticPulse", {}, {"g": np.array(
                [2.4, 1.5, 3.3, 1.6, 2.9, 1.2], dtype=np.float32)}),
            pygenn.init_postsynaptic("DeltaCurr"))
        hid.spike_recording_enabled = True
        hid.set_param_dynamic("backward")
        model.build()
        model.load(num_recording_timesteps=n_steps)
        trace = []
        while model.timestep < n_steps:
            model.step_time()
            hid.vars["V"].pull_from_device()
            trace.append(hid.vars["V"].values.copy())
        model.pull_recording_buffers_from_device()
        spike_times, spike_ids = hid.spike_recording_data[0]
        hid.vars["tape_len"].pull_from_device()
        hid.extra_global_params["tape_phi"].pull_from_device()
        result = dict(trace=np.array(trace), spike_times=spike_times, spike_ids=spike_ids,
                      tape_len=hid.vars["tape_len"].values.copy(),
                      tape_phi=np.array(hid.extra_global_params["tape_phi"].values))
        hid.vars["reg_drive"].values = np.array([0.5, -0.3, 0.2], dtype=np.float32)
        hid.vars["reg_drive"].push_to_device()
        hid.set_dynamic_param_value("backward", 1.0)
        model.timestep = 0
        adjoint = []
        while model.timestep <= n_steps:
            model.step_time()
            hid.vars["lambda_V"].pull_from_device()
            hid.vars["lambda_I"].pull_from_device()
            adjoint.append(np.concatenate([hid.vars["lambda_V"].values,
                                           hid.vars["lambda_I"].values]))
        result["adjoint"] = np.array(adjoint)
        model.unload()
        return result


def test_eventprop_hidden_neuron_matches(tmp_path):
    """The package's own hidden neuron model is GeNN 5 code: on GeNN's CPU backend it
    gives the spikes, voltages, taped spike phases and reverse-pass adjoint of the
    embedded engine."""
    genn = run_hidden_neurons("pygenn", tmp_path / "genn")
    embedded = run_hidden_neurons("genn_eventprop.engine", tmp_path / "embedded")
    assert len(genn["spike_ids"]) >= 6 and len(set(genn["spike_ids"].tolist())) == 3
    assert_same_spikes(genn, embedded)
    np.testing.assert_allclose(embedded["trace"], genn["trace"], rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(embedded["tape_len"], genn["tape_len"])
    # phi (the threshold crossing's fraction of a step) divides by the voltage slope, so
    # float rounding differences (GeNN compiles its CPU code unoptimised) grow: measured
    # 1.6e-5 of a step, i.e. 1.6e-6 ms.
    np.testing.assert_allclose(embedded["tape_phi"], genn["tape_phi"], atol=1e-4)
    assert np.count_nonzero(genn["tape_phi"]) >= 3
    assert np.abs(genn["adjoint"]).max() > 0.1
    np.testing.assert_allclose(embedded["adjoint"], genn["adjoint"], rtol=1e-4, atol=1e-5)
