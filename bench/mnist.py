"""MNIST benchmark: train a configuration on the real files and print the test accuracy
(at the best validation epoch), seconds per epoch and the total time; latency-coded
MNIST, or with --sequential sequential MNIST (the SMNIST simulator).

Data: --data DIR, else $GENN_EVENTPROP_DATA, else ../shared/data/mnist next to the
repository (the four IDX files, plain or .gz).

Usage: python bench/mnist.py [--sequential] [--data DIR] [--set KEY=VALUE ...]
"""
from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path


from report import machine_line, print_run

from genn_eventprop.cli import parse_value
from genn_eventprop.params import defaults
from genn_eventprop.simulators.mnist import MNISTModel
from genn_eventprop.simulators.smnist import SMNISTModel

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=os.environ.get("GENN_EVENTPROP_DATA") or str(SHARED))
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    ap.add_argument("--sequential", action="store_true", help="sequential MNIST (SMNIST)")
    args = ap.parse_args()
    model = SMNISTModel if args.sequential else MNISTModel
    overrides = {k: parse_value(v) for k, v in (s.split("=", 1) for s in args.set)}
    print(machine_line())
    with tempfile.TemporaryDirectory() as out:
        p = dict(defaults(model.benchmark), DATA_DIR=args.data, OUT_DIR=out, PROGRESS=False)
        p.update(overrides)
        t0 = time.perf_counter()
        res = model(p).train_test(p)
        total = time.perf_counter() - t0
    print_run(res, p, ("N_TRAIN", "N_VALIDATE", "N_TEST", "N_EPOCH", "NUM_HIDDEN", "N_BATCH",
                       "DT_MS", "TRIAL_MS", "LOSS_TYPE", "ETA", "ETA_DECAY", "PDROP_INPUT",
                       "RECURRENT", "REDUCED_CLASSES"), total)

if __name__ == "__main__":
    main()
