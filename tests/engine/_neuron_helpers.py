"""Independent numpy/analytic references for the neuron and recording tests.

Nothing here imports the engine: these functions only encode the GeNN 5
semantics stated in the PyGeNN documentation (one ``step_time`` = synapse
update, then neuron update, then ``t += dt``; a spike emitted in the neuron
update of step ``n`` carries the time ``n * dt``).
"""
from __future__ import annotations

import math
from typing import Dict, List, Sequence, Tuple

import numpy as np

LIF_PARAM_NAMES = ("C", "TauM", "Vrest", "Vreset", "Vthresh", "Ioffset", "TauRefrac")


def lif_params(**overrides) -> Dict[str, float]:
    """Default LIF parameters (nF, ms, mV, nA); all values exactly representable in float."""
    p = dict(C=1.0, TauM=20.0, Vrest=-70.0, Vreset=-65.0, Vthresh=-50.0, Ioffset=0.0,
             TauRefrac=0.0)
    p.update(overrides)
    return p


def lif_closed_form(n_steps: int, dt: float, V0: Sequence[float], I_ext: float,
                    p: Dict[str, float], margin: float = 0.0):
    """Closed-form LIF response to a constant input current ``I_ext + Ioffset``.

    Between events V(t) = alpha - (alpha - V_start) * exp(-(t - t_start) / TauM) with
    alpha = Vrest + R * I and R = TauM / C. Returns
    ``(V, refrac, spikes)`` with ``V[k]`` / ``refrac[k]`` the values after step ``k``
    (0-based) and ``spikes`` a sorted list of ``(step, neuron)``.

    Step semantics: free integration that starts at step ``k0`` from ``Vs`` gives
    V after step k = closed form at elapsed time ``(k - k0 + 1) * dt``. The first
    step whose end-of-step V reaches Vthresh is the spike step ``n``:
    ``n = k0 + ceil(T / dt) - 1`` with the first-passage time
    ``T = -TauM * ln((alpha - Vthresh) / (alpha - Vs))``. After a spike V = Vreset,
    RefracTime = TauRefrac, and the next ``r = ceil(TauRefrac / dt)`` steps only
    decrement RefracTime (V frozen), so integration restarts at ``n + r + 1``.

    ``margin`` (mV): assert that V is at least this far from Vthresh at the two steps
    around every crossing, so rounding cannot move a spike by a step (guards that
    the chosen test parameters are well posed).
    """
    V0 = np.asarray(V0, dtype=np.float64)
    tau, R = p["TauM"], p["TauM"] / p["C"]
    alpha = p["Vrest"] + R * (I_ext + p["Ioffset"])
    vth = p["Vthresh"]
    r = int(math.ceil(p["TauRefrac"] / dt - 1e-12)) if p["TauRefrac"] > 0 else 0
    if p["TauRefrac"] > 0:
        frac = p["TauRefrac"] / dt
        assert abs(frac - round(frac)) > 0.05, "choose TauRefrac not a multiple of dt"
    V = np.empty((n_steps, V0.size))
    refrac = np.full((n_steps, V0.size), np.nan)  # NaN = unchanged since previous step
    spikes: List[Tuple[int, int]] = []
    for i, v0 in enumerate(V0):
        assert v0 < vth, "start below threshold"
        k0, vs = 0, v0
        while k0 < n_steps:
            steps = np.arange(k0, n_steps)
            free = alpha - (alpha - vs) * np.exp(-(steps - k0 + 1) * dt / tau)
            if alpha > vth:
                T = -tau * math.log((alpha - vth) / (alpha - vs))
                n = k0 + int(math.ceil(T / dt)) - 1
            else:
                n = n_steps  # never reaches threshold
            end = min(n, n_steps)
            V[k0:end, i] = free[:end - k0]
            if n >= n_steps:
                break
            v_at = alpha - (alpha - vs) * math.exp(-(n - k0 + 1) * dt / tau)
            v_before = alpha - (alpha - vs) * math.exp(-(n - k0) * dt / tau)
            assert v_at >= vth + margin and (n == k0 or v_before <= vth - margin), \
                f"threshold crossing too close to a step boundary (neuron {i}, step {n})"
            spikes.append((n, i))
            V[n, i] = p["Vreset"]
            refrac[n, i] = p["TauRefrac"]
            for j in range(1, r + 1):
                if n + j < n_steps:
                    V[n + j, i] = p["Vreset"]
                    refrac[n + j, i] = p["TauRefrac"] - j * dt
            k0, vs = n + r + 1, p["Vreset"]
        # RefracTime keeps its last value (0 initially, <= 0 after a refractory period)
        last = 0.0
        for k in range(n_steps):
            if np.isnan(refrac[k, i]):
                refrac[k, i] = last
            last = refrac[k, i]
    return V, refrac, sorted(spikes)


def recorded_steps(times, ids, dt: float) -> List[Tuple[int, int]]:
    """Sorted ``(step, id)`` pairs from recorded spike times; asserts times lie on the grid."""
    times = np.asarray(times, dtype=np.float64)
    steps = np.rint(times / dt).astype(np.int64)
    np.testing.assert_allclose(times, steps * dt, rtol=0, atol=1e-6 * max(dt, 1.0))
    return sorted(zip(steps.tolist(), np.asarray(ids).astype(np.int64).tolist()))


def spike_source_arrays(trains_per_batch: Sequence[Sequence[Sequence[float]]]):
    """SpikeSourceArray inputs for per-batch spike trains.

    ``trains_per_batch[b][i]`` lists the spike times of neuron ``i`` in batch ``b``.
    All segments share one ``spikeTimes`` array (batch-major, then neuron, each
    segment sorted). Returns ``(start, end, times)`` with start/end of shape (B, N).
    """
    B, N = len(trains_per_batch), len(trains_per_batch[0])
    start = np.zeros((B, N), dtype=np.uint32)
    end = np.zeros((B, N), dtype=np.uint32)
    times: List[float] = []
    for b in range(B):
        for i in range(N):
            seg = sorted(trains_per_batch[b][i])
            start[b, i] = len(times)
            times.extend(seg)
            end[b, i] = len(times)
    return start, end, np.asarray(times, dtype=np.float64)


def ssa_expected_steps(train: Sequence[float], dt: float) -> List[int]:
    """Emission steps of one SpikeSourceArray neuron: the first step n with n*dt >= time,
    at most one spike per step (later spikes due in the same step slip to later steps)."""
    out: List[int] = []
    for s in sorted(train):
        n = int(math.ceil(s / dt - 1e-9))
        if out and n <= out[-1]:
            n = out[-1] + 1
        out.append(n)
    return out


def expcurr_current(n_steps: int, spike_steps: Sequence[int], weights: np.ndarray,
                    tau: float, dt: float, delay_steps: int = 0) -> np.ndarray:
    """Current injected by an ExpCurr synapse after each step (closed form).

    A presynaptic spike at step s reaches inSyn in the synapse update of step
    ``s + 1 + delay_steps``; from then on step m injects
    ``w * init * exp(-(m - s - 1 - delay) * dt / tau)`` with
    ``init = tau * (1 - exp(-dt / tau)) / dt``.
    """
    init = tau * (1.0 - math.exp(-dt / tau)) / dt
    weights = np.atleast_1d(np.asarray(weights, dtype=np.float64))
    out = np.zeros((n_steps, weights.size))
    m = np.arange(n_steps)
    for s in spike_steps:
        arrive = s + 1 + delay_steps
        k = m - arrive
        act = k >= 0
        out[act] += np.outer(init * np.exp(-k[act] * dt / tau), weights)
    return out


def deltacurr_current(n_steps: int, spike_steps: Sequence[int], weights: np.ndarray,
                      delay_steps: int = 0) -> np.ndarray:
    """Current injected by a DeltaCurr synapse: w exactly once, in step s + 1 + delay."""
    weights = np.atleast_1d(np.asarray(weights, dtype=np.float64))
    out = np.zeros((n_steps, weights.size))
    for s in spike_steps:
        if s + 1 + delay_steps < n_steps:
            out[s + 1 + delay_steps] += weights
    return out


def simulate_lif_expcurr(in_spike_steps: Sequence[Sequence[int]], W: np.ndarray, n_steps: int,
                         dt: float, tau_syn: float, p: Dict[str, float], V0: np.ndarray,
                         dtype=np.float64):
    """Step-by-step numpy simulation of input spikes -> ExpCurr -> LIF (no current source).

    Returns ``(V, spikes, min_margin)``: V after every step (n_steps, n_out), sorted
    ``(step, id)`` output spikes and the smallest |V - Vthresh| seen at a threshold
    test (to check that the comparison is well posed for the given precision).
    """
    f = dtype
    n_in, n_out = W.shape
    W = W.astype(f)
    exp_tc = f(math.exp(-dt / p["TauM"]))
    rm = f(p["TauM"] / p["C"])
    decay = f(math.exp(-dt / tau_syn))
    init = f(tau_syn * (1.0 - math.exp(-dt / tau_syn)) / dt)
    spiking = np.zeros((n_steps, n_in), dtype=bool)
    for i, steps in enumerate(in_spike_steps):
        for s in steps:
            if s < n_steps:
                spiking[s, i] = True
    V = np.asarray(V0, dtype=f).copy()
    refrac = np.zeros(n_out, dtype=f)
    in_syn = np.zeros(n_out, dtype=f)
    trace = np.empty((n_steps, n_out))
    spikes = []
    margin = np.inf
    for n in range(n_steps):
        if n >= 1:
            in_syn = (in_syn + W[spiking[n - 1]].sum(axis=0, dtype=f)).astype(f)
        isyn = (init * in_syn).astype(f)
        in_syn = (in_syn * decay).astype(f)
        free = refrac <= 0
        alpha = ((isyn + f(p["Ioffset"])) * rm + f(p["Vrest"])).astype(f)
        V = np.where(free, alpha - exp_tc * (alpha - V), V).astype(f)
        refrac = np.where(free, refrac, refrac - f(dt)).astype(f)
        can = refrac <= 0
        if can.any():
            margin = min(margin, float(np.min(np.abs(V[can] - f(p["Vthresh"])))))
        spk = can & (V >= f(p["Vthresh"]))
        for i in np.nonzero(spk)[0]:
            spikes.append((n, int(i)))
        V = np.where(spk, f(p["Vreset"]), V).astype(f)
        refrac = np.where(spk, f(p["TauRefrac"]), refrac).astype(f)
        trace[n] = V
    return trace, sorted(spikes), margin


def run_traces(model, n_steps: int, watch: Dict[str, Tuple[object, str]]) -> Dict[str, np.ndarray]:
    """Step ``model`` ``n_steps`` times, copying ``group.vars[var].view`` after each step.

    ``watch`` maps a label to ``(group, var_name)``; returns label -> array of shape
    (n_steps, *view.shape).
    """
    out = {k: [] for k in watch}
    for _ in range(n_steps):
        model.step_time()
        for k, (g, v) in watch.items():
            var = g.vars[v]
            var.pull_from_device()
            out[k].append(np.array(var.view, dtype=np.float64, copy=True))
    return {k: np.stack(v) for k, v in out.items()}


def simulate_poisson_source(n: int, n_steps: int, rate_hz: float, dt: float,
                            rng: np.random.Generator) -> np.ndarray:
    """numpy model of GeNN's Poisson neuron: a countdown in steps that is topped up by
    ``isi * Exp(1)`` (isi = 1000 / (rate * dt)) when it has run out, decremented by one per
    step, and spikes while <= 0. Returns a bool array (n_steps, n) of spikes."""
    isi = 1000.0 / (rate_hz * dt)
    c = np.zeros(n)
    out = np.zeros((n_steps, n), dtype=bool)
    for k in range(n_steps):
        empty = c <= 0.0
        c[empty] += isi * rng.exponential(size=int(empty.sum()))
        c -= 1.0
        out[k] = c <= 0.0
    return out


def isi_stats(steps: np.ndarray, ids: np.ndarray):
    """Pooled mean and coefficient of variation of within-neuron inter-spike intervals."""
    order = np.lexsort((steps, ids))
    s, i = np.asarray(steps)[order], np.asarray(ids)[order]
    isi = np.diff(s)[i[1:] == i[:-1]]
    return isi.mean(), isi.std() / isi.mean(), isi.min()
