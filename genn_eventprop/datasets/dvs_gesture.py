"""DVS128 Gesture (IBM): reading the two common on-disk layouts, channel coding, synthetic data.

The data set (Amir et al., "A Low Power, Fully Event-Based Gesture Recognition
System", CVPR 2017) holds 11 hand and arm gestures (:data:`CLASSES`) of 29
subjects under 5 lighting conditions, recorded with a 128 x 128 pixel DVS128
event camera. An event is a pixel ``(x, y)`` (0..127 each), a polarity ``p``
(1: the pixel got brighter, "ON"; 0: darker, "OFF") and a time. Two layouts are
read; :func:`find_dvs_gesture` detects which one a data folder holds.

**The IBM release** (``DvsGesture.tar.gz`` from :data:`IBM_URL`, extracted to a
``DvsGesture/`` folder). One recording per subject and lighting,
``userNN_<lighting>.aedat``, each with ``userNN_<lighting>_labels.csv`` beside
it; ``trials_to_train.txt`` and ``trials_to_test.txt`` list the ``.aedat``
names (one a line) of each split (subjects 1-23 train, 24-29 test).

- ``.aedat`` files are AEDAT 3.1: ASCII header lines that each start with
  ``#`` and end with ``\\r\\n``, the first ``#!AER-DAT3.1``, the last
  ``#!END-HEADER``; then packets, little-endian. A packet is a 28-byte header
  (int16 eventType, int16 eventSource, int32 eventSize, int32 eventTSOffset,
  int32 eventTSOverflow, int32 eventCapacity, int32 eventNumber, int32
  eventValid) and ``eventNumber * eventSize`` bytes of events. Type 1 holds
  polarity events of 8 bytes: uint32 ``data`` (bit 0 valid, bit 1 polarity,
  bits 2-16 y, bits 17-31 x) and int32 timestamp in µs, of which the low 31
  bits count; the full time is ``(eventTSOverflow << 31) | timestamp``. Other
  packet types (special events, IMU samples, ...) are skipped and counted.
- ``*_labels.csv`` has the header ``class,startTime_usec,endTime_usec`` and one
  row per gesture: its class (1..11) and the window ``[start, end)`` of event
  times, µs, in the time base of the ``.aedat`` file. Each row becomes one
  sample; its times are ms since the window start, its label ``class - 1``.

**tonic's layout** (``tonic.datasets.DVSGesture(save_to=<dir>)``, with the
recordings already cut into gestures):
``<dir>/DVSGesture/ibmGestureTrain/userNN_<lighting>/<label>.npy`` and the same
under ``ibmGestureTest``; ``<label>`` is 0..10. Each ``.npy`` is a float array
of shape (N, 4) with columns x, y, p, t, t in **ms** (tonic multiplies it by
1000 when it loads a sample). Times are kept as stored: tonic's files start
near 0, so no offset is subtracted.

:func:`load_dvs_gesture` returns one split as :class:`DVSEvents` (flat arrays,
times in ms) and keeps it for the rest of the process while the files are
unchanged. Anything skipped is counted in ``DVSEvents.report``.

:func:`to_channels` maps events to input channels as the original EventProp
research code did: the sensor is down-sampled by ``factor`` in x and y and
every down-sampled pixel has an OFF and an ON channel.

:func:`generate_synthetic` writes a small synthetic data set in either layout:
blobs (hands, arms) that move along class-specific paths, seen by a simulated
event camera. It needs no download and is learnable.
"""
from __future__ import annotations

import dataclasses
import os
import re
import struct
import uuid
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Callable, Dict, Iterator, List, Optional, Sequence, Tuple, Union

import numpy as np

from .shd import DataFileError, data_folder

__all__ = [
    "CLASSES",
    "DVSEvents",
    "GestureSource",
    "IBM_URL",
    "LIGHTINGS",
    "N_CLASSES",
    "SENSOR_SIZE",
    "SPLITS",
    "TONIC_COMMAND",
    "find_dvs_gesture",
    "iter_dvs_gesture",
    "generate_synthetic",
    "load_dvs_gesture",
    "n_channels",
    "read_aedat31",
    "read_gesture_labels",
    "to_channels",
    "write_aedat31",
    "write_gesture_labels",
    "write_tonic_layout",
]

#: Class names, indexed by label (the IBM class number minus 1).
CLASSES = (
    "hand_clapping",
    "right_hand_wave",
    "left_hand_wave",
    "right_arm_clockwise",
    "right_arm_counter_clockwise",
    "left_arm_clockwise",
    "left_arm_counter_clockwise",
    "arm_roll",
    "air_drums",
    "air_guitar",
    "other_gestures",
)
N_CLASSES = len(CLASSES)
#: Pixels per side of the DVS128 sensor.
SENSOR_SIZE = 128
SPLITS = ("train", "test")
#: Lighting conditions of the IBM recordings, in the order their file names sort.
LIGHTINGS = ("fluorescent", "fluorescent_led", "lab", "led", "natural")
IBM_URL = "https://research.ibm.com/interactive/dvsgesture/"
TONIC_COMMAND = "tonic.datasets.DVSGesture(save_to=<dir>)"

_IBM_DIR = "DvsGesture"
_TONIC_DIR = "DVSGesture"
_TONIC_SPLIT_DIRS = {"train": "ibmGestureTrain", "test": "ibmGestureTest"}
_AEDAT_MAGIC = b"#!AER-DAT3.1"
_AEDAT_END = b"#!END-HEADER"
_AEDAT_HEADER = (b"#!AER-DAT3.1\r\n#Format: RAW\r\n#Source 1: DVS128\r\n"
                 b"#Written-By: genn_eventprop\r\n#!END-HEADER\r\n")
# eventType, eventSource, eventSize, eventTSOffset, eventTSOverflow,
# eventCapacity, eventNumber, eventValid.
_PACKET_HEADER = struct.Struct("<hhiiiiii")
_POLARITY_TYPE = 1
_POLARITY_EVENT = np.dtype([("data", "<u4"), ("ts", "<i4")])
_ADDRESS_MASK = 0x7FFF
_TS_BITS = 31
_LABELS_HEADER = ("class", "starttime_usec", "endtime_usec")
_USER_RE = re.compile(r"^user(\d+)", re.IGNORECASE)
_REPORT_KEYS = ("non_polarity_packets", "non_polarity_events", "invalid_events",
                "events_outside_sensor", "events_outside_windows",
                "label_rows_unknown_class", "label_rows_empty_window")


# ----------------------------------------------------------------------------------------------
# the in-memory representation


@dataclass
class DVSEvents:
    """The events, labels and subjects of many samples, as flat arrays.

    Sample ``i`` has the events ``offsets[i]:offsets[i+1]`` of ``x``, ``y``
    (int16 pixel, 0..127), ``p`` (uint8 polarity, 1 ON, 0 OFF) and ``t_ms``
    (float64, ms since the start of the sample's gesture). ``labels`` (int64,
    0..10, indexing :data:`CLASSES`) and ``users`` (int64 subject number, 1 for
    ``user01``; -1 where a name has none) have one entry per sample.
    ``report`` counts what was skipped when the files were read (see
    :func:`load_dvs_gesture`). Loaded sets share read-only arrays with the
    per-process cache.
    """
    x: np.ndarray
    y: np.ndarray
    p: np.ndarray
    t_ms: np.ndarray
    offsets: np.ndarray
    labels: np.ndarray
    users: np.ndarray
    report: Dict[str, int] = field(default_factory=dict)

    def __post_init__(self):
        self.x = np.asarray(self.x, dtype=np.int16)
        self.y = np.asarray(self.y, dtype=np.int16)
        self.p = np.asarray(self.p, dtype=np.uint8)
        self.t_ms = np.asarray(self.t_ms, dtype=np.float64)
        self.offsets = np.asarray(self.offsets, dtype=np.int64)
        self.labels = np.asarray(self.labels, dtype=np.int64)
        self.users = np.asarray(self.users, dtype=np.int64)
        n_events = len(self.t_ms)
        if any(a.ndim != 1 or len(a) != n_events for a in (self.x, self.y, self.p, self.t_ms)):
            raise ValueError("x, y, p and t_ms must be 1-D arrays of equal length")
        n = len(self.labels)
        if self.users.shape != (n,) or self.offsets.shape != (n + 1,):
            raise ValueError(f"labels and users need one entry per sample and offsets n+1 = {n + 1}; "
                             f"got shapes {self.labels.shape}, {self.users.shape}, {self.offsets.shape}")
        if self.offsets[0] != 0 or self.offsets[-1] != n_events or np.any(np.diff(self.offsets) < 0):
            raise ValueError(f"offsets must rise from 0 to the number of events ({n_events})")

    def __len__(self) -> int:
        return len(self.labels)

    def sample(self, i: int) -> Tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Views ``(x, y, p, t_ms)`` of the events of sample ``i``."""
        n = len(self)
        if not -n <= i < n:
            raise IndexError(f"sample index {i} out of range for {n} samples")
        a, b = self.offsets[i % n], self.offsets[i % n + 1]
        return self.x[a:b], self.y[a:b], self.p[a:b], self.t_ms[a:b]

    def event_counts(self) -> np.ndarray:
        """Number of events of every sample (int64)."""
        return np.diff(self.offsets)


def _concat_samples(parts: Sequence[Tuple[np.ndarray, ...]], labels, users,
                    report: Dict[str, int]) -> DVSEvents:
    """One DVSEvents from per-sample ``(x, y, p, t_ms)``."""
    counts = np.array([len(part[3]) for part in parts], dtype=np.int64)
    offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)

    def cat(k, dtype):
        return np.concatenate([part[k] for part in parts]).astype(dtype) if parts else np.zeros(0, dtype)

    return DVSEvents(cat(0, np.int16), cat(1, np.int16), cat(2, np.uint8), cat(3, np.float64),
                     offsets, labels, users, report)


# ----------------------------------------------------------------------------------------------
# messages


def _where_from(base: Optional[Path] = None) -> str:
    folder = str(base) if base is not None else "<data folder>"
    return (f"Either download the IBM release (DvsGesture.tar.gz) from {IBM_URL} and extract it "
            f"into {folder}, so that {Path(folder) / _IBM_DIR / 'trials_to_train.txt'} exists; or "
            f"let tonic fetch its preprocessed copy with `{TONIC_COMMAND.replace('<dir>', folder)}`, "
            f"which creates {Path(folder) / _TONIC_DIR / 'ibmGestureTrain'}.")


def _bad_aedat(path: Path, offset: int, problem: str) -> DataFileError:
    return DataFileError(
        f"AEDAT file {path}, byte {offset}: {problem}. The file is damaged (e.g. an interrupted "
        f"download or extraction) or not an AEDAT 3.1 recording of the DVS128 Gesture data set; "
        f"extract it again from DvsGesture.tar.gz ({IBM_URL}).")


def _bad_tonic_file(path: Path, problem: str) -> DataFileError:
    return DataFileError(
        f"tonic DVSGesture file {path}: {problem}. tonic's layout has (N, 4) arrays of x, y, p, "
        f"t (ms) in <dir>/{_TONIC_DIR}/ibmGestureTrain|ibmGestureTest/userNN_<lighting>/<label>.npy "
        f"with label 0..10; delete the folder and let `{TONIC_COMMAND}` download it again.")


def _user_of(name: str) -> int:
    """Subject number from a name like ``user05_lab.aedat`` (-1 if it has none)."""
    m = _USER_RE.match(name)
    return int(m.group(1)) if m else -1


def _empty_report() -> Dict[str, int]:
    return {k: 0 for k in _REPORT_KEYS}


# ----------------------------------------------------------------------------------------------
# AEDAT 3.1


def _aedat_header_end(buf: bytes, path: Path) -> int:
    """Byte offset of the first packet, after checking the ASCII header."""
    pos = 0
    first = True
    while True:
        if pos >= len(buf):
            raise _bad_aedat(path, pos, f"the header has no line {_AEDAT_END.decode()}")
        if buf[pos:pos + 1] != b"#":
            raise _bad_aedat(path, pos, f"header line does not start with '#' (found "
                                        f"{buf[pos:pos + 16]!r}) before {_AEDAT_END.decode()}")
        end = buf.find(b"\n", pos)
        if end < 0:
            raise _bad_aedat(path, pos, "the header ends in an unterminated line")
        line = buf[pos:end].rstrip(b"\r").strip()
        if first and line != _AEDAT_MAGIC:
            raise _bad_aedat(path, pos, f"the first line is {line[:40]!r}, not "
                                        f"{_AEDAT_MAGIC.decode()}; only AEDAT 3.1 is read")
        first = False
        pos = end + 1
        if line == _AEDAT_END:
            return pos


def _packet_table(buf: bytes, start: int, path: Path):
    """Walks the packets: (data offsets, event counts, overflows) of the polarity
    packets, and the number of other packets and their events."""
    offsets, counts, overflows = [], [], []
    other_packets = other_events = 0
    pos, size = start, len(buf)
    while pos < size:
        if size - pos < _PACKET_HEADER.size:
            raise _bad_aedat(path, pos, f"truncated packet header ({size - pos} of "
                                        f"{_PACKET_HEADER.size} bytes)")
        etype, _, esize, ts_offset, overflow, _, number, _ = _PACKET_HEADER.unpack_from(buf, pos)
        if esize <= 0 or number < 0 or overflow < 0:
            raise _bad_aedat(path, pos, f"packet header with eventSize {esize}, eventNumber {number}, "
                                        f"eventTSOverflow {overflow}")
        data = pos + _PACKET_HEADER.size
        end = data + esize * number
        if end > size:
            raise _bad_aedat(path, pos, f"truncated packet: {number} events of {esize} bytes need "
                                        f"{end - data} bytes, the file has {size - data} left")
        if etype == _POLARITY_TYPE:
            if esize != _POLARITY_EVENT.itemsize or ts_offset != 4:
                raise _bad_aedat(path, pos, f"polarity packet with eventSize {esize} and "
                                            f"eventTSOffset {ts_offset} (expected 8 and 4)")
            offsets.append(data)
            counts.append(number)
            overflows.append(overflow)
        else:
            other_packets += 1
            other_events += number
        pos = end
    return offsets, counts, overflows, other_packets, other_events


def read_aedat31(path: Union[str, os.PathLike]):
    """The valid polarity events of an AEDAT 3.1 file.

    Returns:
        ``(x, y, p, t_us, skipped)``: x and y (int16), polarity (uint8, 1 ON),
        time in µs (int64, overflow counter included) in file order, and counts
        of what was skipped: ``non_polarity_packets``, ``non_polarity_events``
        (the events in them) and ``invalid_events`` (polarity events whose
        valid bit is clear).

    Raises:
        DataFileError: the file is missing or unreadable, its header is not
            AEDAT 3.1, a packet is truncated, or a polarity packet does not have
            8-byte events; the message gives the byte offset.
    """
    path = Path(path)
    try:
        buf = path.read_bytes()
    except OSError as e:
        raise DataFileError(f"AEDAT file {path} cannot be read ({e}). {_where_from()}") from e
    start = _aedat_header_end(buf, path)
    offsets, counts, overflows, other_packets, other_events = _packet_table(buf, start, path)
    # Packets are found one by one; their events are decoded all at once.
    chunks = [np.frombuffer(buf, _POLARITY_EVENT, count=n, offset=o) for o, n in zip(offsets, counts)]
    events = np.concatenate(chunks) if chunks else np.zeros(0, _POLARITY_EVENT)
    overflow = np.repeat(np.asarray(overflows, dtype=np.int64), counts)
    valid = (events["data"] & 1).astype(bool)
    data = events["data"][valid]
    t_us = (overflow[valid] << _TS_BITS) | (events["ts"][valid].astype(np.int64) & (2 ** _TS_BITS - 1))
    x = ((data >> 17) & _ADDRESS_MASK).astype(np.int16)
    y = ((data >> 2) & _ADDRESS_MASK).astype(np.int16)
    p = ((data >> 1) & 1).astype(np.uint8)
    skipped = {"non_polarity_packets": other_packets, "non_polarity_events": other_events,
               "invalid_events": int(len(valid) - np.count_nonzero(valid))}
    return x, y, p, t_us, skipped


def _atomic_write(path: Path, write: Callable[[Path], None]) -> None:
    """Runs ``write`` on a temporary file beside ``path``, then renames it to ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.parent / f".{path.name}.{uuid.uuid4().hex}.tmp"
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def _packet_bounds(overflow: np.ndarray, packet_size: int) -> List[int]:
    """Event indices that start a packet: every change of the overflow counter
    (a packet has one) and every ``packet_size`` events within a run."""
    n = len(overflow)
    runs = np.concatenate([[0], np.flatnonzero(np.diff(overflow)) + 1, [n]]).tolist()
    bounds = []
    for a, b in zip(runs[:-1], runs[1:]):
        bounds.extend(range(a, b, packet_size))
    return bounds + [n]


def write_aedat31(path: Union[str, os.PathLike], x, y, p, t_us, packet_size: int = 4096,
                  valid=None) -> None:
    """Write polarity events as an AEDAT 3.1 file, atomically.

    Events are written in the given order, ``packet_size`` to a packet; a new
    packet starts wherever ``t_us >> 31`` changes, which goes into
    eventTSOverflow. ``valid`` (bool per event, default all True) sets the
    valid bit, so files with invalid events can be made.

    Args:
        x, y: pixel addresses, 0..32767.
        p: polarity, 0 or 1.
        t_us: times in µs, integers in 0..2**62-1.
    """
    x, y, p, t = (np.asarray(a) for a in (x, y, p, t_us))
    n = len(t)
    valid = np.ones(n, bool) if valid is None else np.asarray(valid, dtype=bool)
    if any(a.shape != (n,) for a in (x, y, p, t, valid)):
        raise ValueError("x, y, p, t_us (and valid) must be 1-D arrays of equal length")
    if int(packet_size) < 1:
        raise ValueError(f"packet_size must be >= 1, got {packet_size}")
    if n:
        for name, a, hi in (("x", x, _ADDRESS_MASK), ("y", y, _ADDRESS_MASK), ("p", p, 1),
                            ("t_us", t, 2 ** 62 - 1)):
            if a.dtype.kind not in "iub" or a.min() < 0 or a.max() > hi:
                raise ValueError(f"{name} must be integers in 0..{hi}")
    t = t.astype(np.int64)
    events = np.empty(n, _POLARITY_EVENT)
    events["data"] = ((x.astype(np.uint32) << 17) | (y.astype(np.uint32) << 2)
                      | (p.astype(np.uint32) << 1) | valid.astype(np.uint32))
    events["ts"] = (t & (2 ** _TS_BITS - 1)).astype(np.int32)
    overflow = t >> _TS_BITS
    bounds = _packet_bounds(overflow, int(packet_size))

    def write(tmp: Path) -> None:
        with open(tmp, "wb") as f:
            f.write(_AEDAT_HEADER)
            for a, b in zip(bounds[:-1], bounds[1:]):
                n_valid = int(np.count_nonzero(valid[a:b]))
                f.write(_PACKET_HEADER.pack(_POLARITY_TYPE, 1, _POLARITY_EVENT.itemsize, 4,
                                            int(overflow[a]), b - a, b - a, n_valid))
                f.write(events[a:b].tobytes())

    _atomic_write(Path(path), write)


# ----------------------------------------------------------------------------------------------
# label files


def _bad_labels(path: Path, problem: str) -> DataFileError:
    return DataFileError(
        f"label file {path}: {problem}. Expected the header class,startTime_usec,endTime_usec and "
        f"rows of three integers (class 1..{N_CLASSES}, start and end in µs); extract it again "
        f"from DvsGesture.tar.gz ({IBM_URL}).")


def _label_rows(path: Path) -> List[Tuple[int, List[str]]]:
    """Non-blank rows of a CSV file as (line number, stripped fields), header included."""
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except OSError as e:
        raise DataFileError(f"label file {path} cannot be read ({e}). {_where_from()}") from e
    except UnicodeDecodeError as e:
        raise _bad_labels(path, f"not a text file ({e})") from e
    return [(i + 1, [f.strip() for f in line.split(",")])
            for i, line in enumerate(text.splitlines()) if line.strip()]


def read_gesture_labels(path: Union[str, os.PathLike]):
    """The gesture windows of a ``*_labels.csv`` file.

    Returns:
        ``(labels, start_us, end_us, skipped)``: label per kept row (int64,
        class - 1), window start and end (int64 µs; a window holds events with
        ``start <= t < end``), and counts of rows left out:
        ``label_rows_unknown_class`` (class not in 1..11) and
        ``label_rows_empty_window`` (end <= start).

    Raises:
        DataFileError: missing file, wrong header, or a row that is not three integers.
    """
    path = Path(path)
    rows = _label_rows(path)
    if rows and tuple(f.lower() for f in rows[0][1]) == _LABELS_HEADER:
        rows = rows[1:]
    elif rows and not rows[0][1][0].lstrip("-").isdigit():
        raise _bad_labels(path, f"line {rows[0][0]} is neither the header nor a row of numbers")
    values = []
    for line_no, fields in rows:
        try:
            if len(fields) != 3:
                raise ValueError(f"{len(fields)} fields")
            values.append([int(f) for f in fields])
        except ValueError as e:
            raise _bad_labels(path, f"line {line_no} is not three integers ({e})") from e
    table = np.array(values, dtype=np.int64).reshape(-1, 3)
    known = (table[:, 0] >= 1) & (table[:, 0] <= N_CLASSES)
    non_empty = table[:, 2] > table[:, 1]
    keep = known & non_empty
    skipped = {"label_rows_unknown_class": int(np.count_nonzero(~known)),
               "label_rows_empty_window": int(np.count_nonzero(known & ~non_empty))}
    return table[keep, 0] - 1, table[keep, 1], table[keep, 2], skipped


def write_gesture_labels(path: Union[str, os.PathLike], labels, start_us, end_us) -> None:
    """Write a ``*_labels.csv`` file: labels 0..10 are stored as classes 1..11."""
    labels, start_us, end_us = (np.asarray(a, dtype=np.int64) for a in (labels, start_us, end_us))
    lines = ["class,startTime_usec,endTime_usec"]
    lines += [f"{c + 1},{a},{b}" for c, a, b in zip(labels.tolist(), start_us.tolist(), end_us.tolist())]
    text = "\n".join(lines) + "\n"
    _atomic_write(Path(path), lambda tmp: tmp.write_text(text, encoding="utf-8"))


# ----------------------------------------------------------------------------------------------
# finding the files


@dataclass(frozen=True)
class GestureSource:
    """A copy of the data set: its ``fmt`` ("ibm" or "tonic") and ``root``, the folder
    that holds ``trials_to_*.txt`` (IBM) or ``ibmGestureTrain``/``ibmGestureTest`` (tonic)."""
    fmt: str
    root: Path

    def files(self, split: str) -> List[Tuple[Path, ...]]:
        """The files of ``split``: per recording ``(aedat, labels csv)`` (IBM), per sample
        ``(npy,)`` (tonic, sorted by folder, then label).

        Raises:
            DataFileError: a split list, a listed file or the split's folder is missing.
        """
        if split not in SPLITS:
            raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
        if self.fmt == "ibm":
            return _ibm_files(self.root, split)
        return [(f,) for f in _tonic_files(self.root, split)]


def _data_base(root: Path, name: Optional[str] = None) -> Path:
    """The data folder above ``root``, the folder of one layout (``DvsGesture``/``DVSGesture``)."""
    names = (name,) if name else (_IBM_DIR, _TONIC_DIR)
    return root.parent if root.name in names else root


def _read_trials(path: Path) -> List[str]:
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except (OSError, UnicodeDecodeError) as e:
        base = _data_base(path.parent, _IBM_DIR)
        raise DataFileError(f"split list {path} cannot be read ({e}). It lists the .aedat files of "
                            f"one split, one name a line. {_where_from(base)}") from e
    return [line.strip() for line in text.splitlines() if line.strip()]


def _ibm_files(root: Path, split: str) -> List[Tuple[Path, Path]]:
    trials = root / f"trials_to_{split}.txt"
    if not trials.is_file():
        raise DataFileError(f"split list {trials} not found, though {root} looks like the IBM "
                            f"release (it has another split list). {_where_from(_data_base(root))}")
    pairs, missing = [], []
    for name in _read_trials(trials):
        if not name.lower().endswith(".aedat"):
            raise DataFileError(f"split list {trials} names {name!r}, which is not an .aedat file. "
                                f"{_where_from(_data_base(root))}")
        aedat = root / name
        labels = root / (name[:-len(".aedat")] + "_labels.csv")
        missing += [str(f) for f in (aedat, labels) if not f.is_file()]
        pairs.append((aedat, labels))
    if missing:
        raise DataFileError(f"{len(missing)} file(s) listed in {trials} (or their label files) are "
                            f"missing: {', '.join(missing)}. Each userNN_<lighting>.aedat needs "
                            f"userNN_<lighting>_labels.csv beside it. {_where_from(_data_base(root))}")
    return pairs


def _tonic_label(path: Path) -> int:
    if not path.stem.isdigit() or int(path.stem) >= N_CLASSES:
        raise _bad_tonic_file(path, f"the file name must be the label 0..{N_CLASSES - 1}")
    return int(path.stem)


def _tonic_files(root: Path, split: str) -> List[Path]:
    folder = root / _TONIC_SPLIT_DIRS[split]
    if not folder.is_dir():
        raise DataFileError(f"tonic's {split} folder {folder} not found, though {root} holds tonic's "
                            f"layout. {_where_from(_data_base(root))}")
    files = sorted(folder.rglob("*.npy"), key=lambda f: (f.parent.relative_to(folder).parts,
                                                         _tonic_label(f)))
    if not files:
        raise DataFileError(f"tonic's {split} folder {folder} holds no .npy files. "
                            f"{_where_from(_data_base(root))}")
    return files


def find_dvs_gesture(data_dir: Optional[Union[str, os.PathLike]] = None) -> GestureSource:
    """Which copy of the data set the data folder holds.

    ``data_dir`` (else ``$GENN_EVENTPROP_DATA``) may be the folder that holds
    ``DvsGesture/`` or ``DVSGesture/``, or either of those folders itself. The
    IBM release (``trials_to_train.txt``) is preferred to tonic's layout
    (``ibmGestureTrain/``) when both are there: it keeps µs times.

    Raises:
        DataFileError: neither layout found; the message lists the places
            looked and where to get the data.
    """
    base = data_folder(data_dir, "DVS128 Gesture files", _where_from())
    ibm = [base / _IBM_DIR, base]
    tonic = [base / _TONIC_DIR, base]
    for folder in ibm:
        if (folder / "trials_to_train.txt").is_file():
            return GestureSource("ibm", folder)
    for folder in tonic:
        if (folder / _TONIC_SPLIT_DIRS["train"]).is_dir():
            return GestureSource("tonic", folder)
    looked = [str(f / "trials_to_train.txt") for f in ibm] + [str(f / "ibmGestureTrain") for f in tonic]
    absent = "" if base.is_dir() else f" (the folder {base} does not exist)"
    raise DataFileError(f"DVS128 Gesture data not found in {base}{absent}: looked for "
                        f"{', '.join(looked)}. {_where_from(base)}")


# ----------------------------------------------------------------------------------------------
# loading


def _window_index(t_us: np.ndarray, start_us: np.ndarray, end_us: np.ndarray):
    """Event indices of every window, back to back, their counts, and the number of
    events in no window; ``t_us`` must be sorted."""
    lo = np.searchsorted(t_us, start_us, side="left")
    hi = np.searchsorted(t_us, end_us, side="left")
    counts = (hi - lo).astype(np.int64)
    first = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64)
    index = np.repeat(lo - first, counts) + np.arange(int(counts.sum()), dtype=np.int64)
    # Coverage depth along the events; windows may overlap.
    depth = np.zeros(len(t_us) + 1, np.int64)
    np.add.at(depth, lo, 1)
    np.add.at(depth, hi, -1)
    outside = int(np.count_nonzero(np.cumsum(depth[:-1]) == 0))
    return index, counts, outside


def _on_sensor(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    return (x >= 0) & (x < SENSOR_SIZE) & (y >= 0) & (y < SENSOR_SIZE)


def _add(report: Dict[str, int], counts: Dict[str, int]) -> None:
    for k, v in counts.items():
        report[k] += int(v)


def _read_ibm_recording(aedat: Path, labels_csv: Path, report: Dict[str, int]):
    """Samples ``(x, y, p, t_ms)``, labels and the subject of one recording."""
    x, y, p, t_us, skipped = read_aedat31(aedat)
    labels, start_us, end_us, skipped_rows = read_gesture_labels(labels_csv)
    _add(report, skipped)
    _add(report, skipped_rows)
    keep = _on_sensor(x, y)
    report["events_outside_sensor"] += int(len(keep) - np.count_nonzero(keep))
    x, y, p, t_us = x[keep], y[keep], p[keep], t_us[keep]
    if np.any(t_us[1:] < t_us[:-1]):
        order = np.argsort(t_us, kind="stable")
        x, y, p, t_us = x[order], y[order], p[order], t_us[order]
    index, counts, outside = _window_index(t_us, start_us, end_us)
    report["events_outside_windows"] += outside
    t_ms = (t_us[index] - np.repeat(start_us, counts)) / 1000.0
    bounds = np.concatenate([[0], np.cumsum(counts)])
    xs, ys, ps = x[index], y[index], p[index]
    samples = [(xs[a:b], ys[a:b], ps[a:b], t_ms[a:b]) for a, b in zip(bounds[:-1], bounds[1:])]
    return samples, labels, _user_of(aedat.name)


def _read_tonic_sample(path: Path, report: Dict[str, int]):
    """``(x, y, p, t_ms)`` of one of tonic's ``.npy`` files."""
    try:
        a = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as e:
        raise _bad_tonic_file(path, f"not a readable .npy file ({e})") from e
    if a.ndim != 2 or a.shape[1] != 4 or a.dtype.kind not in "iuf":
        raise _bad_tonic_file(path, f"holds a {a.dtype} array of shape {a.shape}, not (N, 4) numbers")
    x, y, p, t = a[:, 0], a[:, 1], a[:, 2], a[:, 3].astype(np.float64)
    if not np.all(np.isfinite(t)) or np.any(np.round(a[:, :3]) != a[:, :3]):
        raise _bad_tonic_file(path, "has non-integer x, y or p, or non-finite times")
    if np.any((p != 0) & (p != 1)):
        raise _bad_tonic_file(path, "has polarities other than 0 and 1")
    keep = _on_sensor(x, y)
    report["events_outside_sensor"] += int(len(keep) - np.count_nonzero(keep))
    return x[keep], y[keep], p[keep], t[keep]


def _read_only(events: DVSEvents) -> DVSEvents:
    for a in (events.x, events.y, events.p, events.t_ms, events.offsets, events.labels, events.users):
        a.setflags(write=False)
    return events


def _read_group(fmt: str, paths: Sequence[Path], report: Dict[str, int]):
    """Samples ``(x, y, p, t_ms)``, labels and subjects of one group of files (an IBM
    recording with its labels file, or one of tonic's ``.npy`` files)."""
    if fmt == "ibm":
        parts, labels, user = _read_ibm_recording(paths[0], paths[1], report)
        return parts, labels.tolist(), [user] * len(parts)
    return ([_read_tonic_sample(paths[0], report)], [_tonic_label(paths[0])],
            [_user_of(paths[0].parent.name)])


@lru_cache(maxsize=2)
def _load(fmt: str, key: Tuple[Tuple[Tuple[str, int, int], ...], ...]) -> DVSEvents:
    """Reads the files named in ``key`` (per group: (path, size, mtime) of each file)."""
    report = _empty_report()
    samples, labels, users = [], [], []
    for group in key:
        parts, group_labels, group_users = _read_group(
            fmt, [Path(name) for name, _, _ in group], report)
        samples += parts
        labels += group_labels
        users += group_users
    return _read_only(_concat_samples(samples, labels, users, report))


def iter_dvs_gesture(data_dir: Optional[Union[str, os.PathLike]] = None, split: str = "train",
                     chunk_events: int = 1 << 24) -> Iterator[DVSEvents]:
    """One split in consecutive pieces of whole files (about ``chunk_events`` events or
    one file each), in the order of :func:`load_dvs_gesture`, without keeping them: the
    real training split is several GB as events. Each piece's ``report`` counts its
    own files."""
    source = find_dvs_gesture(data_dir)
    report = _empty_report()
    samples, labels, users = [], [], []
    n_events = pieces = 0
    for group in source.files(split):
        parts, group_labels, group_users = _read_group(source.fmt, group, report)
        samples += parts
        labels += group_labels
        users += group_users
        n_events += sum(len(part[3]) for part in parts)
        if n_events >= chunk_events:
            yield _concat_samples(samples, labels, users, report)
            pieces += 1
            report = _empty_report()
            samples, labels, users = [], [], []
            n_events = 0
    if samples or not pieces:
        yield _concat_samples(samples, labels, users, report)


def _file_key(path: Path) -> Tuple[str, int, int]:
    st = path.stat()
    return str(path.resolve()), st.st_size, st.st_mtime_ns


def load_dvs_gesture(data_dir: Optional[Union[str, os.PathLike]] = None,
                     split: str = "train") -> DVSEvents:
    """One split ("train" or "test") of the data set in ``data_dir`` (else
    ``$GENN_EVENTPROP_DATA``), in either layout (:func:`find_dvs_gesture`).

    IBM release: every row of a labels file is a sample, in the order of the
    split list and then of the rows; times are ms since the window start.
    tonic's layout: every ``.npy`` file is a sample, by folder, then label;
    times are ms as stored. Events outside the 128 x 128 sensor are dropped.

    The result is kept for the process (its arrays are read-only) and read
    again when a file's size or modification time changes. ``report`` counts,
    summed over the files: ``non_polarity_packets``, ``non_polarity_events``,
    ``invalid_events`` (valid bit clear), ``events_outside_sensor``,
    ``events_outside_windows`` (events in no labelled window, e.g. between
    gestures), ``label_rows_unknown_class`` and ``label_rows_empty_window``
    (rows left out); the AEDAT and label counts are 0 for tonic's layout.

    Raises:
        DataFileError: files missing or unreadable (see :func:`find_dvs_gesture`,
            :func:`read_aedat31`, :func:`read_gesture_labels`).
    """
    source = find_dvs_gesture(data_dir)
    key = tuple(tuple(_file_key(f) for f in group) for group in source.files(split))
    events = _load(source.fmt, key)
    return dataclasses.replace(events, report=dict(events.report))


# ----------------------------------------------------------------------------------------------
# input channels


def _check_factor(factor: int) -> int:
    if isinstance(factor, bool) or not isinstance(factor, (int, np.integer)) or factor < 1 \
            or SENSOR_SIZE % factor:
        raise ValueError(f"factor must be a positive integer that divides {SENSOR_SIZE}, got {factor!r}")
    return int(factor)


def n_channels(factor: int = 4) -> int:
    """Number of input channels after down-sampling by ``factor``: (128/factor)^2 pixels x 2
    polarities (2048 for 4)."""
    width = SENSOR_SIZE // _check_factor(factor)
    return width * width * 2


def to_channels(x, y, p, factor: int = 4) -> np.ndarray:
    """Input channel of every event (int64): ``(y//factor * W + x//factor) * 2 + p`` with
    ``W = 128 // factor``, so the OFF and ON channel of a pixel are neighbours.

    Raises:
        ValueError: ``factor`` does not divide 128, or an event is off the sensor
            or has a polarity other than 0/1.
    """
    factor = _check_factor(factor)
    x, y, p = (np.asarray(a).astype(np.int64) for a in (x, y, p))
    if x.size and (min(x.min(), y.min()) < 0 or max(x.max(), y.max()) >= SENSOR_SIZE):
        raise ValueError(f"x and y must lie in 0..{SENSOR_SIZE - 1}")
    if p.size and (p.min() < 0 or p.max() > 1):
        raise ValueError("p must be 0 or 1")
    width = SENSOR_SIZE // factor
    return ((y // factor) * width + x // factor) * 2 + p


# ----------------------------------------------------------------------------------------------
# tonic's layout


def _save_npy(path: Path, array: np.ndarray) -> None:
    # Through a file object: np.save would append ".npy" to the temporary name.
    with open(path, "wb") as f:
        np.save(f, array, allow_pickle=False)


def write_tonic_layout(directory: Union[str, os.PathLike], split: str, events: DVSEvents,
                       folders: Optional[Sequence[str]] = None) -> Path:
    """Write the samples of ``events`` in tonic's layout; returns ``<directory>/DVSGesture``.

    Sample i goes to ``DVSGesture/ibmGestureTrain|ibmGestureTest/<folders[i]>/<label>.npy``
    as a float64 (N, 4) array of x, y, p, t_ms. ``folders`` defaults to
    ``userNN_fluorescent`` from ``events.users``; a folder can hold one sample per label.
    """
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
    if folders is None:
        folders = [f"user{u:02d}_{LIGHTINGS[0]}" for u in events.users.tolist()]
    if len(folders) != len(events):
        raise ValueError(f"folders needs one name per sample ({len(events)}), got {len(folders)}")
    targets = [(folder, int(label)) for folder, label in zip(folders, events.labels.tolist())]
    if len(set(targets)) != len(targets):
        raise ValueError("two samples have the same folder and label; tonic's layout has one "
                         "file per label and folder")
    root = Path(directory) / _TONIC_DIR
    for i, (folder, label) in enumerate(targets):
        x, y, p, t = events.sample(i)
        table = np.stack([x, y, p, t], axis=1).astype(np.float64)
        path = root / _TONIC_SPLIT_DIRS[split] / folder / f"{label}.npy"
        _atomic_write(path, lambda tmp: _save_npy(tmp, table))
    return root


# ----------------------------------------------------------------------------------------------
# synthetic data

# Synthetic-data constants: px, Hz, ms; see generate_synthetic.
_SYN = {
    "ref_sigma_px": 5.0, "speed_range": (0.8, 1.25), "size_range": (0.8, 1.25),
    "gain_range": (0.7, 1.4), "user_offset_px": 4.0, "max_user_offset_px": 8.0,
    "trial_offset_px": 2.0, "trial_speed_sd": 0.08, "wander_px_per_ms": 0.15,
    "wander_smooth_ms": 40.0,
}


def _points(x, y) -> np.ndarray:
    """(K, 2) array of centres from x and y, either of which may be a constant."""
    return np.stack(np.broadcast_arrays(np.asarray(x, float), np.asarray(y, float)), axis=1)


def _oscillation(s: np.ndarray, hz: float, phase: float) -> np.ndarray:
    """sin of ``hz`` cycles per second over ``s`` (seconds, already scaled by speed)."""
    return np.sin(2 * np.pi * hz * s + phase)


def _circle(s, hz, centre, radius, direction, rng) -> np.ndarray:
    """Path on a circle, starting at its bottom (arm hanging down); on the sensor
    (y down) direction +1 turns clockwise, -1 counter-clockwise."""
    angle = np.pi / 2 + rng.normal(0.0, 0.2) + direction * 2 * np.pi * hz * s
    return _points(centre[0] + radius * np.cos(angle), centre[1] + radius * np.sin(angle))


def _wander(t_ms: np.ndarray, speed: float, rng) -> np.ndarray:
    """A smoothed random walk around the centre, about ``wander_px_per_ms * speed`` fast."""
    steps = rng.normal(0.0, 1.0, (len(t_ms), 2))
    width = int(_SYN["wander_smooth_ms"])
    kernel = np.hanning(2 * width + 1)
    smooth = np.stack([np.convolve(steps[:, k], kernel, mode="same") for k in range(2)], axis=1)
    step_len = np.hypot(smooth[:, 0], smooth[:, 1]).mean()
    path = np.cumsum(smooth, axis=0) * (_SYN["wander_px_per_ms"] * speed / max(step_len, 1e-12))
    path -= path.mean(axis=0)
    return np.clip(path + rng.normal(64.0, 8.0, 2), 20.0, SENSOR_SIZE - 20.0)


def _class_paths(label: int, t_ms: np.ndarray, speed: float,
                 rng) -> Tuple[List[np.ndarray], List[float]]:
    """Blob centres (each (K, 2) px, x right, y down) and widths (px) of one gesture.

    The subject faces the camera, so "right" gestures happen on the left half of the sensor.
    """
    s = t_ms * speed / 1000.0
    ph = rng.uniform(0.0, 2 * np.pi)
    if label == 0:
        d = 14.0 + 9.0 * np.cos(2 * np.pi * 2.5 * s + ph)
        return [_points(64.0 - d, 74.0), _points(64.0 + d, 74.0)], [4.0, 4.0]
    if label in (1, 2):
        cx = 36.0 if label == 1 else 92.0
        return [_points(cx + 14.0 * _oscillation(s, 2.5, ph), 44.0)], [4.0]
    if label in (3, 4, 5, 6):
        cx = 40.0 if label in (3, 4) else 88.0
        direction = 1.0 if label in (3, 5) else -1.0
        return [_circle(s, 1.8, (cx, 64.0), 20.0, direction, rng)], [5.5]
    if label == 7:
        roll = 7.0 * _points(np.cos(2 * np.pi * 4.0 * s + ph), np.sin(2 * np.pi * 4.0 * s + ph))
        return [64.0 + roll, 64.0 - roll], [4.0, 4.0]
    if label == 8:
        swing = 12.0 * _oscillation(s, 3.0, ph)
        return [_points(44.0, 78.0 + swing), _points(84.0, 78.0 - swing)], [4.0, 4.0]
    if label == 9:
        strum = 9.0 * _oscillation(s, 4.0, ph)
        fret = 2.0 * _oscillation(s, 1.0, ph)
        return [_points(44.0 + strum, 90.0 - strum), _points(88.0 + fret, 56.0 + fret)], [4.0, 3.5]
    return [_wander(t_ms, speed, rng)], [5.0]


def _motion_events(rng, paths: np.ndarray, sigmas: np.ndarray, gain: float):
    """Events of bright Gaussian blobs moving along ``paths`` ((B, K+1, 2) px at 1 ms steps).

    Over one step a blob of width sigma that moves by d changes the brightness of the
    pixel at offset r from its centre by about G(r) (r . d) / sigma^2: pixels ahead
    brighten (ON), pixels behind darken (OFF). Events are drawn with that density:
    per step Poisson(gain |d| sigma / ref_sigma) events, offset along the motion
    +-Rayleigh(sigma) (the sign is the polarity) and across it Normal(0, sigma).
    Returns (x, y, p, t_ms), unsorted and possibly off the sensor.
    """
    n_blobs, n_points, _ = paths.shape
    d = np.diff(paths, axis=1)
    step = np.hypot(d[..., 0], d[..., 1])
    lam = gain * step * (sigmas / _SYN["ref_sigma_px"])[:, None]
    which = np.repeat(np.arange(lam.size), rng.poisson(lam).ravel())
    blob, k = np.divmod(which, n_points - 1)
    frac = rng.random(len(which))
    move = d[blob, k]
    along = move / step[blob, k][:, None]
    across = np.stack([-along[:, 1], along[:, 0]], axis=1)
    sign = rng.integers(0, 2, len(which)) * 2 - 1
    u = sign * sigmas[blob] * np.sqrt(-2.0 * np.log1p(-rng.random(len(which))))
    w = sigmas[blob] * rng.normal(0.0, 1.0, len(which))
    pos = paths[blob, k] + frac[:, None] * move + u[:, None] * along + w[:, None] * across
    return np.rint(pos[:, 0]), np.rint(pos[:, 1]), (sign > 0).astype(np.uint8), k + frac


def _noise_events(rng, rate_hz: float, span_ms: float):
    """Background events: uniform in time, space and polarity."""
    n = rng.poisson(rate_hz * span_ms / 1000.0)
    return (rng.integers(0, SENSOR_SIZE, n), rng.integers(0, SENSOR_SIZE, n),
            rng.integers(0, 2, n).astype(np.uint8), rng.uniform(0.0, span_ms, n))


def _gesture(rng, label: int, style: Dict[str, object], gesture_ms: float, events_per_px: float,
             noise_hz: float):
    """One gesture: (x, y, p, t_us) sorted by time, t_us integer µs in [0, gesture_ms)."""
    speed = style["speed"] * np.exp(rng.normal(0.0, _SYN["trial_speed_sd"]))
    offset = style["offset"] + rng.normal(0.0, _SYN["trial_offset_px"], 2)
    t_ms = np.arange(int(np.ceil(gesture_ms)) + 1, dtype=np.float64)
    centres, sigmas = _class_paths(label, t_ms, speed, rng)
    paths = np.stack(centres) + offset
    sigmas = np.asarray(sigmas) * style["size"]
    moving = _motion_events(rng, paths, sigmas, events_per_px * style["gain"])
    noise = _noise_events(rng, noise_hz, gesture_ms)
    x, y, p, t = (np.concatenate([a, b]) for a, b in zip(moving, noise))
    gesture_us = int(round(gesture_ms * 1000.0))
    t_us = np.floor(t * 1000.0).astype(np.int64)
    keep = _on_sensor(x, y) & (t_us < gesture_us)
    order = np.argsort(t_us[keep], kind="stable")
    return (x[keep][order].astype(np.int16), y[keep][order].astype(np.int16), p[keep][order],
            t_us[keep][order])


def _user_styles(rng, n_users: int) -> List[Dict[str, object]]:
    """Per subject: speed, size and event-rate factors and a position offset (px)."""
    limit = _SYN["max_user_offset_px"]
    return [{"speed": rng.uniform(*_SYN["speed_range"]), "size": rng.uniform(*_SYN["size_range"]),
             "gain": rng.uniform(*_SYN["gain_range"]),
             "offset": np.clip(rng.normal(0.0, _SYN["user_offset_px"], 2), -limit, limit)}
            for _ in range(n_users)]


def _ibm_recording(rng, gestures, gesture_ms: float, gap_ms: float, noise_hz: float):
    """One recording of the given gestures (label, (x, y, p, t_us)) in random order with
    gaps that hold only noise: events and the (labels, start_us, end_us) windows."""
    gesture_us = int(round(gesture_ms * 1000.0))
    order = rng.permutation(len(gestures))
    gaps_us = np.rint(rng.uniform(0.5, 1.5, len(gestures) + 1) * gap_ms * 1000.0).astype(np.int64)
    start_us = np.cumsum(gaps_us[:-1]) + np.arange(len(gestures)) * gesture_us
    total_ms = (start_us[-1] + gesture_us + gaps_us[-1]) / 1000.0
    labels = np.array([gestures[i][0] for i in order], dtype=np.int64)
    parts = [tuple(a if k < 3 else a + s for k, a in enumerate(gestures[i][1]))
             for i, s in zip(order, start_us)]
    nx, ny, npol, nt = _noise_events(rng, noise_hz, total_ms)
    nt_us = np.floor(nt * 1000.0).astype(np.int64)
    slot = np.searchsorted(start_us, nt_us, side="right") - 1
    in_gap = (slot < 0) | (nt_us >= start_us[np.maximum(slot, 0)] + gesture_us)
    parts.append((nx[in_gap], ny[in_gap], npol[in_gap], nt_us[in_gap]))
    x, y, p, t = (np.concatenate([part[k] for part in parts]) for k in range(4))
    order = np.argsort(t, kind="stable")
    return (x[order], y[order], p[order], t[order]), (labels, start_us, start_us + gesture_us)


def _write_ibm(directory: Path, recordings: Dict[str, List[Tuple[str, tuple, tuple]]]) -> None:
    folder = directory / _IBM_DIR
    for split, items in recordings.items():
        for name, (x, y, p, t), (labels, start_us, end_us) in items:
            write_aedat31(folder / f"{name}.aedat", x, y, p, t)
            write_gesture_labels(folder / f"{name}_labels.csv", labels, start_us, end_us)
        text = "".join(f"{name}.aedat\n" for name, _, _ in items)
        _atomic_write(folder / f"trials_to_{split}.txt",
                      lambda tmp: tmp.write_text(text, encoding="utf-8"))


def generate_synthetic(directory: Union[str, os.PathLike], fmt: str = "ibm", n_train_users: int = 4,
                       n_test_users: int = 2, repeats: int = 2, gesture_ms: float = 400.0,
                       seed: int = 0, noise_hz: float = 2000.0, events_per_px: float = 60.0,
                       gap_ms: float = 200.0) -> Path:
    """Write a synthetic DVS128 Gesture data set into ``directory``; returns ``directory``.

    ``fmt="ibm"`` writes the IBM release into ``directory/DvsGesture``: per
    subject and lighting (the first ``repeats`` of :data:`LIGHTINGS`) one
    ``.aedat`` recording with every class once, in random order, separated by
    gaps of ``gap_ms`` (x0.5-1.5) that hold only noise (counted as outside any
    window by the loader), its labels file and the two split lists.
    ``fmt="tonic"`` writes the same gestures, already cut, in tonic's layout
    (``directory/DVSGesture``). Subjects 1..n_train_users are the train split,
    the next n_test_users the test split; each split has ``repeats`` samples of
    every class per subject. The gestures do not depend on ``fmt``, so both
    layouts load to the same samples (in a different order). The same ``seed``
    writes the same files.

    Model: 1-2 bright Gaussian blobs (hands, arms; 3.5-5.5 px wide) move along
    class-specific paths for ``gesture_ms`` (ms): clapping (two blobs closing
    and opening horizontally), right/left hand wave (horizontal oscillation on
    the sensor's left/right half: the subject faces the camera), right/left arm
    clockwise/counter-clockwise (a circle of radius 20 px from its bottom, on
    the left/right half), arm roll (two blobs on a small fast circle in the
    centre), air drums (two blobs moving vertically in antiphase), air guitar
    (diagonal strumming low on the left, a nearly still blob high on the
    right), other gestures (a smoothed random walk). At 1 ms steps a moving
    blob emits ON events ahead of it and OFF events behind, with density
    proportional to the brightness change, ``events_per_px`` events per pixel
    moved (for a 5 px blob); on top ``noise_hz`` events per second of uniform
    background noise over the whole sensor. Subjects differ in speed (x0.8-1.25),
    blob size (x0.8-1.25), event rate (x0.7-1.4) and position (up to 8 px);
    every gesture varies speed (8 %) and position (2 px). With the defaults a
    gesture has about 3k-11k events (median 6k), and the call writes 132
    gestures (about 0.8 million events) in well under a second.
    """
    if fmt not in ("ibm", "tonic"):
        raise ValueError(f"fmt must be 'ibm' or 'tonic', got {fmt!r}")
    if not 1 <= int(repeats) <= len(LIGHTINGS):
        raise ValueError(f"repeats must be 1..{len(LIGHTINGS)} (one per lighting condition), "
                         f"got {repeats}")
    if int(n_train_users) < 1 or int(n_test_users) < 1:
        raise ValueError("n_train_users and n_test_users must be >= 1")
    if not gesture_ms >= 50.0 or not gap_ms > 0.0 or noise_hz < 0.0 or events_per_px < 0.0:
        raise ValueError("gesture_ms must be >= 50, gap_ms > 0, noise_hz and events_per_px >= 0")
    style_seq, gesture_seq, layout_seq = np.random.SeedSequence(seed).spawn(3)
    n_users = int(n_train_users) + int(n_test_users)
    styles = _user_styles(np.random.default_rng(style_seq), n_users)
    grng = np.random.default_rng(gesture_seq)
    lrng = np.random.default_rng(layout_seq)
    directory = Path(directory)
    recordings: Dict[str, list] = {split: [] for split in SPLITS}
    for user in range(1, n_users + 1):
        split = "train" if user <= n_train_users else "test"
        for lighting in LIGHTINGS[:int(repeats)]:
            gestures = [(label, _gesture(grng, label, styles[user - 1], gesture_ms, events_per_px,
                                         noise_hz)) for label in range(N_CLASSES)]
            name = f"user{user:02d}_{lighting}"
            if fmt == "ibm":
                recordings[split].append((name, *_ibm_recording(lrng, gestures, gesture_ms, gap_ms,
                                                                noise_hz)))
            else:
                recordings[split].append((name, gestures))
    if fmt == "ibm":
        _write_ibm(directory, recordings)
        return directory
    for split, items in recordings.items():
        folders = [name for name, gestures in items for _ in gestures]
        samples = [(x, y, p, t / 1000.0) for _, gestures in items for _, (x, y, p, t) in gestures]
        labels = [label for _, gestures in items for label, _ in gestures]
        users = [_user_of(name) for name in folders]
        write_tonic_layout(directory, split, _concat_samples(samples, labels, users, _empty_report()),
                           folders)
    return directory
