"""EventProp training benchmark: 700 -> 256 (feed-forward and recurrent) -> 20.

1000 steps of 1 ms, batch 32, SHD-like input: each sample has a few thousand
input spikes in bursts (units and times clustered like spoken digits).
Prints seconds per training sample (forward + backward + Adam), the split
into forward and backward+Adam, hidden spike rate, and peak memory (RSS).

Usage: python bench/eventprop.py [--batches 5] [--threads N] [--loss sum]
"""
from __future__ import annotations

import argparse
import os
import platform
import resource
import tempfile
import time

import numpy as np

N_IN, N_HID, N_OUT, STEPS, DT = 700, 256, 20, 1000, 1.0


def shd_like_sample(rng, n_spikes=3000):
    """Spikes in 6-10 bursts, each a band of units active for ~50-150 ms."""
    n_bursts = rng.integers(6, 11)
    centres_u = rng.uniform(50, 650, n_bursts)
    centres_t = np.sort(rng.uniform(50, 850, n_bursts))
    which = rng.integers(0, n_bursts, n_spikes)
    units = np.clip(rng.normal(centres_u[which], 40.0), 0, N_IN - 1).astype(int)
    times = np.clip(rng.normal(centres_t[which], 40.0), 0.0, STEPS * DT - 1e-3)
    return times, units


def build(recurrent, loss, threads, batch_size):
    from genn_eventprop.network import EventPropNetwork, HiddenLayer, NetworkSpec, WeightInit
    weights = {"in_h0": WeightInit(0.03, 0.01), "h0_out": WeightInit(0.0, 0.03)}
    if recurrent:
        weights["h0_h0"] = WeightInit(0.0, 0.02)
    spec = NetworkSpec(n_input=N_IN, hidden=[HiddenLayer(N_HID, recurrent=recurrent)],
                       n_output=N_OUT, loss=loss, dt=DT, n_steps=STEPS, batch_size=batch_size,
                       weights=weights, seed=1, n_max_spike=100, num_threads=threads,
                       name=f"bench_evp_{'rec' if recurrent else 'ff'}")
    return EventPropNetwork(spec)


def run(net, rng, n_batches, batch_size):
    t_fwd = t_all = 0.0
    hidden_spikes = 0
    for _ in range(n_batches):
        batch = [shd_like_sample(rng) for _ in range(batch_size)]
        labels = rng.integers(0, N_OUT, batch_size)
        t0 = time.perf_counter()
        net.forward(batch, labels)
        t_fwd += time.perf_counter() - t0
        t0 = time.perf_counter()
        res = net.train_step(batch, labels)
        t_all += time.perf_counter() - t0
        hidden_spikes += int(res.spike_counts["h0"].sum())
    n = n_batches * batch_size
    return t_all / n, t_fwd / n, hidden_spikes / (n * N_HID * STEPS * DT / 1000.0)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--batches", type=int, default=5)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--loss", default="sum")
    args = ap.parse_args()
    print(f"machine: {platform.machine()} cores={os.cpu_count()} "
          f"python={platform.python_version()} numpy={np.__version__}")
    with tempfile.TemporaryDirectory() as cache:
        os.environ["GENN_EVENTPROP_CACHE"] = cache
        for recurrent in (False, True):
            rng = np.random.default_rng(0)
            t0 = time.perf_counter()
            net = build(recurrent, args.loss, args.threads, args.batch_size)
            t_build = time.perf_counter() - t0
            sample = shd_like_sample(np.random.default_rng(1))
            per_sample, fwd, rate = run(net, rng, args.batches, args.batch_size)
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
            kind = "recurrent" if recurrent else "feed-forward"
            print(f"{kind}: {N_IN}->{N_HID}->{N_OUT}, {STEPS} x {DT} ms, batch "
                  f"{args.batch_size}, loss {args.loss}, ~{sample[0].size} input spikes/sample")
            print(f"  build {t_build:.1f} s; train step {per_sample * 1e3:.1f} ms/sample "
                  f"(forward alone {fwd * 1e3:.1f} ms/sample); hidden rate {rate:.1f} Hz; "
                  f"peak RSS {peak:.0f} MiB")


if __name__ == "__main__":
    main()
