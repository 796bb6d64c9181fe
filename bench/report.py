"""What the training benchmarks print: the machine line first (what machine, which
versions, how busy), the run's figures last."""
from __future__ import annotations

import os
import platform
from typing import Any, Dict, Optional, Sequence

import numpy as np


def machine_line() -> str:
    """Architecture, cores, Python and numpy versions and the load average before the run
    (figures are only comparable on an idle machine)."""
    load = os.getloadavg()
    return (f"machine: {platform.machine()} cores={os.cpu_count()} python="
            f"{platform.python_version()} numpy={np.__version__}; load average before "
            f"{load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")


def print_run(res, p: Dict[str, Any], keys: Sequence[str], total_s: float,
              chance: Optional[float] = None) -> None:
    """The configuration (``keys`` of ``p``), the test accuracy at the best validation
    epoch, seconds per epoch, the total time and what data preparation left out."""
    print("config: " + " ".join(f"{k}={p[k]}" for k in keys))
    against = f"chance {chance:.3f}; " if chance is not None else ""
    print(f"test accuracy: {res.test_accuracy:.4f} ({against}best validation "
          f"{res.best_validation_accuracy} at epoch {res.best_epoch})")
    print(f"seconds per epoch: {np.mean([e.seconds for e in res.epochs]):.1f} (training + "
          f"validation); total {total_s:.0f} s")
    if res.data_report:
        print("left out: " + ", ".join(f"{k} {v}" for k, v in res.data_report.items()))
