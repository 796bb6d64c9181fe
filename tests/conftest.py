"""Test session setup: a private build cache so tests never reuse a user's builds;
fixtures for the real MNIST files and the installed command line."""
import json
import os
import shutil
import subprocess
import tempfile

import pytest


@pytest.fixture(scope="session", autouse=True)
def _isolated_build_cache():
    if os.environ.get("GENN_EVENTPROP_TEST_KEEP_CACHE"):
        yield
        return
    old = os.environ.get("GENN_EVENTPROP_CACHE")
    with tempfile.TemporaryDirectory(prefix="genn_eventprop_test_cache_") as d:
        os.environ["GENN_EVENTPROP_CACHE"] = d
        yield
    if old is None:
        os.environ.pop("GENN_EVENTPROP_CACHE", None)
    else:
        os.environ["GENN_EVENTPROP_CACHE"] = old


def _find_shared_mnist():
    """The real MNIST files: $GENN_EVENTPROP_TEST_MNIST, else the first
    ``shared/data/mnist`` beside the repository or above it (``../shared/data``)."""
    from pathlib import Path
    env = os.environ.get("GENN_EVENTPROP_TEST_MNIST")
    if env:
        return Path(env)
    for folder in Path(__file__).resolve().parents[1:]:
        candidate = folder / "shared" / "data" / "mnist"
        if candidate.is_dir():
            return candidate
    return None


@pytest.fixture(scope="session")
def shared_mnist():
    """Folder of the real MNIST files; tests that need them skip, saying how to point at
    them, when they are not there."""
    path = _find_shared_mnist()
    if path is None or not path.is_dir():
        pytest.skip("the real MNIST files were not found (../shared/data/mnist beside or above "
                    "the repository); set GENN_EVENTPROP_TEST_MNIST to their folder")
    return path


@pytest.fixture
def mnist_params(shared_mnist, tmp_path):
    """``make(defaults, **settings)``: a ``p`` on the real MNIST files with outputs in
    the test's own folder."""
    def make(defaults, **settings):
        return dict(defaults, OUT_DIR=str(tmp_path), DATA_DIR=str(shared_mnist)) | settings
    return make


@pytest.fixture(scope="session")
def genn_cli():
    """``genn_cli(*args, settings={KEY: value})``: run the installed ``genn-eventprop``
    with ``--set KEY=<json value>`` options; returns the finished process (text)."""
    exe = shutil.which("genn-eventprop")
    assert exe, "genn-eventprop is not on PATH: install the package (pip install -e .)"

    def run(*args, settings=None, timeout=600):
        sets = [x for k, v in (settings or {}).items()
                for x in ("--set", f"{k}={json.dumps(v)}")]
        return subprocess.run([exe, *args, *sets], capture_output=True, text=True,
                              timeout=timeout)
    return run
