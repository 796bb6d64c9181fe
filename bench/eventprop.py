"""EventProp training speed on the SHD workload: 700 -> 256 LIF -> 20 LI.

1000 steps of 1 ms, batch 32, Adam, ``sum_weigh_exp`` readout, SHD-like input
(~7,500 input spikes per sample in bursts of clustered units and times) and
input weights chosen for ~9,600 hidden spikes per sample, as real SHD gives.
The learning rate is tiny so that activity stays fixed while timing; spikes
per sample are printed with every figure because activity is what the time
depends on.

Prints, per network (feed-forward, recurrent) and thread count, the time per
training sample (forward + backward + Adam; median of interleaved rounds, each
in its own process, so each has its own peak RSS), the same under contention
(a busy process that this script starts, default settings), and a measured
limit: row adds per second (a 256-wide row of weights added into a sum, as a
spike does) and neuron-steps per second (an exact LIF step) on this machine,
with the fraction of that limit reached.

Usage: python bench/eventprop.py [--rounds 4] [--batches 6]
"""
from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from report import machine_line

N_IN, N_HID, N_OUT, STEPS, DT, BATCH = 700, 256, 20, 1000, 1.0, 32
INPUT_SPIKES = 7500
W_IN = 0.0315          # input weights N(W_IN, W_IN/2): ~9.6k hidden spikes per sample
REPO = Path(__file__).resolve().parents[1]


def shd_like_sample(rng, n_spikes=INPUT_SPIKES):
    """Spikes in 6-10 bursts, each a band of units active for ~50-150 ms."""
    n_bursts = rng.integers(6, 11)
    centres_u = rng.uniform(50, 650, n_bursts)
    centres_t = np.sort(rng.uniform(50, 850, n_bursts))
    which = rng.integers(0, n_bursts, n_spikes)
    units = np.clip(rng.normal(centres_u[which], 40.0), 0, N_IN - 1).astype(int)
    times = np.clip(rng.normal(centres_t[which], 40.0), 0.0, STEPS * DT - 1e-3)
    return times, units


def build(recurrent, threads):
    sys.path.insert(0, str(REPO))
    from genn_eventprop.network import EventPropNetwork, HiddenLayer, NetworkSpec, WeightInit
    weights = {"in_h0": WeightInit(W_IN, W_IN / 2), "h0_out": WeightInit(0.0, 0.03)}
    if recurrent:
        weights["h0_h0"] = WeightInit(0.0, 0.02)
    spec = NetworkSpec(n_input=N_IN, hidden=[HiddenLayer(N_HID, recurrent=recurrent)],
                       n_output=N_OUT, loss="sum_weigh_exp", dt=DT, n_steps=STEPS,
                       batch_size=BATCH, weights=weights, seed=1, n_max_spike=200,
                       num_threads=threads, learning_rate=1e-9,
                       name=f"bench_evp_{'rec' if recurrent else 'ff'}")
    return EventPropNetwork(spec)


def worker(recurrent, threads, n_batches):
    """One timing in this process: JSON line with ms/sample, spikes, peak RSS."""
    rng = np.random.default_rng(0)
    net = build(recurrent, threads)
    batches = [[shd_like_sample(rng) for _ in range(BATCH)] for _ in range(n_batches + 1)]
    labels = rng.integers(0, N_OUT, BATCH)
    net.train_step(batches[0], labels)          # warm-up: first-touch of the tapes
    hidden = inputs = 0
    t0 = time.perf_counter()
    for batch in batches[1:]:
        res = net.train_step(batch, labels)
        hidden += int(res.spike_counts["h0"].sum())
        inputs += int(res.spike_counts["input"].sum())
    elapsed = time.perf_counter() - t0
    n = n_batches * BATCH
    print(json.dumps({"ms": elapsed / n * 1e3, "hidden": hidden / n, "input": inputs / n,
                      "rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0}))


def run_worker(recurrent, threads, n_batches):
    cmd = [sys.executable, __file__, "--worker", "rec" if recurrent else "ff",
           "--threads", str(threads or 0), "--batches", str(n_batches)]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def busy():
    while True:
        pass


LIMIT_SOURCE = r"""
#include <cstdint>
#include <cmath>
extern "C" double row_adds(const float* w, const uint32_t* rows, int n_rows, float* acc) {
    for (int r = 0; r < n_rows; r++) {
        const float* row = w + (size_t)rows[r] * 256;
        for (int j = 0; j < 256; j++) { acc[j] += row[j]; }
    }
    return acc[0];
}
extern "C" double neuron_steps(float* V, float* I, const float* in, int n, int steps) {
    const float dm = std::exp(-1.0f / 20.0f), ds = std::exp(-1.0f / 5.0f), k = 0.2f;
    int spikes = 0;
    for (int s = 0; s < steps; s++) {
        for (int i = 0; i < n; i++) {
            const float v = V[i] * dm + I[i] * k;
            I[i] = I[i] * ds + in[(i + s) & 1023];
            const bool spk = v >= 1.0f;
            V[i] = spk ? 0.0f : v;
            spikes += spk;
        }
    }
    return spikes;
}
"""


def measure_limit():
    """(row adds per s, neuron-steps per s) on one core, compiled like the models."""
    import ctypes
    sys.path.insert(0, str(REPO))
    from genn_eventprop.engine.compiler import build_library
    lib = ctypes.CDLL(str(build_library(LIMIT_SOURCE, "bench_limit", {}).library))
    lib.row_adds.restype = lib.neuron_steps.restype = ctypes.c_double
    f32 = np.ctypeslib.ndpointer(np.float32, flags="C")
    lib.row_adds.argtypes = [f32, np.ctypeslib.ndpointer(np.uint32, flags="C"), ctypes.c_int, f32]
    lib.neuron_steps.argtypes = [f32, f32, f32, ctypes.c_int, ctypes.c_int]
    rng = np.random.default_rng(0)
    w = rng.normal(0, 0.01, (N_IN * 32, 256)).astype(np.float32)    # 22 MiB: out of cache
    rows = rng.integers(0, w.shape[0], 200_000).astype(np.uint32)
    acc = np.zeros(256, np.float32)
    lib.row_adds(w, rows, rows.size, acc)
    t0 = time.perf_counter()
    lib.row_adds(w, rows, rows.size, acc)
    rate_rows = rows.size / (time.perf_counter() - t0)
    n = (N_HID + N_OUT) * BATCH
    V = np.zeros(n, np.float32)
    I = np.zeros(n, np.float32)
    inp = rng.uniform(0, 0.2, 1024).astype(np.float32)
    lib.neuron_steps(V, I, inp, n, 100)
    t0 = time.perf_counter()
    lib.neuron_steps(V, I, inp, n, 2000)
    rate_neurons = n * 2000 / (time.perf_counter() - t0)
    return rate_rows, rate_neurons


def work_per_sample(recurrent, hidden_spikes, input_spikes):
    """(row adds, neuron-steps) an event-driven implementation must do per sample:
    every input and hidden spike adds its rows forward and again backward; the
    hidden and output neurons step forward and backward."""
    # in_h0 and h0_h0 rows are 256 wide; an h0_out row (20 wide) counts as 20/256
    rows = input_spikes + hidden_spikes * (N_OUT / N_HID + (1 if recurrent else 0))
    return 2 * rows, 2 * (N_HID + N_OUT) * STEPS


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=4)
    ap.add_argument("--batches", type=int, default=6)
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--worker", choices=["ff", "rec"])
    args = ap.parse_args()
    if args.worker:
        worker(args.worker == "rec", args.threads or None, args.batches)
        return
    print(machine_line())
    configs = [(rec, thr) for rec in (False, True) for thr in (None, 1)]
    for rec in (False, True):
        run_worker(rec, None, 1)                # compile into the cache outside the timing
    results = {c: [] for c in configs}
    for _ in range(args.rounds):
        for c in configs:
            results[c].append(run_worker(c[0], c[1], args.batches))
    hog = multiprocessing.Process(target=busy, daemon=True)
    hog.start()
    try:
        contended = [run_worker(True, None, args.batches) for _ in range(max(1, args.rounds // 2))]
    finally:
        hog.terminate()
    rate_rows, rate_neurons = measure_limit()
    print(f"limit on one core: {rate_rows / 1e6:.1f} M row adds/s (256 floats), "
          f"{rate_neurons / 1e6:.0f} M neuron-steps/s")
    print("network       threads  ms/sample (median, min-max)  hidden/input spikes per sample"
          "  peak RSS  limit (1 core)  fraction")
    for (rec, thr), rs in results.items():
        ms = [r["ms"] for r in rs]
        rows, steps = work_per_sample(rec, rs[0]["hidden"], rs[0]["input"])
        limit_ms = (rows / rate_rows + steps / rate_neurons) * 1e3
        cores = 1 if thr == 1 else (os.cpu_count() or 1)
        print(f"{'recurrent' if rec else 'feed-forward':13s} {thr or 'default':>7}  "
              f"{statistics.median(ms):6.2f} ({min(ms):.2f}-{max(ms):.2f})"
              f"{'':12s}{rs[0]['hidden']:7.0f} / {rs[0]['input']:5.0f}"
              f"{'':14s}{max(r['rss'] for r in rs):5.0f} MiB  {limit_ms:5.2f} ms"
              f"  {limit_ms / cores / statistics.median(ms):6.1%}")
    ms = [r["ms"] for r in contended]
    one = statistics.median(r["ms"] for r in results[(True, 1)])
    print(f"recurrent, default threads, one busy process running: "
          f"{statistics.median(ms):.2f} ms/sample ({min(ms):.2f}-{max(ms):.2f}) = "
          f"{statistics.median(ms) / one:.2f}x the 1-thread idle figure")


if __name__ == "__main__":
    main()
