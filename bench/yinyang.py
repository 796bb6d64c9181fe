"""Yin-Yang benchmark: train the default configuration to the end of its
schedule for several seeds and print test accuracy (mean and spread) and
seconds per epoch.

Usage: python bench/yinyang.py [--seeds 1 2 3] [--set KEY=VALUE ...]
"""
from __future__ import annotations

import argparse
import tempfile
import time

import numpy as np

from report import machine_line

from genn_eventprop.cli import parse_value
from genn_eventprop.simulators.yinyang import YinYangModel, p as default_p


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    args = ap.parse_args()
    overrides = {k: parse_value(v) for k, v in (s.split("=", 1) for s in args.set)}
    print(machine_line())
    accs, per_epoch, totals = [], [], []
    with tempfile.TemporaryDirectory() as out:
        for seed in args.seeds:
            p = dict(default_p, SEED=seed, OUT_DIR=out, NAME=f"bench_s{seed}", PROGRESS=False)
            p.update(overrides)
            t0 = time.perf_counter()
            res = YinYangModel(p).train_test(p)
            totals.append(time.perf_counter() - t0)
            accs.append(res.test_accuracy)
            per_epoch.append(np.mean([e.seconds for e in res.epochs]))
            print(f"seed {seed}: test accuracy {res.test_accuracy:.4f}, best validation "
                  f"{res.best_validation_accuracy:.4f} (epoch {res.best_epoch}), "
                  f"{per_epoch[-1]:.1f} s/epoch, {totals[-1]:.0f} s total", flush=True)
    print(f"config: N_TRAIN={p['N_TRAIN']} N_EPOCH={p['N_EPOCH']} NUM_HIDDEN={p['NUM_HIDDEN']} "
          f"N_BATCH={p['N_BATCH']} DT_MS={p['DT_MS']} ETA={p['ETA']}")
    print(f"test accuracy: mean {np.mean(accs):.4f}, sd {np.std(accs):.4f}, "
          f"min {np.min(accs):.4f}, max {np.max(accs):.4f} over {len(accs)} seeds")
    print(f"seconds per epoch: {np.mean(per_epoch):.1f}; total per run: "
          f"{np.mean(totals):.0f} s")


if __name__ == "__main__":
    main()
