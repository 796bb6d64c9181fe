"""Command line: ``genn-eventprop <benchmark> [--set KEY=VALUE ...] [--params file.json]``.

Runs ``train_test`` (or ``--mode train|test|cross_validate``) of a benchmark
with its default ``p`` updated from ``--params`` and then ``--set`` (values
are parsed as JSON where possible, e.g. ``--set REC_SPIKES='["hidden"]'``),
and prints the test (or validation) accuracy. A user error (bad parameter,
missing checkpoint, results that would be overwritten) is one message on
stderr and exit status 2; a traceback means a bug.
"""
from __future__ import annotations

import argparse
import importlib
import json
import sys
from pathlib import Path
from typing import Any, Dict, List, Optional

from .errors import UserError
from .params import BENCHMARKS, ParamError, describe

MODES = ("train_test", "train", "test", "cross_validate")


#: Benchmark -> (module, class) of its simulator, imported when used.
SIMULATORS = {"yinyang": ("yinyang", "YinYangModel"), "shd": ("shd", "SHDModel"),
              "ssc": ("shd", "SSCModel"), "mnist": ("mnist", "MNISTModel"),
              "smnist": ("smnist", "SMNISTModel"),
              "dvs_gesture": ("dvs_gesture", "DVSGestureModel")}


def simulator_class(benchmark: str):
    module, name = SIMULATORS[benchmark]
    return getattr(importlib.import_module(f"genn_eventprop.simulators.{module}"), name)


def parse_value(text: str) -> Any:
    """JSON if it parses (numbers, true/false, null, lists), else the string itself."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def build_params(args) -> Dict[str, Any]:
    p: Dict[str, Any] = {}
    if args.params:
        try:
            with open(args.params) as f:
                p.update(json.load(f))
        except FileNotFoundError:
            raise ParamError(f"--params: no such file '{args.params}'")
        except json.JSONDecodeError as e:
            raise ParamError(f"--params: '{args.params}' is not valid JSON ({e})")
    for item in args.set or []:
        if "=" not in item:
            raise ParamError(f"--set expects KEY=VALUE, got '{item}'")
        key, value = item.split("=", 1)
        p[key.strip()] = parse_value(value)
    return p


def list_params(benchmark: str) -> str:
    rows = describe(benchmark)
    width = max(len(k) for k, _, _ in rows)
    return "\n".join(f"{k:<{width}}  {json.dumps(d):<14}  {doc}" for k, d, doc in rows)


def _benchmark_parser(prog: str, benchmark: Optional[str] = None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=prog, description="Train spiking networks with EventProp. Benchmarks: "
                               + ", ".join(BENCHMARKS) + "; 'genn-eventprop data "
                               "shd|ssc|mnist' downloads data, 'genn-eventprop data "
                               "shd|ssc|dvs_gesture --synthetic' writes synthetic data; "
                               "'genn-eventprop scan FILE' runs a parameter scan, "
                               "'genn-eventprop scan-report DIR' tabulates it.")
    if benchmark is None:
        parser.add_argument("benchmark", choices=sorted(BENCHMARKS), help="benchmark to run")
    parser.add_argument("--set", action="append", metavar="KEY=VALUE",
                        help="override a parameter (repeatable)")
    parser.add_argument("--params", metavar="FILE", help="JSON file of parameters")
    parser.add_argument("--mode", choices=MODES, default="train_test")
    parser.add_argument("--list-params", action="store_true",
                        help="print every parameter with its default and doc, then exit")
    return parser


def run(benchmark: str, argv: Optional[List[str]] = None, base: Optional[Dict[str, Any]] = None,
        prog: str = "genn-eventprop") -> int:
    """Run ``benchmark`` with ``base`` overrides, then ``--params``/``--set`` from ``argv``
    (what ``genn-eventprop <benchmark>`` and the example scripts do); returns the exit
    status: 0, or 2 after a one-line message for a user error."""
    args = _benchmark_parser(prog, benchmark).parse_args(argv)
    if args.list_params:
        print(list_params(benchmark))
        return 0
    try:
        p = dict(base or {})
        p.update(build_params(args))
        sim = simulator_class(benchmark)(p)
        result = getattr(sim, args.mode)(sim.p)
    except UserError as e:
        print(f"{prog}: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        return 130
    _report(result, sim.p)
    return 0


def _report(result, p) -> None:
    if result.test_accuracy is not None:
        print(f"test accuracy: {result.test_accuracy:.4f} (loss {result.test_loss:.4f})")
    if result.epochs and result.epochs[-1].validation_accuracy is not None:
        print(f"validation accuracy (last epoch): {result.epochs[-1].validation_accuracy:.4f}")
    if result.fold_summary:
        f = result.fold_summary
        print(f"cross-validation accuracy ({len(f['validation_accuracy'])} folds): "
              f"mean {f['mean']:.4f}, sd {f['sd']:.4f}")
    if result.tape_overflow:
        print(f"warning: {result.tape_overflow} spikes did not fit the tape "
              f"(raise N_MAX_SPIKE)", file=sys.stderr)
    print(f"results in {p['OUT_DIR']} ({result.name}_*)")


def data_main(argv: List[str]) -> int:
    """``genn-eventprop data shd|ssc|mnist|dvs_gesture [--dir DIR] [--url URL] [--synthetic]``:
    download a data set, or (SHD/SSC, DVS gesture) write synthetic files in its layout."""
    parser = argparse.ArgumentParser(
        prog="genn-eventprop data",
        description="Download the official data files (checksum-verified, resumable).")
    parser.add_argument("dataset", choices=("shd", "ssc", "mnist", "dvs_gesture"))
    parser.add_argument("--dir", default=None,
                        help="destination folder (default: $GENN_EVENTPROP_DATA, else ./data)")
    parser.add_argument("--url", default=None, help="base URL (default: the official site)")
    parser.add_argument("--synthetic", action="store_true",
                        help="write synthetic files in the official layout instead (no "
                             "network; accuracies on them say nothing about the real data)")
    parser.add_argument("--layout", choices=("ibm", "tonic"), default="ibm",
                        help="dvs_gesture --synthetic: the IBM release's layout (AEDAT 3.1) "
                             "or tonic's (.npy)")
    args = parser.parse_args(argv)
    from .datasets.download import download_dataset, download_mnist
    from .datasets.shd import generate_synthetic
    import os
    dest = args.dir or os.environ.get("GENN_EVENTPROP_DATA") or "data"
    if args.synthetic and args.dataset == "mnist":
        print("genn-eventprop data: error: there are no synthetic MNIST files; MNIST is small "
              "(11 MB gzipped): download it, or copy the four IDX files into --dir",
              file=sys.stderr)
        return 2
    if args.dataset == "dvs_gesture":
        return _dvs_gesture_data(dest, args)
    if args.synthetic:
        for path in generate_synthetic(dest, args.dataset).values():
            print(path)
        return 0
    try:
        kwargs = {"base_url": args.url} if args.url else {}
        paths = (download_mnist(dest, **kwargs) if args.dataset == "mnist"
                 else download_dataset(args.dataset, dest, **kwargs))
    except UserError as e:
        print(f"genn-eventprop data: error: {e}", file=sys.stderr)
        return 2
    except OSError as e:
        print(f"genn-eventprop data: error: download failed: {e}", file=sys.stderr)
        return 2
    for path in paths:
        print(path)
    return 0


def _dvs_gesture_data(dest: str, args) -> int:
    """DVS gesture is not downloaded here (the IBM release needs a licence click-through,
    tonic has its own downloader); ``--synthetic`` writes synthetic files."""
    from .datasets.dvs_gesture import IBM_URL, TONIC_COMMAND, generate_synthetic
    if not args.synthetic:
        print(f"genn-eventprop data: error: DVS gesture is not downloaded by this command: get "
              f"the IBM release from {IBM_URL} (extract DvsGesture/ into {dest}) or let tonic "
              f"fetch it ({TONIC_COMMAND}); or write synthetic files with --synthetic",
              file=sys.stderr)
        return 2
    print(generate_synthetic(dest, fmt=args.layout))
    return 0


def scan_main(argv: List[str]) -> int:
    """``genn-eventprop scan FILE [--executor KIND] [--workers N] [--threads-per-worker T]
    [--address ADDR]``: run a parameter scan (exit 1 if a run failed)."""
    parser = argparse.ArgumentParser(
        prog="genn-eventprop scan",
        description="Run a parameter scan or cross-validation defined in a YAML/JSON file; "
                    "finished runs of an earlier start are skipped.")
    parser.add_argument("file", help="the scan definition (.yaml, .yml or .json)")
    parser.add_argument("--executor", choices=("sequential", "local", "address", "slurm",
                                               "pbs"),
                        help="where runs execute (default: the file's executor section, "
                             "else a local Dask cluster)")
    parser.add_argument("--workers", type=int, help="local executor: worker processes")
    parser.add_argument("--threads-per-worker", type=int, help="OpenMP threads per run")
    parser.add_argument("--address", help="address executor: the Dask scheduler")
    args = parser.parse_args(argv)
    from .scan import executor_from, load_scan, run_scan
    try:
        scan = load_scan(args.file)
        config = dict(scan.executor)
        if args.executor and args.executor != config.get("kind"):
            config = {"kind": args.executor}
        for key, value in (("workers", args.workers), ("address", args.address),
                           ("threads_per_worker", args.threads_per_worker)):
            if value is not None:
                config[key] = value
        result = run_scan(scan, executor_from(config))
    except UserError as e:
        print(f"genn-eventprop scan: error: {e}", file=sys.stderr)
        return 2
    print(f"{result.ran} tasks ran, {len(result.failed)} failed; results in {scan.out_dir} "
          f"('genn-eventprop scan-report {scan.out_dir}' tabulates them)")
    return 1 if result.failed else 0


def scan_report_main(argv: List[str]) -> int:
    """``genn-eventprop scan-report OUT_DIR``: tables and plots of a scan's runs."""
    parser = argparse.ArgumentParser(
        prog="genn-eventprop scan-report",
        description="Write report.csv, report.md, report_runs.csv and one plot per varied "
                    "key into a scan's folder.")
    parser.add_argument("out_dir", help="the scan's out_dir")
    args = parser.parse_args(argv)
    from .scan import scan_report
    try:
        paths = scan_report(args.out_dir)
    except UserError as e:
        print(f"genn-eventprop scan-report: error: {e}", file=sys.stderr)
        return 2
    print((Path(args.out_dir) / "report.md").read_text(), end="")
    for path in paths:
        print(path)
    return 0


def main(argv: Optional[List[str]] = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "data":
        return data_main(argv[1:])
    if argv and argv[0] == "scan":
        return scan_main(argv[1:])
    if argv and argv[0] == "scan-report":
        return scan_report_main(argv[1:])
    if argv and argv[0] in BENCHMARKS:
        return run(argv[0], argv[1:])
    _benchmark_parser("genn-eventprop").parse_args(argv)
    return 2


if __name__ == "__main__":
    sys.exit(main())
