"""Sequential MNIST as spikes of threshold-crossing neurons (tonic's ``SMNIST``
encoding, which the original ``simulator_SMNIST.py`` trained on).

An image is read pixel by pixel in row-major order (784 pixels, one pixel per
``step_ms``). ``n_neurons`` (odd) input neurons watch the grey value:
``h = n_neurons // 2`` thresholds ``linspace(0, 254, h)`` (truncated to
integers) each have an onset neuron, which fires when the grey value rises from
below the threshold to at or above it between pixel ``i`` and ``i + 1``, and an
offset neuron, which fires when it falls back below; one more neuron fires at
every pixel of value 255. The spike of the transition from pixel ``i`` to
``i + 1`` (and of a 255 at pixel ``i``) is at ``i * step_ms``.

Neuron ids run backwards, as tonic numbers them: the onset neuron of threshold
``k`` is ``n_neurons - k``, the offset neuron of threshold ``k`` is
``h - k + 1`` and the 255 neuron is 0. The onset neuron of threshold 0
(id ``n_neurons``) can never fire (no grey value is below 0), so ids stay in
``0 .. n_neurons - 1`` and id 1 is never used.

With ``duplicate`` (tonic's default) every spike is sent twice, at
``2 i step_ms`` and ``(2 i + 1) step_ms``: a 28 x 28 image then lasts 1566
ms, and spikes at or after the trial end are dropped (and counted).
"""
from __future__ import annotations

from typing import Sequence, Tuple

import numpy as np

#: tonic's default number of input neurons.
N_NEURONS = 99


def thresholds(n_neurons: int = N_NEURONS) -> np.ndarray:
    """The grey-value thresholds of the onset/offset neurons (uint8, ascending)."""
    if n_neurons < 3 or n_neurons % 2 == 0:
        raise ValueError(f"n_neurons must be odd and >= 3, got {n_neurons}")
    return np.linspace(0.0, 254.0, n_neurons // 2).astype(np.uint8)


def crossings(image: np.ndarray, n_neurons: int = N_NEURONS) -> Tuple[np.ndarray, np.ndarray]:
    """(pixel index, neuron id) of every spike of one image, before duplication, sorted by
    pixel index and then id."""
    pixels = np.asarray(image, dtype=np.uint8).reshape(-1)
    levels = thresholds(n_neurons)
    half = len(levels)
    above = pixels[:, None] >= levels[None, :]
    rising = ~above[:-1] & above[1:]
    falling = above[:-1] & ~above[1:]
    on = np.flatnonzero(rising)
    off = np.flatnonzero(falling)
    touch_t = np.flatnonzero(pixels == 255)
    t = np.concatenate((on // half, off // half, touch_t))
    ids = np.concatenate((n_neurons - on % half, half - off % half + 1,
                          np.zeros(len(touch_t), np.int64)))
    # One integer key orders by pixel index, then id (np.lexsort is ~10x slower here).
    key = np.sort(t * (n_neurons + 1) + ids)
    return key // (n_neurons + 1), key % (n_neurons + 1)


def image_spikes(image: np.ndarray, n_neurons: int = N_NEURONS, duplicate: bool = True,
                 step_ms: float = 1.0) -> Tuple[np.ndarray, np.ndarray]:
    """(times in ms, neuron ids) of one image in (time, id) order, every spike twice with
    ``duplicate``."""
    t, ids = crossings(image, n_neurons)
    if duplicate:
        # Both copies in (time, id) order: a stable sort by time keeps each half's id order.
        order = np.argsort(np.concatenate((2 * t, 2 * t + 1)), kind="stable")
        t = np.concatenate((2 * t, 2 * t + 1))[order]
        ids = np.concatenate((ids, ids))[order]
    return t * float(step_ms), ids


class ThresholdCrossingImages(Sequence[Tuple[np.ndarray, np.ndarray]]):
    """Images as SMNIST spike trains, encoded when a sample is read (the images are
    the compact form). Sample i: ``(times_ms, ids)`` sorted by time, only spikes
    before ``trial_ms``."""

    def __init__(self, images: np.ndarray, trial_ms: float, n_neurons: int = N_NEURONS,
                 duplicate: bool = True, step_ms: float = 1.0):
        thresholds(n_neurons)
        self.images = np.asarray(images).reshape(len(images), -1)
        self.trial_ms, self.n_neurons = float(trial_ms), int(n_neurons)
        self.duplicate, self.step_ms = bool(duplicate), float(step_ms)

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, i):
        times, ids = image_spikes(self.images[i], self.n_neurons, self.duplicate, self.step_ms)
        keep = times < self.trial_ms
        return times[keep], ids[keep]

    def _pixel_ms(self) -> float:
        return (2 if self.duplicate else 1) * self.step_ms

    def pixels_in_trial(self) -> int:
        """Pixel transitions whose (first) spike falls inside the trial."""
        return int(np.ceil(self.trial_ms / self._pixel_ms()))

    def dropped_spikes(self) -> int:
        """Spikes of all images at or after the trial end. Only the last pixels can
        have them, so only those are encoded."""
        first = max(self.pixels_in_trial() - 1, 0)
        dropped = 0
        for tail in self.images[:, first:]:
            t, _ = image_spikes(tail, self.n_neurons, self.duplicate, self.step_ms)
            dropped += int(np.count_nonzero(t + first * self._pixel_ms() >= self.trial_ms))
        return dropped
