"""Running a scan: expand it into tasks, skip the ones finished earlier, execute the
rest (sequentially or on Dask), show one live progress line, and combine the
cross-validation folds of each run once they are all done.

Layout under the scan's ``out_dir``: ``scan.json`` (the definition, the runs and
where they ran) and ``runs/<run id>/`` per run (see ``scan.tasks``). Restarting a
scan skips tasks whose status is ``done`` and reruns failed or unfinished ones.
"""
from __future__ import annotations

import json
import sys
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, TextIO

from .definition import Run, ScanDefinition, ScanError
from .executors import TASK_RESOURCE, Executor, dask_client, executor_from
from .tasks import RUN_NAME, Task, execute, is_done, read_status, write_json_atomic


@dataclass
class ScanResult:
    """Per task key its final status (``done``/``failed``; ``skipped`` when finished
    earlier), and the tasks that failed."""
    statuses: Dict[str, Dict[str, Any]] = field(default_factory=dict)

    @property
    def failed(self) -> Dict[str, Dict[str, Any]]:
        return {k: s for k, s in self.statuses.items() if s.get("state") == "failed"}

    @property
    def ran(self) -> int:
        return sum(s.get("state") != "skipped" for s in self.statuses.values())


def run_folder(scan: ScanDefinition, run: Run) -> Path:
    """Absolute: batch-job workers need not start in the scan's working directory."""
    return Path(scan.out_dir).resolve() / "runs" / run.run_id


def scan_tasks(scan: ScanDefinition, threads: Optional[int] = None,
               runs: Optional[List[Run]] = None) -> List[Task]:
    """Every task of the scan (of ``runs``, default all): one per run, or one per fold and
    run for cross_validate (the fold names come from the simulator, so they are those
    of cross_validate)."""
    tasks = []
    for run in scan.runs() if runs is None else runs:
        folder = str(run_folder(scan, run))
        if scan.mode != "cross_validate":
            tasks.append(Task(run.run_id, folder, scan.benchmark, scan.mode, run.p,
                              threads=threads))
            continue
        for k, name in enumerate(_fold_names(scan, run, folder)):
            tasks.append(Task(run.run_id, folder, scan.benchmark, scan.mode, run.p, fold=k,
                              fold_name=name, threads=threads))
    return tasks


def _fold_names(scan: ScanDefinition, run: Run, folder: str) -> List[str]:
    from ..cli import simulator_class
    p = dict(run.p, OUT_DIR=folder, NAME=RUN_NAME)
    return simulator_class(scan.benchmark)(p).fold_names(p)


def run_scan(scan: ScanDefinition, executor: Optional[Executor] = None,
             stream: TextIO = sys.stderr) -> ScanResult:
    """Run every unfinished task of ``scan`` on ``executor`` (default: the scan file's
    ``executor`` section, else a local Dask cluster); progress goes to ``stream``."""
    executor = executor or executor_from(scan.executor)
    runs = scan.runs()
    tasks = scan_tasks(scan, executor.threads_per_worker, runs)
    _write_folders(scan, runs, executor)
    result = ScanResult()
    pending = []
    for task in tasks:
        if is_done(task):
            result.statuses[task.key] = dict(read_status(task.status_path), state="skipped")
        else:
            pending.append(task)
    print(f"scan {scan.out_dir}: {len(runs)} runs, {len(tasks)} tasks: "
          f"{len(tasks) - len(pending)} finished earlier, {len(pending)} to run; "
          f"{executor.describe()}", file=stream)
    progress = Progress(len(pending), _parallel(executor), stream)
    if executor.kind == "sequential":
        for task in pending:
            progress.started()
            result.statuses[task.key] = progress.finished(execute(task))
    elif pending:
        with dask_client(executor) as client:
            _run_on_dask(client, pending, result, progress,
                         {TASK_RESOURCE: 1} if executor.kind in ("slurm", "pbs") else None)
    progress.close()
    _combine_folds(scan, runs, tasks)
    for key, status in result.failed.items():
        print(f"failed: {key}: {status.get('error')} (log: {_log_of(tasks, key)})", file=stream)
    return result


def _write_folders(scan: ScanDefinition, runs: List[Run], executor: Executor) -> None:
    """Each run's folder with its ``params.json``, and ``scan.json``. A scan started again
    in the same ``out_dir`` with another definition (e.g. more grid values) adds its
    runs to the ones listed there, so the report covers every run in the folder."""
    out = Path(scan.out_dir)
    for run in runs:
        folder = run_folder(scan, run)
        folder.mkdir(parents=True, exist_ok=True)
        write_json_atomic(folder / "params.json", {"run_id": run.run_id, "varied": run.varied,
                                                   "benchmark": scan.benchmark,
                                                   "mode": scan.mode, "p": run.p})
    manifest = out / "scan.json"
    earlier = json.loads(manifest.read_text()) if manifest.is_file() else {}
    new_ids = {r.run_id for r in runs}
    listed = [r for r in earlier.get("runs", []) if r["run_id"] not in new_ids]
    listed += [{"run_id": r.run_id, "varied": r.varied} for r in runs]
    definitions = [d for d in earlier.get("definitions", []) if d != asdict(scan)]
    write_json_atomic(manifest, {"definitions": definitions + [asdict(scan)],
                                 "executor": executor.describe(), "runs": listed})


def _run_on_dask(client, pending: List[Task], result: ScanResult, progress,
                 resources: Optional[Dict[str, int]]) -> None:
    from dask.distributed import as_completed
    if resources is None:
        # Tasks in parallel: one per worker thread (what the scheduler reports now).
        progress.parallel = max(sum(client.nthreads().values()), 1)
    futures = {}
    attempt = uuid.uuid4().hex[:8]     # a fresh key: a restart must not reuse old results
    for task in pending:
        future = client.submit(execute, task, key=f"genn-eventprop-{task.key}-{attempt}",
                               pure=False, resources=resources)
        futures[future] = task
    progress.started(min(len(pending), progress.parallel))
    for future in as_completed(futures):
        task = futures[future]
        try:
            status = future.result()
        except Exception as e:          # noqa: BLE001 - e.g. KilledWorker after retries
            status = dict(read_status(task.status_path), state="failed",
                          error=f"{type(e).__name__}: {e}")
            write_json_atomic(task.status_path, status)
        result.statuses[task.key] = progress.finished(status)


def _parallel(executor: Executor) -> int:
    if executor.kind == "local":
        return executor.workers
    if executor.kind in ("slurm", "pbs"):
        cores = executor.cluster.get("cores")
        per_job = cores // executor.threads_per_worker if isinstance(cores, int) else 1
        return executor.jobs * max(per_job, 1)
    return 1


def _combine_folds(scan: ScanDefinition, runs: List[Run], tasks: List[Task]) -> None:
    """For cross_validate: once every fold of a run is done, the run's own summary (as
    ``cross_validate`` writes it) and status."""
    if scan.mode != "cross_validate":
        return
    from ..cli import simulator_class
    from ..simulators.base import RunResult
    for run in runs:
        folds = [t for t in tasks if t.run_id == run.run_id]
        if not all(is_done(t) for t in folds):
            continue
        folder = str(run_folder(scan, run))
        p = dict(run.p, OUT_DIR=folder, NAME=RUN_NAME, OVERWRITE=True)
        results = [RunResult.from_dict(json.loads(t.summary_path.read_text())) for t in folds]
        combined = simulator_class(scan.benchmark)(p).combine_folds(p, results)
        seconds = sum(read_status(t.status_path).get("seconds", 0.0) for t in folds)
        write_json_atomic(Path(folder) / f"{RUN_NAME}.status.json",
                          {"state": "done", "task": run.run_id, "folds": len(folds),
                           "accuracy": combined.best_validation_accuracy, "seconds": seconds})


def _log_of(tasks: List[Task], key: str) -> str:
    return next((str(t.log_path) for t in tasks if t.key == key), "?")


class Progress:
    """One live line: done / running / failed / remaining and an ETA from the mean task
    time so far; redrawn in place on a terminal, a line per finished task otherwise."""

    def __init__(self, total: int, parallel: int, stream: TextIO):
        self.total, self.parallel, self.stream = total, max(parallel, 1), stream
        self.done = self.failed = self.running = 0
        self.t0 = time.perf_counter()
        self.live = hasattr(stream, "isatty") and stream.isatty()

    def started(self, n: int = 1) -> None:
        self.running += n
        if self.live:
            self._draw()

    def finished(self, status: Dict[str, Any]) -> Dict[str, Any]:
        self.running = max(self.running - 1, 0)
        if status.get("state") == "done":
            self.done += 1
        else:
            self.failed += 1
        remaining = self.total - self.done - self.failed
        self.running = min(self.parallel, remaining)
        self._draw()
        return status

    def line(self) -> str:
        finished = self.done + self.failed
        remaining = self.total - finished
        eta = ""
        if finished and remaining:
            per_task = (time.perf_counter() - self.t0) / finished
            eta = f", ETA {_clock(per_task * remaining)}"
        return (f"{self.done} done, {self.running} running, {self.failed} failed, "
                f"{remaining - self.running} waiting{eta}")

    def _draw(self) -> None:
        if self.live:
            print("\r" + self.line() + " " * 8, end="", file=self.stream, flush=True)
        else:
            print(self.line(), file=self.stream, flush=True)

    def close(self) -> None:
        if self.live:
            print(file=self.stream)


def _clock(seconds: float) -> str:
    seconds = int(round(seconds))
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


__all__ = ["ScanError", "ScanResult", "run_scan", "scan_tasks"]
