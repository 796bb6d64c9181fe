"""DVS gesture simulator on synthetic files in both real layouts (the IBM release's
AEDAT 3.1 recordings and tonic's .npy files): the same grid from either, what is
left out counted, subjects as speakers, errors before any work, a short training
far above chance and the command line.

Accuracies on the synthetic gestures say nothing about accuracy on the real data.
"""
from __future__ import annotations

import numpy as np
import pytest

from genn_eventprop.datasets.dvs_gesture import (generate_synthetic, load_dvs_gesture,
                                                 to_channels)
from genn_eventprop.datasets.shd import DataFileError
from genn_eventprop.params import ParamError
from genn_eventprop.simulators.dvs_gesture import DVSG_model, DVSGestureModel, p as default_p

QUICK = dict(TRIAL_MS=500.0, N_MAX_SPIKE=200, N_VALIDATE=32, N_EPOCH=3, PROGRESS=False,
             CHECKPOINT=False)


@pytest.fixture(scope="module")
def dvs_dirs(tmp_path_factory):
    """The same synthetic gestures in both layouts."""
    dirs = {}
    for fmt in ("ibm", "tonic"):
        d = tmp_path_factory.mktemp(f"dvs_{fmt}")
        generate_synthetic(d, fmt=fmt, n_train_users=8, n_test_users=3, repeats=3, seed=1)
        dirs[fmt] = str(d)
    return dirs


def fingerprints(grid):
    return [(int(grid.labels[i]), int(grid.speakers[i]), grid[i][0].tobytes(),
             grid[i][1].tobytes()) for i in range(len(grid))]


def params(data_dir, tmp_path, **kw):
    return dict(default_p, DATA_DIR=data_dir, OUT_DIR=str(tmp_path), **QUICK) | kw


def test_grid_is_the_binned_events_and_the_same_from_both_layouts(dvs_dirs, tmp_path):
    grids = {}
    for fmt, d in dvs_dirs.items():
        sim = DVSGestureModel(params(d, tmp_path, DT_MS=2.0, TRIAL_MS=300.0))
        grids[fmt] = sim._file(sim.p, "train")
    a, b = grids["ibm"], grids["tonic"]
    assert a.n_channels == 2048 and len(a) == 8 * 3 * 11
    # The layouts order samples differently (recording order; folder, then label).
    assert sorted(fingerprints(a)) == sorted(fingerprints(b))
    # Sample 5 by hand: channel of each event, 2 ms bins, one spike per channel and bin,
    # nothing at or after 300 ms.
    events = load_dvs_gesture(dvs_dirs["ibm"], "train")
    x, y, pol, t = events.sample(5)
    keep = t < 300.0
    cells = {(int(s), int(c)) for s, c in zip(np.floor(t[keep] / 2.0),
                                              to_channels(x[keep], y[keep], pol[keep]))}
    times, ids = a[5]
    assert sorted(cells) == sorted(zip((times / 2.0).astype(int).tolist(), ids.tolist()))


def test_left_out_events_are_counted(dvs_dirs, tmp_path):
    sim = DVSGestureModel(params(dvs_dirs["ibm"], tmp_path, TRIAL_MS=200.0))
    sim._file(sim.p, "train")
    report = sim.preparation_report()
    events = load_dvs_gesture(dvs_dirs["ibm"], "train")
    late = int((events.t_ms >= 200.0).sum())
    assert report["events of the train split at or after the trial end"] == late > 0
    assert report["train split: events outside windows"] == events.report[
        "events_outside_windows"] > 0
    grid = sim._file(sim.p, "train")
    assert report["train split: events merged"] == len(events.t_ms) - late - len(grid.ids)


def test_subjects_are_speakers(dvs_dirs, tmp_path):
    sim = DVSGestureModel(params(dvs_dirs["ibm"], tmp_path, EVALUATION="speaker",
                                 SPEAKER_LEFT=3))
    train, y_train = sim.load_split("train", sim.p)
    val, _ = sim.load_split("validate", sim.p)
    assert set(np.unique(val.speakers)) == {3} and len(val) == 3 * 11
    assert 3 not in set(np.unique(train.speakers)) and len(train) == 7 * 3 * 11
    folds = sim.folds(dict(sim.p, SPEAKER_LEFT=[1, 2]), *sim.cross_validation_data(sim.p))
    assert [name for name, _, _ in folds] == ["speaker1", "speaker2"]


@pytest.mark.parametrize("kw,error,match", [
    (dict(DATA_DIR="/nonexistent/dvs"), DataFileError, "trials_to_train.txt"),
    (dict(DOWNSAMPLE=3), ParamError, "divides 128"),
    (dict(AUGMENTATION={"random_shift": 4.0}), ParamError, "SHD/SSC only"),
    (dict(EVALUATION="validation_set"), ParamError, "EVALUATION"),
    (dict(SPEAKER_LEFT=40, EVALUATION="speaker"), ParamError, "not a speaker"),
    (dict(REDUCED_CLASSES=[0, 11]), ParamError, "classes 0..10"),
])
def test_bad_settings_fail_before_any_work(dvs_dirs, tmp_path, kw, error, match):
    with pytest.raises(error, match=match):
        sim = DVSGestureModel(params(dvs_dirs["ibm"], tmp_path, **kw))
        sim.load_split("train", sim.p)


def test_short_training_beats_chance_by_far(dvs_dirs, tmp_path):
    p = params(dvs_dirs["tonic"], tmp_path)
    res = DVSG_model(p).train_test(p)
    assert res.test_accuracy > 0.35, res.test_accuracy      # chance: 1/11
    assert res.tape_overflow == 0


def test_command_line(dvs_dirs, tmp_path, genn_cli):
    out = genn_cli("dvs_gesture", settings=dict(QUICK, N_EPOCH=1, OUT_DIR=str(tmp_path),
                                                DATA_DIR=dvs_dirs["ibm"]))
    assert out.returncode == 0, out.stderr
    assert "test accuracy" in out.stdout
    no_data = genn_cli("data", "dvs_gesture", "--dir", str(tmp_path / "d"), timeout=60)
    assert no_data.returncode == 2 and "--synthetic" in no_data.stderr
    assert "Traceback" not in no_data.stderr
    made = genn_cli("data", "dvs_gesture", "--dir", str(tmp_path / "d"), "--synthetic",
                    "--layout", "tonic", timeout=60)
    assert made.returncode == 0, made.stderr
    assert len(load_dvs_gesture(str(tmp_path / "d"), "test")) > 0
