"""SHD/SSC data layer: file layout round trip, finding files, the .npy cache, errors, synthetic data."""
import gzip
import os
import shutil

import h5py
import numpy as np
import pytest

import genn_eventprop.datasets.shd as shd
from genn_eventprop.datasets.shd import (
    DataFileError,
    SpikeSet,
    find_data_file,
    generate_synthetic,
    load_spike_set,
    read_spike_file,
    write_spike_file,
)
from genn_eventprop.errors import UserError

SHD_TRAIN_GZ_MD5 = "d47c9825dee33347913e8ce0f2be08b0"


@pytest.fixture(autouse=True)
def _no_data_env(monkeypatch):
    monkeypatch.delenv(shd.DATA_ENV, raising=False)
    monkeypatch.delenv(shd.CACHE_ENV, raising=False)


def _random_samples(rng, n, n_channels=700):
    samples = []
    for i in range(n):
        k = 0 if i == 1 else int(rng.integers(1, 300))
        t = np.sort(rng.uniform(0.0, 1.3, k))
        samples.append((t, rng.integers(0, n_channels, k)))
    return samples


@pytest.fixture
def small_file(tmp_path):
    rng = np.random.default_rng(3)
    samples = _random_samples(rng, 25)
    labels = rng.integers(0, 3, 25)
    speakers = rng.integers(0, 5, 25)
    keys = ["null", "fünf", "three"]
    path = tmp_path / "data" / "shd_train.h5"
    write_spike_file(path, samples, labels, speakers, keys)
    return path, samples, labels, speakers, keys


# --------------------------------------------------------------------------- layout round trip

def test_written_file_has_the_official_layout(small_file):
    path, samples, labels, speakers, keys = small_file
    with h5py.File(path, "r") as f:
        assert h5py.check_vlen_dtype(f["spikes/times"].dtype) == np.float16
        assert h5py.check_vlen_dtype(f["spikes/units"].dtype) == np.uint16
        assert f["labels"].dtype == np.uint16
        assert f["extra/speaker"].shape == (25,)
        assert [k.decode("utf-8") for k in f["extra/keys"][()]] == keys
        np.testing.assert_array_equal(f["spikes/times"][4], samples[4][0].astype(np.float16))
        np.testing.assert_array_equal(f["spikes/units"][4], samples[4][1])
    assert not [p for p in path.parent.iterdir() if p.name != path.name]  # no temporary left over


@pytest.mark.parametrize("use_cache", [True, False])
def test_round_trip_preserves_float16_times_units_labels_speakers_keys(small_file, tmp_path, use_cache):
    path, samples, labels, speakers, keys = small_file
    s = read_spike_file(path, cache_dir=tmp_path / "cache", use_cache=use_cache)
    assert len(s) == 25 and s.keys == keys and s.n_channels == 700
    assert s.times.dtype == np.float16 and s.units.dtype == np.uint16
    np.testing.assert_array_equal(s.labels, labels)
    np.testing.assert_array_equal(s.speakers, speakers)
    np.testing.assert_array_equal(s.spike_counts(), [len(t) for t, _ in samples])
    for i, (t, u) in enumerate(samples):
        times_ms, units = s.sample(i)
        assert times_ms.dtype == np.float64 and units.dtype == np.int64
        np.testing.assert_array_equal(times_ms, t.astype(np.float16).astype(np.float64) * 1000.0)
        np.testing.assert_array_equal(units, u)
    assert s.sample(1)[0].shape == (0,)


def test_chunked_conversion_matches_in_memory_read(small_file, tmp_path, monkeypatch):
    path, samples, *_ = small_file
    monkeypatch.setattr(shd, "_READ_CHUNK", 4)  # 25 samples -> 7 chunks, one with an empty sample
    cached = read_spike_file(path, cache_dir=tmp_path / "cache")
    direct = read_spike_file(path, use_cache=False)
    assert isinstance(cached.times, np.memmap) and not isinstance(direct.times, np.memmap)
    np.testing.assert_array_equal(cached.times, direct.times)
    np.testing.assert_array_equal(cached.units, direct.units)
    np.testing.assert_array_equal(cached.offsets, direct.offsets)
    assert cached.offsets[-1] == sum(len(t) for t, _ in samples)


def test_extra_group_is_optional(tmp_path):
    path = tmp_path / "shd_train.h5"
    with h5py.File(path, "w") as f:
        t = f.create_dataset("spikes/times", (2,), dtype=h5py.vlen_dtype(np.dtype("<f4")))
        u = f.create_dataset("spikes/units", (2,), dtype=h5py.vlen_dtype(np.dtype("<i4")))
        t[0], t[1] = np.array([0.25, 0.125], np.float32), np.array([0.5], np.float32)
        u[0], u[1] = np.array([1, 2], np.int32), np.array([3], np.int32)
        f.create_dataset("labels", data=np.array([0, 2], np.int64))
    s = read_spike_file(path, cache_dir=tmp_path / "c")
    assert s.keys == ["0", "1", "2"] and s.speakers.tolist() == [-1, -1]
    assert s.times.dtype == np.float32 and s.units.dtype == np.uint16
    np.testing.assert_array_equal(s.sample(0)[0], [250.0, 125.0])


def test_times_are_cast_to_float64_before_scaling(tmp_path):
    # 0.9995 s is stored as float16 0.99951171875; scaled in float16 it would
    # round to 999.5 ms.
    path = tmp_path / "shd_test.h5"
    write_spike_file(path, [(np.array([0.9995]), np.array([3]))], [0], [0], ["a"])
    times_ms, _ = read_spike_file(path, cache_dir=tmp_path / "c").sample(0)
    assert times_ms[0] == 999.51171875
    assert float(np.float16(0.9995) * np.float16(1000)) == 999.5


def test_write_rejects_bad_input(tmp_path):
    with pytest.raises(ValueError, match="seconds"):
        write_spike_file(tmp_path / "x.h5", [(np.array([-1.0]), np.array([0]))], [0], [0], ["a"])
    with pytest.raises(ValueError, match="labels"):
        write_spike_file(tmp_path / "x.h5", [(np.array([0.1]), np.array([0]))], [2], [0], ["a", "b"])
    with pytest.raises(ValueError, match="equal length"):
        write_spike_file(tmp_path / "x.h5", [(np.array([0.1, 0.2]), np.array([0]))], [0], [0], ["a"])


# --------------------------------------------------------------------------- SpikeSet

def test_subset_shares_spikes_and_selects_samples(small_file, tmp_path):
    path, samples, labels, *_ = small_file
    s = read_spike_file(path, cache_dir=tmp_path / "cache")
    sub = s.subset([7, 2, -1])
    assert len(sub) == 3 and np.shares_memory(sub.times, s.times)
    np.testing.assert_array_equal(sub.labels, labels[[7, 2, 24]])
    for j, i in enumerate([7, 2, 24]):
        np.testing.assert_array_equal(sub.sample(j)[0], s.sample(i)[0])
        np.testing.assert_array_equal(sub.sample(j)[1], s.sample(i)[1])
    with pytest.raises(ValueError, match="back to back"):
        sub.offsets
    c = sub.compact()
    np.testing.assert_array_equal(np.diff(c.offsets), sub.spike_counts())
    np.testing.assert_array_equal(c.sample(1)[0], s.sample(2)[0])
    contiguous = s.subset(slice(3, 9))
    np.testing.assert_array_equal(contiguous.offsets, s.offsets[3:10])
    mask = labels == 1
    np.testing.assert_array_equal(s.subset(mask).labels, labels[mask])
    with pytest.raises(IndexError):
        s.sample(25)
    assert s.sample(-25)[0].shape == s.sample(0)[0].shape


def test_spikeset_constructor_checks_shapes():
    with pytest.raises(ValueError, match="offsets"):
        SpikeSet(np.zeros(3, np.float16), np.zeros(3, np.uint16), [0, 2, 1], [0, 0], [0, 0], ["a"])
    with pytest.raises(ValueError, match="one entry per sample"):
        SpikeSet(np.zeros(3, np.float16), np.zeros(3, np.uint16), [0, 1, 3], [0], [0, 0], ["a"])
    s = SpikeSet(np.array([0.5, 0.25], np.float32), np.array([1, 2]), [0, 0, 2], [0, 1], [4, 4], ["a", "b"])
    np.testing.assert_array_equal(s.sample(1)[0], [500.0, 250.0])
    assert s.spike_counts().tolist() == [0, 2]


# --------------------------------------------------------------------------- finding files

def test_finds_plain_env_tonic_and_gz_layouts(small_file, tmp_path, monkeypatch):
    path, samples, *_ = small_file
    assert find_data_file("shd", "train", path.parent) == path
    monkeypatch.setenv(shd.DATA_ENV, str(path.parent))
    assert find_data_file("shd", "train") == path
    monkeypatch.delenv(shd.DATA_ENV)

    tonic = tmp_path / "tonic"
    (tonic / "SHD").mkdir(parents=True)
    shutil.copy(path, tonic / "SHD" / "shd_train.h5")
    assert find_data_file("shd", "train", tonic) == tonic / "SHD" / "shd_train.h5"
    (tonic / "SSC" / "SSC").mkdir(parents=True)
    shutil.copy(path, tonic / "SSC" / "SSC" / "ssc_valid.h5")
    assert find_data_file("ssc", "valid", tonic) == tonic / "SSC" / "SSC" / "ssc_valid.h5"

    gz_dir = tmp_path / "gz"
    gz_dir.mkdir()
    with open(path, "rb") as src, gzip.open(gz_dir / "shd_train.h5.gz", "wb") as dst:
        shutil.copyfileobj(src, dst)
    found = find_data_file("shd", "train", gz_dir)
    assert found.name == "shd_train.h5" and found.parent.parent == gz_dir / ".genn_eventprop_cache"
    assert found.read_bytes() == path.read_bytes()
    assert find_data_file("shd", "train", gz_dir) == found  # decompressed once
    s = load_spike_set("shd", "train", gz_dir)
    np.testing.assert_array_equal(s.sample(3)[1], samples[3][1])

    shutil.copy(path, gz_dir / "shd_train.h5")
    assert find_data_file("shd", "train", gz_dir) == gz_dir / "shd_train.h5"  # plain before gz


def test_missing_file_message_names_places_url_checksum_and_command(tmp_path):
    with pytest.raises(DataFileError) as info:
        load_spike_set("shd", "train", tmp_path)
    err = info.value
    assert isinstance(err, UserError) and isinstance(err, FileNotFoundError)
    msg = str(err)
    for text in ("shd_train.h5", str(tmp_path / "shd_train.h5"), str(tmp_path / "shd_train.h5.gz"),
                 str(tmp_path / "SHD" / "shd_train.h5"), str(tmp_path / "SHD" / "shd_train.h5.gz"),
                 "https://zenkelab.org/datasets/shd_train.h5.gz", SHD_TRAIN_GZ_MD5,
                 "genn-eventprop data shd", f"Put shd_train.h5 or shd_train.h5.gz into {tmp_path}"):
        assert text in msg, text


def test_missing_data_folder_and_unknown_checksum_are_explained(tmp_path):
    with pytest.raises(DataFileError, match="GENN_EVENTPROP_DATA") as info:
        find_data_file("shd", "test")
    assert "DATA_DIR" in str(info.value) and "3062a80ec0c5719404d5b02e166543b1" in str(info.value)
    with pytest.raises(DataFileError) as info:
        find_data_file("ssc", "train", tmp_path / "nowhere")
    msg = str(info.value)
    assert "does not exist" in msg and "SSC/SSC" in msg.replace(os.sep, "/")
    assert "md5 of ssc_train.h5.gz: unknown" in msg and "genn-eventprop data ssc" in msg
    with pytest.raises(ValueError, match="split"):
        find_data_file("shd", "valid", tmp_path)


# --------------------------------------------------------------------------- cache

def test_cache_is_reused_and_invalidated_by_changes(small_file, tmp_path, monkeypatch):
    path, samples, labels, speakers, keys = small_file
    cache = path.parent / ".genn_eventprop_cache"
    first = load_spike_set("shd", "train", path.parent)
    entries = [p for p in cache.iterdir()]
    assert len(entries) == 1
    assert sorted(p.name for p in entries[0].iterdir()) == [
        "labels.npy", "meta.json", "offsets.npy", "speakers.npy", "times.npy", "units.npy"]

    def no_hdf5(*args, **kwargs):
        raise AssertionError("the HDF5 file was opened although the cache is valid")

    monkeypatch.setattr(shd.h5py, "File", no_hdf5)
    second = load_spike_set("shd", "train", path.parent)
    assert isinstance(second.times, np.memmap) and isinstance(second.units, np.memmap)
    np.testing.assert_array_equal(second.sample(5)[0], first.sample(5)[0])
    monkeypatch.undo()

    write_spike_file(path, samples[:10], labels[:10], speakers[:10], keys)
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    third = load_spike_set("shd", "train", path.parent)
    assert len(third) == 10
    assert len(list(cache.iterdir())) == 1  # the stale entry was removed


def test_damaged_cache_entry_is_rebuilt(small_file, tmp_path):
    path, samples, *_ = small_file
    read_spike_file(path, cache_dir=tmp_path / "c")
    (entry,) = (tmp_path / "c").iterdir()
    (entry / "meta.json").write_text("{not json")
    s = read_spike_file(path, cache_dir=tmp_path / "c")
    np.testing.assert_array_equal(s.sample(2)[1], samples[2][1])
    (entry / "times.npy").write_bytes(b"truncated")
    s = read_spike_file(path, cache_dir=tmp_path / "c")
    np.testing.assert_array_equal(s.sample(2)[0], samples[2][0].astype(np.float16).astype(np.float64) * 1e3)


def test_cache_env_and_unwritable_cache(small_file, tmp_path, monkeypatch):
    path, samples, *_ = small_file
    monkeypatch.setenv(shd.CACHE_ENV, str(tmp_path / "envcache"))
    read_spike_file(path)
    assert len(list((tmp_path / "envcache").iterdir())) == 1
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    with pytest.warns(RuntimeWarning, match="cannot write the spike cache"):
        s = read_spike_file(path, cache_dir=blocker / "cache")
    assert not isinstance(s.times, np.memmap)
    np.testing.assert_array_equal(s.sample(0)[1], samples[0][1])


def test_cached_units_are_checked_against_n_channels(small_file, tmp_path):
    path, *_ = small_file
    read_spike_file(path, cache_dir=tmp_path / "c")
    with pytest.raises(DataFileError, match="outside the 10 input channels"):
        read_spike_file(path, n_channels=10, cache_dir=tmp_path / "c")


# --------------------------------------------------------------------------- corrupt files

def _expect_bad(path, tmp_path, *fragments):
    with pytest.raises(DataFileError) as info:
        read_spike_file(path, cache_dir=tmp_path / "cache")
    msg = str(info.value)
    for text in (str(path), *fragments):
        assert text in msg, text
    return msg


def test_not_hdf5(tmp_path):
    path = tmp_path / "shd_train.h5"
    path.write_bytes(b"this is not an HDF5 file" * 10)
    _expect_bad(path, tmp_path, "not a readable HDF5 file", SHD_TRAIN_GZ_MD5,
                "8e9877c85f29a28dd353ea6a54402667")


def test_corrupt_gz(tmp_path):
    path = tmp_path / "shd_train.h5.gz"
    whole = gzip.compress(np.random.default_rng(0).bytes(20000))
    cases = ((whole[: len(whole) // 2], "truncated"), (b"plain bytes" * 50, "not a valid gzip"))
    for content, problem in cases:
        path.write_bytes(content)
        with pytest.raises(DataFileError) as info:
            find_data_file("shd", "train", tmp_path)
        msg = str(info.value)
        assert str(path) in msg and problem in msg and SHD_TRAIN_GZ_MD5 in msg
        assert not [p for p in (tmp_path / ".genn_eventprop_cache").rglob("*") if p.is_file()]


def _h5(path, n_times=3, n_units=3, n_labels=3, unit=5, skip=(), unit_len=None):
    vf, vu = h5py.vlen_dtype(np.dtype("<f2")), h5py.vlen_dtype(np.dtype("<u2"))
    with h5py.File(path, "w") as f:
        if "times" not in skip:
            t = f.create_dataset("spikes/times", (n_times,), dtype=vf)
            for i in range(n_times):
                t[i] = np.array([0.1, 0.2], np.float16)
        u = f.create_dataset("spikes/units", (n_units,), dtype=vu)
        for i in range(n_units):
            u[i] = np.array([unit, 1] if unit_len is None or i != 1 else [1] * unit_len, np.uint16)
        f.create_dataset("labels", data=np.zeros(n_labels, np.uint16))
        f.create_dataset("extra/keys", data=np.array([b"a"]))
        f.create_dataset("extra/speaker", data=np.zeros(n_labels, np.uint16))


def test_missing_dataset(tmp_path):
    path = tmp_path / "shd_test.h5"
    _h5(path, skip=("times",))
    _expect_bad(path, tmp_path, "missing dataset(s) spikes/times", "3062a80ec0c5719404d5b02e166543b1")


def test_length_mismatch_between_times_units_labels(tmp_path):
    path = tmp_path / "shd_train.h5"
    _h5(path, n_labels=2)
    _expect_bad(path, tmp_path, "length mismatch", "labels 2", SHD_TRAIN_GZ_MD5)
    _h5(path, unit_len=3)
    _expect_bad(path, tmp_path, "sample 1", "2 spike times but 3 units")


def test_units_beyond_n_channels(tmp_path):
    path = tmp_path / "ssc_test.h5"
    _h5(path, unit=700)
    msg = _expect_bad(path, tmp_path, "unit 700", "700 input channels", "ssc_test.h5.gz")
    assert "unknown" in msg
    read_spike_file(path, n_channels=701, cache_dir=tmp_path / "cache")


def test_custom_file_names_get_no_invented_checksum(tmp_path):
    path = tmp_path / "my_words.h5"
    _h5(path, skip=("times",))
    _expect_bad(path, tmp_path, "not an official SHD/SSC file name")


# --------------------------------------------------------------------------- synthetic data

@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    d = tmp_path_factory.mktemp("synthetic")
    paths = generate_synthetic(d, n_train=1200, n_test=500, seed=7)
    cache = d / "cache"
    return (paths, read_spike_file(paths["train"], cache_dir=cache),
            read_spike_file(paths["test"], cache_dir=cache))


def test_synthetic_statistics_are_shd_like(synthetic):
    paths, train, test = synthetic
    assert sorted(paths) == ["test", "train"] and paths["train"].name == "shd_train.h5"
    assert len(train) == 1200 and len(test) == 500 and len(train.keys) == 20
    counts = train.spike_counts()
    assert 6000 < counts.mean() < 10000 and counts.min() > 1500  # SHD: ~7.5k at 1 ms
    units = np.asarray(train.units)
    assert units.max() <= 699 and np.unique(units).size > 650
    times = np.asarray(train.times, dtype=np.float64)
    assert times.min() >= 0.0 and times.max() < 1.0
    ends = np.array([train.sample(i)[0].max() for i in range(0, 1200, 10)])
    assert ends.min() < 800.0 < ends.max()  # samples end at different times
    assert np.all(np.bincount(train.labels, minlength=20) == 60)
    train_speakers, test_speakers = set(train.speakers.tolist()), set(test.speakers.tolist())
    assert len(train_speakers) == 10 and len(test_speakers - train_speakers) == 2
    first = train.sample(0)[0]
    assert np.all(np.diff(first) >= 0)  # time-ordered, like the real files


def test_synthetic_is_reproducible_and_seeded(tmp_path):
    a = generate_synthetic(tmp_path / "a", n_train=30, n_test=10, seed=5)
    b = generate_synthetic(tmp_path / "b", n_train=30, n_test=10, seed=5)
    c = generate_synthetic(tmp_path / "c", n_train=30, n_test=10, seed=6)
    sa, sb, sc = (read_spike_file(p["train"], use_cache=False) for p in (a, b, c))
    np.testing.assert_array_equal(sa.times, sb.times)
    np.testing.assert_array_equal(sa.units, sb.units)
    assert sa.times.shape != sc.times.shape or not np.array_equal(sa.times, sc.times)


def test_synthetic_ssc_has_three_splits_35_classes_disjoint_speakers(tmp_path):
    paths = generate_synthetic(tmp_path, dataset="ssc", n_train=140, n_valid=35, n_test=35, seed=2)
    assert sorted(paths) == ["test", "train", "valid"]
    sets = {k: load_spike_set("ssc", k, tmp_path) for k in paths}
    assert all(len(s.keys) == 35 for s in sets.values())
    spk = {k: set(s.speakers.tolist()) for k, s in sets.items()}
    assert not (spk["train"] & spk["valid"]) and not (spk["train"] & spk["test"])
    assert not (spk["valid"] & spk["test"])


def _histograms(s, n_time=10, n_band=14, time_axis=True):
    out = np.zeros((len(s), (n_time if time_axis else 1) * n_band))
    for i in range(len(s)):
        t, u = s.sample(i)
        tb = np.minimum((t / (1000.0 / n_time)).astype(np.int64), n_time - 1) if time_axis else 0
        h = np.bincount(tb * n_band + u * n_band // 700, minlength=out.shape[1])
        out[i] = h / max(1, h.sum())
    return out


def _nearest_centroid(train, test, **kw):
    x_tr, x_te = _histograms(train, **kw), _histograms(test, **kw)
    centroids = np.stack([x_tr[train.labels == k].mean(0) for k in range(len(train.keys))])
    pred = np.argmin(((x_te[:, None, :] - centroids[None]) ** 2).sum(-1), axis=1)
    return float(np.mean(pred == test.labels))


def test_synthetic_classes_are_learnable_but_not_trivial(synthetic):
    _, train, test = synthetic
    acc = _nearest_centroid(train, test)
    channels_only = _nearest_centroid(train, test, n_band=28, time_axis=False)
    # chance is 5 %; the class lies in the temporal order of shared bands
    assert 0.45 < acc < 0.97, acc
    assert channels_only < acc - 0.25, (channels_only, acc)
