"""Download the SHD/SSC and MNIST files: resumable, checksum-verified, atomic.

:func:`download_dataset` fetches the gzipped HDF5 files of one dataset into a
folder, where :func:`genn_eventprop.datasets.shd.find_data_file` finds them;
:func:`download_mnist` fetches the four gzipped MNIST IDX files.
A download goes to ``<file>.part``; an interrupted one is resumed with an HTTP
``Range`` request; the finished file is checked against its MD5 and only then
renamed to ``<file>``. Only the standard library's ``urllib`` is used.
"""
import gzip
import hashlib
import http.client
import os
import re
import sys
import urllib.error
import urllib.request
import warnings
from pathlib import Path
from typing import Dict, List, Mapping, Optional, Tuple, Union

from genn_eventprop.datasets.mnist import FILES as MNIST_FILES, not_canonical
from genn_eventprop.datasets.shd import BASE_URL, GZ_MD5, SPLITS, DataFileError, data_file_name
from genn_eventprop.errors import UserError

__all__ = ["DownloadError", "download_dataset", "download_mnist", "file_md5", "MNIST_URL"]

#: torchvision's mirror of the MNIST files (yann.lecun.com refuses scripted downloads).
MNIST_URL = "https://ossci-datasets.s3.amazonaws.com/mnist/"

_CHUNK = 1 << 16
_CONTENT_RANGE = re.compile(r"bytes\s+(\d+)-(\d+)/(\d+|\*)")


class DownloadError(UserError, OSError):
    """A download failed (no network, HTTP error, connection lost); a partial file is kept for resuming."""


def file_md5(path: Union[str, os.PathLike]) -> str:
    """Hex MD5 of a file, read in chunks."""
    h = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _base(base_url: str) -> str:
    return base_url if base_url.endswith("/") else base_url + "/"


def _published_md5s(opener, base_url: str, timeout: float) -> Tuple[Dict[str, str], str]:
    """The publisher's md5sums.txt as {name: md5}, and what to say about a name it lacks."""
    url = _base(base_url) + "md5sums.txt"
    try:
        with opener.open(url, timeout=timeout) as resp:
            text = resp.read().decode("utf-8", errors="replace")
    except (urllib.error.URLError, OSError, http.client.HTTPException) as e:
        return {}, f"{url} could not be read ({e})"
    out = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 2 and re.fullmatch(r"[0-9a-fA-F]{32}", parts[0]):
            out[parts[1].lstrip("*")] = parts[0].lower()
    return out, f"{url} does not list it"


def _open_range(opener, url: str, offset: int, timeout: float):
    headers = {"User-Agent": "genn_eventprop"}
    if offset:
        headers["Range"] = f"bytes={offset}-"
    return opener.open(urllib.request.Request(url, headers=headers), timeout=timeout)


def _fetch(opener, url: str, part: Path, progress: bool, timeout: float) -> None:
    """Download ``url`` into ``part``, continuing an existing ``part`` where the server allows it."""
    def resume_hint() -> str:
        if part.exists() and part.stat().st_size:
            return f"The partial file {part} is kept; running the download again resumes it."
        return "Running the download again retries it."

    for _ in range(2):
        offset = part.stat().st_size if part.exists() else 0
        try:
            resp = _open_range(opener, url, offset, timeout)
        except urllib.error.HTTPError as e:
            if e.code == 416 and offset:
                # Nothing left to send: the part file is complete (or too
                # long); its checksum decides.
                return
            raise DownloadError(f"download of {url} failed: HTTP {e.code} {e.reason}. "
                                f"{resume_hint()}") from e
        except (urllib.error.URLError, OSError, http.client.HTTPException) as e:
            raise DownloadError(f"download of {url} failed: {e}. Check the network connection (and "
                                f"proxy settings) or download the file by other means. "
                                f"{resume_hint()}") from e
        with resp:
            if offset and resp.status == 206:
                m = _CONTENT_RANGE.match(resp.headers.get("Content-Range", ""))
                if not m or int(m.group(1)) != offset:
                    # The server sent another range than asked for: start over.
                    part.unlink()
                    continue
                mode = "ab"
            else:
                # 200: a fresh download, or a server that ignores Range.
                offset, mode = 0, "wb"
            length = resp.headers.get("Content-Length")
            remaining = int(length) if length is not None and length.isdigit() else None
            bar = None
            if progress and sys.stderr.isatty():
                from tqdm import tqdm
                bar = tqdm(total=None if remaining is None else offset + remaining, initial=offset,
                           unit="B", unit_scale=True, unit_divisor=1024, desc=part.name[:-5],
                           file=sys.stderr)
            received = 0
            try:
                with open(part, mode) as f:
                    while True:
                        chunk = resp.read(_CHUNK)
                        if not chunk:
                            break
                        f.write(chunk)
                        received += len(chunk)
                        if bar is not None:
                            bar.update(len(chunk))
            except (OSError, http.client.HTTPException) as e:
                raise DownloadError(f"download of {url} was interrupted after {offset + received} bytes "
                                    f"({e}). {resume_hint()}") from e
            finally:
                if bar is not None:
                    bar.close()
            if remaining is not None and received < remaining:
                raise DownloadError(f"download of {url} stopped after {offset + received} of "
                                    f"{offset + remaining} bytes. {resume_hint()}")
        return
    raise DownloadError(f"download of {url} failed: the server answered a resumed request with a "
                        f"different byte range twice.")


def download_dataset(dataset: str, dest_dir: Union[str, os.PathLike], base_url: str = BASE_URL,
                     progress: bool = True, checksums: Optional[Mapping[str, Optional[str]]] = None,
                     allow_unverified: bool = False, timeout: float = 60.0) -> List[Path]:
    """Download the ``.h5.gz`` files of ``dataset`` ("shd" or "ssc") into ``dest_dir``; returns their paths.

    Each file goes to ``<name>.part`` first; a ``.part`` left by an interrupted
    run is resumed (HTTP ``Range``; a server that ignores it sends the whole
    file again). The finished file's MD5 is compared with ``checksums[name]``
    (default: :data:`genn_eventprop.datasets.shd.GZ_MD5`); a file whose
    checksum is unknown (None or absent) is looked up in the publisher's
    ``<base_url>md5sums.txt``. Only a verified file is renamed to ``<name>``.
    Files already present are verified and kept. A progress bar (tqdm) is
    drawn on stderr when ``progress`` is set and stderr is a terminal.
    ``timeout`` is in seconds, per network operation.

    Args:
        allow_unverified: accept a file whose checksum is unknown everywhere
            (a warning gives its MD5); otherwise that is an error before any
            download.

    Raises:
        DataFileError: a checksum mismatch (the ``.part`` is deleted), a file
            already present with the wrong checksum, or an unknown checksum.
        DownloadError: network or HTTP failure; the ``.part`` is kept.
    """
    if dataset not in SPLITS:
        raise ValueError(f"dataset must be one of {sorted(SPLITS)}, got {dataset!r}")
    table = GZ_MD5 if checksums is None else checksums
    dest = Path(dest_dir)
    dest.mkdir(parents=True, exist_ok=True)
    # A fresh opener picks up the current proxy environment.
    opener = urllib.request.build_opener()
    published: Optional[Tuple[Dict[str, str], str]] = None
    names = [data_file_name(dataset, split) + ".gz" for split in SPLITS[dataset]]
    expected: Dict[str, Optional[str]] = {}
    for name in names:
        md5 = table.get(name)
        if md5 is None:
            if published is None:
                published = _published_md5s(opener, base_url, timeout)
            md5 = published[0].get(name)
            if md5 is None and not allow_unverified:
                why = published[1]
                raise DataFileError(
                    f"checksum of {name} unknown: genn_eventprop has no MD5 for it and {why}. "
                    f"Without a checksum a corrupted download would go unnoticed. Compare the MD5 "
                    f"published by the dataset's authors yourself and pass allow_unverified=True, or "
                    f"download {_base(base_url)}{name} into {dest} by other means.")
        expected[name] = md5.lower() if md5 else None
    out = []
    for name in names:
        url = _base(base_url) + name
        final = dest / name
        part = dest / (name + ".part")
        md5 = expected[name]
        if final.is_file():
            actual = file_md5(final)
            if md5 is not None and actual != md5:
                raise DataFileError(
                    f"data file {final} is already there but its md5 is {actual}, not {md5} as published "
                    f"for {url}. Delete or move it and download again.")
            out.append(final)
            continue
        _fetch(opener, url, part, progress, timeout)
        actual = file_md5(part)
        if md5 is not None and actual != md5:
            part.unlink()
            raise DataFileError(
                f"download of {url} is corrupt: md5 {actual}, expected {md5}. The partial file {part} "
                f"was deleted; download again (if this repeats, the file on the server differs from "
                f"the one the checksum describes).")
        if md5 is None:
            warnings.warn(f"{final} was not verified (no checksum known); its md5 is {actual}",
                          RuntimeWarning, stacklevel=2)
        os.replace(part, final)
        out.append(final)
    return out


def _mnist_check(path: Path, key: str) -> Optional[str]:
    """None if the gzipped ``path`` holds the canonical MNIST file ``key``, else what is wrong."""
    try:
        data = gzip.decompress(path.read_bytes())
    except (OSError, EOFError) as e:
        return f"it is not a readable gzip file ({e})"
    return not_canonical(data, key)


def download_mnist(dest_dir: Union[str, os.PathLike], base_url: str = MNIST_URL,
                   progress: bool = True, timeout: float = 60.0) -> List[Path]:
    """Download the four gzipped MNIST IDX files into ``dest_dir``; returns their paths.

    As :func:`download_dataset`: each file goes to ``<name>.gz.part`` (resumed
    with HTTP ``Range`` after an interruption) and is renamed only once its
    content, uncompressed, has the canonical size and MD5
    (:data:`genn_eventprop.datasets.mnist.FILES`). Files already present are
    checked and kept.

    Raises:
        DataFileError: a downloaded or present file is not the canonical one
            (a bad download's ``.part`` is deleted; a present file is kept).
        DownloadError: network or HTTP failure; the ``.part`` is kept.
    """
    dest = Path(dest_dir)
    dest.mkdir(parents=True, exist_ok=True)
    opener = urllib.request.build_opener()
    out = []
    for key, (name, _, _) in MNIST_FILES.items():
        url = _base(base_url) + name + ".gz"
        final = dest / (name + ".gz")
        part = dest / (name + ".gz.part")
        if final.is_file():
            wrong = _mnist_check(final, key)
            if wrong:
                raise DataFileError(f"data file {final} is already there but {wrong}. Delete or "
                                    f"move it and download again.")
            out.append(final)
            continue
        _fetch(opener, url, part, progress, timeout)
        wrong = _mnist_check(part, key)
        if wrong:
            part.unlink()
            raise DataFileError(f"download of {url} is corrupt: {wrong}. The partial file {part} "
                                f"was deleted; download again.")
        os.replace(part, final)
        out.append(final)
    return out
