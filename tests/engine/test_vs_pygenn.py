"""The embedded engine against real PyGeNN 5.4 (differential tests).

The PyGeNN 5 script of ``test_pygenn_api.py`` runs unchanged (only the import
line differs) on GeNN's own CPU backend and on the embedded engine; spikes,
voltage traces, synapse state and time must agree. Needs a real ``pygenn``
(``.ci/pygenn-wheel`` builds one from ``../shared/third_party``); without it
these tests skip, saying so.
"""
from __future__ import annotations

import os
import sys

import numpy as np
import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_pygenn_api import NUM_STEPS, RESET_STEP, SCALE_STEP, SCRIPT  # noqa: E402

pytest.importorskip("pygenn", reason="real PyGeNN is not installed (build it with "
                                     ".ci/pygenn-wheel and pip install the wheel)")

RANDOM_INIT = 'pygenn.init_var("Uniform", {"min": 0.0, "max": 0.5})'
FIXED_INIT = "np.array([0.05, 0.31, 0.12, 0.47])"


def run_script(module: str, folder) -> dict:
    """Run the script with ``import <module> as pygenn`` in ``folder`` (GeNN writes its
    generated code to the working directory); the random initial voltages are
    replaced by fixed ones so that both engines start from the same state."""
    assert RANDOM_INIT in SCRIPT
    script = SCRIPT.replace("import genn_eventprop.engine as pygenn",
                            f"import {module} as pygenn").replace(RANDOM_INIT, FIXED_INIT)
    ns = {"NUM_STEPS": NUM_STEPS, "RESET_STEP": RESET_STEP, "SCALE_STEP": SCALE_STEP}
    cwd = os.getcwd()
    os.chdir(folder)
    try:
        exec(compile(script, f"pygenn5_script_{module}.py", "exec"), ns)
    finally:
        os.chdir(cwd)
    return ns


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    genn = run_script("pygenn", tmp_path_factory.mktemp("genn"))
    embedded = run_script("genn_eventprop.engine", tmp_path_factory.mktemp("embedded"))
    yield genn, embedded
    embedded["model"].unload()
    genn["model"].unload()


def test_same_spikes(runs):
    genn, embedded = runs
    times_g, ids_g = genn["spike_times"], genn["spike_ids"]
    times_e, ids_e = embedded["spike_times"], embedded["spike_ids"]
    assert len(ids_g) > 5
    order_g, order_e = np.lexsort((ids_g, times_g)), np.lexsort((ids_e, times_e))
    np.testing.assert_array_equal(ids_e[order_e], ids_g[order_g])
    np.testing.assert_allclose(times_e[order_e], times_g[order_g], rtol=0, atol=1e-9)


def test_same_voltage_traces(runs):
    genn, embedded = runs
    for name in ("v_exc_trace", "v_out_trace"):
        g, e = np.array(genn[name]), np.array(embedded[name])
        assert g.shape == e.shape == (NUM_STEPS, g.shape[1])
        np.testing.assert_allclose(e, g, rtol=1e-5, atol=1e-6, err_msg=name)


def synapses_by_pair(run) -> dict:
    """(spike count, weight) of each sparse synapse, keyed by (pre, post): the two
    engines may store the synapses of a row in different orders."""
    return {(int(a), int(b)): (float(n), float(w)) for a, b, n, w in zip(
        run["syn_pre"], run["syn_post"], np.ravel(run["syn_count"]), np.ravel(run["syn_g"]))}


def test_same_synapse_state_and_time(runs):
    genn, embedded = (synapses_by_pair(run) for run in runs)
    assert genn.keys() == embedded.keys() and len(genn) == 6
    for pair, (n, w) in genn.items():
        assert embedded[pair] == pytest.approx((n, w), rel=1e-6)
    assert runs[1]["final_t"] == pytest.approx(runs[0]["final_t"])
