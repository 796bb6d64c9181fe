"""Spike recording: ``spike_recording_data`` over several recording windows.

The model is run in windows of ``N`` steps (``load(num_recording_timesteps=N)``);
after each window the recording is pulled and compared with
  * an independent per-step record of threshold crossings (a LIF neuron's
    RefracTime equals TauRefrac exactly in the step it spiked, since it is only
    decremented in later steps), and
  * the analytic first-passage spike steps of a LIF neuron under constant current,
  * known SpikeSourceArray spike trains on neuron ids around 32-bit word boundaries.
"""
from __future__ import annotations

import numpy as np
import pytest

import genn_eventprop.engine as pygenn

try:  # works both with and without a tests/engine package
    from ._neuron_helpers import (lif_closed_form, lif_params, recorded_steps,
                                  spike_source_arrays, ssa_expected_steps)
except ImportError:  # pragma: no cover
    from _neuron_helpers import (lif_closed_form, lif_params, recorded_steps,
                                 spike_source_arrays, ssa_expected_steps)

DT = 0.5
N_WIN = 25          # recording window (steps)
N_WINDOWS = 4
N_STEPS = N_WIN * N_WINDOWS
B = 2
N_LIF = 40          # two 32-bit words per batch member
P = lif_params(TauM=10.0, Vrest=-60.0, Vreset=-60.0, Vthresh=-50.0, TauRefrac=1.25)
# amplitudes (nA) giving silent neurons (< 1 nA) and rates up to ~ 1 spike / 3 steps;
# float32-representable so the analytic reference sees exactly the simulated input
AMPS0 = np.round(np.linspace(0.5, 3.0, N_LIF), 4).astype(np.float32).astype(np.float64)
AMPS = np.stack([AMPS0, AMPS0[::-1]])

N_SSA = 70          # three words; spikes on ids at word boundaries
SSA_IDS = [0, 31, 32, 33, 63, 64, 69]
SSA_STEPS = [  # per batch: (id, emission step); same-step spikes across word boundaries
    [(0, 0), (31, 3), (32, 3), (63, 24), (64, 24), (69, 25), (33, 49), (31, 50), (0, 99)],
    [(69, 0), (64, 10), (63, 10), (32, 60), (31, 60), (33, 74), (0, 75), (64, 98)],
]

VAR_DC = pygenn.create_current_source_model("VarDC", vars=[("amp", "scalar")],
                                            injection_code="injectCurrent(amp);")


def _ssa_trains():
    trains = [[[] for _ in range(N_SSA)] for _ in range(B)]
    for b, pairs in enumerate(SSA_STEPS):
        for i, s in pairs:
            trains[b][i].append((s - 0.5) * DT)   # emitted at step s
    return trains


def _build(name, n_rec):
    model = pygenn.GeNNModel("float", name)
    model.dt = DT
    model.batch_size = B
    lif = model.add_neuron_population("lif", N_LIF, "LIF", P, {"V": -60.0, "RefracTime": 0.0})
    model.add_current_source("drive", VAR_DC, lif, {}, {"amp": AMPS})
    start, end, times = spike_source_arrays(_ssa_trains())
    ssa = model.add_neuron_population("ssa", N_SSA, "SpikeSourceArray", {},
                                      {"startSpike": start, "endSpike": end})
    ssa.extra_global_params["spikeTimes"].set_init_values(times)
    silent = model.add_neuron_population("silent", 5, "LIF", P, {"V": -60.0, "RefracTime": 0.0})
    lif.spike_recording_enabled = True
    ssa.spike_recording_enabled = True
    silent.spike_recording_enabled = True
    model.build()
    model.load(num_recording_timesteps=n_rec)
    return model, lif, ssa, silent


@pytest.fixture(scope="module")
def windows():
    """Run 4 windows of 25 steps, pulling the recording after each window."""
    model, lif, ssa, silent = _build("rec_windows", N_WIN)
    detected = []            # (batch, step, id) from RefracTime == TauRefrac
    tau_refrac = np.float32(P["TauRefrac"])
    per_window = []
    for w in range(N_WINDOWS):
        for _ in range(N_WIN):
            step = model.timestep
            model.step_time()
            lif.vars["RefracTime"].pull_from_device()
            bb, ii = np.nonzero(lif.vars["RefracTime"].view == tau_refrac)
            detected += [(int(b), step, int(i)) for b, i in zip(bb, ii)]
        model.pull_recording_buffers_from_device()
        per_window.append(dict(lif=lif.spike_recording_data, ssa=ssa.spike_recording_data,
                               silent=silent.spike_recording_data, timestep=model.timestep))
    return dict(model=model, per_window=per_window, detected=detected)


def test_recording_structure(windows):
    """spike_recording_data is a list with one (times, ids) pair per batch member; times are
    floating point ms, ids integers; a silent population gives empty arrays."""
    for rec in windows["per_window"]:
        for key in ("lif", "ssa", "silent"):
            data = rec[key]
            assert isinstance(data, list) and len(data) == B
            for times, ids in data:
                assert np.issubdtype(np.asarray(times).dtype, np.floating)
                assert np.issubdtype(np.asarray(ids).dtype, np.integer)
                assert len(times) == len(ids)
        for times, ids in rec["silent"]:
            assert len(times) == 0


def test_windows_match_detected_crossings(windows):
    """Each window's recording holds exactly the spikes detected in that window's steps
    (times w*N*dt ... ((w+1)*N - 1)*dt), for every batch member."""
    det = windows["detected"]
    assert len(det) > 100
    for w, rec in enumerate(windows["per_window"]):
        assert rec["timestep"] == (w + 1) * N_WIN
        for b in range(B):
            times, ids = rec["lif"][b]
            got = recorded_steps(times, ids, DT)
            exp = sorted((s, i) for bb, s, i in det
                         if bb == b and w * N_WIN <= s < (w + 1) * N_WIN)
            assert got == exp, f"window {w}, batch {b}"
            assert len(exp) > 0


def test_windows_match_first_passage(windows):
    """Concatenated over windows, the recorded spikes equal the analytic spike steps of a
    LIF under constant current amp[b, i] (first-passage rule, refractory 1.25 ms)."""
    high_ids = []
    for b in range(B):
        exp = []
        for i in range(N_LIF):
            _, _, spikes = lif_closed_form(N_STEPS, DT, [-60.0], AMPS[b, i], P, margin=1e-3)
            exp += [(s, i) for s, _ in spikes]
        got = []
        for rec in windows["per_window"]:
            times, ids = rec["lif"][b]
            got += recorded_steps(times, ids, DT)
        assert sorted(got) == sorted(exp), f"batch {b}"
        high_ids += [i for _, i in got if i >= 32]
    assert high_ids   # the second 32-bit word is exercised


def test_word_boundary_ids(windows):
    """Spike-source spikes on ids 0, 31, 32, 33, 63, 64, 69 (incl. same-step spikes on both
    sides of a word boundary) come back with the right ids and window-relative times."""
    for w, rec in enumerate(windows["per_window"]):
        for b in range(B):
            times, ids = rec["ssa"][b]
            exp = sorted((s, i) for i, s in SSA_STEPS[b] if w * N_WIN <= s < (w + 1) * N_WIN)
            assert recorded_steps(times, ids, DT) == exp, f"window {w}, batch {b}"


def test_single_long_window_equals_windows(windows):
    """Recording all 100 steps in one window gives the union of the four short windows."""
    model, lif, ssa, _ = _build("rec_windows", N_STEPS)
    for _ in range(N_STEPS):
        model.step_time()
    model.pull_recording_buffers_from_device()
    for key, pop in (("lif", lif), ("ssa", ssa)):
        for b in range(B):
            times, ids = pop.spike_recording_data[b]
            union = []
            for rec in windows["per_window"]:
                union += recorded_steps(*rec[key][b], DT)
            assert recorded_steps(times, ids, DT) == sorted(union), (key, b)


def test_ssa_reference_consistent():
    """Guard for the test data: the SpikeSourceArray times map to the intended steps."""
    trains = _ssa_trains()
    for b, pairs in enumerate(SSA_STEPS):
        for i, s in pairs:
            assert s in ssa_expected_steps(trains[b][i], DT)
