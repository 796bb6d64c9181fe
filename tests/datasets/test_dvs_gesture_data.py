"""DVS128 Gesture data layer: AEDAT 3.1 and label files, both layouts, errors, channels, synthetic data."""
import struct

import numpy as np
import pytest

from genn_eventprop.datasets import dvs_gesture as dg
from genn_eventprop.datasets.dvs_gesture import (
    CLASSES,
    DVSEvents,
    find_dvs_gesture,
    generate_synthetic,
    iter_dvs_gesture,
    load_dvs_gesture,
    n_channels,
    read_aedat31,
    read_gesture_labels,
    to_channels,
    write_aedat31,
    write_gesture_labels,
    write_tonic_layout,
)
from genn_eventprop.datasets.shd import DATA_ENV, DataFileError
from genn_eventprop.errors import UserError

HEADER_END = b"#!END-HEADER\r\n"
PACKET = struct.Struct("<hhiiiiii")


@pytest.fixture(autouse=True)
def _no_data_env(monkeypatch):
    monkeypatch.delenv(DATA_ENV, raising=False)


def _packets(path):
    """(header fields, data bytes) of every packet, parsed independently of the module."""
    buf = path.read_bytes()
    pos = buf.index(HEADER_END) + len(HEADER_END)
    out = []
    while pos < len(buf):
        fields = PACKET.unpack_from(buf, pos)
        end = pos + PACKET.size + fields[2] * fields[6]
        out.append((fields, buf[pos + PACKET.size:end]))
        pos = end
    return out


def _special_packet(n):
    """A packet of eventType 0 (special events) with n 8-byte events."""
    return PACKET.pack(0, 1, 8, 4, 0, n, n, n) + bytes(8 * n)


def _insert_after_header(path, extra):
    buf = path.read_bytes()
    cut = buf.index(HEADER_END) + len(HEADER_END)
    path.write_bytes(buf[:cut] + extra + buf[cut:])


# --------------------------------------------------------------------------- AEDAT 3.1

def test_aedat_round_trip_with_overflow_invalid_events_and_other_packets(tmp_path):
    rng = np.random.default_rng(1)
    n = 5000
    x = rng.integers(0, 128, n)
    y = rng.integers(0, 128, n)
    p = rng.integers(0, 2, n)
    t = np.sort(rng.integers(0, 2 ** 33, n))
    valid = rng.random(n) > 0.1
    path = tmp_path / "rec.aedat"
    write_aedat31(path, x, y, p, t, packet_size=700, valid=valid)
    _insert_after_header(path, _special_packet(5))
    headers = [h for h, _ in _packets(path)]
    polarity = [h for h in headers if h[0] == 1]
    assert len(polarity) >= 8 and max(h[4] for h in polarity) >= 3   # several packets, overflow used
    assert sum(h[7] for h in polarity) == valid.sum()                # eventValid counts valid events

    rx, ry, rp, rt, skipped = read_aedat31(path)
    np.testing.assert_array_equal(rx, x[valid])
    np.testing.assert_array_equal(ry, y[valid])
    np.testing.assert_array_equal(rp, p[valid])
    np.testing.assert_array_equal(rt, t[valid])
    assert rx.dtype == np.int16 and rp.dtype == np.uint8 and rt.dtype == np.int64
    assert skipped == {"non_polarity_packets": 1, "non_polarity_events": 5,
                       "invalid_events": int((~valid).sum())}


def test_polarity_event_bit_layout(tmp_path):
    path = tmp_path / "one.aedat"
    write_aedat31(path, [5], [7], [1], [123])
    assert path.read_bytes().startswith(b"#!AER-DAT3.1\r\n")
    (fields, data), = _packets(path)
    assert fields == (1, 1, 8, 4, 0, 1, 1, 1)
    # data = x << 17 | y << 2 | p << 1 | valid = 0x000A001F, then the timestamp.
    assert data == bytes.fromhex("1f000a00" "7b000000")
    assert data == struct.pack("<Ii", (5 << 17) | (7 << 2) | (1 << 1) | 1, 123)

    hand = tmp_path / "hand.aedat"
    events = struct.pack("<IiIi", (9 << 17) | (3 << 2) | 1, 40, (5 << 17) | (7 << 2) | 2, 41)
    hand.write_bytes(b"#!AER-DAT3.1\r\n#Format: RAW\r\n" + HEADER_END
                     + PACKET.pack(1, 1, 8, 4, 2, 2, 2, 1) + events)
    x, y, p, t, skipped = read_aedat31(hand)
    assert (x.tolist(), y.tolist(), p.tolist(), t.tolist()) == ([9], [3], [0], [(2 << 31) + 40])
    assert skipped["invalid_events"] == 1


def test_empty_aedat_file(tmp_path):
    path = tmp_path / "empty.aedat"
    write_aedat31(path, [], [], [], [])
    x, y, p, t, skipped = read_aedat31(path)
    assert len(x) == len(t) == 0 and sum(skipped.values()) == 0


@pytest.mark.parametrize("damage, expect", [
    (lambda b: b.replace(b"#!AER-DAT3.1", b"#!AER-DAT2.0"), "AER-DAT3.1"),
    (lambda b: b[:b.index(HEADER_END)], "END-HEADER"),
    (lambda b: b.replace(b"#Format", b"Format"), "start with '#'"),
    (lambda b: b[:-3], "truncated packet"),
    (lambda b: b[:len(b) - 8 * 3 - 10], "truncated packet"),
    (lambda b: b + b"\x01\x00", "truncated packet header"),
])
def test_damaged_aedat_names_file_and_offset(tmp_path, damage, expect):
    path = tmp_path / "user01_lab.aedat"
    write_aedat31(path, [1, 2, 3], [4, 5, 6], [0, 1, 0], [10, 20, 30])
    path.write_bytes(damage(path.read_bytes()))
    with pytest.raises(DataFileError, match=expect) as info:
        read_aedat31(path)
    assert str(path) in str(info.value) and "byte" in str(info.value)
    assert isinstance(info.value, UserError)


def test_polarity_packet_with_wrong_event_size(tmp_path):
    path = tmp_path / "odd.aedat"
    path.write_bytes(b"#!AER-DAT3.1\r\n" + HEADER_END + PACKET.pack(1, 1, 12, 4, 0, 1, 1, 1) + bytes(12))
    with pytest.raises(DataFileError, match="eventSize 12") as info:
        read_aedat31(path)
    assert str(path) in str(info.value)


def test_write_aedat_rejects_bad_values(tmp_path):
    with pytest.raises(ValueError, match="p must"):
        write_aedat31(tmp_path / "a.aedat", [1], [1], [2], [0])
    with pytest.raises(ValueError, match="t_us"):
        write_aedat31(tmp_path / "a.aedat", [1], [1], [1], [-1])
    with pytest.raises(ValueError, match="equal length"):
        write_aedat31(tmp_path / "a.aedat", [1, 2], [1], [1], [0])


# --------------------------------------------------------------------------- label files

def test_labels_csv_with_crlf_blank_lines_and_skipped_rows(tmp_path):
    path = tmp_path / "user02_led_labels.csv"
    path.write_bytes(b"class,startTime_usec,endTime_usec\r\n1,100,200\r\n\r\n11 , 300 ,400\r\n"
                     b"12,500,600\r\n0,700,800\r\n3,900,900\r\n")
    labels, start, end, skipped = read_gesture_labels(path)
    assert labels.tolist() == [0, 10]
    assert start.tolist() == [100, 300] and end.tolist() == [200, 400]
    assert skipped == {"label_rows_unknown_class": 2, "label_rows_empty_window": 1}


def test_labels_round_trip_and_bad_rows(tmp_path):
    path = tmp_path / "l.csv"
    write_gesture_labels(path, [0, 10, 4], [1, 5, 9], [4, 8, 2 ** 40])
    assert path.read_text().splitlines()[0] == "class,startTime_usec,endTime_usec"
    labels, start, end, _ = read_gesture_labels(path)
    assert (labels.tolist(), start.tolist(), end.tolist()) == ([0, 10, 4], [1, 5, 9], [4, 8, 2 ** 40])
    for text in ("cls,start,end\n1,2,3\n", "class,startTime_usec,endTime_usec\n1,2\n",
                 "class,startTime_usec,endTime_usec\n1,2,x\n"):
        path.write_text(text)
        with pytest.raises(DataFileError, match="label file .*l.csv"):
            read_gesture_labels(path)


# --------------------------------------------------------------------------- IBM layout

def _ibm_recording(folder, name, events, windows, valid=None):
    """Writes name.aedat and name_labels.csv; events (x, y, p, t_us), windows (class 1..11, a, b)."""
    x, y, p, t = (np.asarray(a) for a in events)
    write_aedat31(folder / f"{name}.aedat", x, y, p, t, packet_size=3, valid=valid)
    rows = "".join(f"{c},{a},{b}\r\n" for c, a, b in windows)
    (folder / f"{name}_labels.csv").write_bytes(b"class,startTime_usec,endTime_usec\r\n" + rows.encode())


@pytest.fixture
def ibm_dir(tmp_path):
    folder = tmp_path / "data" / "DvsGesture"
    folder.mkdir(parents=True)
    t = [50, 1000, 1500, 2999, 3000, 4000, 5200, 5300, 9000]
    x = [1, 2, 3, 4, 5, 6, 7, 8, 9]
    y = [10, 20, 30, 40, 50, 60, 70, 80, 90]
    p = [0, 1, 0, 1, 0, 1, 0, 1, 0]
    valid = np.ones(9, bool)
    valid[5] = False                              # t=4000 is dropped, not counted as outside
    windows = [(4, 1000, 3000), (2, 5000, 6000), (13, 8000, 9500)]
    _ibm_recording(folder, "user03_lab", (x, y, p, t), windows, valid)
    _ibm_recording(folder, "user27_natural", ([100], [101], [1], [700]), [(11, 600, 800)])
    (folder / "trials_to_train.txt").write_bytes(b"user03_lab.aedat  \r\n\r\n")
    (folder / "trials_to_test.txt").write_bytes(b"\nuser27_natural.aedat\n\n")
    return tmp_path / "data"


def test_ibm_layout_cuts_samples_at_windows(ibm_dir):
    assert find_dvs_gesture(ibm_dir).fmt == "ibm"
    ev = load_dvs_gesture(ibm_dir, "train")
    assert len(ev) == 2
    assert ev.labels.tolist() == [3, 1] and ev.users.tolist() == [3, 3]
    x, y, p, t = ev.sample(0)
    assert x.tolist() == [2, 3, 4] and y.tolist() == [20, 30, 40] and p.tolist() == [1, 0, 1]
    np.testing.assert_array_equal(t, [0.0, 0.5, 1.999])
    x, y, p, t = ev.sample(1)
    assert x.tolist() == [7, 8] and t.tolist() == [0.2, 0.3]
    assert ev.x.dtype == np.int16 and ev.p.dtype == np.uint8 and ev.t_ms.dtype == np.float64
    # Outside every window: t = 50, 3000 (end is exclusive) and 9000 (its row has class 13).
    assert ev.report["events_outside_windows"] == 3
    assert ev.report["invalid_events"] == 1
    assert ev.report["label_rows_unknown_class"] == 1
    test = load_dvs_gesture(ibm_dir / "DvsGesture", "test")
    assert test.labels.tolist() == [10] and test.users.tolist() == [27]
    assert test.t_ms.tolist() == [0.1] and test.report["events_outside_windows"] == 0


def test_load_is_cached_until_a_file_changes(ibm_dir, monkeypatch):
    monkeypatch.setenv(DATA_ENV, str(ibm_dir))
    first = load_dvs_gesture(split="train")
    again = load_dvs_gesture(split="train")
    assert again.t_ms is first.t_ms and not first.t_ms.flags.writeable
    again.report["invalid_events"] = 99
    assert load_dvs_gesture(split="train").report["invalid_events"] == 1
    labels = ibm_dir / "DvsGesture" / "user03_lab_labels.csv"
    labels.write_text("class,startTime_usec,endTime_usec\n4,1000,3001\n")
    changed = load_dvs_gesture(split="train")
    assert len(changed) == 1 and changed.event_counts().tolist() == [4]


def test_missing_listed_file_is_named(ibm_dir):
    (ibm_dir / "DvsGesture" / "user27_natural_labels.csv").unlink()
    load_dvs_gesture(ibm_dir, "train")
    with pytest.raises(DataFileError, match="user27_natural_labels.csv") as info:
        load_dvs_gesture(ibm_dir, "test")
    assert "trials_to_test.txt" in str(info.value)


def test_missing_split_list_is_named(ibm_dir):
    (ibm_dir / "DvsGesture" / "trials_to_test.txt").unlink()
    with pytest.raises(DataFileError, match="trials_to_test.txt"):
        load_dvs_gesture(ibm_dir, "test")


def test_damaged_aedat_in_the_layout_is_named(ibm_dir):
    path = ibm_dir / "DvsGesture" / "user03_lab.aedat"
    path.write_bytes(path.read_bytes()[:-5])
    with pytest.raises(DataFileError, match="user03_lab.aedat.*truncated"):
        load_dvs_gesture(ibm_dir, "train")


# --------------------------------------------------------------------------- tonic layout

def test_tonic_layout_round_trip(tmp_path):
    train_in = DVSEvents(x=[1, 2, 127, 0], y=[3, 4, 0, 127], p=[1, 0, 1, 0], t_ms=[0.5, 2.25, 7.0, 1.0],
                         offsets=[0, 2, 4], labels=[7, 0], users=[2, 2])
    test_in = DVSEvents(x=[5], y=[6], p=[1], t_ms=[3.0], offsets=[0, 1], labels=[7], users=[24])
    root = write_tonic_layout(tmp_path / "d", "train", train_in, ["user02_led", "user02_led"])
    write_tonic_layout(tmp_path / "d", "test", test_in)
    assert (root / "ibmGestureTest" / "user24_fluorescent" / "7.npy").is_file()
    assert root == tmp_path / "d" / "DVSGesture"
    stored = np.load(root / "ibmGestureTrain" / "user02_led" / "7.npy")
    np.testing.assert_array_equal(stored, [[1, 3, 1, 0.5], [2, 4, 0, 2.25]])
    for where in (tmp_path / "d", root):
        src = find_dvs_gesture(where)
        assert (src.fmt, src.root) == ("tonic", root)
        train = load_dvs_gesture(where, "train")
        # By folder, then label: 0.npy before 7.npy.
        assert train.labels.tolist() == [0, 7] and train.users.tolist() == [2, 2]
        assert train.t_ms.tolist() == [7.0, 1.0, 0.5, 2.25]   # as stored, not shifted to 0
        assert train.x.tolist() == [127, 0, 1, 2] and train.p.tolist() == [1, 0, 1, 0]
        test = load_dvs_gesture(where, "test")
        assert test.labels.tolist() == [7] and test.users.tolist() == [24]
        assert sum(train.report.values()) == 0


def test_tonic_bad_files_are_named(tmp_path):
    folder = tmp_path / "DVSGesture" / "ibmGestureTrain" / "user01_lab"
    folder.mkdir(parents=True)
    (tmp_path / "DVSGesture" / "ibmGestureTest").mkdir()
    np.save(folder / "3.npy", np.zeros((4, 3)))
    with pytest.raises(DataFileError, match=r"3\.npy.*shape \(4, 3\)"):
        load_dvs_gesture(tmp_path, "train")
    (folder / "3.npy").unlink()
    np.save(folder / "12.npy", np.zeros((4, 4)))
    with pytest.raises(DataFileError, match=r"12\.npy.*label"):
        load_dvs_gesture(tmp_path, "train")
    (folder / "12.npy").unlink()
    with pytest.raises(DataFileError, match="no .npy files"):
        load_dvs_gesture(tmp_path, "train")


# --------------------------------------------------------------------------- finding the data

def test_no_data_folder_set():
    with pytest.raises(DataFileError, match=DATA_ENV):
        find_dvs_gesture()


def test_missing_folder_says_where_to_look_and_get_data(tmp_path):
    where = tmp_path / "nowhere"
    with pytest.raises(DataFileError) as info:
        load_dvs_gesture(where, "train")
    msg = str(info.value)
    assert str(where / "DvsGesture" / "trials_to_train.txt") in msg
    assert str(where / "DVSGesture" / "ibmGestureTrain") in msg
    assert "does not exist" in msg and dg.IBM_URL in msg and "tonic.datasets.DVSGesture" in msg


def test_bad_split_name(ibm_dir):
    with pytest.raises(ValueError, match="split"):
        load_dvs_gesture(ibm_dir, "valid")


# --------------------------------------------------------------------------- channels

def test_to_channels_hand_computed():
    ids = to_channels([0, 127, 5, 6], [0, 127, 9, 8], [0, 1, 1, 0], factor=4)
    # W = 32: (0*32+0)*2+0, (31*32+31)*2+1, (2*32+1)*2+1, (2*32+1)*2+0
    assert ids.tolist() == [0, 2047, 131, 130] and ids.dtype == np.int64
    assert to_channels([3], [2], [1], factor=1).tolist() == [(2 * 128 + 3) * 2 + 1]
    assert n_channels(4) == 2048 and n_channels(1) == 32768 and n_channels(128) == 2


@pytest.mark.parametrize("factor", [0, 3, 256, 2.0, -4])
def test_to_channels_bad_factor(factor):
    with pytest.raises(ValueError, match="factor"):
        to_channels([0], [0], [0], factor=factor)
    with pytest.raises(ValueError, match="factor"):
        n_channels(factor)


def test_to_channels_rejects_events_off_the_sensor():
    with pytest.raises(ValueError, match="x and y"):
        to_channels([128], [0], [0])
    with pytest.raises(ValueError, match="p must"):
        to_channels([1], [0], [2])


# --------------------------------------------------------------------------- synthetic data

@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    out = {}
    for fmt in ("ibm", "tonic"):
        d = generate_synthetic(tmp_path_factory.mktemp(fmt), fmt=fmt)
        out[fmt] = (d, load_dvs_gesture(d, "train"), load_dvs_gesture(d, "test"))
    return out


@pytest.mark.parametrize("fmt", ["ibm", "tonic"])
def test_reading_in_pieces_gives_the_whole_split(synthetic, fmt):
    """iter_dvs_gesture (memory-bounded reading of the real data) in small pieces: the
    same samples, in the same order, and the same counts as load_dvs_gesture."""
    folder, whole, _ = synthetic[fmt]
    pieces = list(iter_dvs_gesture(folder, "train", chunk_events=20_000))
    assert len(pieces) > 3
    for name in ("labels", "users"):
        assert np.concatenate([getattr(q, name) for q in pieces]).tolist() == \
            getattr(whole, name).tolist()
    for name in ("x", "y", "p", "t_ms"):
        np.testing.assert_array_equal(np.concatenate([getattr(q, name) for q in pieces]),
                                      getattr(whole, name))
    for key, count in whole.report.items():
        assert sum(q.report[key] for q in pieces) == count


def _canonical(ev):
    """Samples as a list of (user, label, x, y, p, t_ms), sorted by user and label (stable)."""
    order = np.argsort(ev.users * 100 + ev.labels, kind="stable")
    return [(ev.users[i], ev.labels[i], *ev.sample(i)) for i in order]


@pytest.mark.parametrize("fmt", ["ibm", "tonic"])
def test_synthetic_sets_have_every_class_as_generated(synthetic, fmt):
    root, train, test = synthetic[fmt]
    assert find_dvs_gesture(root).fmt == fmt
    assert np.bincount(train.labels, minlength=len(CLASSES)).tolist() == [4 * 2] * len(CLASSES)
    assert np.bincount(test.labels, minlength=len(CLASSES)).tolist() == [2 * 2] * len(CLASSES)
    assert set(train.users.tolist()) == {1, 2, 3, 4} and set(test.users.tolist()) == {5, 6}
    counts = np.concatenate([train.event_counts(), test.event_counts()])
    assert counts.min() >= 1500 and counts.max() <= 20000
    for ev in (train, test):
        assert ev.x.min() >= 0 and ev.x.max() <= 127 and ev.y.min() >= 0 and ev.y.max() <= 127
        assert set(np.unique(ev.p).tolist()) == {0, 1}
        assert ev.t_ms.min() >= 0.0 and ev.t_ms.max() < 400.0
        assert all(np.all(np.diff(ev.sample(i)[3]) >= 0) for i in range(len(ev)))


def test_synthetic_layouts_hold_the_same_gestures(synthetic):
    for k in (1, 2):
        a, b = _canonical(synthetic["ibm"][k]), _canonical(synthetic["tonic"][k])
        assert len(a) == len(b)
        for sa, sb in zip(a, b):
            assert sa[:2] == sb[:2]
            for u, v in zip(sa[2:], sb[2:]):
                np.testing.assert_array_equal(u, v)


def test_synthetic_ibm_gaps_hold_events_outside_windows(synthetic):
    root, train, _ = synthetic["ibm"]
    total = sum(len(read_aedat31(a)[3]) for a, _ in find_dvs_gesture(root).files("train"))
    outside = train.report["events_outside_windows"]
    assert outside > 0 and outside == total - len(train.t_ms)
    assert train.report["non_polarity_packets"] == train.report["invalid_events"] == 0


def test_synthetic_seed_decides_the_data(synthetic, tmp_path):
    _, train, _ = synthetic["tonic"]
    same = load_dvs_gesture(generate_synthetic(tmp_path / "same", fmt="tonic", seed=0), "train")
    other = load_dvs_gesture(generate_synthetic(tmp_path / "other", fmt="tonic", seed=1), "train")
    for name in ("x", "y", "p", "t_ms", "offsets", "labels", "users"):
        np.testing.assert_array_equal(getattr(same, name), getattr(train, name))
    assert len(other.t_ms) != len(train.t_ms) or not np.array_equal(other.x, train.x)
    first = synthetic["ibm"][0] / "DvsGesture"
    again = generate_synthetic(tmp_path / "ibm", fmt="ibm", seed=0) / "DvsGesture"
    names = sorted(f.name for f in first.iterdir())
    assert names == sorted(f.name for f in again.iterdir()) and len(names) == 2 * 6 * 2 + 2
    assert all((first / n).read_bytes() == (again / n).read_bytes() for n in names)


def test_synthetic_rejects_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match="fmt"):
        generate_synthetic(tmp_path, fmt="hdf5")
    with pytest.raises(ValueError, match="repeats"):
        generate_synthetic(tmp_path, repeats=6)


def test_synthetic_classes_are_separable_by_where_things_move(synthetic):
    """Nearest class mean of normalised channel histograms, train subjects -> unseen test
    subjects; chance is 1/11."""
    _, train, test = synthetic["ibm"]

    def histograms(ev):
        out = np.zeros((len(ev), n_channels(4)))
        for i in range(len(ev)):
            h = np.bincount(to_channels(*ev.sample(i)[:3]), minlength=n_channels(4))
            out[i] = h / h.sum()
        return out

    h_train, h_test = histograms(train), histograms(test)
    means = np.stack([h_train[train.labels == k].mean(axis=0) for k in range(len(CLASSES))])
    pred = np.argmin(((h_test[:, None, :] - means[None]) ** 2).sum(axis=2), axis=1)
    assert np.mean(pred == test.labels) > 0.4
