"""MNIST (LeCun, Cortes, Burges): the four IDX files, read and latency-coded.

``load_mnist(data_dir)`` finds the files (plain or ``.gz``, also in
torchvision's layout ``<dir>/MNIST/raw/``), checks each against its canonical
size and MD5 (of the uncompressed bytes) and returns the images and labels.
``LatencyImages`` turns images into input spikes as the original code did:
one spike per pixel brighter than 1 (of 255), at
``2 dt + (255 - v)/255 (T - 4 dt)``, so brighter pixels fire earlier and every
spike lies two steps inside the trial.
"""
from __future__ import annotations

import gzip
import hashlib
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Dict, Optional, Sequence, Tuple, Union

import numpy as np

from .shd import DataFileError, data_folder

#: key -> (file name, bytes uncompressed, MD5 of the uncompressed file).
FILES = {
    "train_images": ("train-images-idx3-ubyte", 47_040_016, "6bbc9ace898e44ae57da46a324031adb"),
    "train_labels": ("train-labels-idx1-ubyte", 60_008, "a25bea736e30d166cdddb491f175f624"),
    "test_images": ("t10k-images-idx3-ubyte", 7_840_016, "2646ac647ad5339dbf082846283269ea"),
    "test_labels": ("t10k-labels-idx1-ubyte", 10_008, "27ae3e4e09519cfbb04c329615203637"),
}
SOURCES = ("https://ossci-datasets.s3.amazonaws.com/mnist/ (torchvision's mirror)",
           "http://yann.lecun.com/exdb/mnist/")
#: Sub-folders searched below the data folder: the folder itself and torchvision's layout.
LAYOUTS = ("", "MNIST/raw", "mnist")
#: IDX element type codes -> numpy dtypes (big-endian where it matters).
IDX_TYPES = {0x08: np.dtype(np.uint8), 0x09: np.dtype(np.int8), 0x0B: np.dtype(">i2"),
             0x0C: np.dtype(">i4"), 0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8")}
N_PIXELS, N_CLASSES = 28 * 28, 10


def _what_to_do(base: Optional[Path] = None) -> str:
    where = f" into {base}" if base is not None else ""
    table = "; ".join(f"{name}: {size} bytes, md5 {md5}" for name, size, md5 in FILES.values())
    return (f"Put the four MNIST files (each as it is or gzipped as distributed: add .gz){where}, "
            f"or in its sub-folder MNIST/raw/ (torchvision's layout). They come from "
            f"{' or '.join(SOURCES)}. Uncompressed: {table}.")


def idx_bytes(path: Union[str, os.PathLike]) -> bytes:
    """The (uncompressed) content of an IDX file, ``.gz`` or not."""
    path = Path(path)
    try:
        if path.name.endswith(".gz"):
            with gzip.open(path, "rb") as f:
                return f.read()
        return path.read_bytes()
    except (OSError, EOFError) as e:
        raise DataFileError(f"{path}: cannot be read ({e}). {_what_to_do(path.parent)}") from e


def parse_idx(data: bytes, where: str) -> np.ndarray:
    """An IDX array: magic 0 0 <type> <ndim>, ndim big-endian uint32 sizes, then the data."""
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] not in IDX_TYPES:
        raise DataFileError(f"{where}: not an IDX file (its first bytes are "
                            f"{data[:4].hex(' ') or 'missing'}; an IDX file starts 00 00 <type> "
                            f"<dimensions>, e.g. 00 00 08 03 for images)")
    dtype, ndim = IDX_TYPES[data[2]], data[3]
    head = 4 + 4 * ndim
    if len(data) < head:
        raise DataFileError(f"{where}: truncated IDX header ({len(data)} bytes)")
    shape = tuple(int(x) for x in np.frombuffer(data, ">u4", ndim, 4))
    expected = head + int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if len(data) != expected:
        raise DataFileError(f"{where}: IDX header says shape {shape} ({expected} bytes in all) "
                            f"but the file has {len(data)} bytes: truncated or corrupt")
    return np.frombuffer(data, dtype, offset=head).reshape(shape).astype(dtype.newbyteorder("="))


def read_idx(path: Union[str, os.PathLike]) -> np.ndarray:
    """Read one IDX file (``.gz`` or not) into an array of its shape and type."""
    return parse_idx(idx_bytes(path), str(path))


def find_mnist(data_dir: Optional[Union[str, os.PathLike]] = None) -> Dict[str, Path]:
    """key -> path of each of the four files (plain before gzipped, in ``LAYOUTS`` order)."""
    base = data_folder(data_dir, "MNIST files", _what_to_do())
    found, missing = {}, []
    for key, (name, _, _) in FILES.items():
        looked = [base / sub / (name + gz) for sub in LAYOUTS for gz in ("", ".gz")]
        hit = next((p for p in looked if p.is_file()), None)
        if hit is None:
            missing.append(name)
        else:
            found[key] = hit
    if missing:
        absent = "" if base.is_dir() else f" (the folder {base} does not exist)"
        raise DataFileError(f"MNIST file(s) {', '.join(missing)} not found in {base}{absent} "
                            f"(looked for each name and name.gz in {base} and in its "
                            f"sub-folders {', '.join(s for s in LAYOUTS if s)}). "
                            f"{_what_to_do(base)}")
    return found


@dataclass(frozen=True)
class MNISTData:
    """Images (uint8, (n, 28, 28)) and labels (int64) of the training and test files."""
    train_images: np.ndarray
    train_labels: np.ndarray
    test_images: np.ndarray
    test_labels: np.ndarray


def load_mnist(data_dir: Optional[Union[str, os.PathLike]] = None) -> MNISTData:
    """The four files, each checked against its canonical size and MD5 (read once per
    process while the files are unchanged)."""
    paths = find_mnist(data_dir)
    key = tuple((k, str(p), p.stat().st_size, p.stat().st_mtime_ns) for k, p in paths.items())
    return _load(key)


def not_canonical(data: bytes, key: str) -> Optional[str]:
    """None if ``data`` (uncompressed) is the canonical content of file ``key`` of
    ``FILES``, else what differs."""
    file_name, size, md5 = FILES[key]
    digest = hashlib.md5(data, usedforsecurity=False).hexdigest()
    if len(data) == size and digest == md5:
        return None
    return (f"uncompressed it has {len(data)} bytes and md5 {digest}, not the canonical "
            f"{size} bytes and md5 {md5} of {file_name}")


@lru_cache(maxsize=2)
def _load(key) -> MNISTData:
    arrays = {}
    for name, path, _, _ in key:
        data = idx_bytes(path)
        wrong = not_canonical(data, name)
        if wrong:
            raise DataFileError(
                f"{path}: is not the canonical {FILES[name][0]} ({wrong}): the file is damaged "
                f"or another file. Replace it. {_what_to_do(Path(path).parent)}")
        arrays[name] = parse_idx(data, path)
    labels = {k: arrays[k].astype(np.int64) for k in ("train_labels", "test_labels")}
    return MNISTData(arrays["train_images"], labels["train_labels"], arrays["test_images"],
                     labels["test_labels"])


class LatencyImages(Sequence[Tuple[np.ndarray, np.ndarray]]):
    """Images as input spike trains, encoded when a sample is read (the images are the
    compact form). Sample i: ``(times_ms, pixel ids)`` in pixel order, one spike per
    pixel brighter than ``threshold`` at 2 dt + (255 - v)/255 (T - 4 dt)."""

    def __init__(self, images: np.ndarray, trial_ms: float, dt_ms: float, threshold: int = 1):
        if trial_ms <= 4 * dt_ms:
            raise ValueError(f"trial_ms ({trial_ms}) must exceed 4 dt_ms ({4 * dt_ms}): spikes "
                             f"are placed in [2 dt, T - 2 dt]")
        self.images = np.asarray(images).reshape(len(images), -1)
        self.trial_ms, self.dt_ms, self.threshold = float(trial_ms), float(dt_ms), threshold

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, i):
        pixels = self.images[i]
        ids = np.flatnonzero(pixels > self.threshold)
        span = self.trial_ms - 4 * self.dt_ms
        times = (255.0 - pixels[ids]) / 255.0 * span + 2 * self.dt_ms
        return times, ids

    def spike_counts(self) -> np.ndarray:
        return (self.images > self.threshold).sum(axis=1)
