"""DVS gesture benchmark: train a configuration and print the test accuracy (at the best
validation epoch), seconds per epoch, the total time and what data preparation left out.

Data: --data DIR (the IBM release or tonic's layout), else synthetic gestures written
to a temporary folder (--users, --test-users, --repeats, --seed; accuracies on them
say nothing about the real data).

Usage: python bench/dvs_gesture.py [--data DIR] [--set KEY=VALUE ...]
"""
from __future__ import annotations

import argparse
import os
import tempfile
import time


from report import machine_line, print_run

from genn_eventprop.cli import parse_value
from genn_eventprop.datasets.dvs_gesture import generate_synthetic
from genn_eventprop.simulators.dvs_gesture import DVSGestureModel, p as default_p

#: Short synthetic gestures need far shorter trials and tapes than the real 6 s ones.
SYNTHETIC = dict(TRIAL_MS=500.0, N_MAX_SPIKE=200)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=None)
    ap.add_argument("--users", type=int, default=8, help="synthetic training subjects")
    ap.add_argument("--test-users", type=int, default=3, help="synthetic test subjects")
    ap.add_argument("--repeats", type=int, default=3, help="synthetic lighting conditions")
    ap.add_argument("--seed", type=int, default=1, help="seed of the synthetic gestures")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    args = ap.parse_args()
    overrides = {k: parse_value(v) for k, v in (s.split("=", 1) for s in args.set)}
    print(machine_line())
    with tempfile.TemporaryDirectory() as tmp:
        data, extra = args.data, {}
        if data is None:
            data = os.path.join(tmp, "data")
            generate_synthetic(data, n_train_users=args.users, n_test_users=args.test_users,
                               repeats=args.repeats, seed=args.seed)
            extra = SYNTHETIC
            print(f"synthetic gestures: {args.users} training and {args.test_users} test "
                  f"subjects x {args.repeats} lightings x 11 classes, seed {args.seed}")
        p = dict(default_p, DATA_DIR=data, OUT_DIR=os.path.join(tmp, "out"), PROGRESS=False,
                 **extra)
        p.update(overrides)
        t0 = time.perf_counter()
        res = DVSGestureModel(p).train_test(p)
        total = time.perf_counter() - t0
    print_run(res, p, ("N_TRAIN", "N_VALIDATE", "N_EPOCH", "NUM_HIDDEN", "RECURRENT", "N_BATCH",
                       "DT_MS", "TRIAL_MS", "DOWNSAMPLE", "LOSS_TYPE", "ETA"), total,
              chance=1 / 11)

if __name__ == "__main__":
    main()
