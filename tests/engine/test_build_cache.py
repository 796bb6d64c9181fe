"""Build cache of the engine.

Generated C++ is compiled once per distinct model and reused from the cache
directory ($GENN_EVENTPROP_CACHE) afterwards. Checked here: a cold build
compiles and a second identical model does not (and is much faster); any
change that alters the generated code (a parameter value, dt, precision, the
code) gives a new cache entry; parallel processes building the same model
compile it once, all succeed and compute the same numbers; two loaded
instances of one compiled model keep separate state. Every test uses its own
empty cache under tmp_path.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

import genn_eventprop.engine as pygenn

REPO_ROOT = Path(__file__).resolve().parents[2]

LIF_PARAMS = dict(C=1.0, TauM=20.0, Vrest=-0.2, Vreset=-0.1, Vthresh=1.0, Ioffset=0.0,
                  TauRefrac=2.0)
N = 8
AMPS = np.linspace(0.02, 0.09, N)  # per-neuron drive via a current-source variable

# A current source with a per-neuron amplitude variable, so one compiled model gives
# neurons with different firing rates.
VarDC = pygenn.create_current_source_model("VarDC", params=["gain"], vars=[("amp", "scalar")],
                                           injection_code="injectCurrent(gain * amp);")


@pytest.fixture
def cache(tmp_path, monkeypatch):
    root = tmp_path / "genn_cache"
    monkeypatch.setenv("GENN_EVENTPROP_CACHE", str(root))
    return root


def cache_entries(root: Path):
    return sorted(p for p in root.iterdir() if p.is_dir()) if root.exists() else []


def make_model(name="cached", gain=1.0, dt=0.5, precision="float", tau_m=20.0):
    m = pygenn.GeNNModel(precision, name)
    m.dt = dt
    params = dict(LIF_PARAMS, TauM=tau_m)
    pop = m.add_neuron_population("pop", N, "LIF", params, {"V": 0.0, "RefracTime": 0.0})
    m.add_current_source("dc", VarDC, pop, {"gain": gain}, {"amp": AMPS})
    return m, pop


def lif_reference(steps, gain=1.0, dt=0.5, tau_m=20.0, v0=0.0):
    """float64 numpy LIF with constant input gain*amp; returns (V, spike counts)."""
    p = dict(LIF_PARAMS, TauM=tau_m)
    v = np.full(N, v0, dtype=np.float64)
    refrac = np.zeros(N)
    count = np.zeros(N, dtype=int)
    exp_tc = np.exp(-dt / p["TauM"])
    for _ in range(steps):
        alpha = (gain * AMPS + p["Ioffset"]) * (p["TauM"] / p["C"]) + p["Vrest"]
        active = refrac <= 0.0
        v = np.where(active, alpha - exp_tc * (alpha - v), v)
        refrac = np.where(active, refrac, refrac - dt)
        spike = (refrac <= 0.0) & (v >= p["Vthresh"])
        count += spike
        v = np.where(spike, p["Vreset"], v)
        refrac = np.where(spike, p["TauRefrac"], refrac)
    return v, count


def run(m, pop, steps):
    counts = np.zeros(N, dtype=int)
    for _ in range(steps):
        m.step_time()
        counts += pop.vars["RefracTime"].view == LIF_PARAMS["TauRefrac"]
    return pop.vars["V"].view.copy(), counts


def test_cold_build_compiles_then_identical_model_is_cached(cache):
    """First build of a model compiles (build_was_cached False, a library appears in the
    cache); a second, separately constructed identical model is served from the cache
    (True), at least 5x faster, adds no cache entry, and simulates identically (and as
    the numpy reference)."""
    warm, _ = make_model("warmup", gain=0.5)  # first build of the process pays for any
    warm.build()                             # one-off compiler probing
    n_before = len(cache_entries(cache))

    m1, p1 = make_model()
    t0 = time.perf_counter()
    m1.build()
    t_cold = time.perf_counter() - t0
    assert m1.build_was_cached is False
    entries = cache_entries(cache)
    assert len(entries) == n_before + 1

    m2, p2 = make_model()
    t0 = time.perf_counter()
    m2.build()
    t_cached = time.perf_counter() - t0
    assert m2.build_was_cached is True
    assert cache_entries(cache) == entries
    assert t_cached * 5 < t_cold, (t_cached, t_cold)

    m1.load()
    m2.load()
    v1, c1 = run(m1, p1, 400)
    v2, c2 = run(m2, p2, 400)
    np.testing.assert_array_equal(v1, v2)
    np.testing.assert_array_equal(c1, c2)
    v_ref, c_ref = lif_reference(400)
    np.testing.assert_array_equal(c1, c_ref)
    assert c_ref.max() >= 5 and c_ref.min() == 0  # the reference spikes, but not everywhere
    np.testing.assert_allclose(v1, v_ref, atol=2e-4)


@pytest.mark.parametrize("change", ["param", "dt", "precision", "code"])
def test_changes_that_alter_code_recompile(cache, change):
    """A parameter value (baked into the code), dt, the precision, or a model's code
    differing from a cached model gives a new hash: the build compiles (not cached) into
    a new cache entry, and the result follows the change. Rebuilding the original again
    is served from the cache."""
    base, _ = make_model()
    base.build()
    assert base.build_was_cached is False
    kw = {"param": dict(gain=1.5), "dt": dict(dt=0.25), "precision": dict(precision="double"),
          "code": dict(tau_m=20.0)}[change]
    if change == "code":
        m = pygenn.GeNNModel("float", "cached")
        # same populations, but the current source's code differs by one factor
        vardc2 = pygenn.create_current_source_model(
            "VarDC", params=["gain"], vars=[("amp", "scalar")],
            injection_code="injectCurrent(2.0 * gain * amp);")
        pop = m.add_neuron_population("pop", N, "LIF", LIF_PARAMS, {"V": 0.0, "RefracTime": 0.0})
        m.add_current_source("dc", vardc2, pop, {"gain": 1.0}, {"amp": AMPS})
        ref_kw = dict(gain=2.0)
    else:
        m, pop = make_model(**kw)
        ref_kw = {k: v for k, v in kw.items() if k != "precision"}
    m.build()
    assert m.build_was_cached is False
    assert len(cache_entries(cache)) == 2
    m.load()
    steps = int(round(100.0 / m.dt))
    v, c = run(m, pop, steps)
    v_ref, c_ref = lif_reference(steps, **ref_kw)
    np.testing.assert_array_equal(c, c_ref)
    np.testing.assert_allclose(v, v_ref, atol=2e-4)

    again, _ = make_model()
    again.build()
    assert again.build_was_cached is True
    assert len(cache_entries(cache)) == 2


def test_always_rebuild_recompiles(cache):
    """build(always_rebuild=True) compiles even when the cache holds the model."""
    m, _ = make_model()
    m.build()
    m2, _ = make_model()
    m2.build(always_rebuild=True)
    assert m2.build_was_cached is False
    assert len(cache_entries(cache)) == 1


_CHILD = textwrap.dedent("""
    import json, os, sys, time
    import numpy as np
    import genn_eventprop.engine as pygenn
    start = float(sys.argv[1])
    lif = dict(C=1.0, TauM=20.0, Vrest=-0.2, Vreset=-0.1, Vthresh=1.0, Ioffset=0.0,
               TauRefrac=2.0)
    m = pygenn.GeNNModel("float", "concurrent")
    m.seed = 7
    pop = m.add_neuron_population("pop", 50, "LIF", lif, {
        "V": pygenn.init_var("Uniform", {"min": 0.0, "max": 1.0}), "RefracTime": 0.0})
    stim = m.add_neuron_population("stim", 20, "Poisson", {"rate": 80.0},
                                   {"timeStepToSpike": 0.0})
    m.add_synapse_population("syn", "DENSE", stim, pop,
        pygenn.init_weight_update("StaticPulse", {}, {
            "g": pygenn.init_var("Normal", {"mean": 0.05, "sd": 0.02})}),
        pygenn.init_postsynaptic("ExpCurr", {"tau": 5.0}))
    pop.spike_recording_enabled = True
    while time.time() < start:
        time.sleep(0.001)
    m.build()
    m.load(num_recording_timesteps=200)
    for _ in range(200):
        m.step_time()
    t, ids = pop.spike_recording_data[0]
    print(json.dumps({"cached": m.build_was_cached,
                      "V": pop.vars["V"].view.tolist(),
                      "spikes": [t.tolist(), ids.tolist()]}))
""")


def test_concurrent_builds_from_several_processes(cache):
    """Four processes build the same model at the same moment into one empty cache: all
    succeed, exactly one compiles (the others wait on the lock and reuse the library),
    there is one cache directory without temporary leftovers, and all processes compute
    bit-identical results (same seed)."""
    env = dict(os.environ)
    env["GENN_EVENTPROP_CACHE"] = str(cache)
    env["PYTHONPATH"] = str(REPO_ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env["OMP_NUM_THREADS"] = "1"
    start = time.time() + 3.0
    procs = [subprocess.Popen([sys.executable, "-c", _CHILD, repr(start)], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(4)]
    outs = []
    for p in procs:
        out, err = p.communicate(timeout=180)
        assert p.returncode == 0, err
        outs.append(json.loads(out.strip().splitlines()[-1]))
    assert sorted(o["cached"] for o in outs) == [False, True, True, True]
    entries = cache_entries(cache)
    assert len(entries) == 1, entries
    files = sorted(f.name for f in entries[0].iterdir())
    assert "model.so" in files
    assert not [f for f in files if f.endswith(".tmp") or f.startswith("model.cpp.")], files
    for o in outs[1:]:
        assert o["V"] == outs[0]["V"]
        assert o["spikes"] == outs[0]["spikes"]
    assert len(outs[0]["spikes"][0]) > 0  # the network is active


def test_two_loaded_instances_of_one_library_keep_separate_state(cache):
    """Two models with identical code (one cache entry) loaded at the same time: their
    variables are distinct memory, their clocks advance independently, and each follows
    the numpy reference from its own initial state."""
    m1, p1 = make_model()
    m2, p2 = make_model()
    m1.build()
    m2.build()
    assert m2.build_was_cached is True
    assert len(cache_entries(cache)) == 1
    m1.load()
    m2.load()
    assert not np.shares_memory(p1.vars["V"].view, p2.vars["V"].view)
    p2.vars["V"].view[:] = 0.5
    p2.vars["V"].push_to_device()
    for _ in range(30):
        m1.step_time()
    assert m1.timestep == 30 and m2.timestep == 0
    np.testing.assert_allclose(p2.vars["V"].view, 0.5)  # untouched by m1's steps
    for _ in range(10):
        m2.step_time()
    assert m1.timestep == 30 and m2.timestep == 10
    np.testing.assert_allclose(p1.vars["V"].view, lif_reference(30)[0], atol=1e-5)
    np.testing.assert_allclose(p2.vars["V"].view, lif_reference(10, v0=0.5)[0], atol=1e-5)
    # unloading one leaves the other running
    m1.unload()
    m2.step_time()
    np.testing.assert_allclose(p2.vars["V"].view, lif_reference(11, v0=0.5)[0], atol=1e-5)
