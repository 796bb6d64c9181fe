"""EventPropNetwork behaviour: tape overflow reporting, dropout, training, weights, errors."""
from __future__ import annotations

import numpy as np
import pytest

from genn_eventprop.network import (EventPropNetwork, HiddenLayer, NetworkSpec, WeightInit,
                                    connection_names)


def spec(name, **kw):
    base = dict(n_input=6, hidden=[HiddenLayer(8)], n_output=3, loss="sum", dt=0.5,
                n_steps=60, batch_size=4, precision="double", seed=5, name=name,
                weights={"in_h0": WeightInit(1.5, 0.5), "h0_out": WeightInit(0.5, 0.5)})
    base.update(kw)
    return NetworkSpec(**base)


def batch_of(rng, n, n_input=6, n_spikes=30, t_max=25.0):
    return [(rng.uniform(0.0, t_max, n_spikes), rng.integers(0, n_input, n_spikes))
            for _ in range(n)]


@pytest.mark.parametrize("event_driven", [True, False])
def test_tape_overflow_is_counted_and_warned(event_driven):
    """Counted in every pass; warned when gradients are computed (a forward pass alone
    loses nothing by it). Scheduled inputs have no tape and lose nothing."""
    import warnings
    net = EventPropNetwork(spec(f"beh_overflow_{event_driven}", n_max_spike=2,
                                event_driven_input=event_driven))
    batch = batch_of(np.random.default_rng(0), 4)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = net.forward(batch, [0, 1, 2, 0])
    with pytest.warns(RuntimeWarning, match="tape overflow"):
        net.gradients(batch, [0, 1, 2, 0])
    with pytest.warns(RuntimeWarning, match="tape overflow"):
        net.train_step(batch, [0, 1, 2, 0])
    counts = res.spike_counts["input"]
    expected_lost = int(np.maximum(counts - 2, 0).sum())
    assert expected_lost > 0
    assert res.tape_overflow["input"] == (0 if event_driven else expected_lost)
    assert res.tape_overflow["h0"] == int(np.maximum(res.spike_counts["h0"] - 2, 0).sum())


def test_no_overflow_no_warning():
    net = EventPropNetwork(spec("beh_no_overflow"))
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = net.forward(batch_of(np.random.default_rng(1), 4), [0, 1, 2, 0])
    assert all(v == 0 for v in res.tape_overflow.values())


def test_input_dropout_drops_the_expected_fraction():
    net = EventPropNetwork(spec("beh_drop", p_drop_input=0.3, batch_size=8))
    rng = np.random.default_rng(2)
    batch = [(rng.uniform(0.0, 15.0, 150), rng.integers(0, 6, 150)) for _ in range(8)]
    res = net.forward(batch, training=True)
    assert res.unemitted_input_spikes == 0
    kept = res.spike_counts["input"].sum() / (8 * 150)
    # binomial: sd = sqrt(0.3 * 0.7 / 1200) ~ 0.013
    assert abs(kept - 0.7) < 0.05
    again = net.forward(batch, training=True).spike_counts["input"]
    assert not np.array_equal(again, res.spike_counts["input"]), "same mask every trial"
    assert net.forward(batch).spike_counts["input"].sum() == 8 * 150  # evaluation: no dropout
    twin = EventPropNetwork(spec("beh_drop", p_drop_input=0.3, batch_size=8))
    np.testing.assert_array_equal(twin.forward(batch, training=True).spike_counts["input"],
                                  res.spike_counts["input"])


def test_hidden_noise_only_in_training():
    net = EventPropNetwork(spec("beh_noise", hidden=[HiddenLayer(8, noise=0.5)]))
    batch = batch_of(np.random.default_rng(7), 4)
    quiet = [net.forward(batch).scores for _ in range(2)]
    np.testing.assert_array_equal(quiet[0], quiet[1])
    noisy = net.forward(batch, training=True).scores
    assert not np.allclose(noisy, quiet[0])


def test_input_delay_lines():
    """Copy k of input channel c is input neuron k*n_input + c, delayed by k*input_delay;
    copies pushed past the trial end are counted, and in_h0 has a row per copy."""
    net = EventPropNetwork(spec("beh_delay", n_input_delay=2, input_delay=10.0, batch_size=1))
    assert net.n_input_neurons == 18 and net.get_weights("in_h0").shape == (18, 8)
    times, ids = np.array([1.0, 12.0, 25.0]), np.array([0, 3, 5])
    res = net.forward([(times, ids)])
    counts = res.spike_counts["input"][0]
    # copies at +10 and +20 ms: 25 -> 35 and 45 and 12 -> 32 fall beyond 30 ms
    assert res.delayed_beyond_trial == 3
    assert counts[[0, 3, 5, 6, 9, 12]].tolist() == [1, 1, 1, 1, 1, 1] and counts.sum() == 6


def test_deferred_input_spikes_are_counted():
    net = EventPropNetwork(spec("beh_deferred", batch_size=1))
    times = np.array([10.1, 10.2, 10.3, 20.0])
    res = net.forward([(times, np.zeros(4, int))])
    assert res.deferred_input_spikes == 2  # one step (dt 0.5) holds 10.1-10.3
    assert res.spike_counts["input"][0, 0] == 4


def test_input_spikes_left_at_trial_end_are_counted():
    net = EventPropNetwork(spec("beh_unemitted", batch_size=1))
    times = np.array([29.6, 29.7, 29.8, 29.9])
    with pytest.warns(RuntimeWarning, match="not emitted"):
        res = net.forward([(times, np.zeros(4, int))])
    assert res.spike_counts["input"][0, 0] == 1 and res.unemitted_input_spikes == 3


def test_training_reduces_the_loss():
    net = EventPropNetwork(spec("beh_train", learning_rate=0.02, batch_size=8))
    rng = np.random.default_rng(3)
    # class c: input neurons 2c, 2c+1 fire early
    def sample(c):
        ids = np.concatenate([np.full(8, 2 * c), np.full(8, 2 * c + 1), rng.integers(0, 6, 4)])
        times = np.concatenate([rng.uniform(1, 10, 16), rng.uniform(0, 29, 4)])
        return times, ids
    labels = np.arange(8) % 3
    data = [sample(c) for c in labels]
    first = net.forward(data, labels).loss
    for _ in range(30):
        net.train_step(data, labels)
    last = net.forward(data, labels)
    assert last.loss < 0.6 * first
    assert last.correct == 8


def test_weights_round_trip_and_shape_errors():
    net = EventPropNetwork(spec("beh_weights"))
    assert net.connections == connection_names(net.spec) == ["in_h0", "h0_out"]
    w = np.arange(48, dtype=float).reshape(6, 8) / 48
    net.set_weights("in_h0", w)
    np.testing.assert_array_equal(net.get_weights("in_h0"), w)
    with pytest.raises(ValueError, match=r"\(6, 8\)"):
        net.set_weights("in_h0", np.zeros((8, 6)))
    with pytest.raises(KeyError, match="in_h0"):
        net.get_weights("input_hidden")


@pytest.mark.parametrize("kw,match", [
    (dict(loss="sum_weight_exp"), "valid losses"),
    (dict(loss="avg_xentropyy"), "valid losses"),
    (dict(hidden=[HiddenLayer(4, neuron="LIFF")]), "valid: LIF"),
    (dict(hidden=[HiddenLayer(4, tau_m=5.0, tau_syn=5.0)]), "tau_m"),
    (dict(n_steps=0), "n_steps"),
    (dict(weights={"in_h1": WeightInit()}), "in_h1"),
])
def test_spec_errors_name_the_problem(kw, match):
    with pytest.raises(ValueError, match=match):
        EventPropNetwork(spec("beh_err", **kw))


def test_input_errors_name_the_problem():
    net = EventPropNetwork(spec("beh_input_err"))
    with pytest.raises(ValueError, match=r"\[0, 30.0\)"):
        net.forward([(np.array([31.0]), np.array([0]))])
    with pytest.raises(ValueError, match=r"\[0, 6\)"):
        net.forward([(np.array([1.0]), np.array([6]))])
    with pytest.raises(ValueError, match="exceeds batch_size"):
        net.forward(batch_of(np.random.default_rng(0), 5))
    with pytest.raises(ValueError, match="labels"):
        net.forward(batch_of(np.random.default_rng(0), 2), [0, 3])


def test_sum_weigh_input_weights_follow_the_definition():
    """a(t_n) = 0.01 dt/TAU_ACC sum_{s <= t_n} exp(-(t_n - s)/TAU_ACC), n = 1..T."""
    net = EventPropNetwork(spec("beh_swi", loss="sum_weigh_input", batch_size=2,
                                tau_accumulator=7.0))
    batch = batch_of(np.random.default_rng(11), 2)
    net.forward(batch)
    got = np.array(net.pops["out"].extra_global_params["input_weight"].view).reshape(2, 60)
    t_n = np.arange(1, 61) * 0.5
    for b, (times, _) in enumerate(batch):
        lag = t_n[:, None] - times[None, :]
        want = 0.01 * 0.5 / 7.0 * np.where(lag >= 0, np.exp(-np.maximum(lag, 0) / 7.0), 0).sum(1)
        np.testing.assert_allclose(got[b], want, rtol=1e-12, atol=1e-15)


def test_avg_xentropy_loss_value_matches_numpy():
    net = EventPropNetwork(spec("beh_avgx", loss="avg_xentropy", batch_size=2))
    batch = batch_of(np.random.default_rng(12), 2)
    res = net.forward(batch, [1, 2])
    V = np.array(net.pops["out"].extra_global_params["tape_Vout"].view).reshape(2, 3, 60)
    logp = V - np.log(np.exp(V).sum(1, keepdims=True))
    want = np.mean([-logp[0, 1].mean(), -logp[1, 2].mean()])
    assert res.loss == pytest.approx(want, rel=1e-12)
    np.testing.assert_allclose(res.scores, V.mean(2) * 1.0, rtol=1e-12)
