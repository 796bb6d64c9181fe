"""Yin-Yang defaults: every key of the original ``simulator_yinyang.py`` plus the
keys of the common training loop. Differences from the original are said in
the docs (``N_*`` count samples; data seeds and split sizes follow the
published Yin-Yang splits)."""
from __future__ import annotations

from .common import COMMON, with_defaults
from .spec import flag, num, text

FIRST_SPIKE_LOSSES = ("first_spike", "first_spike_exp")

YINYANG = with_defaults(
    {**COMMON,
     "TRAIN": flag(True, "kept for compatibility with the original script (unused there too)"),
     "TRAIN_DATA_SEED": num(42, "seed of the generated training set (42: published split)",
                            low=0, integer=True),
     "VALIDATE_DATA_SEED": num(41, "seed of the generated validation set (41: published "
                                   "split)", low=0, integer=True),
     "TEST_DATA_SEED": num(40, "seed of the generated test set (40: published split)",
                           low=0, integer=True),
     "N_TRAIN": num(5000, "number of training samples per epoch", low=1, integer=True),
     "N_VALIDATE": num(1000, "number of validation samples (0: no validation)", low=0,
                       integer=True),
     "N_TEST": num(1000, "number of test samples", low=1, integer=True),
     "N_FOLD": num(5, "folds of cross_validate (over the training set)", low=2, integer=True),
     "LOSS_TYPE": text("first_spike_exp", "loss (spiking outputs); first_spike_exp trains "
                                          "more stably than first_spike here",
                       FIRST_SPIKE_LOSSES),
     "INPUT_WINDOW_MS": num(None, "inputs are latency-coded in [2 DT_MS, INPUT_WINDOW_MS - 2 "
                                  "DT_MS]; a longer TRIAL_MS lets late output spikes count "
                                  "(None: TRIAL_MS, as the original)", low=1e-9, nullable=True),
     "FANCY_PLOTS": flag(False, "write a PNG of the test predictions in the (x, y) plane")},
    NAME="yinyang", DT_MS=0.1, TRIAL_MS=40.0, INPUT_WINDOW_MS=30.0, N_EPOCH=100,
    NUM_HIDDEN=200, INPUT_HIDDEN_MEAN=1.5, INPUT_HIDDEN_STD=0.78, HIDDEN_HIDDENFWD_MEAN=1.5,
    HIDDEN_HIDDENFWD_STD=0.78, HIDDEN_OUTPUT_MEAN=0.93, HIDDEN_OUTPUT_STD=0.1,
    ETA=5e-3, ETA_DECAY=0.95, PHANTOM_SOFTMAX=True, REG_TYPE="simple", NU_UPPER=0.5,
    LBD_LOWER=0.01, LBD_UPPER=0.0, AVG_SNSUM=True)
