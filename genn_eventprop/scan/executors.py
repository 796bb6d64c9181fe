"""Where a scan's tasks run. A registry of executors, chosen by the scan file's
``executor: {kind: ...}`` section (or the command line):

- ``sequential``: one task after another in this process; needs no Dask.
- ``local`` (default): a Dask ``LocalCluster`` on this machine: ``workers``
  processes (default: cores // threads_per_worker) of ``threads_per_worker``
  OpenMP threads each (default 1); workers x threads must not exceed the cores.
- ``address``: an existing Dask scheduler, ``address: tcp://host:8786``; start
  its workers with ``--nthreads 1`` so that each runs one task at a time.
- ``slurm`` / ``pbs``: a ``dask-jobqueue`` cluster; ``cluster`` holds its keyword
  arguments (cores, memory, queue, walltime, account, ...), ``jobs`` how many
  batch jobs to start; each job's cores are split into worker processes of
  ``threads_per_worker`` cores that run one task at a time.

Dask reruns the task of a worker that dies (up to its ``allowed-failures``); a
task's results are written atomically, so a rerun replaces a torn run.
"""
from __future__ import annotations

import os
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Dict, Iterator, Optional

from .definition import ScanError

KINDS = ("sequential", "local", "address", "slurm", "pbs")
#: Worker resource of batch-job workers: one scan task at a time per worker process.
TASK_RESOURCE = "scan_task"
_KEYS = {"sequential": {"kind"},
         "local": {"kind", "workers", "threads_per_worker"},
         "address": {"kind", "address", "threads_per_worker"},
         "slurm": {"kind", "cluster", "jobs", "threads_per_worker"},
         "pbs": {"kind", "cluster", "jobs", "threads_per_worker"}}


@dataclass(frozen=True)
class Executor:
    """A checked executor setting; ``describe()`` says where tasks run."""
    kind: str
    workers: int = 1
    threads_per_worker: int = 1
    address: Optional[str] = None
    cluster: Optional[Dict[str, Any]] = None
    jobs: int = 1

    def describe(self) -> str:
        if self.kind == "sequential":
            return "sequentially in this process"
        if self.kind == "local":
            return (f"local Dask cluster: {self.workers} workers x {self.threads_per_worker} "
                    f"OpenMP threads = {self.workers * self.threads_per_worker} of "
                    f"{os.cpu_count()} cores")
        if self.kind == "address":
            return f"Dask scheduler {self.address}, {self.threads_per_worker} OpenMP threads per task"
        return (f"{self.kind.upper()} cluster (dask-jobqueue), {self.jobs} jobs, "
                f"{self.threads_per_worker} OpenMP threads per task")


def executor_from(config: Dict[str, Any]) -> Executor:
    """An ``Executor`` from a scan file's ``executor`` section (defaults: local)."""
    config = dict(config or {})
    kind = config.get("kind", "local")
    if kind not in KINDS:
        raise ScanError(f"executor kind must be one of {', '.join(KINDS)}, got {kind!r}")
    unknown = set(config) - _KEYS[kind]
    if unknown:
        raise ScanError(f"executor '{kind}' takes {', '.join(sorted(_KEYS[kind]))}, not "
                        f"{', '.join(sorted(unknown))}")
    threads = _positive(config, "threads_per_worker", 1)
    cores = os.cpu_count() or 1
    if kind == "local":
        workers = _positive(config, "workers", max(cores // threads, 1))
        if workers * threads > cores:
            raise ScanError(f"executor local: {workers} workers x {threads} threads = "
                            f"{workers * threads} exceeds the {cores} cores (OpenMP threads "
                            f"that share cores slow every run down many times)")
        return Executor(kind, workers=workers, threads_per_worker=threads)
    if kind == "address":
        address = config.get("address")
        if not isinstance(address, str) or not address:
            raise ScanError("executor address needs 'address' (e.g. tcp://host:8786)")
        return Executor(kind, threads_per_worker=threads, address=address)
    if kind in ("slurm", "pbs"):
        cluster = config.get("cluster") or {}
        if not isinstance(cluster, dict):
            raise ScanError(f"executor {kind}: 'cluster' must be a mapping of dask-jobqueue "
                            f"settings (cores, memory, queue, walltime, ...)")
        return Executor(kind, threads_per_worker=threads, cluster=dict(cluster),
                        jobs=_positive(config, "jobs", 1))
    return Executor(kind)


def _positive(config, key, default) -> int:
    value = config.get(key, default)
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ScanError(f"executor '{key}' must be an integer >= 1, got {value!r}")
    return value


@contextmanager
def dask_client(executor: Executor) -> Iterator[Any]:
    """A Dask client for the executor (closing what it started afterwards)."""
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError as e:
        raise ScanError(f"executor '{executor.kind}' needs Dask: pip install "
                        f"'genn_eventprop[cluster]' (or use executor kind 'sequential')") from e
    if executor.kind == "address":
        with Client(executor.address) as client:
            yield client
        return
    if executor.kind == "local":
        # One task per worker process: each run has the whole of its OpenMP threads.
        cluster = LocalCluster(n_workers=executor.workers, threads_per_worker=1,
                               processes=True, dashboard_address=":0")
    else:
        cluster = jobqueue_cluster(executor)
        cluster.scale(jobs=executor.jobs)
    with cluster, Client(cluster) as client:
        yield client


def jobqueue_cluster(executor: Executor):
    """The dask-jobqueue cluster of a ``slurm``/``pbs`` executor, no jobs started yet
    (``cluster.job_script()`` shows what each batch job will run)."""
    try:
        import dask_jobqueue
    except ImportError as e:
        raise ScanError(f"executor '{executor.kind}' needs dask-jobqueue: pip install "
                        f"'genn_eventprop[cluster]'") from e
    cls = dask_jobqueue.SLURMCluster if executor.kind == "slurm" else dask_jobqueue.PBSCluster
    settings = dict(executor.cluster)
    # A job's cores are split into worker processes of threads_per_worker cores each, and
    # each worker takes one scan task at a time (the TASK_RESOURCE), so that the runs'
    # OpenMP threads fill the job's cores without sharing them.
    cores = settings.get("cores")
    if isinstance(cores, int) and cores >= 1:
        settings.setdefault("processes", max(cores // executor.threads_per_worker, 1))
    settings["worker_extra_args"] = (list(settings.get("worker_extra_args") or [])
                                     + ["--resources", f"{TASK_RESOURCE}=1"])
    try:
        cluster = cls(**settings)
    except (TypeError, ValueError) as e:
        raise ScanError(f"executor {executor.kind}: the cluster settings {settings} are not "
                        f"accepted by dask-jobqueue: {e}") from e
    return cluster
