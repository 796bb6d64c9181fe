"""One task of a scan: a run (train_test or train) or one cross-validation fold of a run,
executed in its own folder with a status file, a log and atomically written results.

Folder of a run: ``<out_dir>/runs/<run id>/`` with ``params.json`` (the resolved
``p``), the run's own output files (``NAME`` is ``run``: ``run_summary.json``,
``run_results.txt``, ...; cross-validation folds ``run_<fold>_*``), and per task
``<task>.status.json`` and ``<task>.log`` (``<task>`` is ``run`` or the fold's
name). A status file says ``running`` (with host, process id, attempt and start
time), ``done`` (with seconds and the accuracy) or ``failed`` (with the error).
"""
from __future__ import annotations

import contextlib
import json
import os
import socket
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Optional

RUN_NAME = "run"


@dataclass(frozen=True)
class Task:
    """What a worker needs: the run's folder, benchmark, mode and ``p``, and the fold
    (``fold`` index and ``name``) for cross-validation; ``threads``: OpenMP threads."""
    run_id: str
    folder: str
    benchmark: str
    mode: str
    p: Dict[str, Any]
    fold: Optional[int] = None
    fold_name: str = RUN_NAME
    threads: Optional[int] = None

    @property
    def key(self) -> str:
        return self.run_id if self.fold is None else f"{self.run_id}/{self.fold_name}"

    @property
    def status_path(self) -> Path:
        return Path(self.folder) / f"{self.fold_name}.status.json"

    @property
    def log_path(self) -> Path:
        return Path(self.folder) / f"{self.fold_name}.log"

    @property
    def summary_path(self) -> Path:
        return Path(self.folder) / f"{self.fold_name}_summary.json"


def read_status(path: Path) -> Dict[str, Any]:
    """The status file's content; ``{"state": "missing"}`` when absent or unreadable."""
    try:
        return json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return {"state": "missing"}


def is_done(task: Task) -> bool:
    """Finished earlier: status ``done`` and its summary in place."""
    return read_status(task.status_path).get("state") == "done" and task.summary_path.exists()


def write_json_atomic(path: Path, obj: Any) -> None:
    from ..simulators.base import atomic_write

    def write(tmp):
        with open(tmp, "w") as f:
            json.dump(obj, f, indent=1, default=str)
    atomic_write(str(path), write)


def execute(task: Task) -> Dict[str, Any]:
    """Run the task in this process and return its final status. Failures are caught,
    written to the status file and returned (state ``failed``): one failing run does
    not stop a scan. The run's stdout and stderr go to its log file."""
    folder = Path(task.folder)
    folder.mkdir(parents=True, exist_ok=True)
    attempt = int(read_status(task.status_path).get("attempt", 0)) + 1
    started = time.time()
    status = {"state": "running", "task": task.key, "host": socket.gethostname(),
              "pid": os.getpid(), "attempt": attempt, "started": started}
    write_json_atomic(task.status_path, status)
    with open(task.log_path, "a") as log, contextlib.redirect_stdout(log), \
            contextlib.redirect_stderr(log):
        print(f"=== attempt {attempt} on {status['host']} (pid {status['pid']}) ===", flush=True)
        try:
            result = _run(task)
            status.update(state="done", accuracy=_accuracy(result, task.fold is not None),
                          test_accuracy=result.test_accuracy)
        except Exception as e:          # noqa: BLE001 - reported, the scan goes on
            traceback.print_exc()
            status.update(state="failed", error=f"{type(e).__name__}: {e}")
    status.update(finished=time.time(), seconds=time.time() - started)
    write_json_atomic(task.status_path, status)
    return status


def _run(task: Task):
    from ..cli import simulator_class
    p = dict(task.p, OUT_DIR=task.folder, NAME=RUN_NAME, OVERWRITE=True, PROGRESS=False)
    if task.threads:
        p["NUM_THREADS"] = task.threads
    sim = simulator_class(task.benchmark)(p)
    if task.mode == "cross_validate":
        return sim.cross_validate_fold(p, task.fold)
    return getattr(sim, task.mode)(p)


def _accuracy(result, fold: bool) -> Optional[float]:
    """The figure a scan compares: the test accuracy; without a test, the best validation
    accuracy, or for a cross-validation fold its last one (what cross_validate averages)."""
    if result.test_accuracy is not None:
        return float(result.test_accuracy)
    if fold:
        last = result.epochs[-1].validation_accuracy if result.epochs else None
        return None if last is None else float(last)
    best = result.best_validation_accuracy
    return None if best is None else float(best)
