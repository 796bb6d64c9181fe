"""MNIST simulator on the real files (../shared/data/mnist): splits without leakage,
reduced classes, errors before any work, a short training far above chance and the
command line (also sequential MNIST's)."""
from __future__ import annotations

import numpy as np
import pytest

from genn_eventprop.datasets.shd import DataFileError
from genn_eventprop.params import ParamError
from genn_eventprop.simulators.mnist import MNISTModel, mnist_model, p as default_p

QUICK = dict(N_TRAIN=2000, N_VALIDATE=500, N_TEST=1000, N_EPOCH=2, NUM_HIDDEN=100,
             PROGRESS=False)


@pytest.fixture
def params(mnist_params):
    return lambda **kw: mnist_params(default_p, **QUICK) | kw


def rows(samples):
    return {row.tobytes() for row in samples.images}


def test_splits_are_disjoint_sized_and_seeded(params):
    sim = MNISTModel(params())
    train, y_train = sim.load_split("train", sim.p)
    val, y_val = sim.load_split("validate", sim.p)
    test, _ = sim.load_split("test", sim.p)
    assert (len(train), len(val), len(test)) == (2000, 500, 1000)
    assert not rows(train) & rows(val)
    again = MNISTModel(params()).load_split("train", sim.p)[0]
    np.testing.assert_array_equal(again.images, train.images)
    other = MNISTModel(params(TRAIN_DATA_SEED=7))
    assert not np.array_equal(other.load_split("train", other.p)[0].images, train.images)
    assert set(np.unique(y_train)) == set(range(10)) and set(np.unique(y_val)) <= set(range(10))


def test_reduced_classes_are_relabelled(params):
    sim = MNISTModel(params(REDUCED_CLASSES=[3, 8]))
    assert sim.n_classes == 2
    train, labels = sim.load_split("train", sim.p)
    assert set(np.unique(labels)) == {0, 1}
    full = MNISTModel(params())
    data_labels = full.load_split("train", full.p)[1]
    assert data_labels.size == 2000 and labels.size == 2000


@pytest.mark.parametrize("kw,error,match", [
    (dict(N_TRAIN=58000, N_VALIDATE=5000), ParamError, "exceed the 60000 training images"),
    (dict(REDUCED_CLASSES=[0, 12]), ParamError, "digits 0..9"),
    (dict(DATA_DIR="/nonexistent/mnist"), DataFileError, "t10k-images-idx3-ubyte"),
    (dict(N_TESTS=10), ParamError, "N_TEST"),
    (dict(SUPER_BATCH=4), ParamError, "super-batches"),
])
def test_bad_settings_fail_before_any_work(params, kw, error, match):
    with pytest.raises(error, match=match):
        sim = MNISTModel(params(**kw))
        sim.load_split("train", sim.p)


def test_short_training_beats_chance_by_far(params):
    res = mnist_model(params()).train_test(params())
    assert res.test_accuracy > 0.6, res.test_accuracy      # chance: 0.1
    assert res.tape_overflow == 0


@pytest.mark.parametrize("command,bad,says", [("mnist", {"N_TRIAN": 5}, "N_TRAIN"),
                                               ("smnist", {"N_INPUT_NEURONS": 4}, "odd")])
def test_command_line(shared_mnist, tmp_path, genn_cli, command, bad, says):
    out = genn_cli(command, settings=dict(N_TRAIN=100, N_VALIDATE=50, N_TEST=100, N_EPOCH=1,
                                            NUM_HIDDEN=50, PROGRESS=False,
                                            OUT_DIR=str(tmp_path), DATA_DIR=str(shared_mnist)))
    assert out.returncode == 0, out.stderr
    assert "test accuracy" in out.stdout
    refused = genn_cli(command, settings=bad)
    assert refused.returncode == 2 and says in refused.stderr
    assert "Traceback" not in refused.stderr
