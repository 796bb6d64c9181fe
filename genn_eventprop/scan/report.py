"""``genn-eventprop scan-report OUT_DIR``: one table of a scan's runs and plots.

Writes into OUT_DIR: ``report_runs.csv`` (one row per run: its id, the varied
keys, state, accuracy, seconds), ``report.csv`` and ``report.md`` (one row per
configuration: the varied keys other than SEED, the number of finished runs,
mean and spread (standard deviation) of their accuracies over seeds, and of
cross-validation runs over seeds of their fold means; mean seconds per run), and
``report_<KEY>.png`` per varied key: accuracy against the key's values.
The accuracy is the test accuracy (train_test), the best validation accuracy
(train) or the mean of the folds' final validation accuracies (cross_validate).
"""
from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any, Dict, List, Tuple, Union

import numpy as np

from .definition import ScanError
from .tasks import RUN_NAME, read_status


def collect(out_dir: Union[str, Path]) -> Tuple[List[str], List[Dict[str, Any]]]:
    """(varied keys, one record per run) of the scan in ``out_dir``."""
    out = Path(out_dir)
    manifest = out / "scan.json"
    if not manifest.is_file():
        raise ScanError(f"'{out}' is not a scan folder: it has no scan.json (run "
                        f"'genn-eventprop scan FILE' first, or give the scan's out_dir)")
    scan = json.loads(manifest.read_text())
    records, keys = [], []
    for entry in scan["runs"]:
        folder = out / "runs" / entry["run_id"]
        status = read_status(folder / f"{RUN_NAME}.status.json")
        if status.get("state") == "missing":
            folds = sorted(folder.glob(f"{RUN_NAME}_*.status.json"))
            status = _fold_status(folds) if folds else status
        for key in entry["varied"]:
            if key not in keys:
                keys.append(key)
        records.append({"run_id": entry["run_id"], **entry["varied"],
                        "state": status.get("state"), "accuracy": status.get("accuracy"),
                        "seconds": status.get("seconds")})
    return keys, records


def _fold_status(paths) -> Dict[str, Any]:
    states = [read_status(p) for p in paths]
    failed = [s for s in states if s.get("state") == "failed"]
    return {"state": "failed" if failed else "unfinished", "accuracy": None,
            "seconds": sum(s.get("seconds", 0.0) for s in states)}


def summarise(keys: List[str], records: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """One row per configuration (the varied keys without SEED)."""
    config_keys = [k for k in keys if k != "SEED"]
    groups: Dict[str, List[Dict[str, Any]]] = {}
    for r in records:
        groups.setdefault(json.dumps([r.get(k) for k in config_keys], default=str), []).append(r)
    rows = []
    for members in groups.values():
        accs = [m["accuracy"] for m in members if m["state"] == "done" and m["accuracy"] is not None]
        secs = [m["seconds"] for m in members if m["seconds"] is not None]
        rows.append({**{k: members[0].get(k) for k in config_keys}, "runs": len(members),
                     "finished": len(accs),
                     "mean": float(np.mean(accs)) if accs else None,
                     "sd": float(np.std(accs)) if accs else None,
                     "seconds": float(np.mean(secs)) if secs else None})
    return rows


def scan_report(out_dir: Union[str, Path]) -> List[Path]:
    """Write the report files into ``out_dir``; returns their paths."""
    out = Path(out_dir)
    keys, records = collect(out)
    rows = summarise(keys, records)
    written = [_write_csv(out / "report_runs.csv", records),
               _write_csv(out / "report.csv", rows)]
    md = out / "report.md"
    write_text_atomic(md, _markdown(rows))
    written.append(md)
    written += _plots(out, keys, records)
    return written


def _write_csv(path: Path, rows: List[Dict[str, Any]]) -> Path:
    columns: List[str] = []
    for row in rows:
        columns += [c for c in row if c not in columns]
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=columns)
    writer.writeheader()
    writer.writerows(rows)
    write_text_atomic(path, buf.getvalue())
    return path


def write_text_atomic(path: Path, text: str) -> None:
    from ..simulators.base import atomic_write

    def write(tmp):
        with open(tmp, "w") as f:
            f.write(text)
    atomic_write(str(path), write)


def _fmt(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def _markdown(rows: List[Dict[str, Any]]) -> str:
    if not rows:
        return "No runs.\n"
    columns = list(rows[0])
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(_fmt(r[c]) for c in columns) + " |"
              for r in sorted(rows, key=lambda r: -(r["mean"] or -1.0))]
    return "\n".join(lines) + "\n"


def _plots(out: Path, keys: List[str], records: List[Dict[str, Any]]) -> List[Path]:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    done = [r for r in records if r["state"] == "done" and r["accuracy"] is not None]
    paths = []
    for key in keys:
        values = sorted({r.get(key) for r in done}, key=_order)
        if not values:
            continue
        fig, ax = plt.subplots(figsize=(4.5, 3.2))
        numeric = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)
        for r in done:
            x = r.get(key) if numeric else values.index(r.get(key))
            ax.plot(x, r["accuracy"], "o", color="0.5", alpha=0.6)
        means = [np.mean([r["accuracy"] for r in done if r.get(key) == v]) for v in values]
        ax.plot(values if numeric else range(len(values)), means, "-", color="C0")
        if not numeric:
            ax.set_xticks(range(len(values)), [str(v) for v in values], rotation=30)
        elif min(values) > 0 and max(values) / min(values) > 50:
            ax.set_xscale("log")
        ax.set_xlabel(key)
        ax.set_ylabel("accuracy")
        fig.tight_layout()
        path = out / f"report_{key}.png"
        from ..simulators.base import atomic_write
        atomic_write(str(path), lambda tmp: fig.savefig(tmp, format="png", dpi=100))
        plt.close(fig)
        paths.append(path)
    return paths


def _order(value):
    return (0, value) if isinstance(value, (int, float)) else (1, str(value))


__all__ = ["collect", "scan_report", "summarise"]
