"""MNIST files: IDX round trip on generated files (plain, .gz, torchvision's layout),
clear errors for missing, damaged and foreign files, the canonical checksums of the
real files in ../shared/data/mnist, and the latency code against its formula."""
from __future__ import annotations

import gzip
import struct

import numpy as np
import pytest

from genn_eventprop.datasets.mnist import (FILES, LatencyImages, find_mnist, load_mnist,
                                           parse_idx, read_idx)
from genn_eventprop.datasets.shd import DataFileError

def idx(array: np.ndarray, code: int = 0x08) -> bytes:
    """An IDX file in the published layout (big-endian header, then the data)."""
    head = struct.pack(">BBBB", 0, 0, code, array.ndim) + struct.pack(f">{array.ndim}I",
                                                                       *array.shape)
    return head + array.astype(array.dtype.newbyteorder(">")).tobytes()


@pytest.mark.parametrize("gz", [False, True])
def test_idx_round_trip(tmp_path, gz):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (7, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, 7).astype(np.uint8)
    floats = rng.normal(size=(3, 4)).astype(np.float32)
    for name, arr, code in (("im", images, 0x08), ("lab", labels, 0x08), ("f", floats, 0x0D)):
        path = tmp_path / (name + (".gz" if gz else ""))
        data = idx(arr, code)
        path.write_bytes(gzip.compress(data) if gz else data)
        got = read_idx(path)
        assert got.shape == arr.shape and got.dtype == arr.dtype.newbyteorder("=")
        np.testing.assert_array_equal(got, arr)


@pytest.mark.parametrize("data,match", [
    (b"\x00\x00\x08\x03" + struct.pack(">3I", 2, 28, 28) + bytes(100), "truncated or corrupt"),
    (b"\x89HDF\r\n", "not an IDX file"),
    (b"\x00\x00\x08\x03\x00", "truncated IDX header"),
    (b"", "not an IDX file"),
])
def test_bad_idx_files_are_named(data, match):
    with pytest.raises(DataFileError, match=match):
        parse_idx(data, "some-file")


def test_missing_files_error_lists_names_places_and_checksums(tmp_path):
    (tmp_path / "train-images-idx3-ubyte.gz").write_bytes(b"x")
    with pytest.raises(DataFileError) as info:
        find_mnist(tmp_path)
    msg = str(info.value)
    for name, size, md5 in FILES.values():
        assert md5 in msg and name in msg
    assert "train-images-idx3-ubyte," not in msg.split("not found")[0]   # that one is there
    assert "MNIST/raw" in msg and str(tmp_path) in msg


def test_torchvision_layout_and_plain_before_gz(tmp_path):
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for name, _, _ in FILES.values():
        (raw / (name + ".gz")).write_bytes(b"")
    (raw / FILES["test_labels"][0]).write_bytes(b"")
    found = find_mnist(tmp_path)
    assert found["train_images"] == raw / "train-images-idx3-ubyte.gz"
    assert found["test_labels"] == raw / "t10k-labels-idx1-ubyte"


def test_foreign_file_under_a_canonical_name_is_refused(tmp_path):
    tiny = idx(np.zeros((2, 28, 28), np.uint8))
    for name, _, _ in FILES.values():
        (tmp_path / name).write_bytes(tiny)
    with pytest.raises(DataFileError, match="is not the canonical .*md5"):
        load_mnist(tmp_path)


def test_real_files_match_the_canonical_checksums(shared_mnist):
    data = load_mnist(shared_mnist)
    assert data.train_images.shape == (60000, 28, 28) and data.test_images.shape == (10000, 28, 28)
    assert np.bincount(data.train_labels).tolist()[:3] == [5923, 6742, 5958]
    assert data.test_labels[:5].tolist() == [7, 2, 1, 0, 4]


def test_latency_code_follows_the_formula():
    rng = np.random.default_rng(1)
    images = rng.integers(0, 256, (4, 28, 28), dtype=np.uint8)
    images[0, 0, :3] = [0, 1, 2]
    enc = LatencyImages(images, trial_ms=20.0, dt_ms=0.1)
    assert len(enc) == 4
    for i in range(4):
        times, ids = enc[i]
        flat = images[i].reshape(-1)
        np.testing.assert_array_equal(ids, np.flatnonzero(flat > 1))
        np.testing.assert_allclose(times, 0.2 + (255.0 - flat[ids]) / 255.0 * 19.6)
        assert times.min() >= 0.2 - 1e-12 and times.max() <= 19.8 + 1e-12
    assert 2 in enc[0][1] and 1 not in enc[0][1] and 0 not in enc[0][1]
    np.testing.assert_array_equal(enc.spike_counts(), (images.reshape(4, -1) > 1).sum(1))
    with pytest.raises(ValueError, match="must exceed 4 dt_ms"):
        LatencyImages(images, trial_ms=0.4, dt_ms=0.1)
