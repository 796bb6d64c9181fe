"""SHD/SSC simulator on synthetic files in the official HDF5 layout: splits without
leakage, class balancing, reduced classes, errors before any work, short real
trainings that beat chance, speaker cross-validation, the command line and
train_SHD.py as a new user runs them.

Accuracies on the synthetic data say nothing about accuracy on real SHD.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

from genn_eventprop.datasets.shd import DataFileError, generate_synthetic
from genn_eventprop.params import ParamError
from genn_eventprop.simulators.shd import SHD_model, SHDModel, p as default_p

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
#: Four classes from different groups of the synthetic vocabulary, 2 ms steps: small
#: and quick, still a real temporal task.
QUICK = dict(DT_MS=4.0, REDUCED_CLASSES=[0, 4, 8, 12], N_TRAIN=380, N_VALIDATE=80,
             NUM_HIDDEN=64, N_EPOCH=8, ETA=0.01, PDROP_INPUT=0.0, PROGRESS=False)
#: Chance is 0.25. avg_xentropy learns this data more slowly than the others (and
#: needs a smaller ETA); with 80 test samples of these classes, 0.4 is 3 standard
#: deviations above chance, 0.6 seven.
PASS = {"sum_weigh_exp": 0.6, "max": 0.6, "avg_xentropy": 0.4}
ETA = {"sum_weigh_exp": 0.01, "max": 0.01, "avg_xentropy": 0.005}
#: Delayed copies triple the input; smaller weights keep the hidden rate comparable.
DELAY = dict(N_INPUT_DELAY=2, INPUT_DELAY=30.0, INPUT_HIDDEN_MEAN=0.007,
             INPUT_HIDDEN_STD=0.004)


@pytest.fixture(scope="module")
def shd_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("shd_data")
    generate_synthetic(d, "shd", n_train=2400, n_test=400, seed=2)
    return str(d)


def params(shd_dir, tmp_path, **kw):
    p = dict(default_p, DATA_DIR=shd_dir, OUT_DIR=str(tmp_path), **QUICK)
    p.update(kw)
    return p


def keys(samples):
    """A hashable fingerprint of every sample (its spikes)."""
    return [hash((s[0].tobytes(), s[1].tobytes())) for s in
            (samples[i] for i in range(len(samples)))]


def test_random_split_has_no_leakage_and_exact_sizes(shd_dir, tmp_path):
    sim = SHDModel(params(shd_dir, tmp_path, REDUCED_CLASSES=None, N_TRAIN=900,
                          N_VALIDATE=250))
    train, _ = sim.load_split("train", sim.p)
    val, _ = sim.load_split("validate", sim.p)
    assert len(train) == 900 and len(val) == 250
    assert not set(keys(train)) & set(keys(val))
    assert sim.n_classes == 20 and sim.network_spec(sim.p).n_input == 700


def test_speaker_split_never_trains_on_the_left_out_speaker(shd_dir, tmp_path):
    sim = SHDModel(params(shd_dir, tmp_path, EVALUATION="speaker", SPEAKER_LEFT=2,
                          N_TRAIN=None, REDUCED_CLASSES=None))
    train, _ = sim.load_split("train", sim.p)
    val, _ = sim.load_split("validate", sim.p)
    assert set(val.speakers.tolist()) == {2} and 2 not in set(train.speakers.tolist())
    everything = sim._file(sim.p, "train")
    assert len(train) + len(val) == len(everything)


def test_class_balancing_and_reduced_classes(shd_dir, tmp_path):
    sim = SHDModel(params(shd_dir, tmp_path, REDUCED_CLASSES=[3, 7, 11],
                          BALANCE_TRAIN_CLASSES=True, BALANCE_EVAL_CLASSES=True,
                          N_TRAIN=None, N_VALIDATE=60))
    train, labels = sim.load_split("train", sim.p)
    assert set(labels.tolist()) == {0, 1, 2}                   # relabelled 0..k-1
    assert len(sim.class_names(sim.p)) == 3 == sim.network_spec(sim.p).n_output
    epoch, epoch_labels, report = sim.epoch_data(sim.p, train, labels, 0, None)
    counts = np.bincount(epoch_labels)
    assert counts.min() == counts.max() == np.bincount(labels).min()
    again, _, _ = sim.epoch_data(sim.p, train, labels, 1, None)
    assert keys(again) != keys(epoch)                          # a new subsample per epoch
    val, val_labels = sim.load_split("validate", sim.p)
    assert np.bincount(val_labels).min() == np.bincount(val_labels).max()


def test_augmentation_acts_on_training_data_only(shd_dir, tmp_path):
    aug = {"random_shift": 20.0, "ID_jitter": 2.0}
    sim = SHDModel(params(shd_dir, tmp_path, AUGMENTATION=aug))
    train, labels = sim.load_split("train", sim.p)
    before = keys(train)
    augmented, new_labels, report = sim.epoch_data(sim.p, train, labels, 0, None)
    assert keys(train) == before and keys(augmented) != before
    np.testing.assert_array_equal(new_labels, labels)
    assert set(report) >= {"spikes dropped by random_shift", "spikes dropped by ID_jitter"}
    val, _ = sim.load_split("validate", sim.p)
    assert keys(val) == keys(SHDModel(params(shd_dir, tmp_path)).load_split("validate",
                                                                             sim.p)[0])


def test_normalised_spike_number_applies_to_evaluation_data_too(shd_dir, tmp_path):
    """A network trained on thinned inputs is evaluated on inputs thinned to the same
    expected count: once per run, the same every epoch, seeded."""
    plain = SHDModel(params(shd_dir, tmp_path))
    sim = SHDModel(params(shd_dir, tmp_path, AUGMENTATION={"NORMALISE_SPIKE_NUMBER": True}))
    target = sim._normalise_target(sim.p)
    counts = sim._file(sim.p, "train").spike_counts()
    assert target == counts[counts > 0].min()
    for split in ("validate", "test"):
        before = plain._data(plain.p, split)[0]
        after = sim._data(sim.p, split)[0]
        again = sim._data(sim.p, split)[0]
        assert keys(after) == keys(again) and len(after) == len(before)
        n0, n1 = before.spike_counts(), after.spike_counts()
        assert np.all(n1 <= n0) and n0.mean() > 1.5 * target
        assert abs(n1.mean() - target) < 4 * np.sqrt(target)
    train, labels = sim.load_split("train", sim.p)
    augmented, _, _ = sim.epoch_data(sim.p, train, labels, 0, None)
    assert abs(np.mean([len(t) for t, _ in augmented]) - target) < 4 * np.sqrt(target)
    report = sim.preparation_report()
    assert any("test samples thinned" in k and v > 0 for k, v in report.items())
    assert keys(plain._data(plain.p, "test")[0]) == keys(plain.load_split("test", plain.p)[0])


@pytest.mark.parametrize("kw,match", [
    (dict(N_TRAIN=2300, N_VALIDATE=200, REDUCED_CLASSES=None), "holds 2400 samples"),
    (dict(EVALUATION="speaker", SPEAKER_LEFT=99), "not a speaker"),
    (dict(REDUCED_CLASSES=[0, 25]), "classes 0..19"),
    (dict(DOWNLOAD_SHD=True), "runs never download"),
    (dict(AUGMENTATION={"random_shfit": 3}), "random_shift"),
])
def test_bad_settings_fail_at_creation(shd_dir, tmp_path, kw, match):
    with pytest.raises((ParamError, ValueError), match=match):
        SHDModel(params(shd_dir, tmp_path, **kw))


def test_missing_data_names_file_and_command(tmp_path):
    with pytest.raises(DataFileError, match=r"shd_train\.h5.*genn-eventprop data shd"):
        SHDModel(dict(default_p, DATA_DIR=str(tmp_path)))


@pytest.mark.parametrize("loss,recurrent,delay,epochs", [
    ("sum_weigh_exp", False, False, 8), ("max", True, False, 8),
    ("avg_xentropy", False, False, 8), ("sum_weigh_exp", False, True, 4)])
def test_short_training_beats_chance(shd_dir, tmp_path, loss, recurrent, delay, epochs):
    p = params(shd_dir, tmp_path, LOSS_TYPE=loss, RECURRENT=recurrent, N_EPOCH=epochs,
               ETA=ETA[loss], **(DELAY if delay else {}))
    res = SHD_model(p).train_test(p)
    assert res.test_accuracy > PASS[loss], res.test_accuracy
    assert res.tape_overflow == 0


@pytest.mark.slow
@pytest.mark.parametrize("loss", ["sum_weigh_exp", "max", "avg_xentropy"])
@pytest.mark.parametrize("recurrent", [False, True])
@pytest.mark.parametrize("delay", [False, True])
def test_training_matrix_beats_chance(shd_dir, tmp_path, loss, recurrent, delay):
    p = params(shd_dir, tmp_path, LOSS_TYPE=loss, RECURRENT=recurrent, ETA=ETA[loss],
               **(DELAY if delay else {}))
    assert SHD_model(p).train_test(p).test_accuracy > PASS[loss]


def test_speaker_cross_validation_returns_one_result_per_fold(shd_dir, tmp_path):
    p = params(shd_dir, tmp_path, EVALUATION="speaker", SPEAKER_LEFT=[0, 2], N_TRAIN=None,
               N_EPOCH=1)
    res = SHDModel(p).cross_validate_SHD(p)
    assert [f.name for f in res.folds] == ["shd_speaker0", "shd_speaker2"]
    summary = json.load(open(tmp_path / "shd_summary.json"))
    assert len(summary["fold_summary"]["validation_accuracy"]) == 2
    assert summary["fold_summary"]["mean"] == pytest.approx(
        np.mean(summary["fold_summary"]["validation_accuracy"]))


def test_checkpoint_best_can_be_switched_off(shd_dir, tmp_path):
    p = params(shd_dir, tmp_path, N_EPOCH=1, N_TRAIN=64, N_VALIDATE=16, CHECKPOINT_BEST=False)
    SHDModel(p).train(p)
    assert os.path.exists(tmp_path / "shd_checkpoint_last.npz")
    assert not os.path.exists(tmp_path / "shd_checkpoint_best.npz")


class _Weights:
    """The part of a network that REWIRE_SILENT touches."""

    def __init__(self, **w):
        self.w = w

    def get_weights(self, conn):
        return self.w[conn].copy()

    def set_weights(self, conn, w):
        self.w[conn] = w


def test_rewire_silent_redraws_only_silent_neurons_anew_each_epoch(shd_dir, tmp_path):
    sim = SHDModel(params(shd_dir, tmp_path, REWIRE_SILENT=True, N_HID_LAYER=2,
                          INPUT_HIDDEN_MEAN=0.03, INPUT_HIDDEN_STD=0.01))
    w0, w1 = np.full((700, 64), -1.0), np.full((64, 64), -1.0)
    totals = {"h0": np.where(np.arange(64) % 4 == 0, 0, 5), "h1": np.ones(64)}
    draws = []
    for epoch in (0, 1, 1):
        net = _Weights(in_h0=w0.copy(), h0_h1=w1.copy())
        sim.after_epoch(sim.p, net, totals, epoch)
        silent = net.w["in_h0"][:, ::4]
        np.testing.assert_array_equal(np.delete(net.w["in_h0"], np.s_[::4], axis=1), -1.0)
        np.testing.assert_array_equal(net.w["h0_h1"], w1)
        assert abs(silent.mean() - 0.03) < 0.002 and abs(silent.std() - 0.01) < 0.001
        draws.append(silent)
    assert not np.array_equal(draws[0], draws[1])
    np.testing.assert_array_equal(draws[1], draws[2])
    lift = SHDModel(params(shd_dir, tmp_path, REWIRE_SILENT=True, REWIRE_LIFT=0.25))
    net = _Weights(in_h0=w0.copy())
    lift.after_epoch(lift.p, net, {"h0": totals["h0"]}, 0)
    np.testing.assert_array_equal(net.w["in_h0"][:, ::4], -0.75)
    np.testing.assert_array_equal(np.delete(net.w["in_h0"], np.s_[::4], axis=1), -1.0)


def test_rewire_silent_acts_on_the_trained_network(shd_dir, tmp_path):
    """With every hidden neuron silent all epoch (no gradient reaches the input
    weights), the trained weights differ from a run without rewiring by the lift."""
    quiet = dict(N_EPOCH=1, N_TRAIN=64, N_VALIDATE=16, REG_TYPE="none",
                 INPUT_HIDDEN_MEAN=-0.05, INPUT_HIDDEN_STD=0.01, WRITE_TO_DISK=False)
    plain = SHDModel(params(shd_dir, tmp_path / "a", **quiet))
    plain.train(plain.p)
    lifted = SHDModel(params(shd_dir, tmp_path / "b", REWIRE_SILENT=True, REWIRE_LIFT=0.01,
                             **quiet))
    lifted.train(lifted.p)
    np.testing.assert_allclose(lifted.net.get_weights("in_h0"),
                               plain.net.get_weights("in_h0") + 0.01, atol=1e-12)


def _sets(p):
    return [x for k, v in p.items() for x in ("--set", f"{k}={json.dumps(v)}")]


def test_command_line_and_train_shd_script(shd_dir, tmp_path):
    quick = dict(QUICK, N_EPOCH=1, N_TRAIN=100, N_VALIDATE=20)
    exe = shutil.which("genn-eventprop")
    assert exe
    cli = subprocess.run([exe, "shd", "--set", f"DATA_DIR={shd_dir}",
                          "--set", f"OUT_DIR={tmp_path / 'cli'}", *_sets(quick)],
                         capture_output=True, text=True, timeout=600)
    assert cli.returncode == 0, cli.stderr
    assert "test accuracy" in cli.stdout
    script = subprocess.run([sys.executable, os.path.join(ROOT, "train_SHD.py"),
                             "--set", f"DATA_DIR={shd_dir}", "--set",
                             f"OUT_DIR={tmp_path / 'script'}", *_sets(quick)],
                            capture_output=True, text=True, timeout=600)
    assert script.returncode == 0, script.stderr
    resolved = json.load(open(tmp_path / "script" / "train_SHD.json"))
    assert resolved["EVALUATION"] == "speaker" and resolved["LOSS_TYPE"] == "sum_weigh_exp"
    assert os.path.exists(tmp_path / "script" / "train_SHD_summary.json")
    missing = subprocess.run([exe, "shd", "--set", f"DATA_DIR={tmp_path / 'nothing'}"],
                             capture_output=True, text=True, timeout=600)
    assert missing.returncode == 2 and "Traceback" not in missing.stderr
    assert "shd_train.h5" in missing.stderr


def test_binned_data_are_cached_on_disk_per_setting(tmp_path, monkeypatch):
    from genn_eventprop.simulators import shd as shd_module
    generate_synthetic(tmp_path / "d", "shd", n_train=60, n_test=20, seed=3)
    p = dict(default_p, DATA_DIR=str(tmp_path / "d"), N_TRAIN=40, N_VALIDATE=10,
             OUT_DIR=str(tmp_path / "o"))
    first = SHDModel(p).load_split("train", p)[0]
    cache = tmp_path / "d" / ".genn_eventprop_cache"

    def grids():
        return sorted(e.name for e in cache.iterdir() if e.name.startswith("grid-"))
    assert len(grids()) == 1
    # Freshly binned, the grid in use is the saved copy, memory-mapped.
    fresh = shd_module._grid("shd", "train", str(tmp_path / "d"), 3.0, 1000.0, 1.0, 1.0)[0]
    assert isinstance(fresh.steps, np.memmap) and isinstance(fresh.ids, np.memmap)
    shd_module._grid_of_file.cache_clear()

    def no_reading(*args, **kw):
        raise AssertionError("the data file was read again")
    monkeypatch.setattr(shd_module, "read_spike_file", no_reading)
    again = SHDModel(p).load_split("train", p)[0]
    assert keys(again) == keys(first)
    monkeypatch.undo()
    q = dict(p, DT_MS=2.0)
    SHDModel(q).load_split("train", q)
    assert len(grids()) == 3                                   # one entry per setting
    old = grids()
    generate_synthetic(tmp_path / "d", "shd", n_train=60, n_test=20, seed=4)  # replaced
    replaced = SHDModel(p).load_split("train", p)[0]
    assert keys(replaced) != keys(first)
    assert len(grids()) == 1 and grids()[0] not in old         # the old file's grids went


def test_data_command_writes_synthetic_files(tmp_path):
    exe = shutil.which("genn-eventprop")
    res = subprocess.run([exe, "data", "shd", "--synthetic", "--dir", str(tmp_path / "syn")],
                         capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr
    assert sorted(os.listdir(tmp_path / "syn")) == ["shd_test.h5", "shd_train.h5"]
