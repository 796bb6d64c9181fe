"""Sequential-MNIST simulator on the real files (../shared/data/mnist): the encoding
it feeds, the splits it shares with MNIST, counted cut-off spikes, errors before any
work, REWIRE_SILENT and a short training far above chance (its command line is tested with
MNIST's)."""
from __future__ import annotations

import numpy as np
import pytest

from genn_eventprop.datasets.smnist import image_spikes
from genn_eventprop.params import ParamError
from genn_eventprop.simulators.mnist import MNISTModel
from genn_eventprop.simulators.smnist import SMNIST_model, SMNISTModel, p as default_p

QUICK = dict(N_TRAIN=2000, N_VALIDATE=500, N_TEST=1000, N_EPOCH=2, PROGRESS=False,
             CHECKPOINT=False)


@pytest.fixture
def params(mnist_params):
    return lambda **kw: mnist_params(default_p, **QUICK) | kw


def test_samples_are_the_mnist_split_encoded(params, shared_mnist, tmp_path):
    sim = SMNISTModel(params())
    samples, labels = sim.load_split("train", sim.p)
    mnist = MNISTModel(dict(QUICK, DATA_DIR=str(shared_mnist), OUT_DIR=str(tmp_path)))
    images = mnist.load_split("train", mnist.p)[0].images
    assert np.array_equal(labels, mnist.load_split("train", mnist.p)[1])
    assert sim.network_spec(sim.p).n_input == 99
    for i in (0, 17):
        times, ids = samples[i]
        t_ref, ids_ref = image_spikes(images[i])
        keep = t_ref < 1500.0
        assert np.array_equal(times, t_ref[keep]) and np.array_equal(ids, ids_ref[keep])


def test_cut_off_spikes_are_counted(params):
    sim = SMNISTModel(params(TRIAL_MS=1000.0))
    samples, _ = sim.load_split("validate", sim.p)
    report = sim.preparation_report()
    lost = sum(int((image_spikes(im)[0] >= 1000.0).sum()) for im in samples.images)
    assert report["spikes of the validate images at or after TRIAL_MS"] == lost > 0


@pytest.mark.parametrize("kw,match", [
    (dict(N_INPUT_NEURONS=98), "odd"),
    (dict(AUGMENTATION={"random_shift": 2.0}), "SHD/SSC only"),
    (dict(SPEAKER_LEFT=3), "no speakers"),
    (dict(DATASET="MNIST"), "unknown parameter"),
])
def test_bad_settings_fail_before_any_work(params, kw, match):
    with pytest.raises(ParamError, match=match):
        SMNISTModel(params(**kw))


def test_short_training_beats_chance_by_far(params):
    """Two digits, 3 epochs of 2000 images: per-step cross-entropy learns this quickly."""
    p = params(REDUCED_CLASSES=[0, 1], N_EPOCH=3, LOSS_TYPE="avg_xentropy", ETA=5e-3)
    res = SMNIST_model(p).train_test(p)
    assert res.test_accuracy > 0.85, res.test_accuracy      # chance: 0.5
    assert res.tape_overflow == 0


def test_rewire_silent_acts(params):
    """Weights that make every hidden neuron silent: REWIRE_SILENT lifts all input
    weights by REWIRE_LIFT after the epoch; without it they stay."""
    base = params(N_TRAIN=64, N_VALIDATE=0, N_TEST=64, N_EPOCH=1, INPUT_HIDDEN_MEAN=-1.0,
                  INPUT_HIDDEN_STD=0.0, ETA=0.0, REWIRE_LIFT=0.25)
    on = SMNISTModel(base)
    on.train(base)
    off_p = dict(base, REWIRE_SILENT=False, NAME="off")
    off = SMNISTModel(off_p)
    off.train(off_p)
    assert np.all(off.net.get_weights("in_h0") == -1.0)
    assert np.allclose(on.net.get_weights("in_h0"), -0.75)

