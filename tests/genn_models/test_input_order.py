"""Input spikes are loaded per neuron in time order (``input_events.by_neuron_then_time``).

Checked against numpy's lexsort: the times come out in the same sequence, with
ties in time, repeated (id, time) pairs, ids beyond 16 bits and empty samples.
"""
from __future__ import annotations

import numpy as np
import pytest

from genn_eventprop.genn_models.input_events import by_neuron_then_time


@pytest.mark.parametrize("n_ids", [1, 700, 7700, 70000])
def test_matches_lexsort(n_ids):
    rng = np.random.default_rng(n_ids)
    for size in (0, 1, 50, 7500):
        ids = rng.integers(0, n_ids, size)
        times = rng.choice(np.linspace(0.0, 999.0, 300), size)  # many ties
        times[: size // 3] = np.round(times[: size // 3])
        order = by_neuron_then_time(times, ids, n_ids)
        ref = np.lexsort((times, ids))
        np.testing.assert_array_equal(ids[order], ids[ref])
        np.testing.assert_array_equal(times[order], times[ref])
        assert np.array_equal(np.sort(order), np.arange(size))
