"""Downloader against a local HTTP server: full, resumed, interrupted, bad and unknown checksums."""
import gzip
import hashlib
import http.server
import io
import sys
import threading
import warnings

import pytest

from genn_eventprop.datasets.download import DownloadError, download_dataset
from genn_eventprop.datasets.shd import DataFileError, generate_synthetic, load_spike_set
from genn_eventprop.errors import UserError

NAMES = ("shd_train.h5.gz", "shd_test.h5.gz")


class _Handler(http.server.BaseHTTPRequestHandler):
    """Serves ``server.files``; honours ``Range: bytes=N-`` unless ``server.ignore_range``.

    ``server.truncate`` counts responses that announce the full length but
    stop halfway, as a dropped connection does; ``server.wrong_range`` counts
    206 answers that send the whole file instead of the range asked for.
    """

    def do_GET(self):
        srv = self.server
        name = self.path.lstrip("/")
        rng = self.headers.get("Range")
        srv.requests.append((name, rng))
        if name not in srv.files:
            self.send_error(404)
            return
        data = srv.files[name]
        start = 0
        if rng and srv.wrong_range > 0:
            srv.wrong_range -= 1
            self.send_response(206)
            self.send_header("Content-Range", f"bytes 0-{len(data) - 1}/{len(data)}")
        elif rng and not srv.ignore_range:
            start = int(rng.split("=")[1].rstrip("-"))
            if start >= len(data):
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{len(data)}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        else:
            self.send_response(200)
        body = data[start:]
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if srv.truncate > 0 and name.endswith(".gz"):
            srv.truncate -= 1
            body = body[: len(body) // 2]
            self.close_connection = True
        self.wfile.write(body)
        srv.sent[name] = srv.sent.get(name, 0) + len(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def server(monkeypatch):
    for var in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    srv.files, srv.requests, srv.sent = {}, [], {}
    srv.ignore_range, srv.truncate, srv.wrong_range = False, 0, 0
    thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    srv.url = f"http://127.0.0.1:{srv.server_address[1]}/datasets/"
    yield srv
    srv.shutdown()
    srv.server_close()
    thread.join()


@pytest.fixture(scope="module")
def gz_files(tmp_path_factory):
    d = tmp_path_factory.mktemp("served")
    paths = generate_synthetic(d, n_train=40, n_test=20, seed=3)
    return {f"{p.name}.gz": gzip.compress(p.read_bytes(), mtime=0) for p in paths.values()}


def _serve(server, gz_files):
    server.files = {f"datasets/{k}": v for k, v in gz_files.items()}


def _md5s(gz_files):
    return {k: hashlib.md5(v).hexdigest() for k, v in gz_files.items()}


def test_download_verifies_and_renames_and_loads(server, gz_files, tmp_path, monkeypatch):
    monkeypatch.delenv("GENN_EVENTPROP_DATA", raising=False)
    _serve(server, gz_files)
    out = download_dataset("shd", tmp_path / "data", base_url=server.url, progress=True,
                           checksums=_md5s(gz_files))
    assert [p.name for p in out] == ["shd_train.h5.gz", "shd_test.h5.gz"]
    for p in out:
        assert p.read_bytes() == gz_files[p.name]
    assert not list((tmp_path / "data").glob("*.part"))
    s = load_spike_set("shd", "test", tmp_path / "data")
    assert len(s) == 20 and s.n_channels == 700
    # Present and verified files are not fetched again.
    n = len(server.requests)
    download_dataset("shd", tmp_path / "data", base_url=server.url, checksums=_md5s(gz_files))
    assert len(server.requests) == n


@pytest.mark.parametrize("ignore_range", [False, True])
def test_partial_file_is_resumed(server, gz_files, tmp_path, ignore_range):
    _serve(server, gz_files)
    server.ignore_range = ignore_range
    dest = tmp_path / "d"
    dest.mkdir()
    data = gz_files["shd_train.h5.gz"]
    k = len(data) // 3
    (dest / "shd_train.h5.gz.part").write_bytes(data[:k])
    download_dataset("shd", dest, base_url=server.url, progress=False, checksums=_md5s(gz_files))
    assert (dest / "shd_train.h5.gz").read_bytes() == data
    assert ("datasets/shd_train.h5.gz", f"bytes={k}-") in server.requests
    expected = len(data) if ignore_range else len(data) - k
    assert server.sent["datasets/shd_train.h5.gz"] == expected


def test_wrong_range_answer_restarts_the_download(server, gz_files, tmp_path):
    _serve(server, gz_files)
    server.wrong_range = 1
    dest = tmp_path / "d"
    dest.mkdir()
    data = gz_files["shd_train.h5.gz"]
    (dest / "shd_train.h5.gz.part").write_bytes(data[:100])
    download_dataset("shd", dest, base_url=server.url, progress=False, checksums=_md5s(gz_files))
    assert (dest / "shd_train.h5.gz").read_bytes() == data
    assert server.requests[:2] == [("datasets/shd_train.h5.gz", "bytes=100-"),
                                   ("datasets/shd_train.h5.gz", None)]


def test_progress_bar_only_on_a_terminal(server, gz_files, tmp_path, monkeypatch):
    class Terminal(io.StringIO):
        def isatty(self):
            return True

    _serve(server, gz_files)
    term = Terminal()
    monkeypatch.setattr(sys, "stderr", term)
    download_dataset("shd", tmp_path / "a", base_url=server.url, progress=True, checksums=_md5s(gz_files))
    assert "shd_train.h5.gz" in term.getvalue()
    term = Terminal()
    monkeypatch.setattr(sys, "stderr", term)
    download_dataset("shd", tmp_path / "b", base_url=server.url, progress=False, checksums=_md5s(gz_files))
    assert term.getvalue() == ""


def test_interrupted_download_keeps_part_and_resumes(server, gz_files, tmp_path):
    _serve(server, gz_files)
    server.truncate = 1
    dest = tmp_path / "d"
    with pytest.raises(DownloadError) as info:
        download_dataset("shd", dest, base_url=server.url, progress=False, checksums=_md5s(gz_files))
    assert isinstance(info.value, UserError) and "resumes" in str(info.value)
    part = dest / "shd_train.h5.gz.part"
    half = len(gz_files["shd_train.h5.gz"]) // 2
    assert part.stat().st_size == half
    download_dataset("shd", dest, base_url=server.url, progress=False, checksums=_md5s(gz_files))
    assert (dest / "shd_train.h5.gz").read_bytes() == gz_files["shd_train.h5.gz"]
    assert server.requests[-2] == ("datasets/shd_train.h5.gz", f"bytes={half}-")


def test_complete_part_file_is_verified(server, gz_files, tmp_path):
    _serve(server, gz_files)
    dest = tmp_path / "d"
    dest.mkdir()
    (dest / "shd_train.h5.gz.part").write_bytes(gz_files["shd_train.h5.gz"])
    download_dataset("shd", dest, base_url=server.url, progress=False, checksums=_md5s(gz_files))
    assert (dest / "shd_train.h5.gz").read_bytes() == gz_files["shd_train.h5.gz"]


def test_checksum_mismatch_deletes_part_and_raises(server, gz_files, tmp_path):
    _serve(server, gz_files)
    sums = _md5s(gz_files)
    sums["shd_train.h5.gz"] = "0" * 32
    dest = tmp_path / "d"
    with pytest.raises(DataFileError) as info:
        download_dataset("shd", dest, base_url=server.url, progress=False, checksums=sums)
    msg = str(info.value)
    assert "0" * 32 in msg and hashlib.md5(gz_files["shd_train.h5.gz"]).hexdigest() in msg
    assert server.url + "shd_train.h5.gz" in msg
    assert not (dest / "shd_train.h5.gz.part").exists() and not (dest / "shd_train.h5.gz").exists()


def test_existing_file_with_wrong_checksum_is_reported_not_deleted(server, gz_files, tmp_path):
    _serve(server, gz_files)
    dest = tmp_path / "d"
    dest.mkdir()
    (dest / "shd_train.h5.gz").write_bytes(b"something else")
    with pytest.raises(DataFileError, match="already there"):
        download_dataset("shd", dest, base_url=server.url, progress=False, checksums=_md5s(gz_files))
    assert (dest / "shd_train.h5.gz").read_bytes() == b"something else"


def test_unknown_checksum_is_taken_from_md5sums_txt_or_refused(server, gz_files, tmp_path):
    _serve(server, gz_files)
    unknown = {k: None for k in gz_files}
    with pytest.raises(DataFileError, match="checksum of shd_train.h5.gz unknown") as info:
        download_dataset("shd", tmp_path / "a", base_url=server.url, progress=False, checksums=unknown)
    assert "md5sums.txt could not be read" in str(info.value)
    assert not list((tmp_path / "a").iterdir())  # refused before downloading anything

    with pytest.warns(RuntimeWarning, match="not verified"):
        out = download_dataset("shd", tmp_path / "b", base_url=server.url, progress=False,
                               checksums=unknown, allow_unverified=True)
    assert out[0].read_bytes() == gz_files["shd_train.h5.gz"]

    listing = "".join(f"{v}  {k}\n" for k, v in _md5s(gz_files).items())
    server.files["datasets/md5sums.txt"] = listing.encode()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        download_dataset("shd", tmp_path / "c", base_url=server.url, progress=False, checksums=unknown)
    test_md5 = hashlib.md5(gz_files["shd_test.h5.gz"]).hexdigest()
    server.files["datasets/md5sums.txt"] = listing.replace(test_md5, "1" * 32).encode()
    with pytest.raises(DataFileError, match="1" * 32):
        download_dataset("shd", tmp_path / "d", base_url=server.url, progress=False, checksums=unknown)


def test_http_error_is_a_download_error(server, tmp_path):
    with pytest.raises(DownloadError, match="HTTP 404"):
        download_dataset("shd", tmp_path, base_url=server.url, progress=False,
                         checksums={n: "0" * 32 for n in NAMES})
    with pytest.raises(ValueError, match="dataset"):
        download_dataset("mnist", tmp_path)


def test_default_table_holds_published_shd_checksums():
    from genn_eventprop.datasets.shd import GZ_MD5
    assert GZ_MD5["shd_train.h5.gz"] == "d47c9825dee33347913e8ce0f2be08b0"
    assert GZ_MD5["shd_test.h5.gz"] == "3062a80ec0c5719404d5b02e166543b1"
    assert all(k.endswith(".h5.gz") and (v is None or len(v) == 32) for k, v in GZ_MD5.items())


# ------------------------------------------------------------------------- MNIST
from pathlib import Path  # noqa: E402

from genn_eventprop.datasets.download import download_mnist  # noqa: E402
from genn_eventprop.datasets.mnist import FILES as MNIST_FILES, load_mnist  # noqa: E402

def _serve_mnist(server, shared, damage=None):
    server.files = {}
    for name, _, _ in MNIST_FILES.values():
        data = (Path(shared) / (name + ".gz")).read_bytes()
        if name == damage:
            raw = bytearray(gzip.decompress(data))
            raw[-1] ^= 0xFF
            data = gzip.compress(bytes(raw), mtime=0)
        server.files[f"datasets/{name}.gz"] = data


def test_mnist_download_verifies_the_canonical_content(server, shared_mnist, tmp_path):
    _serve_mnist(server, shared_mnist)
    server.truncate = 1                                   # one dropped connection: resumed
    with pytest.raises(DownloadError, match="resumes it"):
        download_mnist(tmp_path, base_url=server.url, progress=False)
    out = download_mnist(tmp_path, base_url=server.url, progress=False)
    assert sorted(p.name for p in out) == sorted(n + ".gz" for n, _, _ in MNIST_FILES.values())
    assert not list(tmp_path.glob("*.part"))
    assert load_mnist(tmp_path).test_images.shape == (10000, 28, 28)
    n = len(server.requests)
    download_mnist(tmp_path, base_url=server.url, progress=False)
    assert len(server.requests) == n                       # present and verified: kept


def test_mnist_download_refuses_a_damaged_file(server, shared_mnist, tmp_path):
    _serve_mnist(server, shared_mnist, damage="t10k-labels-idx1-ubyte")
    with pytest.raises(DataFileError, match="corrupt: uncompressed .* md5"):
        download_mnist(tmp_path, base_url=server.url, progress=False)
    assert not (tmp_path / "t10k-labels-idx1-ubyte.gz").exists()
    assert not list(tmp_path.glob("*.part"))


def test_mnist_data_command(server, shared_mnist, tmp_path):
    import shutil
    import subprocess
    _serve_mnist(server, shared_mnist)
    exe = shutil.which("genn-eventprop")
    ok = subprocess.run([exe, "data", "mnist", "--dir", str(tmp_path), "--url", server.url],
                        capture_output=True, text=True, timeout=300)
    assert ok.returncode == 0, ok.stderr
    assert "t10k-labels-idx1-ubyte.gz" in ok.stdout
    bad = subprocess.run([exe, "data", "mnist", "--synthetic", "--dir", str(tmp_path)],
                         capture_output=True, text=True, timeout=300)
    assert bad.returncode == 2 and "no synthetic MNIST" in bad.stderr
    assert "Traceback" not in bad.stderr
