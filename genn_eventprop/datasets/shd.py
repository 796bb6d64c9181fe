"""Spiking Heidelberg Digits (SHD) and Spiking Speech Commands (SSC): files, loading, caching.

Both datasets (Cramer, Stradmann, Schemmel & Zenke, "The Heidelberg spiking data
sets for the systematic evaluation of spiking neural networks", IEEE TNNLS 2022,
arXiv:1910.07407) are spoken words passed through a cochlea model: every sample
is a list of spikes in 700 input channels. Each split is one HDF5 file:

==================  ==========================================================
``spikes/times``    per sample, variable-length float16 spike times in seconds
``spikes/units``    per sample, variable-length uint16 channel ids (0..699)
``labels``          uint16 class label per sample
``extra/keys``      class names (byte strings), indexed by label
``extra/speaker``   speaker id per sample
==================  ==========================================================

Files: SHD ``shd_train.h5``, ``shd_test.h5``; SSC ``ssc_train.h5``,
``ssc_valid.h5``, ``ssc_test.h5``; distributed gzipped (``*.h5.gz``) at
:data:`BASE_URL`.

Loading (:func:`load_spike_set`) finds the file (:func:`find_data_file`: the
given folder, else ``$GENN_EVENTPROP_DATA``; plain, gzipped and tonic's
``SHD/``/``SSC/`` sub-folders), decompresses a ``.gz`` once, converts the
variable-length arrays to flat arrays once and caches them as ``.npy`` files
that later loads memory-map (:class:`SpikeSet`). Times stay float16 seconds, as
stored, until :meth:`SpikeSet.sample` casts them to float64 and converts them to
ms; scaling float16 values directly would round them again.

:func:`generate_synthetic` writes files in exactly this layout with SHD-like
statistics and a learnable class structure, for tests and for trying the
pipeline without the real data.
"""
import gzip
import hashlib
import json
import os
import shutil
import uuid
import warnings
import zlib
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple, Union

import h5py
import numpy as np

from genn_eventprop.errors import UserError

__all__ = [
    "BASE_URL",
    "CACHE_ENV",
    "DATA_ENV",
    "DataFileError",
    "GZ_MD5",
    "H5_MD5",
    "N_CHANNELS",
    "SPLITS",
    "SpikeSet",
    "checksum_note",
    "data_file_name",
    "data_folder",
    "find_data_file",
    "generate_synthetic",
    "load_spike_set",
    "read_spike_file",
    "write_spike_file",
]

BASE_URL = "https://zenkelab.org/datasets/"
#: Environment variable naming the folder that holds the data files.
DATA_ENV = "GENN_EVENTPROP_DATA"
#: Environment variable naming the cache folder (default: next to the data file).
CACHE_ENV = "GENN_EVENTPROP_DATA_CACHE"
#: Input channels of the cochlea model, SHD and SSC alike.
N_CHANNELS = 700
SPLITS = {"shd": ("train", "test"), "ssc": ("train", "valid", "test")}
_TONIC_DIRS = {"shd": ("SHD",), "ssc": ("SSC", os.path.join("SSC", "SSC"))}
_DOWNLOAD_COMMAND = "genn-eventprop data {dataset}"

# MD5 of the gzipped files as served at BASE_URL. The publisher lists them in
# https://zenkelab.org/datasets/md5sums.txt, which was not reachable from here;
# the values were taken from code that downloads and verifies these files:
# - shd_*.h5.gz: norse/norse, norse/dataset/spiking_heidelberg.py (train_checksum,
#   test_checksum; files then served from compneuro.net/datasets/, the lab's
#   earlier address); the same two values appear in two other repositories'
#   download code, one of which names md5sums.txt as their source.
# - ssc_*.h5.gz: unknown (None). Only one source was found, for ssc_valid.h5.gz
#   alone (a third-party README records 555645b13e15fe270fbfe39cb763f805); one
#   unconfirmed value could wrongly reject a good download, so it is not used.
#   For None the downloader asks BASE_URL/md5sums.txt, or refuses (download.py).
# tonic (neuromorphs/tonic, tonic/datasets/hsd.py) downloads *.h5.zip archives
# instead, whose MD5s differ and are not used here.
GZ_MD5: Dict[str, Optional[str]] = {
    "shd_train.h5.gz": "d47c9825dee33347913e8ce0f2be08b0",
    "shd_test.h5.gz": "3062a80ec0c5719404d5b02e166543b1",
    "ssc_train.h5.gz": None,
    "ssc_valid.h5.gz": None,
    "ssc_test.h5.gz": None,
}
# MD5 of the decompressed files, from norse/norse (train_file_md5, test_file_md5);
# quoted in error messages only: loading never hashes gigabyte files.
H5_MD5: Dict[str, Optional[str]] = {
    "shd_train.h5": "8e9877c85f29a28dd353ea6a54402667",
    "shd_test.h5": "207ad1295a0ab611e22d1734989c254e",
    "ssc_train.h5": None,
    "ssc_valid.h5": None,
    "ssc_test.h5": None,
}

_CACHE_VERSION = 1
_CACHE_DIR_NAME = ".genn_eventprop_cache"
_READ_CHUNK = 2048
_COPY_CHUNK = 1 << 20


class DataFileError(UserError, FileNotFoundError):
    """A data file is missing, unreadable or not in the expected layout.

    The message names the file, what is wrong, where it was looked for or where
    it belongs, where it comes from and its checksum.
    """


def data_folder(data_dir: Optional[Union[str, os.PathLike]], what: str, how_to_get: str) -> Path:
    """``data_dir``, else ``$GENN_EVENTPROP_DATA``; neither set is an error naming ``what``
    is missing and ``how_to_get`` it."""
    if data_dir is not None:
        return Path(data_dir)
    if os.environ.get(DATA_ENV):
        return Path(os.environ[DATA_ENV])
    raise DataFileError(f"{what} not found: no data folder is set. Set DATA_DIR "
                        f"(p['DATA_DIR'], or --set DATA_DIR=...) or the environment variable "
                        f"{DATA_ENV}. {how_to_get}")


# ----------------------------------------------------------------------------------------------
# names, checksums, messages


def _check_dataset_split(dataset: str, split: str) -> None:
    if dataset not in SPLITS:
        raise ValueError(f"dataset must be one of {sorted(SPLITS)}, got {dataset!r}")
    if split not in SPLITS[dataset]:
        raise ValueError(f"split of {dataset!r} must be one of {list(SPLITS[dataset])}, got {split!r}")


def data_file_name(dataset: str, split: str) -> str:
    """File name of one split, e.g. ``data_file_name("shd", "train") == "shd_train.h5"``."""
    _check_dataset_split(dataset, split)
    return f"{dataset}_{split}.h5"


def checksum_note(name: str) -> str:
    """What is known about the checksums of the official file ``name`` (``.h5`` or ``.h5.gz``)."""
    base = name[:-3] if name.endswith(".gz") else name
    gz = base + ".gz"
    if gz not in GZ_MD5:
        return f"{name} is not an official SHD/SSC file name, so there is no published checksum"
    md5 = GZ_MD5[gz]
    if md5 is None:
        note = (f"md5 of {gz}: unknown to genn_eventprop (the publisher lists it in "
                f"{BASE_URL}md5sums.txt)")
    else:
        note = f"md5 of {gz}: {md5}"
    if H5_MD5.get(base):
        note += f"; md5 of the decompressed {base}: {H5_MD5[base]}"
    return note


def _download_command(dataset: str, folder: Optional[Path] = None) -> str:
    where = f" --dir {folder}" if folder is not None else " --dir FOLDER"
    return f"`{_DOWNLOAD_COMMAND.format(dataset=dataset)}{where}`"


def _origin_note(dataset: str, name: str, folder: Optional[Path] = None) -> str:
    return (f"It comes from {BASE_URL}{name}.gz ({checksum_note(name)}); "
            f"{_download_command(dataset, folder)} downloads and checks it.")


def _dataset_of(name: str) -> Optional[str]:
    for dataset in SPLITS:
        if name.startswith(dataset + "_"):
            return dataset
    return None


def _bad_file(path: Path, problem: str) -> DataFileError:
    name = path.name[:-3] if path.name.endswith(".gz") else path.name
    dataset = _dataset_of(name)
    if dataset is not None and name + ".gz" in GZ_MD5:
        origin = (f"Replace it with the original file: {BASE_URL}{name}.gz ({checksum_note(name)}); "
                  f"{_download_command(dataset)} downloads and checks it.")
    else:
        origin = (f"Expected the SHD/SSC layout (spikes/times, spikes/units, labels, extra/keys, "
                  f"extra/speaker); {checksum_note(name)}.")
    return DataFileError(f"data file {path}: {problem}. {origin}")


# ----------------------------------------------------------------------------------------------
# finding files


def _candidates(directory: Path, dataset: str, name: str) -> List[Path]:
    dirs = [directory] + [directory / sub for sub in _TONIC_DIRS[dataset]]
    out = []
    for d in dirs:
        out.append(d / name)
        out.append(d / (name + ".gz"))
    return out


def _file_key(path: Path) -> str:
    st = path.stat()
    # The folder's hash keeps caches of same-named files from different folders
    # apart when several folders share one cache directory.
    folder = hashlib.sha1(str(path.resolve().parent).encode("utf-8")).hexdigest()[:8]
    return f"{path.name}-{st.st_size}-{st.st_mtime_ns}-{folder}"


def _cache_root(data_file: Path, cache_dir: Optional[Union[str, os.PathLike]]) -> Path:
    if cache_dir is not None:
        return Path(cache_dir)
    env = os.environ.get(CACHE_ENV)
    if env:
        return Path(env)
    return data_file.resolve().parent / _CACHE_DIR_NAME


def cache_root(data_file: Union[str, os.PathLike],
               cache_dir: Optional[Union[str, os.PathLike]] = None) -> Path:
    """Where the caches derived from ``data_file`` live: ``cache_dir``, else
    $GENN_EVENTPROP_DATA_CACHE, else ``.genn_eventprop_cache`` beside the file."""
    return _cache_root(Path(data_file), cache_dir)


def _remove_stale(root: Path, keep: Path) -> None:
    # Older cache entries of the same file (same name and folder hash, other
    # size or mtime) are dead weight of up to gigabytes each.
    name, _, _, folder = keep.name.rsplit("-", 3)
    try:
        entries = list(root.iterdir())
    except OSError:
        return
    for entry in entries:
        parts = entry.name.rsplit("-", 3)
        if entry != keep and entry.is_dir() and len(parts) == 4 and parts[0] == name and parts[3] == folder:
            shutil.rmtree(entry, ignore_errors=True)


def _decompress(gz_path: Path, cache_dir: Optional[Union[str, os.PathLike]]) -> Path:
    root = _cache_root(gz_path, cache_dir)
    entry = root / _file_key(gz_path)
    target = entry / gz_path.name[:-3]
    if target.is_file():
        return target
    try:
        entry.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise DataFileError(
            f"cannot decompress {gz_path}: the cache folder {entry} cannot be created ({e}). "
            f"Set {CACHE_ENV} to a writable folder, or decompress it yourself "
            f"(`gunzip -k {gz_path}`).") from e
    tmp = entry / f".tmp-{uuid.uuid4().hex}-{target.name}"
    try:
        with gzip.open(gz_path, "rb") as src, open(tmp, "wb") as dst:
            shutil.copyfileobj(src, dst, _COPY_CHUNK)
        os.replace(tmp, target)
    except (gzip.BadGzipFile, EOFError, zlib.error) as e:
        raise _bad_file(gz_path, f"not a valid gzip file or truncated ({e})") from e
    except OSError as e:
        raise DataFileError(f"cannot decompress {gz_path} into {entry}: {e}. Set {CACHE_ENV} to a "
                            f"writable folder with enough space, or decompress it yourself "
                            f"(`gunzip -k {gz_path}`).") from e
    finally:
        if tmp.exists():
            tmp.unlink()
    _remove_stale(root, entry)
    return target


def find_data_file(dataset: str, split: str, data_dir: Optional[Union[str, os.PathLike]] = None,
                   cache_dir: Optional[Union[str, os.PathLike]] = None) -> Path:
    """Path of the HDF5 file of one split, decompressing a ``.h5.gz`` once if that is all there is.

    Looks in ``data_dir``, else in ``$GENN_EVENTPROP_DATA``, for ``<file>``,
    ``<file>.gz`` and tonic's layout ``<dir>/SHD/<file>`` or ``<dir>/SSC/<file>``
    (tonic's SSC class nests ``SSC/SSC/``; both are searched), plain before
    gzipped. A ``.gz`` is decompressed atomically into the cache folder
    (``cache_dir``, else ``$GENN_EVENTPROP_DATA_CACHE``, else
    ``.genn_eventprop_cache`` next to the ``.gz``) and that copy is returned.

    Raises:
        DataFileError: no file found; the message lists every place looked,
            where to put the file, its URL, its checksum and the download command.
    """
    name = data_file_name(dataset, split)
    source = None
    if data_dir is not None:
        base, source = Path(data_dir), "the data folder given (DATA_DIR)"
    elif os.environ.get(DATA_ENV):
        base, source = Path(os.environ[DATA_ENV]), f"${DATA_ENV}"
    else:
        raise DataFileError(
            f"{dataset.upper()} file {name} not found: no data folder is set. Set DATA_DIR "
            f"(p['DATA_DIR'], or --set DATA_DIR=...) or the environment variable {DATA_ENV} to the "
            f"folder that holds {name} (or {name}.gz, or tonic's {_TONIC_DIRS[dataset][0]}/ "
            f"sub-folder). {_origin_note(dataset, name)}")
    looked = _candidates(base, dataset, name)
    for path in looked:
        if path.is_file():
            return _decompress(path, cache_dir) if path.name.endswith(".gz") else path
    missing_dir = "" if base.is_dir() else f" (the folder {base} does not exist)"
    places = ", ".join(str(p) for p in looked)
    raise DataFileError(
        f"{dataset.upper()} {split} file {name} not found in {source} {base}{missing_dir}; looked for "
        f"{places}. Put {name} or {name}.gz into {base}. {_origin_note(dataset, name, base)}")


# ----------------------------------------------------------------------------------------------
# the in-memory representation


class SpikeSet:
    """The spikes, labels and speakers of one split, as flat arrays.

    Sample ``i`` has the spikes ``times[starts[i]:stops[i]]`` (seconds, float16 as
    stored, or float32) in the channels ``units[starts[i]:stops[i]]`` (uint16).
    Loaded sets keep ``times`` and ``units`` memory-mapped from the cache.
    ``subset`` shares them and only selects ``starts``/``stops``, so samples
    of a subset need not be stored back to back; ``offsets`` (length n+1) exists
    whenever they are (always for a loaded set), and ``compact()`` copies a subset
    into that form.

    Attributes:
        times: spike times in seconds, all samples concatenated.
        units: channel ids, aligned with ``times``.
        labels: int64 class label per sample.
        speakers: int64 speaker id per sample (-1 where the file has none).
        keys: class names, indexed by label.
        n_channels: number of input channels (700 for SHD/SSC).
        source: the file the set was read from, if any.
    """

    def __init__(self, times, units, offsets, labels, speakers, keys: Sequence[str],
                 n_channels: int = N_CHANNELS, source: Optional[Path] = None):
        offsets = np.asarray(offsets)
        if offsets.ndim != 1 or offsets.size < 1 or offsets.dtype.kind not in "iu":
            raise ValueError(f"offsets must be a 1-D integer array of length n+1, "
                             f"got shape {offsets.shape}")
        offsets = offsets.astype(np.int64, copy=False)
        self._init(times, units, offsets[:-1], offsets[1:], labels, speakers, keys, n_channels, source)
        if len(offsets) > 1 and (offsets[0] < 0 or np.any(offsets[1:] < offsets[:-1])):
            raise ValueError("offsets must start at >= 0 and never decrease")
        if offsets[-1] > len(self.times):
            raise ValueError(f"offsets end at {offsets[-1]} but there are only {len(self.times)} spikes")
        self._offsets = offsets

    def _init(self, times, units, starts, stops, labels, speakers, keys, n_channels, source):
        self.times = times if isinstance(times, np.ndarray) else np.asarray(times)
        self.units = units if isinstance(units, np.ndarray) else np.asarray(units)
        if self.times.ndim != 1 or self.units.shape != self.times.shape:
            raise ValueError(f"times and units must be 1-D and of equal length, got shapes "
                             f"{self.times.shape} and {self.units.shape}")
        if self.times.dtype.kind != "f" or self.units.dtype.kind not in "iu":
            raise ValueError(f"times must be floats and units integers, got {self.times.dtype} "
                             f"and {self.units.dtype}")
        self._starts = starts
        self._stops = stops
        n = len(starts)
        self.labels = np.asarray(labels).astype(np.int64, copy=False)
        self.speakers = np.asarray(speakers).astype(np.int64, copy=False)
        if self.labels.shape != (n,) or self.speakers.shape != (n,):
            raise ValueError(f"labels and speakers must have one entry per sample ({n}), got shapes "
                             f"{self.labels.shape} and {self.speakers.shape}")
        self.keys = [str(k) for k in keys]
        self.n_channels = int(n_channels)
        self.source = source
        self._offsets = None

    @classmethod
    def _from_bounds(cls, times, units, starts, stops, labels, speakers, keys, n_channels, source):
        obj = cls.__new__(cls)
        obj._init(times, units, starts, stops, labels, speakers, keys, n_channels, source)
        return obj

    def __len__(self) -> int:
        return len(self._starts)

    def __repr__(self) -> str:
        src = f", source={str(self.source)!r}" if self.source is not None else ""
        return (f"SpikeSet({len(self)} samples, {int(self.spike_counts().sum())} spikes, "
                f"{len(self.keys)} classes, {self.n_channels} channels{src})")

    @property
    def starts(self) -> np.ndarray:
        """Index of the first spike of every sample in ``times``/``units`` (int64, length n)."""
        return self._starts

    @property
    def stops(self) -> np.ndarray:
        """One past the last spike of every sample (int64, length n)."""
        return self._stops

    @property
    def offsets(self) -> np.ndarray:
        """Sample boundaries, int64 of length n+1: sample i is ``offsets[i]:offsets[i+1]``.

        Raises:
            ValueError: the samples of this subset are not stored back to back
                (use ``starts``/``stops``, or ``compact()``).
        """
        if self._offsets is None:
            if len(self) and not np.array_equal(self._stops[:-1], self._starts[1:]):
                raise ValueError("the samples of this SpikeSet are not stored back to back, so it has "
                                 "no offsets array; use starts/stops, or compact() for a copy that has one")
            first = self._starts[:1] if len(self) else np.zeros(1, np.int64)
            self._offsets = np.concatenate([first, self._stops]).astype(np.int64)
        return self._offsets

    @property
    def n_classes(self) -> int:
        """Number of classes named in ``keys``."""
        return len(self.keys)

    def _index(self, i) -> int:
        n = len(self)
        idx = int(i)
        if idx < -n or idx >= n:
            raise IndexError(f"sample index {i} out of range for {n} samples")
        return idx % n

    def sample(self, i: int) -> Tuple[np.ndarray, np.ndarray]:
        """Spike times in ms (float64) and channel ids (int64) of sample ``i``.

        Times are cast to float64 before they are multiplied by 1000, so they are
        exactly 1000 times the stored seconds up to float64 rounding.
        """
        idx = self._index(i)
        a, b = int(self._starts[idx]), int(self._stops[idx])
        times_ms = np.asarray(self.times[a:b], dtype=np.float64) * 1000.0
        return times_ms, np.asarray(self.units[a:b], dtype=np.int64)

    def spike_counts(self) -> np.ndarray:
        """Number of spikes of every sample (int64, length n)."""
        return (self._stops - self._starts).astype(np.int64, copy=False)

    def subset(self, indices) -> "SpikeSet":
        """The samples ``indices`` (integers, negative allowed, a boolean mask or a slice), in that order.

        Spikes are shared with this set, not copied.
        """
        sel = np.arange(len(self))[indices]
        if sel.ndim != 1:
            raise IndexError(f"indices must select a 1-D set of samples, got shape {sel.shape}")
        return SpikeSet._from_bounds(self.times, self.units, self._starts[sel], self._stops[sel],
                                     self.labels[sel], self.speakers[sel], self.keys, self.n_channels,
                                     self.source)

    def compact(self) -> "SpikeSet":
        """A copy whose samples are stored back to back in new in-memory arrays."""
        counts = self.spike_counts()
        offsets = np.zeros(len(self) + 1, np.int64)
        np.cumsum(counts, out=offsets[1:])
        gather = np.repeat(self._starts - offsets[:-1], counts) + np.arange(offsets[-1], dtype=np.int64)
        return SpikeSet(np.asarray(self.times[gather]), np.asarray(self.units[gather]), offsets,
                        self.labels.copy(), self.speakers.copy(), self.keys, self.n_channels,
                        self.source)


# ----------------------------------------------------------------------------------------------
# reading the HDF5 layout


class _NpyAppender:
    """Writes a 1-D .npy file whose length is known only at the end.

    The header is written with room for any length and rewritten, padded to the
    same size, by ``close``; the data start at byte 128, a multiple of 64.
    """

    _HEADER_BYTES = 128

    def __init__(self, path: Path, dtype):
        self.path = path
        self.dtype = np.dtype(dtype)
        self.count = 0
        self._f = open(path, "wb")
        self._f.write(self._header(0))

    def _header(self, n: int) -> bytes:
        text = repr({"descr": np.lib.format.dtype_to_descr(self.dtype), "fortran_order": False,
                     "shape": (n,)})
        body_len = self._HEADER_BYTES - 10
        body = text.ljust(body_len - 1) + "\n"
        return b"\x93NUMPY\x01\x00" + body_len.to_bytes(2, "little") + body.encode("latin1")

    def append(self, a: np.ndarray) -> None:
        self._f.write(np.ascontiguousarray(a, dtype=self.dtype).tobytes())
        self.count += len(a)

    def close(self) -> None:
        self._f.seek(0)
        self._f.write(self._header(self.count))
        self._f.close()

    def abort(self) -> None:
        self._f.close()

    @property
    def closed(self) -> bool:
        return self._f.closed


def _decode_keys(raw) -> List[str]:
    out = []
    for k in np.asarray(raw).ravel():
        if isinstance(k, (bytes, np.bytes_)):
            out.append(bytes(k).decode("utf-8", errors="replace"))
        else:
            out.append(str(k))
    return out


def _open_h5(path: Path) -> h5py.File:
    try:
        return h5py.File(path, "r")
    except OSError as e:
        raise _bad_file(path, f"not a readable HDF5 file ({e})") from e


def _read_all(f: h5py.File, name: str, path: Path) -> np.ndarray:
    try:
        return np.asarray(f[name][()])
    except (OSError, ValueError, KeyError, RuntimeError, TypeError) as e:
        raise _bad_file(path, f"cannot read {name} ({e})") from e


def _read_header(f: h5py.File, path: Path):
    """Checks the layout; returns (times ds, units ds, labels, speakers, keys)."""
    missing = [n for n in ("spikes/times", "spikes/units", "labels")
               if not isinstance(f.get(n), h5py.Dataset)]
    if missing:
        raise _bad_file(path, f"missing dataset(s) {', '.join(missing)}")
    ds_t, ds_u = f["spikes/times"], f["spikes/units"]
    for nm, ds, kinds in (("spikes/times", ds_t, "f"), ("spikes/units", ds_u, "iu")):
        base = h5py.check_vlen_dtype(ds.dtype)
        if ds.ndim != 1 or base is None or base.kind not in kinds:
            what = "floats" if kinds == "f" else "integers"
            raise _bad_file(path, f"{nm} must be a 1-D variable-length array of {what}, "
                                  f"got shape {ds.shape} and dtype {base or ds.dtype}")
    labels = _read_all(f, "labels", path)
    if labels.ndim != 1 or labels.dtype.kind not in "iu":
        raise _bad_file(path, f"labels must be a 1-D integer array, got shape {labels.shape} "
                              f"and dtype {labels.dtype}")
    n = len(labels)
    if len(ds_t) != n or len(ds_u) != n:
        raise _bad_file(path, f"length mismatch: spikes/times has {len(ds_t)} samples, spikes/units "
                              f"{len(ds_u)}, labels {n}")
    if n and labels.min() < 0:
        raise _bad_file(path, f"negative label {labels.min()}")
    if isinstance(f.get("extra/speaker"), h5py.Dataset):
        speakers = _read_all(f, "extra/speaker", path)
        if speakers.shape != (n,) or speakers.dtype.kind not in "iu":
            raise _bad_file(path, f"extra/speaker must hold one integer per sample ({n}), got shape "
                                  f"{speakers.shape} and dtype {speakers.dtype}")
    else:
        speakers = np.full(n, -1, np.int64)
    if isinstance(f.get("extra/keys"), h5py.Dataset):
        keys = _decode_keys(_read_all(f, "extra/keys", path))
        if n and labels.max() >= len(keys):
            raise _bad_file(path, f"labels reach {labels.max()} but extra/keys names only "
                                  f"{len(keys)} classes")
    else:
        keys = [str(k) for k in range(int(labels.max()) + 1 if n else 0)]
    return ds_t, ds_u, labels.astype(np.int64), speakers.astype(np.int64), keys


def _times_dtype(ds_t) -> np.dtype:
    # float16 stays as stored; any other float type is kept as float32, which
    # resolves 1 s to 6e-8 s.
    return np.dtype(np.float16) if h5py.check_vlen_dtype(ds_t.dtype) == np.float16 else np.dtype(np.float32)


def _iter_chunks(ds_t, ds_u, path: Path, n_channels: int):
    """Yields (times, units, counts) for consecutive blocks of samples, checked."""
    n = len(ds_t)
    dtype = _times_dtype(ds_t)
    for a in range(0, n, _READ_CHUNK):
        b = min(n, a + _READ_CHUNK)
        try:
            rows_t, rows_u = ds_t[a:b], ds_u[a:b]
        except (OSError, ValueError, RuntimeError) as e:
            raise _bad_file(path, f"cannot read samples {a}..{b - 1} ({e})") from e
        counts = np.fromiter((len(r) for r in rows_t), np.int64, count=b - a)
        counts_u = np.fromiter((len(r) for r in rows_u), np.int64, count=b - a)
        if not np.array_equal(counts, counts_u):
            k = int(np.flatnonzero(counts != counts_u)[0])
            raise _bad_file(path, f"length mismatch in sample {a + k}: {counts[k]} spike times but "
                                  f"{counts_u[k]} units")
        if counts.sum() == 0:
            yield np.zeros(0, dtype), np.zeros(0, np.uint16), counts
            continue
        t = np.concatenate(list(rows_t)).astype(dtype, copy=False)
        u = np.concatenate(list(rows_u))
        bad = np.flatnonzero(~np.isfinite(t) | (t < 0))
        if bad.size:
            k = int(np.searchsorted(np.cumsum(counts), bad[0], side="right"))
            raise _bad_file(path, f"sample {a + k} has a negative or non-finite spike time")
        umin, umax = int(u.min()), int(u.max())
        if umin < 0 or umax >= n_channels:
            k = int(np.searchsorted(np.cumsum(counts), int(np.flatnonzero((u < 0) | (u >= n_channels))[0]),
                                    side="right"))
            bad_unit = umax if umax >= n_channels else umin
            raise _bad_file(path, f"sample {a + k} has unit {bad_unit}, outside the {n_channels} "
                                  f"input channels (0..{n_channels - 1})")
        yield t, u.astype(np.uint16, copy=False), counts


def _read_into_memory(path: Path, n_channels: int) -> SpikeSet:
    with _open_h5(path) as f:
        ds_t, ds_u, labels, speakers, keys = _read_header(f, path)
        dtype = _times_dtype(ds_t)
        ts, us, cs = [], [], []
        for t, u, c in _iter_chunks(ds_t, ds_u, path, n_channels):
            ts.append(t)
            us.append(u)
            cs.append(c)
    offsets = np.zeros(len(labels) + 1, np.int64)
    if cs:
        np.cumsum(np.concatenate(cs), out=offsets[1:])
    times = np.concatenate(ts) if ts else np.zeros(0, dtype)
    units = np.concatenate(us) if us else np.zeros(0, np.uint16)
    return SpikeSet(times, units, offsets, labels, speakers, keys, n_channels, source=path)


_ARRAYS = ("times", "units", "offsets", "labels", "speakers")


def _write_cache(path: Path, entry: Path, n_channels: int) -> None:
    entry.mkdir(parents=True, exist_ok=True)
    tag = f".tmp-{uuid.uuid4().hex}-"
    tmp = {k: entry / f"{tag}{k}.npy" for k in _ARRAYS}
    writers: List[_NpyAppender] = []
    try:
        with _open_h5(path) as f:
            ds_t, ds_u, labels, speakers, keys = _read_header(f, path)
            times_dtype = _times_dtype(ds_t)
            wt = _NpyAppender(tmp["times"], times_dtype)
            writers.append(wt)
            wu = _NpyAppender(tmp["units"], np.uint16)
            writers.append(wu)
            counts = []
            max_unit = -1
            for t, u, c in _iter_chunks(ds_t, ds_u, path, n_channels):
                wt.append(t)
                wu.append(u)
                counts.append(c)
                if u.size:
                    max_unit = max(max_unit, int(u.max()))
            wt.close()
            wu.close()
        offsets = np.zeros(len(labels) + 1, np.int64)
        if counts:
            np.cumsum(np.concatenate(counts), out=offsets[1:])
        np.save(tmp["offsets"], offsets)
        np.save(tmp["labels"], labels)
        np.save(tmp["speakers"], speakers)
        for k in _ARRAYS:
            os.replace(tmp[k], entry / f"{k}.npy")
        st = path.stat()
        meta = {"version": _CACHE_VERSION, "source": path.name, "size": st.st_size,
                "mtime_ns": st.st_mtime_ns, "n_samples": int(len(labels)), "n_spikes": int(offsets[-1]),
                "times_dtype": np.dtype(times_dtype).str, "max_unit": max_unit, "keys": keys}
        meta_tmp = entry / f"{tag}meta.json"
        meta_tmp.write_text(json.dumps(meta, indent=1), encoding="utf-8")
        # meta.json is written last: its presence marks a complete entry.
        os.replace(meta_tmp, entry / "meta.json")
    finally:
        for w in writers:
            if not w.closed:
                w.abort()
        for p in list(tmp.values()) + [entry / f"{tag}meta.json"]:
            if p.exists():
                p.unlink()
        if not (entry / "meta.json").exists():
            shutil.rmtree(entry, ignore_errors=True)


def _load_cache(path: Path, entry: Path, n_channels: int) -> Optional[SpikeSet]:
    """The cached arrays of ``path`` if ``entry`` holds a complete, current copy, else None."""
    try:
        meta = json.loads((entry / "meta.json").read_text(encoding="utf-8"))
        st = path.stat()
        if (meta.get("version") != _CACHE_VERSION or meta.get("size") != st.st_size
                or meta.get("mtime_ns") != st.st_mtime_ns or meta.get("source") != path.name):
            return None
        arrays = {k: np.load(entry / f"{k}.npy", mmap_mode="r", allow_pickle=False) for k in _ARRAYS}
        n, s = meta["n_samples"], meta["n_spikes"]
        shapes = {"times": (s,), "units": (s,), "offsets": (n + 1,), "labels": (n,), "speakers": (n,)}
        if (any(arrays[k].shape != shape for k, shape in shapes.items())
                or arrays["times"].dtype.str != meta["times_dtype"]):
            return None
        max_unit, keys = int(meta["max_unit"]), list(meta["keys"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if max_unit >= n_channels:
        raise _bad_file(path, f"unit {max_unit} outside the {n_channels} input channels "
                              f"(0..{n_channels - 1})")
    return SpikeSet(arrays["times"], arrays["units"], arrays["offsets"], np.array(arrays["labels"]),
                    np.array(arrays["speakers"]), keys, n_channels, source=path)


def read_spike_file(path: Union[str, os.PathLike], n_channels: int = N_CHANNELS,
                    cache_dir: Optional[Union[str, os.PathLike]] = None,
                    use_cache: bool = True) -> SpikeSet:
    """Read one HDF5 file in the SHD/SSC layout (``.h5``; a ``.h5.gz`` is decompressed first).

    With ``use_cache`` the flat arrays are written once as ``.npy`` files to a
    cache entry keyed by the file's name, size, modification time and folder
    (in ``cache_dir``, else ``$GENN_EVENTPROP_DATA_CACHE``, else
    ``.genn_eventprop_cache`` next to the file) and memory-mapped on every load.
    Changing the file invalidates its entry. If the cache folder is not
    writable the file is read into memory, with a warning.

    ``extra/speaker`` and ``extra/keys`` are optional: without them speakers
    are -1 and class names are the label numbers.

    Raises:
        DataFileError: the file is missing, not HDF5, lacks a dataset, has
            mismatched lengths, negative/non-finite times, or units >= n_channels.
    """
    path = Path(path)
    if not path.is_file():
        raise _bad_file(path, "no such file")
    if path.name.endswith(".gz"):
        path = _decompress(path, cache_dir)
    if not use_cache:
        return _read_into_memory(path, n_channels)
    root = _cache_root(path, cache_dir)
    entry = root / _file_key(path)
    cached = _load_cache(path, entry, n_channels)
    if cached is not None:
        return cached
    try:
        _write_cache(path, entry, n_channels)
    except DataFileError:
        raise
    except OSError as e:
        warnings.warn(f"cannot write the spike cache {entry} ({e}); reading {path} into memory instead. "
                      f"Set {CACHE_ENV} to a writable folder to cache it.", RuntimeWarning, stacklevel=2)
        return _read_into_memory(path, n_channels)
    _remove_stale(root, entry)
    cached = _load_cache(path, entry, n_channels)
    if cached is None:
        # The file changed while it was being converted; the entry just
        # written does not describe it any more.
        return _read_into_memory(path, n_channels)
    return cached


def load_spike_set(dataset: str, split: str, data_dir: Optional[Union[str, os.PathLike]] = None,
                   n_channels: int = N_CHANNELS,
                   cache_dir: Optional[Union[str, os.PathLike]] = None) -> SpikeSet:
    """Find (:func:`find_data_file`) and read (:func:`read_spike_file`) one split of SHD or SSC."""
    path = find_data_file(dataset, split, data_dir, cache_dir)
    return read_spike_file(path, n_channels=n_channels, cache_dir=cache_dir)


# ----------------------------------------------------------------------------------------------
# writing the HDF5 layout


def _write_flat(path: Path, times_s: np.ndarray, units: np.ndarray, offsets: np.ndarray,
                labels: np.ndarray, speakers: np.ndarray, keys: Sequence[str]) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    n = len(labels)
    rows_t = np.empty(n, dtype=object)
    rows_u = np.empty(n, dtype=object)
    for i in range(n):
        rows_t[i] = times_s[offsets[i]:offsets[i + 1]]
        rows_u[i] = units[offsets[i]:offsets[i + 1]]
    # h5py creates the file itself, so it gets the user's umask.
    tmp = path.parent / f".{path.name}.{uuid.uuid4().hex}.tmp"
    try:
        with h5py.File(tmp, "w") as f:
            # Passed as data=, not assigned afterwards: h5py mis-converts a
            # one-row object array on assignment.
            for name, rows, base in (("spikes/times", rows_t, "<f2"), ("spikes/units", rows_u, "<u2")):
                if n:
                    f.create_dataset(name, data=rows, dtype=h5py.vlen_dtype(np.dtype(base)))
                else:
                    f.create_dataset(name, shape=(0,), dtype=h5py.vlen_dtype(np.dtype(base)))
            f.create_dataset("labels", data=labels.astype("<u2"))
            f.create_dataset("extra/keys", data=np.array([k.encode("utf-8") for k in keys], dtype=bytes))
            f.create_dataset("extra/speaker", data=speakers.astype("<u2"))
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def write_spike_file(path: Union[str, os.PathLike], samples: Sequence[Tuple[np.ndarray, np.ndarray]],
                     labels: Sequence[int], speakers: Sequence[int], keys: Sequence[str]) -> None:
    """Write samples in the official SHD/SSC layout, atomically (temporary file, then rename).

    Args:
        path: the ``.h5`` file to write.
        samples: per sample ``(times_s, units)``: spike times in **seconds**
            (stored as float16, as in the official files) and channel ids (uint16).
        labels: class label per sample (0..len(keys)-1).
        speakers: speaker id per sample (0..65535).
        keys: class names, indexed by label (stored as UTF-8 byte strings).
    """
    labels = np.asarray(labels)
    speakers = np.asarray(speakers)
    n = len(samples)
    if labels.shape != (n,) or speakers.shape != (n,):
        raise ValueError(f"labels and speakers need one entry per sample ({n}), got shapes "
                         f"{labels.shape} and {speakers.shape}")
    if n and (labels.dtype.kind not in "iu" or labels.min() < 0 or labels.max() >= len(keys)):
        raise ValueError(f"labels must be integers in 0..{len(keys) - 1} (one per key)")
    if n and (speakers.dtype.kind not in "iu" or speakers.min() < 0 or speakers.max() > 0xFFFF):
        raise ValueError("speakers must be integers in 0..65535")
    counts = np.zeros(n, np.int64)
    ts, us = [], []
    for i, (t, u) in enumerate(samples):
        t = np.asarray(t, dtype=np.float64)
        u = np.asarray(u)
        if t.ndim != 1 or u.shape != t.shape:
            raise ValueError(f"sample {i}: times and units must be 1-D and of equal length")
        if t.size and (not np.all(np.isfinite(t)) or t.min() < 0):
            raise ValueError(f"sample {i}: spike times must be finite and >= 0 (seconds)")
        if u.size and (u.dtype.kind not in "iu" or u.min() < 0 or u.max() > 0xFFFF):
            raise ValueError(f"sample {i}: units must be integers in 0..65535")
        counts[i] = t.size
        ts.append(t.astype(np.float16))
        us.append(u.astype(np.uint16))
    offsets = np.zeros(n + 1, np.int64)
    np.cumsum(counts, out=offsets[1:])
    times = np.concatenate(ts) if ts else np.zeros(0, np.float16)
    units = np.concatenate(us) if us else np.zeros(0, np.uint16)
    _write_flat(Path(path), times, units, offsets, labels, speakers, keys)


# ----------------------------------------------------------------------------------------------
# synthetic data


# Synthetic-data constants (seconds, channels, spikes/s); see generate_synthetic.
_SYN = {
    "n_bands": 8, "n_segments": 4, "group_size": 4,
    "tempo_range": (0.7, 1.3), "tempo_sd": 0.12,
    "onset_range_s": (0.02, 0.12), "onset_jitter_s": 0.12, "segment_jitter_s": 0.03,
    "pitch_range": 45.0, "pitch_sd": 8.0,
    "gain_sd": 0.6, "secondary_weight": 0.5, "rate_hz": 7000.0, "noise_hz": 2000.0,
}


def _synthetic_vocabulary(rng: np.random.Generator, n_classes: int, n_channels: int, n_bands: int,
                          n_segments: int, group_size: int):
    """Formant bands and, per class, the bands and timing of its segments."""
    spacing = n_channels / n_bands
    centers = (np.arange(n_bands) + 0.5) * spacing + rng.uniform(-0.15, 0.15, n_bands) * spacing
    widths = rng.uniform(0.25, 0.4, n_bands) * spacing
    primary = np.zeros((n_classes, n_segments), np.int64)
    secondary = np.zeros((n_classes, n_segments), np.int64)
    for g in range(0, n_classes, group_size):
        # A group shares one set of segments; its classes play them in
        # different orders, so only the timing tells them apart.
        p = rng.choice(n_bands, n_segments, replace=False)
        s = (p + rng.integers(2, n_bands - 1, n_segments)) % n_bands
        orders = [np.arange(n_segments)]
        while len(orders) < min(group_size, n_classes - g):
            o = rng.permutation(n_segments)
            if not any(np.array_equal(o, q) for q in orders):
                orders.append(o)
        for k, o in enumerate(orders):
            primary[g + k] = p[o]
            secondary[g + k] = s[o]
    durations = rng.uniform(0.11, 0.19, (n_classes, n_segments))
    gaps = rng.uniform(-0.02, 0.03, (n_classes, n_segments))
    starts = np.concatenate([np.zeros((n_classes, 1)), np.cumsum(durations + gaps, axis=1)[:, :-1]], axis=1)
    return centers, widths, primary, secondary, starts, durations


def _synthesize_chunked(rng, vocab, voices, labels, speakers, trial_s, n_channels,
                        chunk: int = 2000):
    """``_synthesize`` over ``chunk`` samples at a time: its temporaries take ~40 bytes
    per spike, the result 4 (SSC's training file has ~600 million spikes)."""
    parts = [_synthesize(rng, vocab, voices, labels[a:a + chunk], speakers[a:a + chunk],
                         trial_s, n_channels) for a in range(0, max(len(labels), 1), chunk)]
    times = np.concatenate([t for t, _, _ in parts])
    units = np.concatenate([u for _, u, _ in parts])
    shift = np.cumsum([0] + [int(o[-1]) for _, _, o in parts[:-1]])
    offsets = np.concatenate([[0]] + [o[1:] + k for (_, _, o), k in zip(parts, shift)])
    return times, units, offsets.astype(np.int64)


def _synthesize(rng: np.random.Generator, vocab, voices, labels: np.ndarray, speakers: np.ndarray,
                trial_s: float, n_channels: int):
    centers, widths, primary, secondary, seg_start, seg_dur = vocab
    tempo_v, pitch_v, onset_v = voices
    n = len(labels)
    n_seg = primary.shape[1]
    tempo = tempo_v[speakers] * np.exp(rng.normal(0.0, _SYN["tempo_sd"], n))
    onset = onset_v[speakers] + rng.uniform(0.0, _SYN["onset_jitter_s"], n)
    pitch = pitch_v[speakers] + rng.normal(0.0, _SYN["pitch_sd"] * n_channels / N_CHANNELS, n)
    length = seg_start[labels, -1] + seg_dur[labels, -1]
    # Keep every word inside the trial: slow speakers are squeezed if needed.
    tempo = np.minimum(tempo, (0.97 * trial_s - onset) / length)
    start = (onset[:, None] + tempo[:, None] * seg_start[labels]
             + rng.normal(0.0, _SYN["segment_jitter_s"], (n, n_seg)))
    dur = tempo[:, None] * seg_dur[labels]
    gain = np.exp(rng.normal(0.0, _SYN["gain_sd"], (n, n_seg)))
    # Bursts: (sample, segment, formant); formant 0 is the primary band, 1 the weaker secondary.
    band = np.stack([primary[labels], secondary[labels]], axis=2).ravel()
    weight = np.array([1.0, _SYN["secondary_weight"]])
    counts = rng.poisson(_SYN["rate_hz"] * dur[:, :, None] * gain[:, :, None] * weight).ravel()
    n_sig = int(counts.sum())
    rep = np.repeat(np.arange(counts.size, dtype=np.int64), counts)
    # Triangular envelope (mean of two uniforms): a burst swells and fades.
    t = rng.random(n_sig, dtype=np.float32)
    t += rng.random(n_sig, dtype=np.float32)
    t *= 0.5 * np.repeat(dur.ravel(), 2).astype(np.float32)[rep]
    t += np.repeat(start.ravel(), 2).astype(np.float32)[rep]
    u = rng.standard_normal(n_sig, dtype=np.float32)
    u *= widths[band].astype(np.float32)[rep]
    u += (centers[band] + np.repeat(pitch, n_seg * 2)).astype(np.float32)[rep]
    sample = rep // (n_seg * 2)
    del rep
    # Background spikes from the start of the trial until shortly after the
    # word, so that, as in SHD, samples end at different times.
    noise_end = np.minimum(trial_s, start[:, -1] + dur[:, -1] + 0.05)
    noise_counts = rng.poisson(_SYN["noise_hz"] * noise_end)
    noise_t = rng.random(int(noise_counts.sum()), dtype=np.float32)
    noise_t *= np.repeat(noise_end, noise_counts).astype(np.float32)
    t = np.concatenate([t, noise_t])
    noise_u = rng.integers(0, n_channels, int(noise_counts.sum())).astype(np.float32)
    u = np.concatenate([np.rint(u), noise_u])
    sample = np.concatenate([sample, np.repeat(np.arange(n, dtype=np.int64), noise_counts)])
    np.clip(t, 0.0, trial_s * (1.0 - 1e-3), out=t)
    np.clip(u, 0, n_channels - 1, out=u)
    # One uint64 per spike, (sample, time, unit) from the high bits down:
    # sorting it orders spikes by sample, then time. Non-negative float16
    # bit patterns sort like their values.
    key = sample.astype(np.uint64)
    key <<= np.uint64(16)
    key |= t.astype(np.float16).view(np.uint16)
    key <<= np.uint64(16)
    key |= u.astype(np.uint16)
    del t, u
    key.sort()
    times = (key >> np.uint64(16)).astype(np.uint16).view(np.float16)
    units = (key & np.uint64(0xFFFF)).astype(np.uint16)
    offsets = np.zeros(n + 1, np.int64)
    np.cumsum(np.bincount(sample, minlength=n), out=offsets[1:])
    return times, units, offsets


def generate_synthetic(directory: Union[str, os.PathLike], dataset: str = "shd", n_train: int = 8156,
                       n_test: int = 2264, n_valid: int = 1000, n_classes: Optional[int] = None,
                       n_speakers: Optional[int] = None, seed: int = 0, trial_s: float = 1.0,
                       n_channels: int = N_CHANNELS) -> Dict[str, Path]:
    """Write synthetic SHD-like (or SSC-like) files in the official layout; returns {split: path}.

    Writes ``shd_train.h5``/``shd_test.h5`` (or ``ssc_train.h5``,
    ``ssc_valid.h5`` (``n_valid`` samples), ``ssc_test.h5``) into ``directory``.
    Default sizes are SHD's (8156 train, 2264 test samples).

    Model: ``n_classes`` "words" (default 20 for SHD, 35 for SSC), each a
    sequence of 4 segments of 110-190 ms; each segment drives a primary and a
    weaker secondary "formant" band (Gaussian channel profiles; 8 bands across
    the ``n_channels`` channels). Classes come in groups of 4 that use the same
    segments in different orders, and all groups draw from the same 8 bands, so
    channels alone do not identify a class; the temporal order does.
    Speakers differ in tempo (x0.7-1.3, and 12 % per utterance), onset
    (20-120 ms, plus up to 120 ms per utterance) and pitch (a shift of up to
    +-45 of 700 channels, and 8 per utterance); segments jitter by 30 ms and their
    loudness by a factor exp(N(0, 0.6)). On top come 2000 spikes/s of uniform
    background noise from 0 until 50 ms after the word. Words are compressed to
    end by 0.97 ``trial_s`` (seconds; default 1.0). With the defaults a sample
    has about 8000 spikes (5-95 %: 4600-13300; about 7500 after binning to
    1 ms, as SHD) and ends between 0.45 and 1 s.

    Speakers (default 12 for SHD, 60 for SSC): like SHD, two speakers appear
    only in the test set, which takes half its samples from them and half from
    the training speakers; for SSC the speakers are split disjointly
    (about 80/10/10 %, at least one each) between train, valid and test.
    Labels are balanced.
    The same ``seed`` gives the same files.
    """
    if dataset not in SPLITS:
        raise ValueError(f"dataset must be one of {sorted(SPLITS)}, got {dataset!r}")
    n_classes = (20 if dataset == "shd" else 35) if n_classes is None else int(n_classes)
    n_speakers = (12 if dataset == "shd" else 60) if n_speakers is None else int(n_speakers)
    if n_classes < 2:
        raise ValueError(f"n_classes must be >= 2, got {n_classes}")
    if n_speakers < 3:
        raise ValueError(f"n_speakers must be >= 3 (train and held-out speakers), got {n_speakers}")
    if not trial_s > 0.3:
        raise ValueError(f"trial_s is in seconds and must exceed 0.3 (a word lasts up to ~0.9 s), "
                         f"got {trial_s}")
    sizes = {"train": n_train, "test": n_test, "valid": n_valid}
    for split in SPLITS[dataset]:
        if int(sizes[split]) < 0:
            raise ValueError(f"n_{split} must be >= 0, got {sizes[split]}")
    seq = np.random.SeedSequence(seed)
    vocab_seq, voice_seq, *split_seqs = seq.spawn(2 + len(SPLITS[dataset]))
    vocab = _synthetic_vocabulary(np.random.default_rng(vocab_seq), n_classes, n_channels,
                                  _SYN["n_bands"], _SYN["n_segments"], _SYN["group_size"])
    vrng = np.random.default_rng(voice_seq)
    voices = (vrng.uniform(*_SYN["tempo_range"], n_speakers),
              vrng.uniform(-1.0, 1.0, n_speakers) * _SYN["pitch_range"] * n_channels / N_CHANNELS,
              vrng.uniform(*_SYN["onset_range_s"], n_speakers))
    ids = vrng.permutation(n_speakers)
    if dataset == "shd":
        held_out = ids[:2]
        pools = {"train": (ids[2:],), "test": (held_out, ids[2:])}
    else:
        n_held = max(1, int(round(0.1 * n_speakers)))
        n_tr = n_speakers - 2 * n_held
        pools = {"train": (ids[:n_tr],), "valid": (ids[n_tr:n_tr + n_held],),
                 "test": (ids[n_tr + n_held:],)}
    keys = [f"{dataset}_synthetic_{k:02d}" for k in range(n_classes)]
    out = {}
    directory = Path(directory)
    for split, sseq in zip(SPLITS[dataset], split_seqs):
        rng = np.random.default_rng(sseq)
        n = int(sizes[split])
        labels = rng.permutation(np.arange(n) % n_classes)
        pool = pools[split]
        which = rng.integers(0, len(pool), n)
        speakers = np.zeros(n, np.int64)
        for k, p in enumerate(pool):
            sel = which == k
            speakers[sel] = p[rng.integers(0, len(p), int(sel.sum()))]
        times, units, offsets = _synthesize_chunked(rng, vocab, voices, labels, speakers,
                                                    trial_s, n_channels)
        path = directory / data_file_name(dataset, split)
        _write_flat(path, times, units, offsets, labels, speakers, keys)
        out[split] = path
    return out
