"""Scan definitions: a YAML or JSON file that names a benchmark, ``p`` overrides, a grid
and/or random samples of keys, seeds and the mode; expanded into runs, each with a
stable id derived from its resolved ``p``.

A scan file::

    benchmark: yinyang          # any benchmark of genn-eventprop
    mode: train_test            # train_test | train | cross_validate
    out_dir: scans/eta          # the scan's OUT_DIR: one folder per run below it
    base: {N_EPOCH: 20}         # overrides of every run
    grid:                       # every combination of these values
      ETA: [0.001, 0.005]
      NUM_HIDDEN: [100, 200]
    random:                     # n samples of these keys (combined with every grid point)
      n: 4
      seed: 0
      keys:
        TAU_MEM: {uniform: [10.0, 30.0]}
        ETA_DECAY: {log_uniform: [0.9, 1.0]}
        LOSS_TYPE: {choice: [first_spike, first_spike_exp]}
    seeds: [1, 2]               # SEED of each run (each configuration once per seed)
    executor: {kind: local, workers: 2}   # see genn_eventprop.scan.executors

Every run's ``p`` is validated (``params.validate``) when the scan is expanded,
before any run starts.
"""
from __future__ import annotations

import difflib
import hashlib
import itertools
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Union

import numpy as np

from ..errors import UserError
from ..params import BENCHMARKS, ParamError, validate

MODES = ("train_test", "train", "cross_validate")
#: Keys that say where and how a run executes, not what it computes: left out of run ids.
EXECUTION_KEYS = ("NAME", "OUT_DIR", "NUM_THREADS", "PROGRESS", "OVERWRITE", "LOAD_LAST")
TOP_KEYS = ("benchmark", "mode", "out_dir", "base", "grid", "random", "seeds", "executor")
DISTRIBUTIONS = ("uniform", "log_uniform", "choice", "int_uniform")


class ScanError(UserError):
    """A scan definition or scan folder the user must fix; the message says what."""


@dataclass(frozen=True)
class Run:
    """One configuration and seed of a scan: ``run_id`` (stable: a hash of the resolved
    ``p``, execution keys left out), its ``p`` and the values of the keys the scan varies."""
    run_id: str
    p: Dict[str, Any]
    varied: Dict[str, Any]


@dataclass
class ScanDefinition:
    benchmark: str
    mode: str = "train_test"
    out_dir: str = "scan"
    base: Dict[str, Any] = field(default_factory=dict)
    grid: Dict[str, List[Any]] = field(default_factory=dict)
    random: Dict[str, Any] = field(default_factory=dict)
    seeds: List[int] = field(default_factory=list)
    executor: Dict[str, Any] = field(default_factory=dict)

    def runs(self) -> List["Run"]:
        """Every run of the scan (configurations x seeds), each ``p`` validated."""
        configs = [dict(self.base, **point) for point in self._points()]
        seeds = self.seeds or [None]
        runs, seen = [], set()
        for config, seed in itertools.product(configs, seeds):
            user_p = dict(config) if seed is None else dict(config, SEED=seed)
            try:
                p = validate(user_p, self.benchmark)
            except ParamError as e:
                raise ScanError(f"scan run {_describe(user_p, self.base)}: {e}") from e
            run_id = run_id_of(self.benchmark, self.mode, p)
            if run_id in seen:
                continue
            seen.add(run_id)
            varied = {k: user_p[k] for k in self.varied_keys() if k in user_p}
            runs.append(Run(run_id, p, varied))
        return runs

    def varied_keys(self) -> List[str]:
        keys = list(self.grid) + [k for k in self.random.get("keys", {}) if k not in self.grid]
        return keys + (["SEED"] if self.seeds else [])

    def _points(self) -> List[Dict[str, Any]]:
        grid = [dict(zip(self.grid, values))
                for values in itertools.product(*self.grid.values())] or [{}]
        samples = _random_points(self.random) or [{}]
        return [dict(g, **r) for g in grid for r in samples]


def run_id_of(benchmark: str, mode: str, p: Dict[str, Any]) -> str:
    """``<benchmark>-<12 hex digits>``: a hash of the mode and the resolved ``p`` without
    the execution keys, so the same configuration has the same id in every scan."""
    what = {k: v for k, v in p.items() if k not in EXECUTION_KEYS}
    text = json.dumps({"benchmark": benchmark, "mode": mode, "p": what}, sort_keys=True,
                      default=str)
    return f"{benchmark}-{hashlib.sha1(text.encode('utf-8')).hexdigest()[:12]}"


def load_scan(path: Union[str, Path]) -> ScanDefinition:
    """Read and check a scan file (``.yaml``/``.yml`` or ``.json``)."""
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as e:
        raise ScanError(f"scan file '{path}' cannot be read: {e.strerror}") from e
    if path.suffix.lower() in (".yaml", ".yml"):
        try:
            import yaml
        except ImportError as e:
            raise ScanError("reading a YAML scan file needs PyYAML: pip install "
                            "'genn_eventprop[cluster]' (or write the scan as JSON)") from e
        try:
            raw = yaml.safe_load(text)
        except yaml.YAMLError as e:
            raise ScanError(f"scan file '{path}' is not valid YAML: {e}") from e
    else:
        try:
            raw = json.loads(text)
        except json.JSONDecodeError as e:
            raise ScanError(f"scan file '{path}' is not valid JSON: {e}") from e
    return scan_from_dict(raw, str(path))


def scan_from_dict(raw: Any, where: str = "scan") -> ScanDefinition:
    """A checked ``ScanDefinition`` from the parsed file (``where`` names it in errors)."""
    if not isinstance(raw, dict):
        raise ScanError(f"{where}: a scan is a mapping of {', '.join(TOP_KEYS)}")
    for key in raw:
        if key not in TOP_KEYS:
            close = difflib.get_close_matches(str(key), TOP_KEYS, n=1)
            hint = f" Did you mean '{close[0]}'?" if close else ""
            raise ScanError(f"{where}: unknown entry '{key}'.{hint} Valid: {', '.join(TOP_KEYS)}")
    benchmark = raw.get("benchmark")
    if benchmark not in BENCHMARKS:
        raise ScanError(f"{where}: 'benchmark' must be one of {', '.join(BENCHMARKS)}, got "
                        f"{benchmark!r}")
    mode = raw.get("mode", "train_test")
    if mode not in MODES:
        raise ScanError(f"{where}: 'mode' must be one of {', '.join(MODES)}, got {mode!r}")
    scan = ScanDefinition(benchmark, mode, str(raw.get("out_dir", "scan")),
                          _mapping(raw, "base", where), _grid(raw, where),
                          _random(raw, where), _seeds(raw, where),
                          _mapping(raw, "executor", where))
    for key in ("OUT_DIR", "NAME"):
        if key in scan.base or key in scan.grid:
            raise ScanError(f"{where}: '{key}' is set by the scan (each run writes to "
                            f"out_dir/runs/<run id>); use 'out_dir' for the scan's folder")
    scan.runs()
    return scan


def _mapping(raw, key, where) -> Dict[str, Any]:
    value = raw.get(key) or {}
    if not isinstance(value, dict):
        raise ScanError(f"{where}: '{key}' must be a mapping, got {value!r}")
    return dict(value)


def _grid(raw, where) -> Dict[str, List[Any]]:
    grid = _mapping(raw, "grid", where)
    for key, values in grid.items():
        if not isinstance(values, list) or not values:
            raise ScanError(f"{where}: grid '{key}' must be a non-empty list of values, got "
                            f"{values!r}")
    return grid


def _seeds(raw, where) -> List[int]:
    seeds = raw.get("seeds") or []
    if not isinstance(seeds, list) or not all(isinstance(s, int) and not isinstance(s, bool)
                                              and s >= 0 for s in seeds):
        raise ScanError(f"{where}: 'seeds' must be a list of integers >= 0, got {seeds!r}")
    return list(seeds)


def _random(raw, where) -> Dict[str, Any]:
    spec = _mapping(raw, "random", where)
    if not spec:
        return {}
    unknown = set(spec) - {"n", "seed", "keys"}
    if unknown:
        raise ScanError(f"{where}: 'random' has entries n, seed and keys, not "
                        f"{', '.join(sorted(unknown))}")
    n = spec.get("n")
    if not isinstance(n, int) or isinstance(n, bool) or n < 1:
        raise ScanError(f"{where}: random 'n' (samples) must be an integer >= 1, got {n!r}")
    keys = spec.get("keys")
    if not isinstance(keys, dict) or not keys:
        raise ScanError(f"{where}: random 'keys' must map keys to a distribution "
                        f"({', '.join(DISTRIBUTIONS)})")
    for key, dist in keys.items():
        _check_distribution(key, dist, where)
    return {"n": n, "seed": int(spec.get("seed", 0)), "keys": keys}


def _check_distribution(key, dist, where) -> None:
    if not isinstance(dist, dict) or len(dist) != 1 or next(iter(dist)) not in DISTRIBUTIONS:
        raise ScanError(f"{where}: random key '{key}' must be one of {{uniform: [low, high]}}, "
                        f"{{log_uniform: [low, high]}}, {{int_uniform: [low, high]}}, "
                        f"{{choice: [values]}}; got {dist!r}")
    kind, args = next(iter(dist.items()))
    if kind == "choice":
        if not isinstance(args, list) or not args:
            raise ScanError(f"{where}: random key '{key}': choice needs a non-empty list")
        return
    if (not isinstance(args, list) or len(args) != 2
            or not all(isinstance(a, (int, float)) and not isinstance(a, bool) for a in args)
            or not args[0] < args[1] or (kind == "log_uniform" and args[0] <= 0)):
        raise ScanError(f"{where}: random key '{key}': {kind} needs [low, high] with "
                        f"low < high{' and low > 0' if kind == 'log_uniform' else ''}, got "
                        f"{args!r}")


def _random_points(spec: Dict[str, Any]) -> List[Dict[str, Any]]:
    """``n`` samples of every random key, drawn in key order from one generator seeded by
    ``seed``: the same file always gives the same runs."""
    if not spec:
        return []
    rng = np.random.default_rng(spec["seed"])
    points = []
    for _ in range(spec["n"]):
        point = {}
        for key, dist in spec["keys"].items():
            kind, args = next(iter(dist.items()))
            if kind == "choice":
                point[key] = args[int(rng.integers(len(args)))]
            elif kind == "int_uniform":
                point[key] = int(rng.integers(int(args[0]), int(args[1]) + 1))
            elif kind == "uniform":
                point[key] = float(rng.uniform(args[0], args[1]))
            else:
                point[key] = float(math.exp(rng.uniform(math.log(args[0]), math.log(args[1]))))
        points.append(point)
    return points


def _describe(user_p: Dict[str, Any], base: Dict[str, Any]) -> str:
    varied = {k: v for k, v in user_p.items() if k not in base or base[k] != v}
    return json.dumps(varied, default=str) if varied else "(base)"


__all__ = ["MODES", "Run", "ScanDefinition", "ScanError", "load_scan", "run_id_of",
           "scan_from_dict"]
