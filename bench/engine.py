"""Engine benchmark: 700 -> 256 -> 20 LIF network, 1000 steps of 1 ms, batch 32.

Input: spike-source arrays with ~10 spikes per input neuron per second (Poisson).
Hidden and output: LIF (tau_m 20 ms) with exponential current synapses (tau 5 ms).
Prints cold and warm build times, simulated steps per second, synaptic events per
second, and the speed ratio against a vectorised numpy implementation of the same
network measured in the same run (which must produce the same spikes).

Usage: python bench/engine.py [--steps 1000] [--batch 32] [--threads N]
"""
from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time

import numpy as np

N_IN, N_HID, N_OUT = 700, 256, 20
TAU_M, TAU_SYN, DT = 20.0, 5.0, 1.0
LIF_PARAMS = {"C": 1.0, "TauM": TAU_M, "Vrest": 0.0, "Vreset": 0.0, "Vthresh": 1.0,
              "Ioffset": 0.0, "TauRefrac": 0.0}


def make_inputs(rng, steps, batch, rate_hz=10.0):
    """Boolean input spikes [step, batch, neuron] of a Poisson process at rate_hz."""
    return rng.random((steps, batch, N_IN)) < rate_hz * DT / 1000.0


def make_weights(rng):
    w_in = rng.normal(0.002, 0.01, (N_IN, N_HID)).astype(np.float32)
    w_out = rng.normal(0.003, 0.01, (N_HID, N_OUT)).astype(np.float32)
    return w_in, w_out


def build_engine(spikes, w_in, w_out, threads):
    import genn_eventprop.engine as pygenn
    steps, batch, _ = spikes.shape
    model = pygenn.GeNNModel("float", "bench_engine", num_threads=threads)
    model.dt = DT
    model.batch_size = batch
    times, starts, ends = [], np.zeros((batch, N_IN), np.uint32), np.zeros((batch, N_IN), np.uint32)
    offset = 0
    for b in range(batch):
        for i in range(N_IN):
            st = np.nonzero(spikes[:, b, i])[0].astype(np.float32) * DT
            starts[b, i], ends[b, i] = offset, offset + st.size
            times.append(st)
            offset += st.size
    inp = model.add_neuron_population("inp", N_IN, "SpikeSourceArray", {},
                                      {"startSpike": starts, "endSpike": ends})
    inp.extra_global_params["spikeTimes"].set_init_values(np.concatenate(times))
    hid = model.add_neuron_population("hid", N_HID, "LIF", LIF_PARAMS,
                                      {"V": 0.0, "RefracTime": 0.0})
    out = model.add_neuron_population("out", N_OUT, "LIF", LIF_PARAMS,
                                      {"V": 0.0, "RefracTime": 0.0})
    for pop in (inp, hid, out):
        pop.spike_recording_enabled = True
    for name, src, trg, w in (("in_hid", inp, hid, w_in), ("hid_out", hid, out, w_out)):
        model.add_synapse_population(
            name, "DENSE", src, trg,
            pygenn.init_weight_update("StaticPulse", {}, {"g": w.reshape(-1)}),
            pygenn.init_postsynaptic("ExpCurr", {"tau": TAU_SYN}))
    return model


def run_engine(model, steps):
    model.load(num_recording_timesteps=steps)
    start = time.perf_counter()
    for _ in range(steps):
        model.step_time()
    elapsed = time.perf_counter() - start
    counts = {name: np.array([ids.size for _, ids in pop.spike_recording_data])
              for name, pop in model.neuron_populations.items()}
    model.unload()
    return elapsed, counts


def run_numpy(spikes, w_in, w_out):
    """The same network, vectorised over batch and neurons with numpy (float32)."""
    steps, batch, _ = spikes.shape
    decay = np.float32(np.exp(-DT / TAU_SYN))
    init = np.float32(TAU_SYN * (1.0 - np.exp(-DT / TAU_SYN)) / DT)
    exp_tc = np.float32(np.exp(-DT / TAU_M))
    r_mem = np.float32(TAU_M / 1.0)
    v_h = np.zeros((batch, N_HID), np.float32)
    v_o = np.zeros((batch, N_OUT), np.float32)
    syn_h = np.zeros_like(v_h)
    syn_o = np.zeros_like(v_o)
    prev_in = np.zeros((batch, N_IN), np.float32)
    prev_h = np.zeros((batch, N_HID), np.float32)
    count_h = np.zeros(batch, np.int64)
    count_o = np.zeros(batch, np.int64)
    start = time.perf_counter()
    for k in range(steps):
        syn_h += prev_in @ w_in
        syn_o += prev_h @ w_out
        alpha_h = init * syn_h * r_mem
        alpha_o = init * syn_o * r_mem
        syn_h *= decay
        syn_o *= decay
        v_h = alpha_h - exp_tc * (alpha_h - v_h)
        v_o = alpha_o - exp_tc * (alpha_o - v_o)
        s_h = v_h >= 1.0
        s_o = v_o >= 1.0
        v_h[s_h] = 0.0
        v_o[s_o] = 0.0
        count_h += s_h.sum(1)
        count_o += s_o.sum(1)
        prev_in = spikes[k].astype(np.float32)
        prev_h = s_h.astype(np.float32)
    return time.perf_counter() - start, {"hid": count_h, "out": count_o}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=1000)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    rng = np.random.default_rng(1)
    spikes = make_inputs(rng, args.steps, args.batch)
    w_in, w_out = make_weights(rng)

    with tempfile.TemporaryDirectory() as cache:
        os.environ["GENN_EVENTPROP_CACHE"] = cache
        t0 = time.perf_counter()
        model = build_engine(spikes, w_in, w_out, args.threads)
        model.build()
        cold = time.perf_counter() - t0
        assert not model.build_was_cached
        t0 = time.perf_counter()
        model = build_engine(spikes, w_in, w_out, args.threads)
        model.build()
        warm = time.perf_counter() - t0
        assert model.build_was_cached
        engine_times = []
        for _ in range(args.repeats):
            elapsed, counts = run_engine(model, args.steps)
            engine_times.append(elapsed)
    numpy_times = []
    for _ in range(args.repeats):
        elapsed, np_counts = run_numpy(spikes, w_in, w_out)
        numpy_times.append(elapsed)
    t_engine, t_numpy = min(engine_times), min(numpy_times)
    mismatch = {k: int(np.abs(counts[k] - np_counts[k]).sum()) for k in np_counts}
    n_in, n_hid = int(spikes.sum()), int(counts["hid"].sum())
    events = n_in * N_HID + n_hid * N_OUT
    print(f"machine: {platform.machine()} {platform.processor() or ''} cores={os.cpu_count()} "
          f"python={platform.python_version()} numpy={np.__version__}")
    print(f"network: {N_IN}->{N_HID}->{N_OUT} LIF, {args.steps} steps of {DT} ms, "
          f"batch {args.batch}, input spikes {n_in} ({n_in / (N_IN * args.batch):.1f}/neuron), "
          f"hidden spikes {n_hid}, output spikes {int(counts['out'].sum())}")
    print(f"cold build: {cold:.2f} s   warm (cached) build: {warm:.3f} s")
    print(f"engine: {t_engine:.3f} s  -> {args.steps / t_engine:,.0f} steps/s, "
          f"{events / t_engine:,.3g} synaptic events/s")
    print(f"numpy baseline: {t_numpy:.3f} s  -> {args.steps / t_numpy:,.0f} steps/s")
    print(f"speed-up vs numpy: {t_numpy / t_engine:.1f}x")
    print(f"spike-count differences engine vs numpy: {mismatch}")


if __name__ == "__main__":
    main()
