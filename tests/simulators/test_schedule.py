"""Learning-rate schedule of the training loop."""
from __future__ import annotations

import pytest

from genn_eventprop.simulators.schedule import LearningRate


def test_eta_decay_per_epoch():
    s = LearningRate(0.01, decay=0.5)
    s.start_epoch()
    assert s.lr == pytest.approx(0.005) and s.current == pytest.approx(0.005)
    s.start_epoch()
    assert s.current == pytest.approx(0.0025)


def test_ease_in_grows_by_the_factor_up_to_the_rate():
    s = LearningRate(1.0, ease_in=10.0)
    assert s.current == pytest.approx(1e-3)
    s.after_batch()
    s.after_batch()
    assert s.current == pytest.approx(0.1)
    for _ in range(5):
        s.after_batch()
    assert s.current == 1.0


def test_eta_fac_when_fast_ema_stops_rising():
    s = LearningRate(1.0, fac=0.5, min_epochs_fixed=2, ema_alpha1=0.5, ema_alpha2=0.9)
    for epoch, acc in enumerate([0.5, 0.6, 0.7, 0.8]):
        assert not s.end_epoch(epoch, acc)      # rising accuracy: fast EMA above slow
    # accuracy collapses: the fast EMA falls below the slow one from epoch 5 on;
    # reductions at most once per MIN_EPOCH_ETA_FIXED (2) epochs after the last one
    reduced = [s.end_epoch(epoch, 0.0) for epoch in range(4, 9)]
    assert reduced == [False, True, False, False, True]
    assert s.lr == pytest.approx(0.25) and s.last_reduction == 8


def test_state_round_trip():
    s = LearningRate(0.3, decay=0.9, ease_in=1.5)
    s.start_epoch()
    s.after_batch()
    t = LearningRate(**s.state())
    assert t.state() == s.state()
