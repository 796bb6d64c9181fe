"""Yin-Yang simulator: real short training, resume from checkpoint, recordings,
output files, CLI and the errors of p."""
from __future__ import annotations

import json
import os

import numpy as np
import pytest

from genn_eventprop import cli
from genn_eventprop.errors import CheckpointError
from genn_eventprop.params import ParamError
from genn_eventprop.simulators.yinyang import YinYangModel, p as default_p, yinyang


def small(tmp_path, **kw):
    p = dict(default_p)
    p.update(NUM_HIDDEN=60, N_TRAIN=640, N_VALIDATE=320, N_TEST=320, N_EPOCH=3,
             OUT_DIR=str(tmp_path), PROGRESS=False, NUM_THREADS=1)
    p.update(kw)
    return p


def test_short_training_beats_chance(tmp_path):
    p = small(tmp_path, N_EPOCH=4, COLLECT_CONFUSION=True, TRAINING_PLOT=True)
    res = YinYangModel(p).train_test(p)
    assert len(res.epochs) == 4
    assert res.test_accuracy > 0.6          # chance is 1/3
    assert res.epochs[-1].train_loss < res.epochs[0].train_loss
    conf = np.array(res.confusion["test"])
    assert conf.shape == (3, 3) and conf.sum() == 320 and np.trace(conf) / 320 == \
        pytest.approx(res.test_accuracy)
    names = {os.path.basename(f) for f in res.files}
    assert {"yinyang.json", "yinyang_results.txt", "yinyang_summary.json",
            "yinyang_checkpoint_last.npz", "yinyang_checkpoint_best.npz",
            "yinyang_training.png"} <= names
    lines = open(tmp_path / "yinyang_results.txt").read().splitlines()
    assert lines[0].startswith("#") and len(lines) == 5
    assert json.load(open(tmp_path / "yinyang.json"))["NUM_HIDDEN"] == 60
    summary = json.load(open(tmp_path / "yinyang_summary.json"))
    assert summary["test_accuracy"] == pytest.approx(res.test_accuracy)
    assert res.tape_overflow == 0


def test_resume_from_checkpoint_gives_the_same_weights(tmp_path):
    """Dropout on, shuffling on: 3 epochs straight == 2 epochs + LOAD_LAST for the third."""
    kw = dict(N_EPOCH=3, PDROP_INPUT=0.1, N_VALIDATE=0)
    straight = YinYangModel(small(tmp_path / "a", **kw))
    straight.train()
    first = small(tmp_path / "b", **dict(kw, N_EPOCH=2))
    YinYangModel(first).train()
    resumed = YinYangModel(small(tmp_path / "b", **dict(kw, LOAD_LAST=True)))
    res = resumed.train()
    assert [e.epoch for e in res.epochs] == [2]
    for conn in straight.net.connections:
        np.testing.assert_array_equal(resumed.net.get_weights(conn),
                                      straight.net.get_weights(conn))


def test_recordings_have_documented_shapes(tmp_path):
    p = small(tmp_path, N_EPOCH=1, N_VALIDATE=0, REC_SPIKES=["input", "hidden"],
              REC_SPIKES_EPOCH_TRIAL=[[0, 0]], REC_NEURONS=[("hidden", "V")],
              REC_NEURONS_EPOCH_TRIAL=[[0, 1]], REC_SYNAPSES=[("in_to_hid", "g")],
              REC_SYNAPSES_EPOCH_TRIAL=[[0, 2]], W_OUTPUT_EPOCH_TRIAL=[[0, 3]],
              REC_PREDICTIONS=True)
    sim = YinYangModel(p)
    sim.train_test(p)
    rec = np.load(tmp_path / "yinyang_recordings.npz")
    times, ids = rec["spikes/input/e0_t0/times"], rec["spikes/input/e0_t0/ids"]
    samples = rec["spikes/input/e0_t0/samples"]
    assert np.array_equal(np.bincount(samples), [5] * 32)   # every sample of the batch
    for b in (0, 31):                                        # one spike per input neuron
        assert sorted(ids[samples == b].tolist()) == [0, 1, 2, 3, 4]
    assert times.min() == pytest.approx(0.2)                 # bias at 2 dt
    assert "spikes/hidden/e0_t0/times" in rec.files
    n_steps = round(p["TRIAL_MS"] / p["DT_MS"])
    assert rec["neurons/hidden/V/e0_t1"].shape == (n_steps, 32, 60)
    assert rec["synapses/in_to_hid/g/e0_t2"].shape == (5, 60)
    assert rec["weights/hid_to_out/e0_t3"].shape == (60, 3)
    preds = np.load(tmp_path / "yinyang_predictions_test.npz")
    assert preds["predictions"].shape == preds["labels"].shape == (320,)


def test_cross_validate_runs_every_fold(tmp_path):
    p = small(tmp_path, N_EPOCH=1, N_TRAIN=320, N_FOLD=2)
    res = yinyang(p).cross_validate(p)
    assert len(res.folds) == 2 and all(f.epochs[0].validation_accuracy > 0 for f in res.folds)
    assert os.path.exists(tmp_path / "yinyang_fold1_results.txt")


def test_test_alone_uses_the_best_checkpoint(tmp_path):
    p = small(tmp_path, N_EPOCH=2)
    trained = YinYangModel(p)
    trained.train(p)
    q = dict(p, LOAD_BEST=True)
    res = YinYangModel(q).test(q)
    assert res.test_accuracy > 0.5


@pytest.mark.parametrize("key,value,match", [
    ("NUM_HIDEN", 10, "Did you mean 'NUM_HIDDEN'"),
    ("NUM_HIDDEN", 10.5, "'NUM_HIDDEN' must be int"),
    ("ETA", "fast", "'ETA' must be float"),
    ("PDROP_INPUT", 1.5, "'PDROP_INPUT' must be <= 1.0"),
    ("LOSS_TYPE", "sum", "'LOSS_TYPE' must be one of"),
    ("REC_SPIKES", ["hiden"], "'REC_SPIKES\\[0\\]' must be one of"),
    ("REC_NEURONS", [("hidden",)], "pair"),
    ("REC_SPIKES_EPOCH_TRIAL", [[0, -1]], "pair \\[epoch, trial\\]"),
    ("V_RESET", -1.0, "'V_RESET' must be >= 0.0"),
    ("INPUT_WINDOW_MS", 41.0, "INPUT_WINDOW_MS \\(41.0\\) must not exceed TRIAL_MS"),
    ("INPUT_WINDOW_MS", 0.3, "must exceed 4 DT_MS"),
])
def test_bad_parameters_are_named(key, value, match):
    with pytest.raises(ParamError, match=match):
        YinYangModel({key: value})


def test_missing_checkpoint_is_explained(tmp_path):
    p = small(tmp_path, LOAD_LAST=True)
    with pytest.raises(CheckpointError, match="yinyang_checkpoint_last.npz"):
        YinYangModel(p).train()


def test_each_run_works_on_its_own_copy(tmp_path):
    p = small(tmp_path)
    sim = YinYangModel(p)
    p["NUM_HIDDEN"] = 7
    assert sim.p["NUM_HIDDEN"] == 60 and default_p["NUM_HIDDEN"] == 200


def test_cli_runs_and_reports(tmp_path, capsys):
    rc = cli.main(["yinyang", "--set", "N_EPOCH=1", "--set", "NUM_HIDDEN=40",
                   "--set", "N_TRAIN=320", "--set", "N_VALIDATE=64", "--set", "N_TEST=64",
                   "--set", f"OUT_DIR={tmp_path}", "--set", "PROGRESS=false"])
    out = capsys.readouterr().out
    assert rc == 0 and "test accuracy:" in out
    assert os.path.exists(tmp_path / "yinyang_summary.json")


def test_cli_params_file_list_and_errors(tmp_path, capsys):
    f = tmp_path / "p.json"
    f.write_text(json.dumps({"N_EPOCH": 1, "N_TRAIN": 64, "N_TEST": 64, "N_VALIDATE": 0,
                             "NUM_HIDDEN": 20, "OUT_DIR": str(tmp_path), "PROGRESS": False}))
    assert cli.main(["yinyang", "--params", str(f), "--mode", "train"]) == 0
    assert cli.main(["yinyang", "--params", str(f), "--mode", "test",
                     "--set", "LOAD_LAST=true"]) == 0
    assert cli.main(["yinyang", "--list-params"]) == 0
    listing = capsys.readouterr().out
    assert "NUM_HIDDEN" in listing and "200" in listing
    assert cli.main(["yinyang", "--set", "NUM_HIDEN=3"]) == 2
    assert "Did you mean 'NUM_HIDDEN'" in capsys.readouterr().err
    assert cli.main(["yinyang", "--params", str(tmp_path / "none.json")]) == 2


def test_train_test_uses_the_best_validation_epoch(tmp_path):
    p = small(tmp_path, N_EPOCH=3)
    res = YinYangModel(p).train_test(p)
    q = dict(p, LOAD_BEST=True)
    again = YinYangModel(q).test(q)
    assert res.best_epoch is not None
    assert again.test_accuracy == pytest.approx(res.test_accuracy)
    assert again.test_loss == pytest.approx(res.test_loss, rel=1e-6)


def test_input_window_shorter_than_the_trial(tmp_path):
    """Inputs are coded in INPUT_WINDOW_MS; the trial runs on to TRIAL_MS so that late
    output spikes count. Same input times as a trial of INPUT_WINDOW_MS."""
    from genn_eventprop.datasets.yinyang import latency_encode
    from genn_eventprop.simulators.yinyang import _split
    p = small(tmp_path, TRIAL_MS=40.0, INPUT_WINDOW_MS=30.0)
    sim = YinYangModel(p)
    samples, labels = sim.load_split("test", sim.p)
    values, classes = _split(p["N_TEST"], p["TEST_DATA_SEED"])
    expected = latency_encode(values, 30.0, p["DT_MS"])
    assert len(samples) == len(expected) == p["N_TEST"]
    for (t, i), (te, ie) in zip(samples, expected):
        np.testing.assert_array_equal(t, te)
        np.testing.assert_array_equal(i, ie)
    times = np.concatenate([t for t, _ in samples])
    assert times.min() >= 2 * p["DT_MS"] - 1e-12 and times.max() <= 30.0 - 2 * p["DT_MS"] + 1e-12
    assert sim.network_spec(sim.p).n_steps == 400


def test_tape_overflow_is_reported_once_per_epoch_with_hidden_activity(tmp_path):
    """Spikes beyond the tape: one warning per epoch (not per batch) that names the count
    and the fix; the epoch statistics and the results file carry it and the hidden
    spikes per training sample."""
    p = small(tmp_path, N_EPOCH=2, N_MAX_SPIKE=1, N_TRAIN=320, N_VALIDATE=64, N_TEST=64)
    with pytest.warns(RuntimeWarning, match=r"epoch \d: \d+ spikes .*raise N_MAX_SPIKE") as got:
        res = YinYangModel(p).train(p)
    overflow_warnings = [w for w in got if "spike tape" in str(w.message)]
    assert len(overflow_warnings) == 2                 # 10 batches per epoch, 2 epochs
    assert all(e.tape_overflow > 0 for e in res.epochs)
    assert res.tape_overflow == sum(e.tape_overflow for e in res.epochs)
    assert all(e.hidden_spikes > 0 for e in res.epochs)
    rows = [line.split() for line in open(tmp_path / "yinyang_results.txt")
            if not line.startswith("#")]
    assert [float(r[7]) for r in rows] == pytest.approx([e.hidden_spikes for e in res.epochs],
                                                        rel=1e-5)
    assert [int(r[8]) for r in rows] == [e.tape_overflow for e in res.epochs]
