"""Randomised differential test of the EventProp gradients, boundary cases forced.

Many small random networks (every loss, recurrence, one or two hidden layers,
LIF/hetLIF/ALIF, trained time constants, input delay lines) with random
weights and input trains. Every problem forces the trial boundaries:

- sample 0: an input spike in the first step, one in the last step, two
  inputs spiking at the same time and one input with two spikes in the same
  step (the second is deferred to the next step);
- sample 1: its inputs are shifted by whole steps so that a hidden (or
  output) neuron spikes in the last step. The system is invariant under such
  shifts and input spikes shifted past the end of the trial would arrive after
  it, so this is an exact way to place a spike there;
- some problems give two hidden neurons identical input weights, so they spike
  in the same steps.

The backward-pass gradients must equal central finite differences of the
forward loss for every sampled entry (the entries of the boundary neurons are
always sampled), and the whole gradient must equal the independent numpy
reference (``_reference.py``) where it models the network (LIF hidden layers,
all losses but ``sum_weigh_input``, no delay lines).

Criterion per entry: ``|g - fd| <= RTOL |fd| + ATOL``; ATOL covers the rounding
noise of the differences (loss ~ 1, step 1e-5: ~1e-10).
"""
from __future__ import annotations

import dataclasses
import os
import sys
from typing import Dict, List, Tuple

import numpy as np
import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _reference as ref  # noqa: E402

from genn_eventprop.genn_models import LOSSES  # noqa: E402
from genn_eventprop.network import (EventPropNetwork, HiddenLayer, NetworkSpec,  # noqa: E402
                                    WeightInit, connection_names)

RTOL = 1e-5
ATOL = 1e-9
EPS = 1e-5
FIRST_SPIKE = ("first_spike", "first_spike_exp")
REFERENCE_LOSSES = set(ref.LOSSES)


@dataclasses.dataclass
class Problem:
    """One network with its batch; ``boundary`` lists (population, neuron, what) forced."""
    spec: NetworkSpec
    batch: List[Tuple[np.ndarray, np.ndarray]]
    labels: List[int]
    boundary: List[Tuple[str, int, str]]


def draw_spec(rng: np.random.Generator, loss: str, name: str, features=()) -> NetworkSpec:
    """A small random network. ``features`` forces some of "2layers", "recurrent",
    "hetLIF", "ALIF", "train_tau", "delay"; "ref" keeps to what the numpy
    reference models (LIF layers with equal time constants, LI outputs, fixed
    time constants, no delay lines). Whatever is not forced is drawn."""
    plain = "ref" in features
    n_layers = 2 if ("2layers" in features or rng.random() < 0.3) else 1
    tau_m, tau_syn = float(rng.uniform(10.0, 25.0)), float(rng.uniform(2.0, 6.0))
    hidden = []
    for i in range(n_layers):
        neuron = "LIF" if plain else str(rng.choice(["LIF", "LIF", "hetLIF", "ALIF"]))
        if i == 0 and "hetLIF" in features:
            neuron = "hetLIF"
        if i == n_layers - 1 and "ALIF" in features:
            neuron = "ALIF"
        train_tau = (not plain and neuron != "ALIF"
                     and ("train_tau" in features and i == 0 or rng.random() < 0.2))
        recurrent = ("recurrent" in features and i == 0) or rng.random() < 0.3
        if not plain:
            tau_m, tau_syn = float(rng.uniform(10.0, 25.0)), float(rng.uniform(2.0, 6.0))
        hidden.append(HiddenLayer(int(rng.integers(3, 6)), neuron=neuron, recurrent=recurrent,
                                  tau_m=tau_m, tau_syn=tau_syn, tau_B=30.0, B_incr=0.3,
                                  train_tau=train_tau))
    weights = {}
    for conn in connection_names(NetworkSpec(1, hidden, 1)):
        pre, post = conn.split("_")
        if pre == post:
            weights[conn] = WeightInit(0.0, 0.4)
        elif pre == "in":
            weights[conn] = WeightInit(1.6, 0.5)
        else:
            weights[conn] = WeightInit(1.2, 0.5)
    dt = float(rng.choice([0.25, 0.5, 1.0]))
    delay = not plain and ("delay" in features or rng.random() < 0.2)
    train_tau_output = not plain and ("train_tau" in features or rng.random() < 0.2)
    return NetworkSpec(
        n_input=int(rng.integers(5, 8)), hidden=hidden, n_output=3, loss=loss, dt=dt,
        n_steps=int(round(float(rng.uniform(25.0, 40.0)) / dt)), batch_size=2,
        precision="double", tau_0=2.0, alpha=0.01, weights=weights,
        seed=int(rng.integers(1, 10**6)), train_tau_output=train_tau_output,
        output_neuron="LI" if plain else str(rng.choice(["LI", "hetLI"])),
        n_input_delay=1 if delay else 0, input_delay=float(rng.uniform(3.0, 12.0)), name=name)


def spike_steps(net: EventPropNetwork, pop: str, sample: int) -> Dict[int, np.ndarray]:
    """Neuron -> forward steps of its spikes in ``sample`` of the last forward pass."""
    s = net.spec
    p = net.pops[pop]
    counts = net.variable(pop, "tape_len")[sample].astype(int)
    steps = np.array(p.extra_global_params["tape_step"].view).reshape(
        s.batch_size, p.size, s.n_max_spike)[sample]
    return {j: steps[j, :counts[j]] for j in range(p.size)}


def random_inputs(rng, spec, n_spikes):
    """Spike times (ms) as whole steps plus an offset away from the step edges."""
    steps = rng.integers(0, int(0.8 * spec.n_steps), n_spikes)
    return (steps + rng.uniform(0.05, 0.95, n_spikes)) * spec.dt, rng.integers(0, spec.n_input,
                                                                                n_spikes)


def boundary_sample0(rng, spec):
    """Random inputs plus: input 0 in step 0 and in step T-1, inputs 1 and 2 at the
    same time, input 3 twice in one step."""
    times, ids = random_inputs(rng, spec, 4 * spec.n_input)
    T, dt = spec.n_steps, spec.dt
    both = (int(rng.integers(1, T // 2)) + 0.5) * dt
    twice = int(rng.integers(1, T // 2))
    extra_t = [rng.uniform(0.05, 0.95) * dt, (T - 1 + rng.uniform(0.05, 0.95)) * dt, both, both,
               (twice + 0.2) * dt, (twice + 0.7) * dt]
    return np.concatenate([times, extra_t]), np.concatenate([ids, [0, 0, 1, 2, 3, 3]])


def last_step_sample(rng, net, labels):
    """Inputs shifted by whole steps so that a spiking neuron spikes in the last step.
    Returns (sample, (population, neuron)) or None when nothing spiked."""
    spec = net.spec
    T = spec.n_steps
    times, ids = random_inputs(rng, spec, 4 * spec.n_input)
    net.forward([(times, ids), (times, ids)], labels)
    candidates = []
    for pop in [p for p in net.pops if p != "input"]:
        if "tape_len" not in net.pops[pop].vars:
            continue
        for j, steps in spike_steps(net, pop, 0).items():
            candidates += [(pop, j, int(m)) for m in steps if T // 3 <= m < T - 1]
    if not candidates:
        return None
    pop, j, m = candidates[int(rng.integers(len(candidates)))]
    shifted = times + (T - 1 - m) * spec.dt
    keep = shifted < T * spec.dt
    return (shifted[keep], ids[keep]), (pop, j)


def labels_for(net, batch, rng):
    """Random labels; for first-spike losses an output that spiked in each sample
    (no phantom drive, which is a heuristic and not a gradient)."""
    labels = [int(rng.integers(3)) for _ in batch]
    if net.spec.loss not in FIRST_SPIKE:
        return labels
    first = net.forward(batch, labels).first_spike_t
    out = []
    for b in range(len(batch)):
        spiked = np.flatnonzero(first[b] >= 0)
        if not spiked.size:
            return None
        out.append(int(rng.choice(spiked)))
    return out


def draw_problem(rng, net) -> Problem:
    """Random weights and a batch with the forced boundary cases (see module doc).
    Draws again, with stronger feed-forward weights, while the network is too quiet
    (no spike to move to the last step, or silent outputs for a first-spike loss)."""
    spec = net.spec
    gain = 1.0
    for _attempt in range(20):
        for conn in net.connections:
            init = spec.weights[conn]
            pre, post = conn.split("_")
            mean = init.mean * (1.0 if pre == post else gain)
            w = rng.normal(mean, init.sd, net.get_weights(conn).shape)
            if post == "out":
                w *= rng.uniform(0.8, 1.5)
            net.set_weights(conn, w)
        if rng.random() < 0.5:
            w = net.get_weights("in_h0")
            w[:, 1] = w[:, 0]
            net.set_weights("in_h0", w)
        labels = [int(rng.integers(3)) for _ in range(2)]
        found = last_step_sample(rng, net, labels)
        if found is None:
            gain *= 1.2
            continue
        sample1, (pop, j) = found
        batch = [boundary_sample0(rng, spec), sample1]
        labels = labels_for(net, batch, rng)
        if labels is None:
            gain *= 1.2
            continue
        net.forward(batch, labels)
        if T_last(net, pop, j, 1):
            return Problem(spec, batch, labels, [("input", 0, "spikes in steps 0 and T-1"),
                                                 (pop, j, "spikes in step T-1")])
    raise AssertionError(f"{spec.name}: no problem with a last-step spike in 20 draws")


def T_last(net, pop, j, sample) -> bool:
    """Whether neuron j of ``pop`` spiked in the last step of ``sample``."""
    steps = spike_steps(net, pop, sample)[j]
    return steps.size > 0 and steps[-1] == net.spec.n_steps - 1


def loss_with(net, problem, setter, value, ref_counts):
    setter(value)
    res = net.forward(problem.batch, problem.labels)
    same = all(np.array_equal(c, ref_counts[p]) for p, c in res.spike_counts.items())
    return res.loss, same


def fd_entry(net, problem, get, put, idx, ref_counts):
    """Central difference of the batch loss in entry ``idx`` of get()/put(); None when
    the perturbation changes a spike count (the loss is not differentiable there)."""
    base = get()
    vals = []
    for sign in (1.0, -1.0):
        x = base.copy()
        x[idx] += sign * EPS
        loss, same = loss_with(net, problem, put, x, ref_counts)
        if not same:
            put(base)
            return None
        vals.append(loss)
    put(base)
    return (vals[0] - vals[1]) / (2.0 * EPS)


def entries_to_check(rng, key, shape, problem, n_random):
    """Random entries plus every entry of a boundary neuron's outgoing row."""
    pre = key.split("_")[0] if "." not in key else None
    rows = [j for pop, j, _ in problem.boundary
            if pre is not None and (pop == "input" and pre == "in" or pop == pre)]
    picked = {(r, c) for r in rows for c in range(shape[1])} if len(shape) == 2 else set()
    flat = rng.choice(int(np.prod(shape)), size=min(n_random, int(np.prod(shape))), replace=False)
    picked |= {tuple(int(i) for i in np.unravel_index(f, shape)) for f in flat}
    return sorted(picked)


def check_problem(net, problem, rng, n_random=6):
    """Compare every sampled gradient entry with finite differences; returns the number
    of entries checked and skipped (perturbation changed a spike)."""
    res, grads = net.gradients(problem.batch, problem.labels)
    counts = res.spike_counts
    assert sum(int(c.sum()) for p, c in counts.items() if p != "input") > 0
    failures, checked, skipped = [], 0, 0
    for key, g in grads.items():
        if "." in key:
            pop, tau = key.split(".")
            get = lambda pop=pop, tau=tau: net.get_time_constants(pop)[tau]
            put = lambda x, pop=pop, tau=tau: net.set_time_constants(pop, **{tau: x})
        else:
            get = lambda key=key: net.get_weights(key)
            put = lambda x, key=key: net.set_weights(key, x)
        for idx in entries_to_check(rng, key, g.shape, problem, n_random):
            fd = fd_entry(net, problem, get, put, idx, counts)
            if fd is None:
                skipped += 1
                continue
            checked += 1
            if abs(g[idx] - fd) > RTOL * abs(fd) + ATOL:
                failures.append(f"{key}{list(idx)}: backward {g[idx]:.9g}, finite diff {fd:.9g}")
    assert not failures, (f"{problem.spec.name} (boundary {problem.boundary}): "
                          f"{len(failures)} of {checked} entries wrong:\n" + "\n".join(failures))
    assert checked > 3 * skipped, f"{problem.spec.name}: {skipped} entries skipped, {checked} checked"
    return grads


def reference_applies(spec: NetworkSpec) -> bool:
    return (spec.loss in REFERENCE_LOSSES and not spec.n_input_delay
            and all(h.neuron == "LIF" and not h.train_tau for h in spec.hidden)
            and not spec.train_tau_output and spec.output_neuron == "LI"
            and all(h.tau_m == spec.hidden[0].tau_m and h.tau_syn == spec.hidden[0].tau_syn
                    for h in spec.hidden))


def check_reference(net, problem, grads):
    """The whole gradient equals the numpy reference's (same discrete model)."""
    s = net.spec
    h = s.hidden[0]
    rspec = ref.Spec(dt=s.dt, T=s.n_steps, n_in=s.n_input, hidden=tuple(l.size for l in s.hidden),
                     recurrent=tuple(l.recurrent for l in s.hidden), n_out=s.n_output, loss=s.loss,
                     tau_m=h.tau_m, tau_syn=h.tau_syn, tau_0=s.tau_0, tau_1=s.tau_1, alpha=s.alpha,
                     tau_m_out=s.tau_m_out, tau_syn_out=s.tau_syn_out)
    weights = {c: net.get_weights(c) for c in net.connections}
    inputs = [[np.sort(t[i == j]) for j in range(s.n_input)] for t, i in problem.batch]
    _, ref_grads = ref.batch_loss_and_grad(rspec, weights, inputs, problem.labels)
    for conn, g in ref_grads.items():
        np.testing.assert_allclose(grads[conn], g, rtol=1e-7, atol=1e-9 * max(np.abs(g).max(), 1e-6),
                                   err_msg=f"{s.name}: {conn} differs from the numpy reference")


def run_case(loss, seed, features=(), n_problems=2):
    rng = np.random.default_rng(seed)
    spec = draw_spec(rng, loss, f"rndgrad_{loss}_{seed}", features)
    net = EventPropNetwork(spec)
    for _ in range(n_problems):
        problem = draw_problem(rng, net)
        grads = check_problem(net, problem, rng)
        if reference_applies(spec):
            check_reference(net, problem, grads)


#: Default suite: every loss once; every feature appears, and five cases are
#: also checked against the numpy reference ("ref").
FAST_CASES = [
    ("sum", 1, ("ref", "recurrent")),
    ("sum_weigh_linear", 2, ("ref", "2layers")),
    ("sum_weigh_exp", 3, ("recurrent", "train_tau")),
    ("sum_weigh_sigmoid", 4, ("hetLIF",)),
    ("sum_weigh_input", 5, ("delay",)),
    ("max", 6, ("ref", "recurrent")),
    ("avg_xentropy", 7, ("ref",)),
    ("first_spike", 8, ("ref", "2layers", "recurrent")),
    ("first_spike_exp", 9, ("ALIF", "train_tau")),
]


def test_fast_cases_cover_every_loss_and_feature():
    assert sorted(c[0] for c in FAST_CASES) == sorted(LOSSES)
    specs = [draw_spec(np.random.default_rng(seed), loss, "x", feat)
             for loss, seed, feat in FAST_CASES]
    layers = [h for s in specs for h in s.hidden]
    assert {h.neuron for h in layers} == {"LIF", "hetLIF", "ALIF"}
    assert any(h.recurrent for h in layers) and any(len(s.hidden) == 2 for s in specs)
    assert any(h.train_tau for h in layers) and any(s.train_tau_output for s in specs)
    assert any(s.n_input_delay for s in specs)
    assert sum(reference_applies(s) for s in specs) == 5


@pytest.mark.filterwarnings("ignore:.*deferred past the end of the trial")
@pytest.mark.parametrize("loss,seed,features", FAST_CASES)
def test_random_gradients_with_boundary_spikes(loss, seed, features):
    run_case(loss, seed, features, n_problems=3)


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore:.*deferred past the end of the trial")
@pytest.mark.parametrize("seed", range(100, 140))
def test_random_gradients_sweep(seed):
    rng = np.random.default_rng(seed)
    loss = str(rng.choice(sorted(LOSSES)))
    features = ("ref",) if seed % 3 == 0 else ()
    run_case(loss, seed, features, n_problems=4)
