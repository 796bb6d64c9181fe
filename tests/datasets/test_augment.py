"""Training-data augmentations: what each does to the spikes, drop counts, registry.

The reference hashes in ``test_matches_original_*`` were obtained outside this
repository by running the original research code (github.com/tnowotny/genn_eventprop,
``utils.py`` and ``simulator_SHD.py``'s ``normalise_spike_number``) on the data of
``_ref_data()`` with the seeds used below; outputs are compared after sorting
each sample's spikes by (time, id), since tie order is not specified there.
"""
import copy
import hashlib
import math

import numpy as np
import pytest

from genn_eventprop.datasets.augment import (
    AUGMENTATIONS,
    AugmentationError,
    apply_augmentations,
    blend,
    blend_dataset,
    id_jitter,
    normalise_spike_number,
    random_dilate,
    random_shift,
    thin_grid,
)
from genn_eventprop.datasets.spikes import GridSpikes


def _sample(times, ids):
    return (np.asarray(times, dtype=np.float64), np.asarray(ids, dtype=np.int64))


def _pairs(sample):
    return sorted(zip(sample[0].tolist(), sample[1].tolist()))


def _ref_data():
    r = np.random.default_rng(20240601)
    samples, labels = [], []
    for i in range(12):
        k = int(r.integers(20, 80))
        t = np.sort(r.integers(0, 300, k)).astype(np.float64)
        x = r.integers(0, 40, k).astype(np.int64)
        samples.append((t, x))
        labels.append(i % 3)
    return samples, np.array(labels, dtype=np.int64)


def _canon_hash(samples, labels):
    h = hashlib.sha256()
    for t, x in samples:
        o = np.lexsort((x, t))
        h.update(np.int64(len(t)).tobytes())
        h.update(np.ascontiguousarray(t[o], np.float64).tobytes())
        h.update(np.ascontiguousarray(x[o], np.int64).tobytes())
    h.update(np.ascontiguousarray(labels, np.int64).tobytes())
    return h.hexdigest()


# ----------------------------------------------------------------------------
# random_shift
# ----------------------------------------------------------------------------

@pytest.mark.parametrize("seed", range(8))
def test_random_shift_moves_all_ids_by_one_amount_and_counts_drops(seed):
    ids = np.arange(10)
    s = _sample(np.arange(10) * 7.0, ids)
    (t, x), dropped = random_shift(s, np.random.default_rng(seed), 6.0, 10)
    shift = math.trunc(np.random.default_rng(seed).uniform(-6.0, 6.0))
    valid = (ids + shift >= 0) & (ids + shift < 10)
    np.testing.assert_array_equal(x, ids[valid] + shift)
    np.testing.assert_array_equal(t, s[0][valid])
    assert dropped == abs(shift) == 10 - len(x)


def test_random_shift_range_and_distribution():
    # shift = int(Uniform[-3, 3)): values -2..2, 0 twice as likely as the others
    rng = np.random.default_rng(1)
    s = _sample([5.0], [50])
    shifts = np.array([random_shift(s, rng, 3.0, 101)[0][1][0] - 50 for _ in range(6000)])
    assert set(shifts.tolist()) == {-2, -1, 0, 1, 2}
    freq = np.array([np.mean(shifts == k) for k in (-2, -1, 0, 1, 2)])
    np.testing.assert_allclose(freq, [1 / 6, 1 / 6, 1 / 3, 1 / 6, 1 / 6], atol=0.025)


def test_random_shift_zero_is_identity():
    s = _sample([1.0, 2.0], [0, 9])
    (t, x), dropped = random_shift(s, np.random.default_rng(0), 0.0, 10)
    np.testing.assert_array_equal(x, s[1])
    np.testing.assert_array_equal(t, s[0])
    assert dropped == 0


# ----------------------------------------------------------------------------
# random_dilate
# ----------------------------------------------------------------------------

@pytest.mark.parametrize("seed", range(8))
def test_random_dilate_scales_times_keeps_order_counts_drops(seed):
    times = np.array([10.0, 50.0, 100.0, 180.0, 199.0])
    ids = np.array([4, 3, 2, 1, 0])
    (t, x), dropped = random_dilate((times, ids), np.random.default_rng(seed), 0.8, 1.25, 200.0)
    factor = np.exp(np.random.default_rng(seed).uniform(np.log(0.8), np.log(1.25)))
    assert 0.8 <= factor <= 1.25
    keep = times * factor < 200.0
    np.testing.assert_allclose(t, times[keep] * factor, rtol=1e-15)
    np.testing.assert_array_equal(x, ids[keep])   # same spikes, same order
    assert np.all(np.diff(t) > 0)
    assert dropped == int((~keep).sum())


def test_random_dilate_factor_is_log_uniform():
    rng = np.random.default_rng(3)
    s = _sample([1.0], [0])
    f = np.array([random_dilate(s, rng, 0.5, 2.0, 10.0)[0][0][0] for _ in range(4000)])
    assert f.min() >= 0.5 and f.max() < 2.0
    logs = np.log(f)
    assert abs(logs.mean()) < 0.03                   # symmetric in log space
    assert abs(np.mean(f < 1.0) - 0.5) < 0.03


def test_random_dilate_fixed_factor():
    s = _sample([10.0, 20.0], [1, 2])
    (t, x), dropped = random_dilate(s, np.random.default_rng(0), 1.5, 1.5, 25.0)
    np.testing.assert_allclose(t, [15.0])
    np.testing.assert_array_equal(x, [1])
    assert dropped == 1


# ----------------------------------------------------------------------------
# id_jitter
# ----------------------------------------------------------------------------

def test_id_jitter_spread_and_times():
    n = 20000
    s = _sample(np.linspace(0.0, 999.0, n), np.full(n, 500))
    (t, x), dropped = id_jitter(s, np.random.default_rng(5), 4.0, 1001)
    assert dropped == 0
    np.testing.assert_array_equal(t, s[0])
    off = x - 500
    assert abs(off.mean()) < 0.1
    assert abs(off.std() - math.sqrt(16.0 + 1 / 12)) < 0.1   # rounding adds ~1/12 variance
    assert np.abs(off).max() <= 4.0 * 6


def test_id_jitter_rounds_the_gaussian_draw():
    s = _sample(np.arange(50.0), np.full(50, 20))
    (t, x), dropped = id_jitter(s, np.random.default_rng(9), 1.7, 41)
    z = np.random.default_rng(9).standard_normal(50)
    np.testing.assert_array_equal(x, 20 + np.rint(z * 1.7).astype(int))
    assert dropped == 0


def test_id_jitter_drops_out_of_range_and_counts():
    n = 1000
    s = _sample(np.arange(n, dtype=float), np.zeros(n, dtype=int))
    (t, x), dropped = id_jitter(s, np.random.default_rng(2), 3.0, 5)
    assert x.min() >= 0 and x.max() < 5
    assert dropped == n - len(x)
    assert 300 < dropped < 700                       # about half go below channel 0
    assert set(t.tolist()) <= set(s[0].tolist())


def test_id_jitter_zero_sigma_is_identity():
    s = _sample([1.0, 2.0, 3.0], [0, 5, 9])
    (t, x), dropped = id_jitter(s, np.random.default_rng(0), 0.0, 10)
    np.testing.assert_array_equal(x, s[1])
    assert dropped == 0


# ----------------------------------------------------------------------------
# blend
# ----------------------------------------------------------------------------

def test_blend_centres_samples_on_mean_position():
    a = _sample([100.0, 200.0, 300.0], [10, 12, 14])      # means: id 12, t 200
    b = _sample([500.0, 600.0], [40, 42])                 # means: id 41, t 550
    (t, x), dropped = blend([a, b], [1.0, 1.0], np.random.default_rng(0), 100, 1000.0)
    # grand means 26.5 / 375: a moves by int(14.5)=14 ch, int(175)=175 ms; b by -14, -175
    assert dropped == 0
    assert _pairs((t, x)) == sorted([(275.0, 24), (375.0, 26), (475.0, 28), (325.0, 26), (425.0, 28)])
    assert np.all(np.diff(t) >= 0)


def test_blend_repeated_sample_moved_once():
    a = _sample([100.0, 200.0, 300.0], [10, 12, 14])
    b = _sample([500.0, 600.0], [40, 42])
    (t, x), _ = blend([a, a, b], [1.0, 1.0, 1.0], np.random.default_rng(0), 100, 1000.0)
    # grand means: id (12+12+41)/3 = 21.67, t 316.67 -> a: +9 ch, +116 ms; b: -19 ch, -233 ms
    a_moved = [(216.0, 19), (316.0, 21), (416.0, 23)]
    b_moved = [(267.0, 21), (367.0, 23)]
    assert _pairs((t, x)) == sorted(a_moved * 2 + b_moved)


def test_blend_picks_spikes_with_requested_probabilities():
    n = 4000
    times = np.repeat(np.arange(200.0), n // 200)
    even = _sample(times, np.tile(np.arange(0, 200, 2), n // 100))      # mean id 99
    odd = _sample(times, np.tile(np.arange(1, 201, 2), n // 100))       # mean id 100
    (t, x), dropped = blend([even, odd], [0.8, 0.2], np.random.default_rng(4), 201, 200.0)
    assert dropped == 0                               # offsets truncate to 0
    # every output spike is a spike of one of the inputs
    assert set(zip(t.tolist(), x.tolist())) <= set(_pairs(even)) | set(_pairs(odd))
    assert abs(np.sum(x % 2 == 0) / n - 0.8) < 0.03
    assert abs(np.sum(x % 2 == 1) / n - 0.2) < 0.03


def test_blend_counts_spikes_moved_out_of_range():
    a = _sample([0.0, 10.0], [0, 1])                  # mean id 0.5, t 5
    b = _sample([90.0, 100.0], [8, 9])                # mean id 8.5, t 95
    (t, x), dropped = blend([a, b], [1.0, 1.0], np.random.default_rng(0), 10, 101.0)
    # a moves +4 ch, +45 ms; b -4 ch, -45 ms: nothing leaves [0, 10) x [0, 101)
    assert dropped == 0
    assert _pairs((t, x)) == [(45.0, 4), (45.0, 4), (55.0, 5), (55.0, 5)]
    c = _sample([0.0, 200.0], [0, 9])                 # mean id 4.5, t 100
    d = _sample([200.0], [4])                         # mean id 4, t 200
    (t, x), dropped = blend([c, d], [1.0, 1.0], np.random.default_rng(0), 10, 201.0)
    # grand means 4.25 / 150: c moves 0 ch, +50 ms, so its spike at 250 ms leaves
    # the 201 ms trial; d moves 0 ch, -50 ms
    assert dropped == 1
    assert _pairs((t, x)) == [(50.0, 0), (150.0, 4)]


def test_blend_empty_sample_contributes_nothing():
    a = _sample([10.0, 20.0], [3, 5])
    e = _sample([], [])
    (t, x), dropped = blend([a, e], [1.0, 1.0], np.random.default_rng(0), 10, 100.0)
    assert _pairs((t, x)) == _pairs(a) and dropped == 0
    (t, x), dropped = blend([e, e], [1.0, 1.0], np.random.default_rng(0), 10, 100.0)
    assert len(t) == 0 and t.dtype == np.float64 and x.dtype == np.int64


# ----------------------------------------------------------------------------
# blend_dataset
# ----------------------------------------------------------------------------

def _class_data():
    # class c has spikes only in channels 20c..20c+9; within a class all samples
    # have the same mean id and time, so blending does not move them
    samples, labels, speakers = [], [], []
    for c in range(3):
        for k in range(4 if c == 0 else 2):
            pattern = [0, 9, 2, 7, 4, 5] if k % 2 == 0 else [9, 0, 7, 2, 5, 4]   # mean 4.5
            samples.append(_sample([10.0, 20.0, 30.0, 40.0, 50.0, 60.0], 20 * c + np.array(pattern)))
            labels.append(c)
            speakers.append(10 * c + k)
    return samples, np.array(labels), np.array(speakers)


def test_blend_dataset_keeps_class_and_appends():
    samples, labels, speakers = _class_data()
    for s in samples:
        assert np.mean(s[1]) % 20 == pytest.approx(4.5)
    out, out_labels, out_speakers, dropped = blend_dataset(
        samples, labels, np.random.default_rng(0), 50, [0.5, 0.5], 60, 100.0, speakers=speakers)
    assert len(out) == len(samples) + 50 == len(out_labels) == len(out_speakers)
    assert dropped == 0
    for s, o in zip(samples, out[:len(samples)]):
        assert _pairs(s) == _pairs(o)
    np.testing.assert_array_equal(out_labels[:len(samples)], labels)
    for (t, x), c, spk in zip(out[len(samples):], out_labels[len(samples):], out_speakers[len(samples):]):
        class_spikes = set().union(*(_pairs(s) for s, l in zip(samples, labels) if l == c))
        assert set(zip(t.tolist(), x.tolist())) <= class_spikes     # only spikes of its class
        assert spk in speakers[labels == c]


def test_blend_dataset_classes_in_proportion_to_frequency():
    samples, labels, _ = _class_data()       # class 0: 4/8, classes 1, 2: 2/8 each
    _, out_labels, out_speakers, _ = blend_dataset(
        samples, labels, np.random.default_rng(1), 2000, [0.5, 0.5], 60, 100.0)
    assert out_speakers is None
    new = out_labels[len(samples):]
    np.testing.assert_allclose([np.mean(new == c) for c in range(3)], [0.5, 0.25, 0.25], atol=0.03)


def test_blend_dataset_zero_new():
    samples, labels, _ = _class_data()
    out, out_labels, _, dropped = blend_dataset(
        samples, labels, np.random.default_rng(1), 0, [0.5], 60, 100.0)
    assert len(out) == len(samples) and dropped == 0


# ----------------------------------------------------------------------------
# normalise_spike_number
# ----------------------------------------------------------------------------

def test_normalise_spike_number_equalises_counts_in_expectation():
    sizes = [20, 100, 400, 1000]
    samples = [_sample(np.arange(n, dtype=float), np.arange(n) % 7) for n in sizes]
    counts = []
    rng = np.random.default_rng(0)
    for _ in range(300):
        out, dropped = normalise_spike_number(samples, rng)
        assert dropped == sum(sizes) - sum(len(t) for t, _ in out)
        assert _pairs(out[0]) == _pairs(samples[0])          # the smallest is kept whole
        for s, o in zip(samples, out):                        # kept spikes keep their order
            assert set(o[0].tolist()) <= set(s[0].tolist()) and np.all(np.diff(o[0]) > 0)
        counts.append([len(t) for t, _ in out])
    mean_counts = np.mean(counts, axis=0)
    np.testing.assert_allclose(mean_counts, 20.0, atol=1.0)
    assert np.std(np.array(counts)[:, 3]) == pytest.approx(math.sqrt(20 * (1 - 20 / 1000)), rel=0.2)


def test_normalise_spike_number_target_and_empty_samples():
    samples = [_sample([], []), _sample([1.0, 2.0, 3.0], [0, 1, 2]),
               _sample(np.arange(30.0), np.zeros(30, int))]
    out, _ = normalise_spike_number(samples, np.random.default_rng(0))
    assert len(out[0][0]) == 0 and len(out[1][0]) == 3       # target 3, not 0
    out, dropped = normalise_spike_number(samples, np.random.default_rng(0), target=30)
    assert [len(t) for t, _ in out] == [0, 3, 30] and dropped == 0
    with pytest.warns(RuntimeWarning):
        out, dropped = normalise_spike_number(samples, np.random.default_rng(0), target=0)
    assert dropped == 33


# ----------------------------------------------------------------------------
# apply_augmentations and the registry
# ----------------------------------------------------------------------------

def test_registry_names():
    assert set(AUGMENTATIONS) == {"random_shift", "random_dilate", "ID_jitter", "blend",
                                  "NORMALISE_SPIKE_NUMBER"}
    assert AUGMENTATIONS["ID_jitter"] is id_jitter
    assert AUGMENTATIONS["blend"] is blend_dataset


def test_apply_equals_chain_in_original_order():
    samples, labels = _ref_data()
    aug = {"random_shift": 8.0, "ID_jitter": 2.0, "blend": [0.6, 0.4],
           "random_dilate": [0.8, 1.25], "NORMALISE_SPIKE_NUMBER": True}
    out, out_labels, report = apply_augmentations(
        samples, labels, aug, np.random.default_rng(3), 40, 300.0, n_train=20)
    assert report["applied"] == ["NORMALISE_SPIKE_NUMBER", "random_shift", "ID_jitter", "blend",
                                 "random_dilate"]
    rng = np.random.default_rng(3)
    target = min(len(t) for t, _ in samples)
    assert report["normalise_target"] == target
    cur, d_norm = normalise_spike_number(samples, rng)
    res = [random_shift(s, rng, 8.0, 40) for s in cur]
    cur = [r[0] for r in res]
    d_shift = sum(r[1] for r in res)
    res = [id_jitter(s, rng, 2.0, 40) for s in cur]
    cur = [r[0] for r in res]
    d_jit = sum(r[1] for r in res)
    cur, lab, _, d_blend = blend_dataset(cur, labels, rng, 8, [0.6, 0.4], 40, 300.0)
    res = [random_dilate(s, rng, 0.8, 1.25, 300.0) for s in cur]
    cur = [r[0] for r in res]
    d_dil = sum(r[1] for r in res)
    assert len(out) == 20 and report["n_blended"] == 8
    np.testing.assert_array_equal(out_labels, lab)
    for a, b in zip(out, cur):
        np.testing.assert_array_equal(a[0], b[0])
        np.testing.assert_array_equal(a[1], b[1])
    assert report["dropped"] == {"NORMALISE_SPIKE_NUMBER": d_norm, "random_shift": d_shift,
                                 "ID_jitter": d_jit, "blend": d_blend, "random_dilate": d_dil}


def test_apply_drop_counts_add_up():
    samples, labels = _ref_data()
    before = sum(len(t) for t, _ in samples)
    out, _, report = apply_augmentations(
        samples, labels, {"random_shift": 20.0, "random_dilate": [1.0, 2.0], "ID_jitter": 5.0},
        np.random.default_rng(0), 40, 300.0)
    after = sum(len(t) for t, _ in out)
    assert all(v > 0 for v in report["dropped"].values())
    assert before - after == sum(report["dropped"].values())
    assert report["n_blended"] == 0 and report["normalise_target"] is None


def _as_grid(samples):
    counts = [len(t) for t, _ in samples]
    offsets = np.concatenate(([0], np.cumsum(counts))).astype(np.int64)
    steps = np.concatenate([t for t, _ in samples]).astype(np.int32)
    ids = np.concatenate([x for _, x in samples]).astype(np.uint16)
    n = len(samples)
    return GridSpikes(steps, ids, offsets, np.arange(n) % 3, np.zeros(n, np.int64), 1.0, 40)


def test_thin_grid_equals_normalise_spike_number_on_the_same_draws():
    samples, _ = _ref_data()
    samples = samples[:4] + [_sample([], [])] + samples[4:] + [_sample([], [])]
    grid = _as_grid(samples)
    for target in (25, 50, 1000):
        ref, ref_dropped = normalise_spike_number(samples, np.random.default_rng(3),
                                                  target=target)
        thinned, dropped = thin_grid(grid, target, np.random.default_rng(3))
        assert dropped == ref_dropped and len(thinned) == len(samples)
        for i, (t, x) in enumerate(ref):
            np.testing.assert_array_equal(thinned[i][0], t)
            np.testing.assert_array_equal(thinned[i][1], x)
        np.testing.assert_array_equal(thinned.labels, grid.labels)
    assert thin_grid(grid, 1000, np.random.default_rng(0))[1] == 0
    with pytest.raises(AugmentationError, match="target"):
        thin_grid(grid, -1, np.random.default_rng(0))


def test_apply_normalise_uses_a_given_target():
    samples, labels = _ref_data()
    smallest = min(len(t) for t, _ in samples)
    out, _, report = apply_augmentations(samples, labels, {"NORMALISE_SPIKE_NUMBER": True},
                                         np.random.default_rng(1), 40, 300.0,
                                         normalise_target=smallest // 2)
    ref, _ = normalise_spike_number(samples, np.random.default_rng(1), target=smallest // 2)
    assert report["normalise_target"] == smallest // 2
    assert [len(t) for t, _ in out] == [len(t) for t, _ in ref]


def test_apply_normalise_false_and_empty_dict():
    samples, labels = _ref_data()
    for aug in ({}, {"NORMALISE_SPIKE_NUMBER": False}):
        out, out_labels, report = apply_augmentations(
            samples, labels, aug, np.random.default_rng(0), 40, 300.0)
        assert report["applied"] == [] and report["dropped"] == {}
        for s, o in zip(samples, out):
            np.testing.assert_array_equal(s[0], o[0])
            assert not np.shares_memory(s[0], o[0]) and not np.shares_memory(s[1], o[1])


def test_apply_blend_when_already_large_enough():
    samples, labels = _ref_data()
    out, _, report = apply_augmentations(
        samples, labels, {"blend": [0.5, 0.5]}, np.random.default_rng(0), 40, 300.0, n_train=5)
    assert len(out) == len(samples) and report["n_blended"] == 0


def test_reproducible_with_same_seed():
    samples, labels = _ref_data()
    aug = {"NORMALISE_SPIKE_NUMBER": True, "blend": [0.5, 0.5], "random_shift": 5.0,
           "random_dilate": [0.9, 1.1], "ID_jitter": 1.0}

    def run(seed):
        return apply_augmentations(samples, labels, aug, np.random.default_rng(seed), 40, 300.0,
                                   n_train=30)
    a, b, c = run(42), run(42), run(43)
    np.testing.assert_array_equal(a[1], b[1])
    assert a[2] == b[2]
    for x, y in zip(a[0], b[0]):
        np.testing.assert_array_equal(x[0], y[0])
        np.testing.assert_array_equal(x[1], y[1])
    assert any(len(x[0]) != len(y[0]) or not np.array_equal(x[1], y[1]) for x, y in zip(a[0], c[0]))


def test_inputs_not_modified_and_outputs_are_new_arrays():
    samples, labels = _ref_data()
    keep = copy.deepcopy((samples, labels))
    rng = np.random.default_rng(0)
    outs = [random_shift(samples[0], rng, 5.0, 40)[0],
            random_dilate(samples[0], rng, 0.9, 1.1, 300.0)[0],
            id_jitter(samples[0], rng, 2.0, 40)[0],
            blend(samples[:2], [1.0, 1.0], rng, 40, 300.0)[0]]
    outs += blend_dataset(samples, labels, rng, 4, [0.5, 0.5], 40, 300.0)[0]
    outs += normalise_spike_number(samples, rng)[0]
    out, out_labels, _ = apply_augmentations(
        samples, labels, {"NORMALISE_SPIKE_NUMBER": True, "blend": [1.0, 1.0], "random_shift": 3.0,
                          "random_dilate": [0.9, 1.1], "ID_jitter": 1.0},
        rng, 40, 300.0, n_train=16)
    outs += out
    assert not np.shares_memory(out_labels, labels)
    for (t, x), (t0, x0) in zip(samples, keep[0]):
        np.testing.assert_array_equal(t, t0)
        np.testing.assert_array_equal(x, x0)
    np.testing.assert_array_equal(labels, keep[1])
    for t, x in outs:
        assert t.dtype == np.float64 and x.dtype == np.int64
        for s in samples:
            assert not np.shares_memory(t, s[0]) and not np.shares_memory(x, s[1])


# ----------------------------------------------------------------------------
# Agreement with the original (hashes from running the original code)
# ----------------------------------------------------------------------------

def test_matches_original_chain():
    samples, labels = _ref_data()
    aug = {"NORMALISE_SPIKE_NUMBER": True, "blend": [0.6, 0.6], "random_shift": 8.0,
           "random_dilate": [0.8, 1.25], "ID_jitter": 2.0}
    out, out_labels, _ = apply_augmentations(
        samples, labels, aug, np.random.default_rng(7), 40, 300.0, n_train=20)
    assert sum(len(t) for t, _ in out) == 327
    assert _canon_hash(out, out_labels) == \
        "1ad2a0b14b088de95fba675e8765b5905e7e3d9e2f61b15c5ec898c06799f9bf"


@pytest.mark.parametrize("fn, n_spikes, digest", [
    (lambda s, r: random_shift(s, r, 8.0, 40), 452,
     "7a200f34cd60e2f9ab7dad0fb26d4bf7fa5eef4b2da4c1e096000f5e1a52f510"),
    (lambda s, r: random_dilate(s, r, 0.8, 1.25, 300.0), 485,
     "d70611edd2fd940e4ee6b787adf049760d7979539f2365cbd1ad1a162aa3a6fb"),
    (lambda s, r: id_jitter(s, r, 2.0, 40), 491,
     "ea6545da10117cfa0e95caa32ad7e709bbb5474a4f5fee7f7c8ad51c8c677416"),
], ids=["random_shift", "random_dilate", "ID_jitter"])
def test_matches_original_per_sample(fn, n_spikes, digest):
    samples, labels = _ref_data()
    rng = np.random.default_rng(11)
    out = [fn(s, rng)[0] for s in samples]
    assert sum(len(t) for t, _ in out) == n_spikes
    assert _canon_hash(out, labels) == digest


# ----------------------------------------------------------------------------
# Errors
# ----------------------------------------------------------------------------

def test_unknown_name_lists_valid_names():
    samples, labels = _ref_data()
    with pytest.raises(ValueError) as e:
        apply_augmentations(samples, labels, {"random_shfit": 4.0}, np.random.default_rng(0), 40, 300.0)
    msg = str(e.value)
    assert "random_shfit" in msg
    for name in AUGMENTATIONS:
        assert name in msg


@pytest.mark.parametrize("name, value, hint", [
    ("random_shift", [1, 2], "max_shift"),
    ("random_shift", -1.0, "max_shift"),
    ("random_shift", "40", "max_shift"),
    ("random_dilate", 1.1, "[min_factor, max_factor]"),
    ("random_dilate", [0.9], "[min_factor, max_factor]"),
    ("random_dilate", [1.2, 0.8], "[min_factor, max_factor]"),
    ("random_dilate", [0.0, 1.0], "[min_factor, max_factor]"),
    ("ID_jitter", [5.0], "sigma"),
    ("ID_jitter", float("nan"), "sigma"),
    ("blend", 0.5, "probabilities"),
    ("blend", [], "probabilities"),
    ("blend", [0.5, 1.5], "probabilities"),
    ("NORMALISE_SPIKE_NUMBER", 1, "True or False"),
])
def test_bad_parameter_names_augmentation_and_form(name, value, hint):
    samples, labels = _ref_data()
    with pytest.raises(ValueError) as e:
        apply_augmentations(samples, labels, {name: value}, np.random.default_rng(0), 40, 300.0,
                            n_train=20)
    assert repr(name) in str(e.value) and hint in str(e.value)


def test_blend_needs_n_train():
    samples, labels = _ref_data()
    with pytest.raises(ValueError, match="n_train"):
        apply_augmentations(samples, labels, {"blend": [0.5, 0.5]}, np.random.default_rng(0), 40, 300.0)


def test_errors_are_checked_before_anything_runs():
    samples, labels = _ref_data()
    rng = np.random.default_rng(0)
    state = copy.deepcopy(rng.bit_generator.state)
    with pytest.raises(AugmentationError):
        apply_augmentations(samples, labels, {"random_shift": 3.0, "ID_jitter": "x"}, rng, 40, 300.0)
    assert rng.bit_generator.state == state


@pytest.mark.parametrize("bad", [
    _sample([1.0, 400.0], [0, 1]),     # time beyond the trial
    _sample([-1.0], [0]),              # negative time
    _sample([1.0], [40]),              # id out of range
    _sample([1.0, 2.0], [0]),          # length mismatch
    (np.array([1.0]), np.array([0.5])),  # non-integer id
])
def test_bad_samples_raise(bad):
    samples, labels = _ref_data()
    with pytest.raises(ValueError):
        apply_augmentations(samples + [bad], np.append(labels, 0), {}, np.random.default_rng(0), 40, 300.0)


def test_needs_a_generator():
    with pytest.raises(ValueError, match="Generator"):
        random_shift(_sample([1.0], [0]), np.random.RandomState(0), 2.0, 10)
