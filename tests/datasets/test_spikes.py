"""to_grid and GridSpikes against a per-sample reference written with plain Python."""
from __future__ import annotations

import numpy as np
import pytest

from genn_eventprop.datasets.spikes import to_grid


def reference(times, units, dt, trial_ms, rescale_t, rescale_x, crop_ms):
    """One sample: crop, rescale, drop past the trial, one spike per (channel, step)."""
    cells = set()
    for t, u in zip(times, units):
        if t >= crop_ms or t * rescale_t >= trial_ms:
            continue
        cells.add((int(np.floor(t * rescale_t / dt)), int(np.floor(u * rescale_x))))
    return sorted(cells)


#: chunk: spikes per chunk; 1 and 30 split at every sample or every few (samples have
#: 0-39 spikes), 10**6 takes everything at once.
@pytest.mark.parametrize("dt,rescale_t,rescale_x,chunk", [(1.0, 1.0, 1.0, 30), (2.0, 0.5, 0.5, 1),
                                                          (1.0, 1.5, 1.0, 10**6)])
def test_to_grid_matches_reference(dt, rescale_t, rescale_x, chunk):
    rng = np.random.default_rng(1)
    counts = rng.integers(0, 40, 25)
    offsets = np.concatenate(([0], np.cumsum(counts)))
    times = rng.uniform(0, 1300, offsets[-1]).round(1)
    units = rng.integers(0, 700, offsets[-1])
    grid, dropped = to_grid(times, units, offsets, np.arange(25), np.arange(25) % 3, dt, 900.0,
                            700, rescale_t, rescale_x, 1000.0, chunk_spikes=chunk)
    lost = 0
    for i in range(25):
        a, b = offsets[i], offsets[i + 1]
        want = reference(times[a:b], units[a:b], dt, 900.0, rescale_t, rescale_x, 1000.0)
        t, ids = grid[i]
        assert list(zip((t / dt).round().astype(int).tolist(), ids.tolist())) == want
        lost += int(((times[a:b] >= 1000.0) | (times[a:b] * rescale_t >= 900.0)).sum())
    assert dropped == lost and grid.n_channels == int(700 * rescale_x)


def test_subset_keeps_samples_and_order():
    rng = np.random.default_rng(2)
    offsets = np.concatenate(([0], np.cumsum(rng.integers(1, 9, 12))))
    grid, _ = to_grid(rng.uniform(0, 500, offsets[-1]), rng.integers(0, 700, offsets[-1]),
                      offsets, np.arange(12), np.zeros(12), 1.0, 1000.0, 700)
    sub = grid.subset([5, 0, 5, 11])
    for k, i in enumerate([5, 0, 5, 11]):
        for x, y in zip(sub[k], grid[i]):
            np.testing.assert_array_equal(x, y)
    assert sub.labels.tolist() == [5, 0, 5, 11]
    assert grid.subset(np.arange(12)) is grid          # all of it, in order: no copy
    assert grid.subset(np.arange(12)[::-1]) is not grid


def test_steps_are_stored_in_two_bytes_unless_the_trial_is_longer():
    offsets = np.array([0, 3])
    short, _ = to_grid(np.array([0.0, 5.0, 999.0]), np.array([1, 2, 3]), offsets, [0], [0],
                       1.0, 1000.0, 700)
    long, _ = to_grid(np.array([0.0, 5.0, 69999.0]), np.array([1, 2, 3]), offsets, [0], [0],
                      1.0, 70000.0, 700, crop_ms=1e9)
    assert short.steps.dtype == np.uint16 and long.steps.dtype == np.int32
    np.testing.assert_array_equal(short[0][0], [0.0, 5.0, 999.0])
    np.testing.assert_array_equal(long[0][0], [0.0, 5.0, 69999.0])
