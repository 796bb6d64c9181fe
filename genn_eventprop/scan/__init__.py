"""Parameter scans and cross-validation at scale, on Dask.

A scan file (YAML or JSON, ``scan.definition``) names a benchmark, ``p``
overrides, a grid and/or random samples of keys, seeds and the mode; every run
gets a stable id from its resolved ``p`` and its own folder under the scan's
``out_dir`` (``scan.tasks``). ``run_scan`` executes the unfinished tasks,
cross-validation folds as separate tasks, sequentially or on a Dask cluster
(``scan.executors``); ``scan_report`` tabulates and plots the results.

    from genn_eventprop.scan import load_scan, run_scan, scan_report
    scan = load_scan("scan.yaml")
    run_scan(scan)
    scan_report(scan.out_dir)
"""
from .definition import ScanDefinition, ScanError, load_scan, scan_from_dict
from .executors import Executor, executor_from
from .report import scan_report
from .runner import ScanResult, run_scan

__all__ = ["Executor", "ScanDefinition", "ScanError", "ScanResult", "executor_from",
           "load_scan", "run_scan", "scan_from_dict", "scan_report"]
