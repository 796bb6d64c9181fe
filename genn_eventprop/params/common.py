"""The keys every benchmark shares: network, loss, learning, schedule, checkpoints,
recording and outputs. Each benchmark's dict is ``COMMON`` with its own data
keys added and some defaults changed (``with_defaults``); the one mapping from
these keys to a network is ``params.mapping.network_spec``.
"""
from __future__ import annotations

import dataclasses
from typing import Any, Dict

from .spec import ParamSpec, epoch_trials, flag, names, num, pairs, text

POPULATIONS = ("input", "hidden", "output")
SYNAPSES = ("in_to_hid", "hid_to_hid", "hid_to_out")
HIDDEN_TYPES = ("LIF", "hetLIF", "ALIF")
OUTPUT_TYPES = ("LI", "hetLI")
LOSS_TYPES = ("first_spike", "first_spike_exp", "max", "sum", "sum_weigh_linear",
              "sum_weigh_exp", "sum_weigh_sigmoid", "sum_weigh_input", "avg_xentropy")
REG_TYPES = ("none", "simple", "Thomas1")

COMMON: Dict[str, ParamSpec] = {
    # general
    "NAME": text("run", "run name: prefix of every output file"),
    "OUT_DIR": text(".", "directory for results, checkpoints and recordings (created)"),
    "DT_MS": num(1.0, "simulation time step (ms)", low=1e-4),
    "BUILD": flag(True, "kept for compatibility: models are cached by content and rebuilt "
                        "only when they change, whatever this says"),
    "TIMING": flag(True, "measure and report time per phase (build, train, validate, test)"),
    "SEED": num(1, "seed of weight initialisation, dropout and shuffling (0: random)",
                low=0, integer=True),
    "NUM_THREADS": num(None, "OpenMP threads of the kernels (None: all cores)", low=1,
                       integer=True, nullable=True),
    "PROGRESS": flag(True, "show tqdm progress bars with loss and accuracy (on a terminal)"),
    # experiment
    "TRIAL_MS": num(1000.0, "duration of one trial (ms)", low=1e-3),
    "N_MAX_SPIKE": num(400, "spike tape capacity per neuron and trial; overflow is counted",
                       low=1, integer=True),
    "N_BATCH": num(32, "mini-batch size (samples simulated in parallel)", low=1, integer=True),
    "N_EPOCH": num(40, "number of training epochs", low=0, integer=True),
    "SHUFFLE": flag(True, "shuffle the training samples every epoch"),
    # network
    "NUM_HIDDEN": num(256, "neurons per hidden layer", low=1, integer=True),
    "N_HID_LAYER": num(1, "number of hidden layers", low=1, integer=True),
    "RECURRENT": flag(False, "recurrent connections within each hidden layer"),
    "HIDDEN_NEURON_TYPE": text("LIF", "hidden neuron model", HIDDEN_TYPES),
    "OUTPUT_NEURON_TYPE": text("LI", "output neuron model of the voltage losses (first-spike "
                                     "losses use spiking LIF outputs)", OUTPUT_TYPES),
    "LOSS_TYPE": text("sum_weigh_exp", "loss function (docs/eventprop.md lists them)", LOSS_TYPES),
    "TAU_SYN": num(5.0, "synaptic time constant (ms)", low=1e-3),
    "TAU_MEM": num(20.0, "membrane time constant of hidden neurons (ms)", low=1e-3),
    "TAU_MEM_OUTPUT": num(None, "membrane time constant of output neurons (ms; None: TAU_MEM)",
                          low=1e-3, nullable=True),
    "V_THRESH": num(1.0, "spiking threshold", low=1e-9),
    "V_RESET": num(0.0, "reset potential; the exact EventProp model resets to 0", low=0.0,
                   high=0.0),
    "TAU_B": num(100.0, "ALIF adaptation time constant (ms)", low=1e-3),
    "B_INCR": num(0.1, "ALIF threshold increment per spike", low=0.0),
    "TAU_0": num(0.5, "first-spike losses: softmax temperature of -t/TAU_0 (ms)", low=1e-6),
    "TAU_1": num(6.4, "first_spike_exp: time constant of ALPHA exp(t/TAU_1) (ms)", low=1e-6),
    "ALPHA": num(3e-3, "first-spike losses: weight of the late-spike penalty", low=0.0),
    "PHANTOM_SOFTMAX": flag(False, "first-spike losses: a silent correct output is driven by "
                                   "the softmax term (1 - p_y)/TAU_0 as well as by ALPHA "
                                   "g'(TRIAL_MS) (False: ALPHA term alone, as the original)"),
    "TAU_ACCUMULATOR": num(20.0, "sum_weigh_input: time constant of the input accumulator "
                                 "(ms)", low=1e-3),
    "INPUT_HIDDEN_MEAN": num(0.02, "mean input->hidden weight"),
    "INPUT_HIDDEN_STD": num(0.01, "sd of input->hidden weights", low=0.0),
    "HIDDEN_HIDDEN_MEAN": num(0.0, "mean recurrent weight"),
    "HIDDEN_HIDDEN_STD": num(0.02, "sd of recurrent weights", low=0.0),
    "HIDDEN_HIDDENFWD_MEAN": num(0.02, "mean weight between hidden layers"),
    "HIDDEN_HIDDENFWD_STD": num(0.01, "sd of weights between hidden layers", low=0.0),
    "HIDDEN_OUTPUT_MEAN": num(0.0, "mean hidden->output weight"),
    "HIDDEN_OUTPUT_STD": num(0.3, "sd of hidden->output weights", low=0.0),
    "PDROP_INPUT": num(0.0, "input spike dropout probability (training only)", low=0.0,
                       high=1.0),
    "PDROP_HIDDEN": num(0.0, "hidden spike dropout probability (training only)", low=0.0,
                        high=1.0),
    "HIDDEN_NOISE": num(0.0, "membrane noise amplitude (V / sqrt(ms), training only)",
                        low=0.0),
    "N_INPUT_DELAY": num(0, "delay line: number of delayed copies of every input channel",
                         low=0, integer=True),
    "INPUT_DELAY": num(50.0, "delay line: delay between successive copies (ms)", low=0.0),
    # regularisation
    "REG_TYPE": text("none", "hidden spike-count regulariser", REG_TYPES),
    "LBD_UPPER": num(2e-9, "regulariser stiffness above NU_UPPER", low=0.0),
    "LBD_LOWER": num(2e-9, "regulariser stiffness below NU_UPPER", low=0.0),
    "NU_UPPER": num(14.0, "target spikes per hidden neuron and trial", low=0.0),
    "NU_LOWER": num(5.0, "kept for compatibility: the original's regularisers do not use it",
                    low=0.0),
    "RHO_UPPER": num(10000.0, "Thomas1: target total hidden spikes per trial", low=0.0),
    "GLB_UPPER": num(1e-8, "Thomas1: stiffness of the population term", low=0.0),
    "AVG_SNSUM": flag(False, "regularise each neuron's batch-mean spike count"),
    # learning
    "ETA": num(1e-3, "learning rate (Adam)", low=0.0),
    "ADAM_BETA1": num(0.9, "Adam decay of the first moment", low=0.0, high=1.0),
    "ADAM_BETA2": num(0.999, "Adam decay of the second moment", low=0.0, high=1.0),
    "ADAM_EPS": num(1e-8, "Adam epsilon (outside the square root)", low=0.0),
    "ETA_DECAY": num(1.0, "learning rate factor applied at the start of every epoch",
                     low=0.0, high=1.0),
    "ETA_FAC": num(0.5, "learning rate factor when the fast accuracy EMA falls below the "
                        "slow one", low=0.0, high=1.0),
    "MIN_EPOCH_ETA_FIXED": num(1000000, "epochs between ETA_FAC reductions (large: never)",
                               low=0, integer=True),
    "EMA_ALPHA1": num(0.8, "fast EMA factor of the accuracy", low=0.0, high=1.0),
    "EMA_ALPHA2": num(0.95, "slow EMA factor of the accuracy", low=0.0, high=1.0),
    "EMA_WHICH": text("validation", "accuracy the EMAs follow", ("validation", "training")),
    "LR_EASE_IN_FACTOR": num(1.0, "learning rate starts at ETA/1000 each run and grows by "
                                  "this factor per batch up to ETA (1.0: no ease-in)",
                             low=1.0),
    "TRAIN_W": flag(True, "train input and hidden weights"),
    "TRAIN_W_OUTPUT": flag(True, "train hidden->output weights"),
    "TRAIN_TAU": flag(False, "train hidden tau_m and tau_syn"),
    "TRAIN_TAU_OUTPUT": flag(False, "train output tau_m and tau_syn"),
    "MIN_TAU_M": num(3.0, "lower bound of trained tau_m (ms)", low=1e-3),
    "MIN_TAU_SYN": num(1.0, "lower bound of trained tau_syn (ms)", low=1e-3),
    # checkpoints
    "CHECKPOINT": flag(True, "write a checkpoint (weights, optimiser state, epoch) after "
                             "every epoch, atomically"),
    "LOAD_LAST": flag(False, "resume from the last checkpoint in OUT_DIR"),
    "LOAD_BEST": flag(False, "resume from the checkpoint with the best validation accuracy"),
    "TEST_BEST": flag(True, "train_test: test the network of the epoch with the best "
                            "validation accuracy (False: of the last epoch)"),
    "OVERWRITE": flag(False, "replace the results of an earlier run with the same NAME in "
                             "OUT_DIR (deleted at the start); without it such a run is refused"),
    # recording and outputs
    "WRITE_TO_DISK": flag(True, "write results, recordings and checkpoints under OUT_DIR"),
    "SPK_REC_STEPS": num(None, "kept for compatibility: spikes are recorded for whole trials",
                         low=1, integer=True, nullable=True),
    "REC_SPIKES": names([], "populations whose spikes are recorded (every sample of the "
                            "batch)", POPULATIONS),
    "REC_SPIKES_EPOCH_TRIAL": epoch_trials("[epoch, trial] pairs at which spikes are "
                                           "recorded; trial = index of the training "
                                           "mini-batch within the epoch, from 0"),
    "REC_NEURONS": pairs([], "(population, variable) pairs recorded after every step, for "
                             "every sample of the batch", POPULATIONS),
    "REC_NEURONS_EPOCH_TRIAL": epoch_trials("[epoch, trial] pairs at which neuron variables "
                                            "are recorded"),
    "REC_SYNAPSES": pairs([], "(synapse population, variable) pairs recorded at the end "
                              "of a trial", SYNAPSES),
    "REC_SYNAPSES_EPOCH_TRIAL": epoch_trials("[epoch, trial] pairs at which synapse "
                                             "variables are recorded"),
    "W_OUTPUT_EPOCH_TRIAL": epoch_trials("[epoch, trial] pairs at which all weights are "
                                         "saved"),
    "W_REPORT_INTERVAL": num(100, "with W_EPOCH_INTERVAL > 0: save weights every this many "
                                  "trials", low=1, integer=True),
    "W_EPOCH_INTERVAL": num(0, "save weights in epochs divisible by this (0: off)", low=0,
                            integer=True),
    "COLLECT_CONFUSION": flag(False, "collect confusion matrices of every evaluation"),
    "REC_PREDICTIONS": flag(False, "record predictions and labels of every evaluation"),
    "TRAINING_PLOT": flag(False, "write a training-curve plot (PNG) at the end"),
    "TRAINING_PLOT_INTERVAL": num(10, "kept for compatibility: the plot is written once, "
                                      "at the end", low=1, integer=True),
}


def with_defaults(specs: Dict[str, ParamSpec], **defaults: Any) -> Dict[str, ParamSpec]:
    """A copy of ``specs`` with some defaults changed (each checked against its spec)."""
    out = dict(specs)
    for key, value in defaults.items():
        if key not in out:
            raise KeyError(f"with_defaults: no parameter '{key}'")
        out[key] = dataclasses.replace(out[key], default=out[key].check(key, value))
    return out
