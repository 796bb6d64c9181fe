"""Parameter dicts: defaults are fresh copies, validation names keys and fixes."""
from __future__ import annotations

import pytest

from genn_eventprop.params import BENCHMARKS, ParamError, defaults, describe, validate


def test_defaults_are_fresh_copies():
    a, b = defaults("yinyang"), defaults("yinyang")
    a["REC_SPIKES"].append("hidden")
    a["NUM_HIDDEN"] = 1
    assert b["REC_SPIKES"] == [] and b["NUM_HIDDEN"] == 200


def test_validate_returns_a_private_complete_copy():
    user = {"NUM_HIDDEN": 50, "REC_SPIKES": ["hidden"]}
    p = validate(user, "yinyang")
    p["REC_SPIKES"].append("output")
    assert user["REC_SPIKES"] == ["hidden"]
    assert set(p) == set(defaults("yinyang")) and p["NUM_HIDDEN"] == 50


def test_every_key_is_documented_once():
    for bench in BENCHMARKS:
        rows = describe(bench)
        keys = [k for k, _, _ in rows]
        assert len(keys) == len(set(keys))
        assert all(isinstance(doc, str) and len(doc.strip()) > 10 for _, _, doc in rows)


def test_original_yinyang_keys_are_all_accepted():
    """Every key of the original simulator_yinyang.py p dict."""
    original = ["OUT_DIR", "TRAIN", "DT_MS", "BUILD", "TIMING", "TRAIN_DATA_SEED",
                "TEST_DATA_SEED", "TRIAL_MS", "N_MAX_SPIKE", "N_BATCH", "N_TRAIN", "N_EPOCH",
                "N_TEST", "W_REPORT_INTERVAL", "W_EPOCH_INTERVAL", "NUM_HIDDEN", "TAU_SYN",
                "TAU_MEM", "V_THRESH", "V_RESET", "TAU_0", "TAU_1", "ALPHA",
                "INPUT_HIDDEN_MEAN", "INPUT_HIDDEN_STD", "HIDDEN_OUTPUT_MEAN",
                "HIDDEN_OUTPUT_STD", "ETA", "ADAM_BETA1", "ADAM_BETA2", "ADAM_EPS",
                "ETA_DECAY", "SPK_REC_STEPS", "REC_SPIKES", "REC_NEURONS", "REC_SYNAPSES",
                "WRITE_TO_DISK", "TRAINING_PLOT", "TRAINING_PLOT_INTERVAL", "FANCY_PLOTS",
                "LOAD_LAST"]
    assert set(original) <= set(defaults("yinyang"))


@pytest.mark.parametrize("p,match", [
    ({"N_BACH": 3}, "Did you mean 'N_BATCH'"),
    ({"zzz": 3}, "unknown parameter 'zzz'"),
    ({"N_BATCH": True}, "'N_BATCH' must be int, got bool"),
    ({"N_BATCH": 0}, "'N_BATCH' must be >= 1"),
    ({"DT_MS": "0.1"}, "'DT_MS' must be float, got str"),
    ({"SHUFFLE": 1}, "'SHUFFLE' must be bool"),
    ({"HIDDEN_NEURON_TYPE": "IF"}, "'HIDDEN_NEURON_TYPE' must be one of"),
    ({"W_OUTPUT_EPOCH_TRIAL": [[1, 2, 3]]}, "W_OUTPUT_EPOCH_TRIAL\\[0\\]"),
    ({"REC_SYNAPSES": [("in_to_hidden", "g")]}, "'in_to_hidden' is not one of"),
])
def test_errors_name_the_key(p, match):
    with pytest.raises(ParamError, match=match):
        validate(p, "yinyang")


def test_ints_are_accepted_for_floats_and_none_where_allowed():
    p = validate({"ETA": 1, "NUM_THREADS": None, "SPK_REC_STEPS": 300}, "yinyang")
    assert p["ETA"] == 1.0 and isinstance(p["ETA"], float) and p["NUM_THREADS"] is None


def test_unknown_benchmark():
    with pytest.raises(ParamError, match="valid: yinyang"):
        defaults("mnist_")
    with pytest.raises(ParamError, match="must be a dict"):
        validate([("N_BATCH", 3)], "yinyang")


def test_original_shd_keys_are_all_accepted():
    """Every key of the original simulator_SHD.py p dict."""
    original = ["NAME", "DEBUG_HIDDEN_N", "OUT_DIR", "DT_MS", "BUILD", "TIMING",
                "TRAIN_DATA_SEED", "TEST_DATA_SEED", "MODEL_SEED", "TRIAL_MS", "N_MAX_SPIKE",
                "N_BATCH", "N_TRAIN", "N_VALIDATE", "N_EPOCH", "SHUFFLE", "NUM_HIDDEN",
                "RECURRENT", "TAU_SYN", "TAU_MEM", "TAU_MEM_OUTPUT", "V_THRESH", "V_RESET",
                "PDROP_INPUT", "PDROP_HIDDEN", "REG_TYPE", "LBD_UPPER", "LBD_LOWER", "NU_UPPER",
                "NU_LOWER", "RHO_UPPER", "GLB_UPPER", "REWIRE_SILENT", "REWIRE_LIFT",
                "HIDDEN_NEURON_TYPE", "TAU_B", "B_INCR", "INPUT_HIDDEN_MEAN",
                "INPUT_HIDDEN_STD", "HIDDEN_OUTPUT_MEAN", "HIDDEN_OUTPUT_STD",
                "HIDDEN_HIDDEN_MEAN", "HIDDEN_HIDDEN_STD", "HIDDEN_HIDDENFWD_MEAN",
                "HIDDEN_HIDDENFWD_STD", "ETA", "ADAM_BETA1", "ADAM_BETA2", "ADAM_EPS",
                "W_OUTPUT_EPOCH_TRIAL", "SPK_REC_STEPS", "REC_SPIKES_EPOCH_TRIAL", "REC_SPIKES",
                "REC_NEURONS_EPOCH_TRIAL", "REC_NEURONS", "REC_SYNAPSES_EPOCH_TRIAL",
                "REC_SYNAPSES", "WRITE_TO_DISK", "LOAD_LAST", "LOSS_TYPE", "EVALUATION",
                "CUDA_VISIBLE_DEVICES", "AVG_SNSUM", "REDUCED_CLASSES", "AUGMENTATION",
                "DOWNLOAD_SHD", "COLLECT_CONFUSION", "REC_PREDICTIONS", "TAU_0", "TAU_1",
                "ALPHA", "TAU_ACCUMULATOR", "HIDDEN_NOISE", "SPEAKER_LEFT", "RESCALE_T",
                "RESCALE_X", "MIN_TAU_M", "N_HID_LAYER", "EMA_ALPHA1", "EMA_ALPHA2", "ETA_FAC",
                "MIN_EPOCH_ETA_FIXED", "BALANCE_TRAIN_CLASSES", "BALANCE_EVAL_CLASSES",
                "DATA_SET", "DATA_BUFFER_NAME", "N_INPUT_DELAY", "INPUT_DELAY", "TRAIN_TAUM",
                "TAUM_OUTPUT_EPOCH_TRIAL", "CHECKPOINT", "CHECKPOINT_BEST", "LOAD_BEST"]
    missing = [k for k in original if k not in defaults("shd")]
    assert not missing, missing


def test_original_mnist_keys_are_all_accepted():
    """Every key of the original simulator_MNIST.py p dict, with its values where this
    package can honour them."""
    original = {"NAME": "test", "DATASET": "MNIST", "DEBUG": False, "DEBUG_HIDDEN_N": False,
                "OUT_DIR": ".", "DT_MS": 0.1, "BUILD": True, "TIMING": True,
                "TRAIN_DATA_SEED": 123, "TEST_DATA_SEED": 456, "MODEL_SEED": None,
                "TRIAL_MS": 20.0, "N_MAX_SPIKE": 400, "N_BATCH": 32, "SUPER_BATCH": 1,
                "N_TRAIN": 55000, "N_VALIDATE": 5000, "N_EPOCH": 10, "SHUFFLE": True,
                "N_TEST": 10000, "W_REPORT_INTERVAL": 100, "W_EPOCH_INTERVAL": 10,
                "NUM_HIDDEN": 350, "RECURRENT": False, "TAU_SYN": 5.0, "TAU_MEM": 20.0,
                "V_THRESH": 1.0, "V_RESET": 0.0, "INPUT_HIDDEN_MEAN": 0.078,
                "INPUT_HIDDEN_STD": 0.045, "HIDDEN_OUTPUT_MEAN": 0.2, "HIDDEN_OUTPUT_STD": 0.37,
                "HIDDEN_HIDDEN_MEAN": 0.2, "HIDDEN_HIDDEN_STD": 0.37, "PDROP_INPUT": 0.2,
                "REG_TYPE": "none", "LBD_UPPER": 0.000005, "LBD_LOWER": 0.001,
                "NU_UPPER": 20 * 32, "NU_LOWER": 0.1 * 32, "RHO_UPPER": 5000.0,
                "GLB_UPPER": 0.00001, "ETA": 5e-3, "ADAM_BETA1": 0.9, "ADAM_BETA2": 0.999,
                "ADAM_EPS": 1e-8, "ETA_DECAY": 0.95, "ETA_FIDDELING": False, "ETA_REDUCE": 0.1,
                "ETA_REDUCE_PERIOD": 50, "SPK_REC_STEPS": 200, "REC_SPIKES": [],
                "REC_NEURONS": [], "REC_SYNAPSES": [], "WRITE_TO_DISK": True,
                "LOAD_LAST": False, "LOSS_TYPE": "max", "EVALUATION": "random",
                "CUDA_VISIBLE_DEVICES": False, "AVG_SNSUM": False}
    p = validate(original, "mnist")
    assert p["NUM_HIDDEN"] == 350 and p["LOSS_TYPE"] == "max"
    with pytest.raises(ParamError, match="ETA_DECAY"):
        validate(dict(original, ETA_FIDDELING=True), "mnist")


def test_phantom_softmax_needs_a_first_spike_loss():
    from genn_eventprop.params.mapping import check_combinations
    p = validate({"PHANTOM_SOFTMAX": True, "LOSS_TYPE": "sum_weigh_exp"}, "shd")
    with pytest.raises(ParamError, match="PHANTOM_SOFTMAX drives silent spiking outputs"):
        check_combinations(p)
    check_combinations(validate({"PHANTOM_SOFTMAX": True, "LOSS_TYPE": "first_spike"}, "shd"))
    assert validate({}, "yinyang")["PHANTOM_SOFTMAX"] is True
    assert validate({}, "shd")["PHANTOM_SOFTMAX"] is False
