"""Yin-Yang defaults: every key of the original ``simulator_yinyang.py`` plus the
keys of the common training loop. Differences from the original are said in
the docs (``N_*`` count samples; data seeds and split sizes follow the
published Yin-Yang splits)."""
from __future__ import annotations

from .spec import epoch_trials, flag, names, num, pairs, text

POPULATIONS = ("input", "hidden", "output")
SYNAPSES = ("in_to_hid", "hid_to_hid", "hid_to_out")
HIDDEN_TYPES = ("LIF", "hetLIF", "ALIF")
FIRST_SPIKE_LOSSES = ("first_spike", "first_spike_exp")

YINYANG = {
    # general
    "NAME": text("yinyang", "run name: prefix of every output file"),
    "OUT_DIR": text(".", "directory for results, checkpoints and recordings (created)"),
    "DT_MS": num(0.1, "simulation time step (ms)", low=1e-4),
    "BUILD": flag(True, "kept for compatibility: models are cached by content and rebuilt "
                        "only when they change, whatever this says"),
    "TIMING": flag(True, "measure and report time per phase (build, train, validate, test)"),
    "TRAIN": flag(True, "kept for compatibility with the original script (unused there too)"),
    "SEED": num(1, "seed of weight initialisation, dropout and shuffling (0: random)",
                low=0, integer=True),
    "NUM_THREADS": num(None, "OpenMP threads of the kernels (None: all cores)", low=1,
                       integer=True, nullable=True),
    "PROGRESS": flag(True, "show tqdm progress bars with loss and accuracy"),
    # data
    "TRAIN_DATA_SEED": num(42, "seed of the generated training set (42: published split)",
                           low=0, integer=True),
    "VALIDATE_DATA_SEED": num(41, "seed of the generated validation set (41: published split)",
                              low=0, integer=True),
    "TEST_DATA_SEED": num(40, "seed of the generated test set (40: published split)",
                          low=0, integer=True),
    "N_TRAIN": num(5000, "number of training samples per epoch", low=1, integer=True),
    "N_VALIDATE": num(1000, "number of validation samples (0: no validation)", low=0,
                      integer=True),
    "N_TEST": num(1000, "number of test samples", low=1, integer=True),
    "SHUFFLE": flag(True, "shuffle the training samples every epoch"),
    "N_FOLD": num(5, "folds of cross_validate (over the training set)", low=2, integer=True),
    # experiment
    "TRIAL_MS": num(30.0, "duration of one trial (ms)", low=1e-3),
    "N_MAX_SPIKE": num(400, "spike tape capacity per neuron and trial; overflow is counted",
                       low=1, integer=True),
    "N_BATCH": num(32, "mini-batch size (samples simulated in parallel)", low=1, integer=True),
    "N_EPOCH": num(40, "number of training epochs", low=0, integer=True),
    # network
    "NUM_HIDDEN": num(200, "neurons per hidden layer", low=1, integer=True),
    "N_HID_LAYER": num(1, "number of hidden layers", low=1, integer=True),
    "RECURRENT": flag(False, "recurrent connections within each hidden layer"),
    "HIDDEN_NEURON_TYPE": text("LIF", "hidden neuron model", HIDDEN_TYPES),
    "LOSS_TYPE": text("first_spike_exp", "loss (spiking outputs); first_spike_exp trains "
                                         "more stably than first_spike here",
                      FIRST_SPIKE_LOSSES),
    "TAU_SYN": num(5.0, "synaptic time constant (ms)", low=1e-3),
    "TAU_MEM": num(20.0, "membrane time constant (ms)", low=1e-3),
    "V_THRESH": num(1.0, "spiking threshold", low=1e-9),
    "V_RESET": num(0.0, "reset potential; the exact EventProp model resets to 0", low=0.0,
                   high=0.0),
    "TAU_B": num(100.0, "ALIF adaptation time constant (ms)", low=1e-3),
    "B_INCR": num(0.1, "ALIF threshold increment per spike", low=0.0),
    "TAU_0": num(0.5, "first-spike loss: softmax temperature of -t/TAU_0 (ms)", low=1e-6),
    "TAU_1": num(6.4, "first_spike_exp: time constant of ALPHA exp(t/TAU_1) (ms)", low=1e-6),
    "ALPHA": num(3e-3, "first-spike losses: weight of the late-spike penalty", low=0.0),
    "INPUT_HIDDEN_MEAN": num(1.5, "mean input->hidden weight"),
    "INPUT_HIDDEN_STD": num(0.78, "sd of input->hidden weights", low=0.0),
    "HIDDEN_HIDDEN_MEAN": num(0.0, "mean recurrent weight", ),
    "HIDDEN_HIDDEN_STD": num(0.02, "sd of recurrent weights", low=0.0),
    "HIDDEN_HIDDENFWD_MEAN": num(1.5, "mean weight between hidden layers"),
    "HIDDEN_HIDDENFWD_STD": num(0.78, "sd of weights between hidden layers", low=0.0),
    "HIDDEN_OUTPUT_MEAN": num(0.93, "mean hidden->output weight"),
    "HIDDEN_OUTPUT_STD": num(0.1, "sd of hidden->output weights", low=0.0),
    "PDROP_INPUT": num(0.0, "input spike dropout probability (training only)", low=0.0,
                       high=1.0),
    "PDROP_HIDDEN": num(0.0, "hidden spike dropout probability (training only)", low=0.0,
                        high=1.0),
    "HIDDEN_NOISE": num(0.0, "membrane noise amplitude (V / sqrt(ms), training only)",
                        low=0.0),
    # learning
    "ETA": num(3e-3, "learning rate (Adam); 3e-3 trains more reliably than 5e-3 "
               "(bench/RESULTS.md)", low=0.0),
    "ADAM_BETA1": num(0.9, "Adam decay of the first moment", low=0.0, high=1.0),
    "ADAM_BETA2": num(0.999, "Adam decay of the second moment", low=0.0, high=1.0),
    "ADAM_EPS": num(1e-8, "Adam epsilon (outside the square root)", low=0.0),
    "ETA_DECAY": num(0.95, "learning rate factor applied at the start of every epoch",
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
    "FANCY_PLOTS": flag(False, "write a PNG of the test predictions in the (x, y) plane"),
}
