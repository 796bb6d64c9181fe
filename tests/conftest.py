"""Test session setup: a private build cache so tests never reuse a user's builds."""
import os
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
