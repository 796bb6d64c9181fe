"""Yin-Yang generator: bit-for-bit agreement with the reference dataset, regions, encoding.

Reference values below were obtained outside this repository from
github.com/lkriener/yin_yang_data_set (commit e6eef96): the arrays in its
``publication_data/`` folder (train/validation/test ``*_samples.npy`` and
``*_labels.npy``), which equal its ``YinYangDataset(size=5000, seed=42)``,
``(size=1000, seed=41)`` and ``(size=1000, seed=40)`` (the splits its README
uses), and, for non-default radii, one run of its ``YinYangDataset``.
Hashes are sha256 of the little-endian float64 samples / int64 labels.
"""
import hashlib

import numpy as np
import pytest

from genn_eventprop.datasets.yinyang import (
    CLASS_NAMES,
    class_of,
    generate_yinyang,
    in_disc,
    latency_encode,
)


def _sha(a, dtype):
    return hashlib.sha256(np.ascontiguousarray(a, dtype=dtype).tobytes()).hexdigest()


# name: (size, seed, r_small, r_big, sha(samples), sha(labels), label counts,
#        first 5 samples, first 5 labels, last 5 labels)
REFERENCE = {
    "train": (
        5000, 42, 0.1, 0.5,
        "f5a4054d56f2a058f8250fba7ff9720458e1625db7af78a295e45701745b2228",
        "534d12acda4f9dbc7208a99d3646115a4aa7d74ca31d6d23f822079a568559b7",
        [1681, 1702, 1617],
        [[0.6803075385877797, 0.450499251969543, 0.3196924614122203, 0.549500748030457],
         [0.09767211400638387, 0.6842330265121569, 0.9023278859936161, 0.3157669734878431],
         [0.7553614103176525, 0.4251558744912447, 0.24463858968234753, 0.5748441255087553],
         [0.5978999788110851, 0.9218742350231168, 0.40210002118891486, 0.07812576497688317],
         [0.32533033076326434, 0.388677289689482, 0.6746696692367357, 0.611322710310518]],
        [2, 1, 2, 1, 1], [1, 2, 1, 0, 2],
    ),
    "validation": (
        1000, 41, 0.1, 0.5,
        "5eac358bdf2122763dce3703a79f3005e56e46a4db25ec329a07333d0f7b8093",
        "5a4c2f605814a620f514c1091f10441ce562cd81e902ce701b3cf94ae7576f7d",
        [316, 336, 348],
        [[0.6805727261759029, 0.3209733938933629, 0.3194272738240971, 0.6790266061066371],
         [0.6685157172603458, 0.9174478488708967, 0.33148428273965425, 0.0825521511291033],
         [0.8019778902252007, 0.17902872922296542, 0.19802210977479928, 0.8209712707770346],
         [0.5132378121429716, 0.23917082477347973, 0.4867621878570284, 0.7608291752265203],
         [0.728456487385402, 0.4217580375664549, 0.27154351261459797, 0.5782419624335451]],
        [0, 1, 0, 0, 2], [1, 0, 0, 2, 1],
    ),
    "test": (
        1000, 40, 0.1, 0.5,
        "7bab3ed668ed4992679cff6339fe21bfe7d0c921ddc6187eaa3bc6ef34b888d7",
        "daa0f8f4e3b37b1ddec2afee22f09afb768f0e575f3f568e7469f1ebc6af73c1",
        [350, 316, 334],
        [[0.23409664559563403, 0.4017249751828972, 0.765903354404366, 0.5982750248171028],
         [0.7513290219574494, 0.4682425192680968, 0.24867097804255056, 0.5317574807319032],
         [0.13832530718825586, 0.570953971325061, 0.8616746928117441, 0.429046028674939],
         [0.1109233190605734, 0.5798201746729698, 0.8890766809394266, 0.42017982532703024],
         [0.11271575614356144, 0.5242526831177013, 0.8872842438564386, 0.47574731688229865]],
        [2, 2, 1, 1, 1], [1, 0, 1, 0, 1],
    ),
    # not published: a run of the reference YinYangDataset(r_small=0.15, r_big=0.4, size=300, seed=9)
    "custom_radii": (
        300, 9, 0.15, 0.4,
        "957fbf922badc1dd24102c5e6c14b4af30d38b3d24e0245f96962d334e2d0829",
        "be928440968f27d2d8bb72d2c2aca0d862aa1c2e8618380e7cd03dbe7b8e7394",
        [109, 101, 90],
        [[0.291568818699566, 0.39930429158075625, 0.708431181300434, 0.6006957084192437],
         [0.1984809347308473, 0.06724772093228007, 0.8015190652691527, 0.93275227906772],
         [0.4382702264371853, 0.5619419392544442, 0.5617297735628147, 0.43805806074555576],
         [0.13609131253777537, 0.2237822595421041, 0.8639086874622246, 0.7762177404578959],
         [0.05606844635556305, 0.5084582655697968, 0.9439315536444369, 0.4915417344302032]],
        [2, 0, 1, 1, 1], [1, 0, 2, 2, 0],
    ),
}

_cache = {}


def _data(name):
    if name not in _cache:
        size, seed, rs, rb = REFERENCE[name][:4]
        _cache[name] = generate_yinyang(size, seed, r_small=rs, r_big=rb)
    return _cache[name]


@pytest.mark.parametrize("name", list(REFERENCE))
def test_matches_reference_bit_for_bit(name):
    size, seed, rs, rb, sha_v, sha_c, counts, first, first_c, last_c = REFERENCE[name]
    values, classes = _data(name)
    assert values.dtype == np.float64 and values.shape == (size, 4)
    assert classes.dtype == np.int64 and classes.shape == (size,)
    # repr() of a float64 round-trips exactly, so this is an exact comparison
    np.testing.assert_array_equal(values[:5], np.array(first))
    assert classes[:5].tolist() == first_c
    assert classes[-5:].tolist() == last_c
    assert np.bincount(classes, minlength=3).tolist() == counts
    assert _sha(values, "<f8") == sha_v
    assert _sha(classes, "<i8") == sha_c


def test_default_radii_and_reproducible():
    v1, c1 = generate_yinyang(50, 40)
    v2, c2 = generate_yinyang(50, 40, r_small=0.1, r_big=0.5, flipped_coords=True)
    np.testing.assert_array_equal(v1, v2)
    np.testing.assert_array_equal(c1, c2)
    np.testing.assert_array_equal(v1, _data("test")[0][:50])
    # a different seed gives different points
    v3, _ = generate_yinyang(50, 41)
    assert not np.any(v3 == v1)


def test_prefix_property():
    # sample i depends only on the stream before it: a shorter set is a prefix
    v, c = generate_yinyang(37, 42)
    np.testing.assert_array_equal(v, _data("train")[0][:37])
    np.testing.assert_array_equal(c, _data("train")[1][:37])


def test_class_balance():
    _, classes = _data("train")
    counts = np.bincount(classes, minlength=3)
    assert counts.sum() == 5000
    # target class is uniform on {0,1,2}: each count ~ Binomial(5000, 1/3), sd ~ 33
    assert np.all(np.abs(counts - 5000 / 3) < 5 * np.sqrt(5000 * 2 / 9))
    assert CLASS_NAMES == ("yin", "yang", "dot")


@pytest.mark.parametrize("name", ["train", "custom_radii"])
def test_region_membership(name):
    rs, rb = REFERENCE[name][2:4]
    values, classes = _data(name)
    x, y = values[:, 0], values[:, 1]
    assert np.all(np.hypot(x - rb, y - rb) <= rb * (1 + 1e-12))
    assert all(in_disc(a, b, r_big=rb) for a, b in zip(x, y))
    got = np.array([class_of(a, b, r_small=rs, r_big=rb) for a, b in zip(x, y)])
    np.testing.assert_array_equal(got, classes)
    # dots: within r_small of an eye centre
    d_left = np.hypot(x - 0.5 * rb, y - rb)
    d_right = np.hypot(x - 1.5 * rb, y - rb)
    np.testing.assert_array_equal(classes == 2, (d_left < rs) | (d_right < rs))


def test_class_of_landmarks():
    # eye centres are dots; the ring around the left eye is class 1, around the right eye class 0
    assert class_of(0.25, 0.5) == 2 and class_of(0.75, 0.5) == 2
    assert class_of(0.25, 0.5 + 0.15) == 1
    assert class_of(0.75, 0.5 + 0.15) == 0
    # top of the disc (y > r_big, far from the right eye) is 1, bottom is 0
    assert class_of(0.5, 0.95) == 1
    assert class_of(0.5, 0.05) == 0
    assert isinstance(class_of(0.5, 0.05), int)
    # scaled geometry
    assert class_of(0.5, 1.0, r_small=0.2, r_big=1.0) == 2
    assert not in_disc(0.0, 0.0) and in_disc(0.5, 0.5)


def test_flipped_coordinates():
    values, classes = _data("validation")
    np.testing.assert_array_equal(values[:, 2], 1.0 - values[:, 0])
    np.testing.assert_array_equal(values[:, 3], 1.0 - values[:, 1])
    v2, c2 = generate_yinyang(1000, 41, flipped_coords=False)
    assert v2.shape == (1000, 2) and v2.dtype == np.float64
    np.testing.assert_array_equal(v2, values[:, :2])
    np.testing.assert_array_equal(c2, classes)
    assert values.min() >= 0.0 and values.max() <= 1.0


def test_latency_encode():
    trial, dt = 30.0, 0.1
    values, _ = _data("test")
    enc = latency_encode(values, trial, dt)
    assert len(enc) == len(values)
    for i in (0, 1, 999):
        times, ids = enc[i]
        assert times.dtype == np.float64 and ids.dtype == np.int64
        assert ids.tolist() == [0, 1, 2, 3, 4]
        assert times[0] == 2 * dt
        np.testing.assert_array_equal(times[1:], values[i] * (trial - 4 * dt) + 2 * dt)
    all_t = np.concatenate([t for t, _ in enc])
    assert all_t.min() >= 2 * dt and all_t.max() <= trial - 2 * dt + 1e-12
    # extremes map to the ends of the window
    (t, ids), = latency_encode(np.array([[0.0, 1.0, 0.5]]), 10.0, 0.5)
    np.testing.assert_allclose(t, [1.0, 1.0, 9.0, 5.0], rtol=0, atol=1e-15)
    assert ids.tolist() == [0, 1, 2, 3]
    # the returned arrays are independent copies
    enc[0][0][0] = -1.0
    assert enc[1][0][0] == 2 * dt
    assert latency_encode(np.zeros((0, 4)), trial, dt) == []


@pytest.mark.parametrize("kwargs, match", [
    (dict(size=0, seed=1), "size must be >= 1"),
    (dict(size=-3, seed=1), "size must be >= 1"),
    (dict(size=2.5, seed=1), "size must be an integer"),
    (dict(size=10, seed=-1), r"seed must be in \[0, 2\*\*32 - 1\]"),
    (dict(size=10, seed=1.0), "seed must be an integer"),
    (dict(size=10, seed=1, r_small=-0.1), "r_small must be > 0"),
    (dict(size=10, seed=1, r_small=0.0), "r_small must be > 0"),
    (dict(size=10, seed=1, r_big=-0.5), "r_big must be > 0"),
    (dict(size=10, seed=1, r_small=0.5, r_big=0.5), "r_small must be smaller than r_big"),
    (dict(size=10, seed=1, r_small=0.6), "r_small must be smaller than r_big"),
    (dict(size=10, seed=1, r_small=float("nan")), "r_small must be a finite real number"),
])
def test_generate_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        generate_yinyang(**kwargs)


def test_class_of_errors():
    with pytest.raises(ValueError, match="r_small must be smaller than r_big"):
        class_of(0.5, 0.5, r_small=0.5, r_big=0.3)
    with pytest.raises(ValueError, match="r_big must be > 0"):
        class_of(0.5, 0.5, r_big=-1.0)


@pytest.mark.parametrize("values, trial, dt, match", [
    (np.array([[0.2, 1.5]]), 30.0, 0.1, r"values must lie in \[0, 1\].*1\.5"),
    (np.array([[-0.1, 0.5]]), 30.0, 0.1, r"values must lie in \[0, 1\]"),
    (np.array([[np.nan, 0.5]]), 30.0, 0.1, r"values must lie in \[0, 1\]"),
    (np.array([0.2, 0.3]), 30.0, 0.1, r"values must be 2-D.*values\[None, :\]"),
    (np.array([[0.2]]), 30.0, 0.0, "dt_ms must be > 0"),
    (np.array([[0.2]]), 0.4, 0.1, r"trial_ms must be > 4\*dt_ms"),
])
def test_latency_encode_errors(values, trial, dt, match):
    with pytest.raises(ValueError, match=match):
        latency_encode(values, trial, dt)
