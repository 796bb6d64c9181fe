"""Random numbers of the engine.

Checked against scipy/numpy distributions with explicit tolerances:
- the built-in var-init snippets Uniform, Normal, Exponential and NormalClipped
  draw from the right distributions (moments within 5 standard errors, KS tests),
  independently across variables, neurons and batch members;
- model.seed makes every draw reproducible (same seed -> bit-identical, other
  seed -> different; seed 0 -> a fresh seed per load);
- results do not depend on the number of OpenMP threads (Poisson spike trains and
  gennrand_normal() in sim_code with 1 vs 2 threads, in-process via num_threads and
  in subprocesses via OMP_NUM_THREADS);
- gennrand_uniform() lies in the open interval (0, 1).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

import genn_eventprop.engine as pygenn

REPO_ROOT = Path(__file__).resolve().parents[2]
KS_P_MIN = 1e-3  # fixed seeds: deterministic, but a wrong distribution gives p << 1e-6

# ---------------------------------------------------------------------------- var init
N_INIT = 20000
B_INIT = 2
UNIFORM = dict(min=-1.0, max=3.0)
NORMAL = dict(mean=2.0, sd=0.5)
EXPONENTIAL = {"lambda": 2.0}  # GeNN: value = lambda * Exp(1), i.e. mean lambda
CLIPPED = dict(mean=0.2, sd=1.0, min=-0.5, max=1.0)
N_PRE, N_POST = 100, 150

Holder = pygenn.create_neuron_model(
    "RngHolder", vars=[("u", "scalar"), ("n", "scalar"), ("e", "scalar"), ("c", "scalar")])


def build_init_model(seed):
    """Loads the var-init model (compiled once; the seed is applied at load)."""
    m = pygenn.GeNNModel("float", "rng_init")
    m.batch_size = B_INIT
    m.seed = seed
    pop = m.add_neuron_population("pop", N_INIT, Holder, {}, {
        "u": pygenn.init_var("Uniform", UNIFORM),
        "n": pygenn.init_var("Normal", NORMAL),
        "e": pygenn.init_var("Exponential", EXPONENTIAL),
        "c": pygenn.init_var("NormalClipped", CLIPPED)})
    pre = m.add_neuron_population("pre", N_PRE, Holder, {}, {"u": 0.0, "n": 0.0, "e": 0.0,
                                                             "c": 0.0})
    post = m.add_neuron_population("post", N_POST, Holder, {}, {"u": 0.0, "n": 0.0, "e": 0.0,
                                                                "c": 0.0})
    syn = m.add_synapse_population(
        "syn", "DENSE", pre, post,
        pygenn.init_weight_update("StaticPulse", {}, {
            "g": pygenn.init_var("Uniform", {"min": 0.0, "max": 1.0})}),
        pygenn.init_postsynaptic("DeltaCurr"))
    m.build()
    m.load()
    out = {k: pop.vars[k].view.copy() for k in "unec"}
    out["g"] = syn.vars["g"].view.copy()
    m.unload()
    return out


@pytest.fixture(scope="module")
def init_draws():
    return {"a": build_init_model(1234), "a2": build_init_model(1234),
            "b": build_init_model(98765)}


def _moments_ok(x, mean, sd, kurtosis_excess):
    """Sample mean and sd within 5 standard errors of the true values."""
    x = np.asarray(x, dtype=np.float64).ravel()
    n = x.size
    se_mean = sd / np.sqrt(n)
    # se of the sample sd: sd * sqrt((kurtosis_excess + 2) / (4 n))
    se_sd = sd * np.sqrt((kurtosis_excess + 2.0) / (4.0 * n))
    assert abs(x.mean() - mean) < 5 * se_mean, (x.mean(), mean, se_mean)
    assert abs(x.std(ddof=1) - sd) < 5 * se_sd, (x.std(ddof=1), sd, se_sd)


def test_init_shapes(init_draws):
    d = init_draws["a"]
    for k in "unec":
        assert d[k].shape == (B_INIT, N_INIT)
    assert d["g"].shape == (N_PRE * N_POST,)


def test_uniform_init_distribution(init_draws):
    """Uniform(min=-1, max=3): inside [min, max], mean 1, sd 4/sqrt(12), KS p > 1e-3."""
    u = init_draws["a"]["u"].ravel()
    assert u.min() >= UNIFORM["min"] and u.max() <= UNIFORM["max"]
    width = UNIFORM["max"] - UNIFORM["min"]
    _moments_ok(u, UNIFORM["min"] + width / 2, width / np.sqrt(12.0), -1.2)
    assert stats.kstest(u, "uniform", args=(UNIFORM["min"], width)).pvalue > KS_P_MIN


def test_normal_init_distribution(init_draws):
    """Normal(mean=2, sd=0.5): moments and KS test against N(2, 0.5^2)."""
    x = init_draws["a"]["n"].ravel()
    _moments_ok(x, NORMAL["mean"], NORMAL["sd"], 0.0)
    assert stats.kstest(x, "norm", args=(NORMAL["mean"], NORMAL["sd"])).pvalue > KS_P_MIN


def test_exponential_init_distribution(init_draws):
    """Exponential(lambda=2): GeNN draws lambda*Exp(1), so mean = sd = 2; KS test."""
    x = init_draws["a"]["e"].ravel()
    assert x.min() >= 0.0
    lam = EXPONENTIAL["lambda"]
    _moments_ok(x, lam, lam, 6.0)
    assert stats.kstest(x, "expon", args=(0.0, lam)).pvalue > KS_P_MIN


def test_normal_clipped_init_distribution(init_draws):
    """NormalClipped(mean=0.2, sd=1, min=-0.5, max=1): redrawn until inside [min, max],
    i.e. a truncated normal; moments and KS against scipy.stats.truncnorm."""
    x = init_draws["a"]["c"].ravel()
    assert x.min() >= CLIPPED["min"] and x.max() <= CLIPPED["max"]
    a = (CLIPPED["min"] - CLIPPED["mean"]) / CLIPPED["sd"]
    b = (CLIPPED["max"] - CLIPPED["mean"]) / CLIPPED["sd"]
    dist = stats.truncnorm(a, b, loc=CLIPPED["mean"], scale=CLIPPED["sd"])
    _moments_ok(x, dist.mean(), dist.std(), float(dist.stats(moments="k")))
    assert stats.kstest(x, dist.cdf).pvalue > KS_P_MIN


def test_synapse_init_distribution(init_draws):
    """DENSE weights initialised with Uniform(0, 1): KS test and no row repeats."""
    g = init_draws["a"]["g"]
    assert stats.kstest(g, "uniform").pvalue > KS_P_MIN
    rows = g.reshape(N_PRE, N_POST)
    assert not np.array_equal(rows[0], rows[1])


def test_init_draws_are_independent(init_draws):
    """Different variables, neighbouring neurons and the two batch members use
    independent streams: correlations within 5/sqrt(n) of 0, and no shared values."""
    d = init_draws["a"]
    pairs = [(d["u"], d["n"]), (d["u"], d["e"]), (d["n"], d["c"]),
             (d["u"][:, :-1], d["u"][:, 1:]), (d["n"][0], d["n"][1])]
    for x, y in pairs:
        r = np.corrcoef(np.ravel(x), np.ravel(y))[0, 1]
        assert abs(r) < 5.0 / np.sqrt(np.size(x)), r
    assert np.mean(d["u"][0] == d["u"][1]) < 1e-3


def test_init_reproducible_for_same_seed(init_draws):
    """Same model.seed: bit-identical initial values for every variable."""
    for k in "unecg":
        np.testing.assert_array_equal(init_draws["a"][k], init_draws["a2"][k])


def test_init_differs_for_different_seed(init_draws):
    """Another seed: different values (essentially none equal), same distribution."""
    for k in "unecg":
        assert np.mean(init_draws["a"][k] == init_draws["b"][k]) < 0.01, k
    u = init_draws["b"]["u"].ravel()
    assert stats.kstest(u, "uniform", args=(UNIFORM["min"], 4.0)).pvalue > KS_P_MIN


def test_seed_zero_draws_fresh_seed():
    """seed 0 (the default) means a fresh random seed per load, as in GeNN."""
    a = build_init_model(0)
    b = build_init_model(0)
    assert np.mean(a["u"] == b["u"]) < 0.01


# ------------------------------------------------------------------- Poisson + threads
N_POIS = 1000
RATE = 40.0  # Hz
STEPS_POIS = 400  # dt 0.5 -> 200 ms


def run_poisson(seed, num_threads=None):
    kwargs = {} if num_threads is None else {"num_threads": num_threads}
    m = pygenn.GeNNModel("float", "rng_poisson", **kwargs)
    m.seed = seed
    pop = m.add_neuron_population("src", N_POIS, "Poisson", {"rate": RATE},
                                  {"timeStepToSpike": 0.0})
    pop.spike_recording_enabled = True
    m.build()
    m.load(num_recording_timesteps=STEPS_POIS)
    for _ in range(STEPS_POIS):
        m.step_time()
    t, ids = pop.spike_recording_data[0]
    m.unload()
    order = np.lexsort((ids, t))
    return np.asarray(t)[order], np.asarray(ids)[order]


_POISSON_CHILD = textwrap.dedent("""
    import json, sys
    import numpy as np
    import genn_eventprop.engine as pygenn
    m = pygenn.GeNNModel("float", "rng_poisson")
    m.seed = int(sys.argv[1])
    pop = m.add_neuron_population("src", %d, "Poisson", {"rate": %r},
                                  {"timeStepToSpike": 0.0})
    pop.spike_recording_enabled = True
    m.build()
    m.load(num_recording_timesteps=%d)
    for _ in range(%d):
        m.step_time()
    t, ids = pop.spike_recording_data[0]
    order = np.lexsort((ids, t))
    print(json.dumps([np.asarray(t)[order].tolist(), np.asarray(ids)[order].tolist()]))
""" % (N_POIS, RATE, STEPS_POIS, STEPS_POIS))


@pytest.fixture(scope="module")
def poisson_runs():
    return {"t1": run_poisson(42, num_threads=1), "t2": run_poisson(42, num_threads=2),
            "other": run_poisson(43, num_threads=2)}


def test_poisson_identical_for_1_and_2_threads(poisson_runs):
    """Same seed, num_threads=1 vs 2: identical spike trains (times and ids)."""
    t1, i1 = poisson_runs["t1"]
    t2, i2 = poisson_runs["t2"]
    np.testing.assert_array_equal(t1, t2)
    np.testing.assert_array_equal(i1, i2)


def test_poisson_differs_for_other_seed(poisson_runs):
    t1, i1 = poisson_runs["t1"]
    t3, i3 = poisson_runs["other"]
    assert t1.size != t3.size or not (np.array_equal(t1, t3) and np.array_equal(i1, i3))
    per_neuron_1 = np.bincount(i1, minlength=N_POIS)
    per_neuron_3 = np.bincount(i3, minlength=N_POIS)
    assert np.mean(per_neuron_1 == per_neuron_3) < 0.5


def test_poisson_rate_and_isi(poisson_runs):
    """Mean count = rate * T within 5 sd of a Poisson count; every neuron fires
    independently (per-neuron count variance ~ mean, Fano factor in [0.8, 1.2]); the
    inter-spike intervals have coefficient of variation close to 1."""
    t, ids = poisson_runs["t1"]
    duration_s = STEPS_POIS * 0.5 / 1000.0
    expected = N_POIS * RATE * duration_s
    assert abs(t.size - expected) < 5 * np.sqrt(expected), (t.size, expected)
    counts = np.bincount(ids, minlength=N_POIS)
    fano = counts.var() / counts.mean()
    assert 0.8 < fano < 1.2, fano
    isis = np.concatenate([np.diff(np.sort(t[ids == i])) for i in range(N_POIS)])
    cv = isis.std() / isis.mean()
    assert 0.85 < cv < 1.1, cv
    assert np.all(t >= 0) and np.all(t < STEPS_POIS * 0.5)


def test_poisson_identical_with_omp_num_threads_in_subprocesses(poisson_runs):
    """Fresh processes with OMP_NUM_THREADS=1 and =2 give the same spike trains as each
    other and as the in-process runs with the same seed."""
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO_ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    results = []
    for threads in ("1", "2"):
        env["OMP_NUM_THREADS"] = threads
        res = subprocess.run([sys.executable, "-c", _POISSON_CHILD, "42"], env=env,
                             capture_output=True, text=True, timeout=180)
        assert res.returncode == 0, res.stderr
        results.append(json.loads(res.stdout.strip().splitlines()[-1]))
    assert results[0] == results[1]
    t1, i1 = poisson_runs["t1"]
    np.testing.assert_array_equal(np.asarray(results[0][0]), t1)
    np.testing.assert_array_equal(np.asarray(results[0][1]), i1)


# ------------------------------------------------------------- gennrand in sim code
N_WALK = 4000
STEPS_WALK = 50

Walker = pygenn.create_neuron_model(
    "GaussWalker", vars=[("x", "scalar"), ("last", "scalar")],
    sim_code="last = gennrand_normal();\nx += last;")


def run_walker(seed, num_threads):
    m = pygenn.GeNNModel("float", "rng_walk", num_threads=num_threads)
    m.seed = seed
    pop = m.add_neuron_population("walk", N_WALK, Walker, {}, {"x": 0.0, "last": 0.0})
    m.build()
    m.load()
    lasts = []
    for _ in range(STEPS_WALK):
        m.step_time()
        lasts.append(pop.vars["last"].view.copy())
    x = pop.vars["x"].view.copy()
    m.unload()
    return x, np.array(lasts)


@pytest.fixture(scope="module")
def walks():
    return run_walker(11, 1), run_walker(11, 2), run_walker(12, 2)


def test_gennrand_normal_identical_for_1_and_2_threads(walks):
    """x += gennrand_normal() per step: bit-identical trajectories with 1 and 2 threads;
    another seed gives different ones."""
    (x1, l1), (x2, l2), (x3, _) = walks
    np.testing.assert_array_equal(x1, x2)
    np.testing.assert_array_equal(l1, l2)
    assert np.mean(x1 == x3) < 0.01


def test_gennrand_normal_statistics(walks):
    """Per-step draws are N(0, 1) (KS), fresh every step (lag-1 correlation ~ 0), and the
    sum over 50 steps has variance 50 (5 se)."""
    (x, lasts), _, _ = walks
    assert stats.kstest(lasts.ravel(), "norm").pvalue > KS_P_MIN
    r = np.corrcoef(lasts[:-1].ravel(), lasts[1:].ravel())[0, 1]
    assert abs(r) < 5.0 / np.sqrt(lasts[1:].size), r
    assert not np.array_equal(lasts[0], lasts[1])
    _moments_ok(x / np.sqrt(STEPS_WALK), 0.0, 1.0, 0.0)
    np.testing.assert_allclose(x, lasts.sum(axis=0), atol=1e-3)


UniformProbe = pygenn.create_neuron_model(
    "UniformProbe", vars=[("u", "scalar"), ("lo", "scalar"), ("hi", "scalar"),
                          ("acc", "scalar")],
    sim_code="u = gennrand_uniform();\nlo = fmin(lo, u);\nhi = fmax(hi, u);\nacc += u;")


@pytest.mark.parametrize("precision", ["float", "double"])
def test_gennrand_uniform_open_interval(precision):
    """2e6 draws of gennrand_uniform(): all strictly inside (0, 1), reaching within 1e-4
    of both ends, mean 0.5 within 5 se, last-step draws pass a KS test."""
    n, steps = 10000, 200
    m = pygenn.GeNNModel(precision, "rng_unif")
    m.seed = 3
    pop = m.add_neuron_population("probe", n, UniformProbe, {},
                                  {"u": 0.5, "lo": 2.0, "hi": -1.0, "acc": 0.0})
    m.build()
    m.load()
    for _ in range(steps):
        m.step_time()
    lo, hi = pop.vars["lo"].view, pop.vars["hi"].view
    assert lo.min() > 0.0, lo.min()
    assert hi.max() < 1.0, hi.max()
    assert lo.min() < 1e-4 and hi.max() > 1.0 - 1e-4
    mean = pop.vars["acc"].view.astype(np.float64).sum() / (n * steps)
    assert abs(mean - 0.5) < 5 * np.sqrt(1 / 12 / (n * steps)), mean
    assert stats.kstest(pop.vars["u"].view, "uniform").pvalue > KS_P_MIN


def _named_rng_run(param, var):
    """uniform draws of a neuron whose param/var names equal the engine's RNG inputs."""
    nm = pygenn.create_neuron_model(
        f"RngNames_{param}_{var}", params=[param], vars=[(var, "scalar")],
        sim_code=f"{var} = gennrand_uniform() + 0.0 * {param};")
    m = pygenn.GeNNModel("double", f"rng_names_{param}_{var}")
    m.seed = 1234
    pop = m.add_neuron_population("pop", 16, nm, {param: 99.0}, {var: 0.0})
    m.build()
    m.load()
    out = []
    for _ in range(3):
        m.step_time()
        out.append(np.array(pop.vars[var].view, copy=True))
    return np.array(out)


def test_user_names_seed_and_rng_do_not_change_draws():
    """A param called ``seed`` or ``iT`` and a var called ``rng`` must not alter the
    stream: the generated code keeps its own RNG state and seed."""
    plain = _named_rng_run("a", "x")
    np.testing.assert_array_equal(_named_rng_run("seed", "rng"), plain)
    np.testing.assert_array_equal(_named_rng_run("iT", "x"), plain)
    assert np.unique(plain).size == plain.size


def test_seed_set_after_load_rekeys_streams():
    """Extension: setting model.seed after load changes the draws from the next step,
    and setting it back reproduces the first draws."""
    nm = pygenn.create_neuron_model("Reseed", vars=[("x", "scalar")],
                                    sim_code="x = gennrand_uniform();")
    m = pygenn.GeNNModel("double", "rng_reseed")
    m.seed = 11
    pop = m.add_neuron_population("pop", 8, nm, {}, {"x": 0.0})
    m.build()
    m.load()
    m.step_time()
    first = np.array(pop.vars["x"].view, copy=True)
    m.seed = 12
    m.timestep = 0
    m.step_time()
    assert not np.array_equal(pop.vars["x"].view, first)
    m.seed = 11
    m.timestep = 0
    m.step_time()
    np.testing.assert_array_equal(pop.vars["x"].view, first)
