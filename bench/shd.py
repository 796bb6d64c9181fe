"""SHD/SSC benchmark: seconds per training epoch at full size and peak memory.

Network 700 -> NUM_HIDDEN (recurrent) -> classes, dt 1 ms, 1000 ms trials,
batch 32, loss sum_weigh_exp. Data: synthetic files in the official layout of
SHD's size (8156 training / 2264 test samples) or SSC's (75466 / 9981 / 20382),
or the real files with --data DIR. With --samples N only N training samples are
trained (the whole file is still loaded, so the memory figure is the full
one) and the epoch time is extrapolated from the time per sample; the output
says so. --epochs E trains E epochs and reports the test accuracy (on
synthetic data it says nothing about real SHD).

--load-only stops after reading and binning the data (load time, peak memory).

Usage: python bench/shd.py [--size shd|ssc] [--samples N] [--epochs E] [--data DIR]
                          [--load-only]
"""
from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time

import numpy as np

from report import machine_line

from genn_eventprop.simulators.shd import SHDModel, SSCModel

SIZES = {"shd": dict(n_train=8156, n_test=2264), "ssc": dict(n_train=75466, n_test=20382,
                                                              n_valid=9981)}


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", choices=sorted(SIZES), default="shd")
    ap.add_argument("--samples", type=int, default=None,
                    help="train on this many samples and extrapolate the epoch time")
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--hidden", type=int, default=256)
    ap.add_argument("--data", default=None, help="folder with the real files")
    ap.add_argument("--load-only", action="store_true",
                    help="only read and bin the data: load time and peak memory")
    args = ap.parse_args()
    print(machine_line())
    with tempfile.TemporaryDirectory() as tmp:
        data = args.data
        if data is None:
            t0 = time.perf_counter()
            # In a child process, so that the peak memory below is the training run's.
            subprocess.run([sys.executable, "-c",
                            "import sys; from genn_eventprop.datasets.shd import "
                            "generate_synthetic as g; g(sys.argv[1], sys.argv[2], seed=1, "
                            "**{k: int(v) for k, v in (a.split('=') for a in sys.argv[3:])})",
                            tmp, args.size] + [f"{k}={v}" for k, v in SIZES[args.size].items()],
                           check=True)
            print(f"synthetic {args.size} files written in {time.perf_counter() - t0:.1f} s")
            data = tmp
        model = SSCModel if args.size == "ssc" else SHDModel
        p = dict(DATA_DIR=data, OUT_DIR=os.path.join(tmp, "out"),
                 NUM_HIDDEN=args.hidden, RECURRENT=True, TRIAL_MS=1000.0, N_EPOCH=args.epochs,
                 PROGRESS=False, CHECKPOINT=False, N_MAX_SPIKE=500)
        if args.samples is not None:
            p.update(N_TRAIN=args.samples, N_VALIDATE=min(512, args.samples // 4))
        t0 = time.perf_counter()
        sim = model(p)
        n_train = sim.training_size(sim.p)
        print(f"data loaded and binned in {time.perf_counter() - t0:.1f} s; {n_train} training "
              f"samples per epoch; peak RSS so far {peak_rss_mib():.0f} MiB")
        if args.load_only:
            test = sim.load_split("test", sim.p)[0]
            print(f"test file binned too: {len(test)} samples; peak RSS {peak_rss_mib():.0f} MiB")
            return
        res = sim.train_test(sim.p)
    per_epoch = np.mean([e.seconds for e in res.epochs])
    per_sample = per_epoch / n_train
    full = SIZES[args.size]["n_train"]
    print(f"config: {args.size} 700->{args.hidden} recurrent->{sim.n_classes}, dt 1 ms, "
          f"1000 steps, batch 32, sum_weigh_exp, {args.epochs} epoch(s)")
    print(f"seconds per epoch ({n_train} samples + validation): {per_epoch:.1f}; "
          f"{1000 * per_sample:.2f} ms per training sample")
    if args.samples is not None:
        print(f"extrapolated epoch of {full} samples: {per_sample * full:.0f} s")
    print(f"test accuracy after {args.epochs} epoch(s): {res.test_accuracy:.4f}")
    print(f"tape overflow: {res.tape_overflow}; peak RSS {peak_rss_mib():.0f} MiB")


if __name__ == "__main__":
    main()
