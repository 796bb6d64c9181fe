"""Parameter scans: definitions and run ids, restart, failures, cross-validation folds as
tasks, reports, the command line, and real local Dask clusters (2 workers) including a
worker killed in the middle of a run."""
from __future__ import annotations

import json
import os
import signal
import threading
import time
from pathlib import Path

import pytest

from genn_eventprop.scan import (ScanError, executor_from, load_scan, run_scan,
                                 scan_from_dict, scan_report)
from genn_eventprop.simulators.yinyang import YinYangModel, p as yinyang_p

TINY = {"N_TRAIN": 200, "N_VALIDATE": 50, "N_TEST": 100, "N_EPOCH": 2, "NUM_HIDDEN": 30}


def scan_dict(out, **kw):
    return {"benchmark": "yinyang", "mode": "train_test", "out_dir": str(out), "base": TINY,
            "grid": {"ETA": [0.001, 0.005], "NUM_HIDDEN": [20, 30]}, "seeds": [1, 2],
            "executor": {"kind": "sequential"}} | kw


def statuses(out):
    return {f.parent.name + "/" + f.name: json.loads(f.read_text())
            for f in Path(out).glob("runs/*/*.status.json")}


# ----------------------------------------------------------------------------- definitions
def test_grid_and_seeds_expand_to_runs_with_stable_ids(tmp_path):
    scan = scan_from_dict(scan_dict(tmp_path))
    runs = scan.runs()
    assert len(runs) == 8 and len({r.run_id for r in runs}) == 8
    assert {(r.varied["ETA"], r.varied["NUM_HIDDEN"], r.varied["SEED"]) for r in runs} == {
        (e, n, s) for e in (0.001, 0.005) for n in (20, 30) for s in (1, 2)}
    again = scan_from_dict(scan_dict(tmp_path / "elsewhere",
                                     executor={"kind": "local", "workers": 1}))
    assert [r.run_id for r in again.runs()] == [r.run_id for r in runs]
    threads = scan_from_dict(scan_dict(tmp_path, base=dict(TINY, NUM_THREADS=1)))
    assert [r.run_id for r in threads.runs()] == [r.run_id for r in runs]
    other = scan_from_dict(scan_dict(tmp_path, base=dict(TINY, N_EPOCH=3)))
    assert not {r.run_id for r in other.runs()} & {r.run_id for r in runs}


def test_random_samples_are_reproducible_and_in_range(tmp_path):
    spec = {"n": 5, "seed": 3, "keys": {"TAU_MEM": {"uniform": [10.0, 30.0]},
                                        "ETA": {"log_uniform": [1e-4, 1e-2]},
                                        "NUM_HIDDEN": {"int_uniform": [10, 20]},
                                        "LOSS_TYPE": {"choice": ["first_spike",
                                                                 "first_spike_exp"]}}}
    scan = scan_from_dict(scan_dict(tmp_path, grid={}, seeds=[], random=spec))
    runs = scan.runs()
    assert len(runs) == 5
    for r in runs:
        assert 10.0 <= r.varied["TAU_MEM"] <= 30.0 and 1e-4 <= r.varied["ETA"] <= 1e-2
        assert 10 <= r.varied["NUM_HIDDEN"] <= 20
    assert [r.run_id for r in scan_from_dict(scan_dict(tmp_path, grid={}, seeds=[],
                                                       random=spec)).runs()] == \
        [r.run_id for r in runs]


@pytest.mark.parametrize("change,match", [
    ({"grdi": {}}, "Did you mean 'grid'"),
    ({"benchmark": "yingyang"}, "must be one of"),
    ({"mode": "test"}, "'mode' must be one of"),
    ({"grid": {"ETA": []}}, "non-empty list"),
    ({"grid": {"NUM_HIDEN": [1, 2]}}, "NUM_HIDDEN"),
    ({"grid": {"ETA": ["fast"]}}, "ETA"),
    ({"base": dict(TINY, OUT_DIR="x")}, "set by the scan"),
    ({"random": {"n": 2, "keys": {"ETA": {"log_uniform": [0, 1]}}}}, "low > 0"),
    ({"seeds": [1, "two"]}, "seeds"),
])
def test_bad_definitions_are_refused_before_any_run(tmp_path, change, match):
    with pytest.raises(ScanError, match=match):
        scan_from_dict(scan_dict(tmp_path, **change))
    assert not (tmp_path / "runs").exists()


def test_yaml_and_json_files(tmp_path):
    (tmp_path / "s.yaml").write_text(f"benchmark: yinyang\nout_dir: {tmp_path}/o\n"
                                     "grid: {ETA: [0.001, 0.002]}\n")
    (tmp_path / "s.json").write_text(json.dumps({"benchmark": "yinyang",
                                                 "grid": {"ETA": [0.001, 0.002]}}))
    assert len(load_scan(tmp_path / "s.yaml").runs()) == 2
    assert len(load_scan(tmp_path / "s.json").runs()) == 2
    (tmp_path / "bad.json").write_text("{")
    with pytest.raises(ScanError, match="not valid JSON"):
        load_scan(tmp_path / "bad.json")


def test_executor_settings_are_checked():
    assert executor_from({"kind": "local", "workers": 1}).workers == 1
    with pytest.raises(ScanError, match="exceeds the"):
        executor_from({"kind": "local", "workers": os.cpu_count(), "threads_per_worker": 2})
    with pytest.raises(ScanError, match="needs 'address'"):
        executor_from({"kind": "address"})
    with pytest.raises(ScanError, match="takes"):
        executor_from({"kind": "sequential", "workers": 2})


@pytest.mark.parametrize("kind,lines", [
    ("slurm", ["#SBATCH -p normal", "#SBATCH -t 02:00:00", "#SBATCH --cpus-per-task=8"]),
    ("pbs", ["#PBS -q normal", "#PBS -l walltime=02:00:00", "ncpus=8"]),
])
def test_batch_jobs_split_their_cores_into_one_task_workers(kind, lines):
    """Each 8-core job runs 4 worker processes of 2 threads, one scan task each."""
    pytest.importorskip("dask_jobqueue", reason="needs dask-jobqueue (the cluster extra)")
    from genn_eventprop.scan.executors import jobqueue_cluster
    executor = executor_from({"kind": kind, "jobs": 3, "threads_per_worker": 2,
                              "cluster": {"cores": 8, "memory": "16GB", "queue": "normal",
                                          "walltime": "02:00:00"}})
    cluster = jobqueue_cluster(executor)
    try:
        script = cluster.job_script()
    finally:
        cluster.close()
    for line in lines + ["--nworkers 4", "--nthreads 2", "--resources scan_task=1"]:
        assert line in script, (line, script)


# ----------------------------------------------------------------------------- running
@pytest.fixture(scope="module")
def cluster():
    """A real local Dask cluster of 2 worker processes (1 thread each)."""
    pytest.importorskip("distributed", reason="the scan tests on Dask need dask.distributed: "
                        "pip install 'genn_eventprop[cluster]'")
    from dask.distributed import LocalCluster
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=":0") as c:
        yield c


@pytest.fixture(params=["sequential", "dask"])
def executor(request):
    """Each scan test runs in this process and on the 2-worker Dask cluster."""
    if request.param == "sequential":
        return {"kind": "sequential"}
    return {"kind": "address", "address": request.getfixturevalue("cluster").scheduler_address}


def test_restart_skips_finished_runs_and_a_failing_run_does_not_stop_the_others(tmp_path,
                                                                                 executor):
    # LOAD_BEST without a checkpoint fails when the run starts (CheckpointError).
    scan = scan_from_dict(scan_dict(tmp_path, grid={"LOAD_BEST": [False, True]}, seeds=[1],
                                    executor=executor))
    first = run_scan(scan)
    assert first.ran == 2 and len(first.failed) == 1
    [error] = [s["error"] for s in first.failed.values()]
    assert "CheckpointError" in error and "LOAD_BEST" in error
    done = [s for s in statuses(tmp_path).values() if s["state"] == "done"]
    assert len(done) == 1 and 0.0 <= done[0]["accuracy"] <= 1.0
    again = run_scan(scan)          # the finished run is skipped, the failed one rerun
    assert again.ran == 1 and len(again.failed) == 1
    assert sum(s.get("state") == "skipped" for s in again.statuses.values()) == 1
    failed = [s for s in statuses(tmp_path).values() if s["state"] == "failed"]
    assert failed[0]["attempt"] == 2


def test_unfinished_run_is_rerun(tmp_path, executor):
    scan = scan_from_dict(scan_dict(tmp_path, grid={}, seeds=[1], executor=executor))
    run_scan(scan)
    [status_file] = list(tmp_path.glob("runs/*/run.status.json"))
    status_file.write_text(json.dumps({"state": "running", "attempt": 1}))   # died mid-run
    assert run_scan(scan).ran == 1
    assert json.loads(status_file.read_text())["state"] == "done"
    assert run_scan(scan).ran == 0


def test_cross_validation_folds_are_tasks_with_cross_validates_mean(tmp_path, executor):
    base = dict(TINY, N_FOLD=3)
    scan = scan_from_dict(scan_dict(tmp_path / "scan", mode="cross_validate", base=base,
                                    grid={}, seeds=[1], executor=executor))
    result = run_scan(scan)
    assert result.ran == 3 and not result.failed
    [summary] = list((tmp_path / "scan").glob("runs/*/run_summary.json"))
    got = json.loads(summary.read_text())["fold_summary"]
    direct_p = dict(yinyang_p, **base, SEED=1, OUT_DIR=str(tmp_path / "direct"), PROGRESS=False)
    direct = YinYangModel(direct_p).cross_validate(direct_p)
    assert got["validation_accuracy"] == direct.fold_summary["validation_accuracy"]
    assert got["mean"] == direct.fold_summary["mean"]


def test_extending_a_scan_keeps_every_run_in_its_report(tmp_path):
    run_scan(scan_from_dict(scan_dict(tmp_path, grid={"ETA": [0.001]}, seeds=[1])))
    more = run_scan(scan_from_dict(scan_dict(tmp_path, grid={"ETA": [0.001, 0.005]},
                                             seeds=[1])))
    assert more.ran == 1
    scan_report(tmp_path)
    rows = (tmp_path / "report_runs.csv").read_text().splitlines()
    assert len(rows) == 3 and len(json.loads((tmp_path / "scan.json").read_text())[
        "definitions"]) == 2


def test_report_tables_and_plots(tmp_path):
    run_scan(scan_from_dict(scan_dict(tmp_path)))
    paths = scan_report(tmp_path)
    names = {p.name for p in paths}
    assert {"report.csv", "report.md", "report_runs.csv", "report_ETA.png",
            "report_NUM_HIDDEN.png", "report_SEED.png"} <= names
    rows = (tmp_path / "report.csv").read_text().splitlines()
    assert rows[0].startswith("ETA,NUM_HIDDEN,runs,finished,mean,sd,seconds")
    assert len(rows) == 5
    runs = [line.split(",") for line in (tmp_path / "report_runs.csv").read_text().splitlines()]
    header, body = runs[0], runs[1:]
    acc = header.index("accuracy")
    eta, hidden = header.index("ETA"), header.index("NUM_HIDDEN")
    pair = [float(r[acc]) for r in body if r[eta] == "0.001" and r[hidden] == "20"]
    row = next(r.split(",") for r in rows[1:] if r.startswith("0.001,20,"))
    assert float(row[4]) == pytest.approx(sum(pair) / 2)
    with pytest.raises(ScanError, match="not a scan folder"):
        scan_report(tmp_path / "runs")


def test_command_line(tmp_path, genn_cli):
    (tmp_path / "s.json").write_text(json.dumps(scan_dict(tmp_path / "o", grid={},
                                                          seeds=[1, 2])))
    out = genn_cli("scan", str(tmp_path / "s.json"))
    assert out.returncode == 0, out.stderr
    assert "2 tasks ran, 0 failed" in out.stdout and "2 done" in out.stderr
    report = genn_cli("scan-report", str(tmp_path / "o"))
    assert report.returncode == 0 and "| SEED" not in report.stdout and "mean" in report.stdout
    (tmp_path / "bad.json").write_text(json.dumps({"benchmark": "yinyang", "grdi": {}}))
    bad = genn_cli("scan", str(tmp_path / "bad.json"))
    assert bad.returncode == 2 and "grid" in bad.stderr and "Traceback" not in bad.stderr
    failing = genn_cli("scan", str(tmp_path / "s.json"), "--executor", "local",
                       "--workers", "99")
    assert failing.returncode == 2 and "exceeds" in failing.stderr


def test_local_cluster_runs_a_2x2_grid_with_2_seeds(tmp_path):
    pytest.importorskip("distributed", reason="needs dask.distributed (the cluster extra)")
    scan = scan_from_dict(scan_dict(tmp_path, executor={"kind": "local", "workers": 2}))
    result = run_scan(scan)
    assert result.ran == 8 and not result.failed
    hosts = {s["pid"] for s in statuses(tmp_path).values()}
    assert len(hosts) == 2 and os.getpid() not in hosts        # two worker processes
    assert len(list(tmp_path.glob("runs/*/run_summary.json"))) == 8


def test_killed_worker_loses_no_result(tmp_path, cluster):
    """A worker process killed in the middle of a run: Dask reruns the task on a worker,
    and every run ends with exactly one finished result."""
    slow = dict(TINY, N_TRAIN=1500, N_EPOCH=4)
    scan = scan_from_dict(scan_dict(tmp_path, base=slow, grid={"ETA": [0.001, 0.005]},
                                    executor={"kind": "address", "address": cluster.scheduler_address}))
    box = {}
    runner = threading.Thread(target=lambda: box.update(result=run_scan(scan)))
    runner.start()
    victim = None
    deadline = time.time() + 120
    while victim is None and time.time() < deadline:
        running = [s for s in statuses(tmp_path).values() if s.get("state") == "running"]
        if running:
            time.sleep(0.5)             # well inside the run
            victim = running[0]
        else:
            time.sleep(0.1)
    assert victim is not None, "no run started"
    os.kill(victim["pid"], signal.SIGKILL)
    runner.join(timeout=300)
    assert not runner.is_alive()
    result = box["result"]
    assert not result.failed and len(result.statuses) == 4
    final = statuses(tmp_path)
    assert all(s["state"] == "done" for s in final.values()) and len(final) == 4
    killed = next(s for s in final.values() if s["task"] == victim["task"])
    assert killed["attempt"] == 2 and killed["pid"] != victim["pid"]
    assert len(list(tmp_path.glob("runs/*/run_summary.json"))) == 4


def test_cross_validation_folds_run_on_several_workers(tmp_path, cluster):
    base = dict(TINY, N_FOLD=4)
    scan = scan_from_dict(scan_dict(tmp_path, mode="cross_validate", base=base, grid={},
                                    seeds=[1], executor={"kind": "address",
                                                         "address": cluster.scheduler_address}))
    result = run_scan(scan)
    assert result.ran == 4 and not result.failed
    pids = {s["pid"] for k, s in statuses(tmp_path).items() if "fold" in k}
    assert len(pids) == 2
    [summary] = list(tmp_path.glob("runs/*/run_summary.json"))
    assert len(json.loads(summary.read_text())["fold_summary"]["validation_accuracy"]) == 4
