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
