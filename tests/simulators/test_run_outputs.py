"""What a user meets on the command line: no silent wrong runs, early errors with
exit 2, one line per epoch, outputs that no run overwrites.

The CLI tests run the installed ``genn-eventprop`` entry point in a subprocess
(stderr is then not a terminal, as when a run is logged to a file).
"""
from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess

import numpy as np
import pytest

from genn_eventprop.errors import NothingToTestError, OutputExistsError
from genn_eventprop.params import ParamError
from genn_eventprop.simulators.base import EpochStats, RunResult, prediction_figure, training_figure
from genn_eventprop.simulators.yinyang import YinYangModel, p as default_p

TINY = ["N_TRAIN=64", "N_VALIDATE=32", "N_TEST=32", "NUM_HIDDEN=12", "N_EPOCH=2",
        "NUM_THREADS=1"]


def cli(tmp_path, *args, umask=None):
    """Run the real entry point; returns (exit status, stdout, stderr)."""
    exe = shutil.which("genn-eventprop")
    assert exe, "the genn-eventprop entry point is not installed (pip install -e .)"
    sets = [x for kv in TINY + [f"OUT_DIR={tmp_path}"] for x in ("--set", kv)]
    pre = (lambda: os.umask(umask)) if umask is not None else None
    res = subprocess.run([exe, "yinyang", *sets, *args], capture_output=True, text=True,
                         timeout=600, preexec_fn=pre)
    return res.returncode, res.stdout, res.stderr


def snapshot(folder):
    return {f: open(os.path.join(folder, f), "rb").read() for f in sorted(os.listdir(folder))}


def assert_user_error(rc, err, *fragments):
    assert rc == 2, err
    assert "Traceback" not in err, err
    assert err.startswith("genn-eventprop: error: ") and err.count("\n") == 1, err
    for f in fragments:
        assert f in err, err


def test_test_without_a_trained_network_is_an_error_and_touches_nothing(tmp_path):
    rc, out, err = cli(tmp_path)
    assert rc == 0, err
    before = snapshot(tmp_path)
    rc, out, err = cli(tmp_path, "--mode", "test")
    assert_user_error(rc, err, "no trained network", "yinyang_checkpoint_best.npz",
                      "LOAD_BEST=true")
    assert snapshot(tmp_path) == before
    rc, out, err = cli(tmp_path, "--mode", "test", "--set", "LOAD_BEST=true")
    assert rc == 0 and "test accuracy" in out, err
    after = snapshot(tmp_path)
    assert {k: v for k, v in after.items() if k in before} == before   # training run intact
    assert {"yinyang_test.json", "yinyang_test_summary.json"} <= set(after)


def test_a_second_run_with_the_same_name_is_refused(tmp_path):
    assert cli(tmp_path)[0] == 0
    before = snapshot(tmp_path)
    rc, out, err = cli(tmp_path)
    assert_user_error(rc, err, "already holds results of a run named 'yinyang'",
                      "OVERWRITE=true")
    assert snapshot(tmp_path) == before
    rc, out, err = cli(tmp_path, "--set", "NAME=second")
    assert rc == 0, err
    rc, out, err = cli(tmp_path, "--set", "OVERWRITE=true", "--set", "N_EPOCH=1")
    assert rc == 0, err
    summary = json.load(open(tmp_path / "yinyang_summary.json"))
    assert len(summary["epochs"]) == 1                       # replaced, not mixed
    assert os.path.exists(tmp_path / "second_summary.json")


def test_python_api_applies_the_same_rules(tmp_path):
    p = dict(default_p, N_TRAIN=64, N_VALIDATE=0, N_TEST=32, NUM_HIDDEN=12, N_EPOCH=1,
             OUT_DIR=str(tmp_path), PROGRESS=False)
    sim = YinYangModel(p)
    with pytest.raises(NothingToTestError, match="train first"):
        sim.test(p)
    sim.train(p)
    assert sim.test(p).test_accuracy is not None               # tests what it trained
    with pytest.raises(OutputExistsError):
        YinYangModel(p).train(p)


def test_summary_lists_the_files_written(tmp_path):
    rc, out, err = cli(tmp_path, "--set", "TRAINING_PLOT=true")
    assert rc == 0, err
    summary = json.load(open(tmp_path / "yinyang_summary.json"))
    names = {os.path.basename(f) for f in summary["files"]}
    assert names == set(os.listdir(tmp_path))
    assert {"yinyang_summary.json", "yinyang_training.png", "yinyang.json"} <= names


def test_outputs_follow_the_umask(tmp_path):
    rc, out, err = cli(tmp_path, "--set", "TRAINING_PLOT=true", "--set", "FANCY_PLOTS=true",
                       umask=0o022)
    assert rc == 0, err
    modes = {f: stat.S_IMODE(os.stat(tmp_path / f).st_mode) for f in os.listdir(tmp_path)}
    assert len(modes) >= 6 and set(modes.values()) == {0o644}, modes


def test_one_line_per_epoch_and_no_bars_in_a_log(tmp_path):
    rc, out, err = cli(tmp_path, "--set", "PROGRESS=true")
    assert rc == 0, err
    assert [l.split(":")[0] for l in out.splitlines() if l.startswith("epoch")] == \
        ["epoch 0", "epoch 1"]
    assert "\r" not in err and "it/s" not in err and len(err) < 200, err
    rc, out, err = cli(tmp_path / "quiet", "--set", "PROGRESS=false", "--mode",
                       "cross_validate", "--set", "N_FOLD=2")
    assert rc == 0, err
    lines = [l for l in out.splitlines() if "epoch" in l and ":" in l]
    assert [l.split(":")[0] for l in lines] == ["fold 1/2 epoch 0", "fold 1/2 epoch 1",
                                               "fold 2/2 epoch 0", "fold 2/2 epoch 1"]


@pytest.mark.parametrize("setting,fragments", [
    ('REC_NEURONS=[["hidden","Vm"]]', ["REC_NEURONS", "'Vm'", "valid: V, I"]),
    ('REC_SYNAPSES=[["hid_to_hid","g"]]', ["'hid_to_hid' does not exist", "in_to_hid"]),
    ('REC_SYNAPSES=[["in_to_hid","w"]]', ["no variable 'w'", "valid: g, dg"]),
    ("LOAD_LAST=true", ["no checkpoint", "yinyang_checkpoint_last.npz"]),
    ("REC_SPIKES_EPOCH_TRIAL=[[2,0]]", ["[2, 0] lies outside the run", "epochs 0..1"]),
    ("REC_NEURONS_EPOCH_TRIAL=[[0,2]]", ["[0, 2] lies outside the run", "trials",
                                        "0..1 (64 training samples in batches of 32)"]),
    ("TAU_SYN=20.0", ["cannot be built", "tau_m"]),
])
def test_user_errors_are_one_message_and_exit_2_before_any_work(tmp_path, setting, fragments):
    rc, out, err = cli(tmp_path, "--set", setting)
    assert_user_error(rc, err, *fragments)
    assert not os.path.exists(tmp_path) or os.listdir(tmp_path) == []


def test_recording_pairs_are_checked_against_the_folds():
    p = dict(default_p, N_TRAIN=64, N_FOLD=2, N_BATCH=16, N_EPOCH=1,
             REC_SPIKES=["hidden"], REC_SPIKES_EPOCH_TRIAL=[[0, 3]], WRITE_TO_DISK=False)
    sim = YinYangModel(p)                                    # 4 batches when training on all
    with pytest.raises(ParamError, match=r"\[0, 3\] lies outside the run.*32 training samples"):
        sim.cross_validate(p)


def test_plots_have_class_legend_and_integer_epochs():
    epochs = [EpochStats(e, 1.0 / (e + 1), 0.5, 1.0, 0.5, 1e-3, 1.0) for e in range(3)]
    fig = training_figure(RunResult("x", epochs=epochs))
    for ax in fig.axes:
        ticks = [t for t in ax.get_xticks() if 0 <= t <= 2]
        assert ticks and all(float(t).is_integer() for t in ticks)
    rng = np.random.default_rng(0)
    preds, labels = rng.integers(0, 3, 50), rng.integers(0, 3, 50)
    fig = prediction_figure(rng.random((50, 2)), preds, labels)
    legend = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert legend == ["predicted class 0", "predicted class 1", "predicted class 2",
                      "wrong prediction"]
