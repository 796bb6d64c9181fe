"""Sequential-MNIST encoding against an independent per-pixel, per-threshold loop
written from the encoding's definition, hand-worked spikes, trial cut-off and the
count of dropped spikes."""
from __future__ import annotations

import numpy as np
import pytest

from genn_eventprop.datasets.smnist import (ThresholdCrossingImages, crossings, image_spikes,
                                            thresholds)


def reference(image, n_neurons=99, duplicate=True):
    """Spikes by definition: for every pair of neighbouring pixels and every threshold,
    an onset if the grey value rises to the threshold or above, an offset if it falls
    below it; a 255 neuron spike per pixel of 255."""
    half = n_neurons // 2
    levels = [int(254.0 * k / (half - 1)) for k in range(half)]
    pixels = [int(v) for v in np.asarray(image).reshape(-1)]
    spikes = []
    for i in range(len(pixels)):
        if pixels[i] == 255:
            spikes.append((i, 0))
        if i + 1 == len(pixels):
            continue
        for k, level in enumerate(levels):
            if pixels[i] < level <= pixels[i + 1]:
                spikes.append((i, n_neurons - k))
            if pixels[i + 1] < level <= pixels[i]:
                spikes.append((i, half - k + 1))
    spikes.sort()
    if duplicate:
        spikes = sorted([(2 * i, n) for i, n in spikes] + [(2 * i + 1, n) for i, n in spikes])
    return spikes


def as_pairs(times, ids):
    return sorted(zip(times.astype(int).tolist(), ids.tolist()))


def test_thresholds_are_tonics():
    levels = thresholds(99)
    assert len(levels) == 49 and levels.dtype == np.uint8
    assert levels[:4].tolist() == [0, 5, 10, 15] and levels[-1] == 254
    with pytest.raises(ValueError, match="odd"):
        thresholds(98)


def test_hand_worked_stroke():
    image = np.zeros(784, np.uint8)
    image[1] = 255                        # 0 -> 255 -> 0 at pixels 0, 1, 2
    t, ids = crossings(image)
    onsets = ids[t == 0]
    assert onsets.tolist() == list(range(51, 99))      # thresholds 1..48 (0 cannot rise)
    at_one = ids[t == 1]
    assert at_one.tolist() == [0] + list(range(2, 50))  # the 255 neuron, offsets 48..1
    assert len(t) == 48 + 1 + 48


@pytest.mark.parametrize("n_neurons,duplicate", [(99, True), (99, False), (11, True)])
def test_matches_the_reference_on_random_and_real_looking_images(n_neurons, duplicate):
    rng = np.random.default_rng(3)
    stroke = np.zeros((28, 28), np.uint8)
    stroke[5:22, 12:16] = 255
    stroke[5:22, 11] = 128
    stroke[5:22, 16] = 40
    images = [rng.integers(0, 256, 784).astype(np.uint8), stroke,
              (rng.random(784) < 0.2).astype(np.uint8) * 255]
    for image in images:
        t, ids = image_spikes(image, n_neurons, duplicate)
        assert as_pairs(t, ids) == reference(image, n_neurons, duplicate)
        assert ids.min() >= 0 and ids.max() < n_neurons
        assert np.all(np.diff(t) >= 0)


def test_step_and_trial_cut_off_and_dropped_count():
    rng = np.random.default_rng(5)
    images = rng.integers(0, 256, (6, 784)).astype(np.uint8)
    full = ThresholdCrossingImages(images, 1e9)
    cut = ThresholdCrossingImages(images, 1500.0)
    dropped = 0
    for i in range(len(images)):
        t_all, ids_all = full[i]
        t, ids = cut[i]
        assert np.array_equal(t, t_all[t_all < 1500.0])
        assert np.array_equal(ids, ids_all[t_all < 1500.0])
        dropped += int((t_all >= 1500.0).sum())
    assert dropped > 0 and cut.dropped_spikes() == dropped
    assert full.dropped_spikes() == 0
    slow = ThresholdCrossingImages(images[:1], 1e9, step_ms=0.5, duplicate=False)
    t, _ = slow[0]
    t_ref, _ = image_spikes(images[0], duplicate=False)
    assert np.array_equal(t, t_ref * 0.5)


def test_real_mnist_statistics(shared_mnist):
    from genn_eventprop.datasets.mnist import load_mnist
    images = load_mnist(shared_mnist).train_images[:200]
    data = ThresholdCrossingImages(images, 1500.0)
    counts = [len(data[i][0]) for i in range(len(data))]
    assert 2000 < np.mean(counts) < 8000
    t, ids = data[0]
    assert as_pairs(t, ids) == [s for s in reference(images[0]) if s[0] < 1500]
