"""MNIST defaults: every key of the original ``simulator_MNIST.py``, on top of the
common keys. Differences from the original are said in the key docs."""
from __future__ import annotations

from .common import COMMON, with_defaults
from .shd import SHD, _classes
from .spec import checked, fixed, num, text

MNIST = with_defaults(
    {**COMMON,
     **{k: SHD[k] for k in ("MODEL_SEED", "CUDA_VISIBLE_DEVICES", "DEBUG_HIDDEN_N",
                            "CHECKPOINT_BEST")},
     "DATA_DIR": text(None, "folder with the four MNIST files, plain or .gz (None: "
                            "$GENN_EVENTPROP_DATA); torchvision's layout <dir>/MNIST/raw/ is "
                            "accepted", nullable=True),
     "DATASET": fixed("MNIST", "this simulator trains MNIST; the original's SHD/enose cases "
                               "are the SHD simulator (genn-eventprop shd)"),
     "DEBUG": fixed(False, "no debug output; record what you need with REC_SPIKES/REC_NEURONS"),
     "SUPER_BATCH": fixed(1, "the original's super-batches are not implemented; use N_BATCH"),
     "ETA_FIDDELING": fixed(False, "the original's step-down of the learning rate is not "
                                   "implemented; use ETA_DECAY (per epoch)"),
     "ETA_REDUCE": num(0.1, "kept for compatibility: used only with ETA_FIDDELING", low=0.0),
     "ETA_REDUCE_PERIOD": num(50, "kept for compatibility: used only with ETA_FIDDELING",
                              low=1, integer=True),
     "EVALUATION": fixed("random", "validation samples are N_VALIDATE images of the training "
                                   "file (the last ones after shuffling with TRAIN_DATA_SEED)"),
     "TRAIN_DATA_SEED": num(123, "seed of the shuffle that splits the training file into "
                                 "training and validation images", low=0, integer=True),
     "TEST_DATA_SEED": num(456, "seed of the shuffle that picks the N_TEST test images",
                           low=0, integer=True),
     "N_TRAIN": num(55000, "training images per epoch (the first after the shuffle)", low=1,
                    integer=True),
     "N_VALIDATE": num(5000, "validation images (the last after the shuffle; 0: none)", low=0,
                       integer=True),
     "N_TEST": num(10000, "test images (of the 10000 of the test file)", low=1, high=10000,
                   integer=True),
     "REDUCED_CLASSES": checked(None, "train and test on these digits only (None: all ten)",
                                _classes),
     "N_FOLD": num(5, "folds of cross_validate (over the training images)", low=2,
                   integer=True)},
    NAME="mnist", DT_MS=0.1, TRIAL_MS=20.0, N_MAX_SPIKE=400, N_EPOCH=10, NUM_HIDDEN=350,
    INPUT_HIDDEN_MEAN=0.078, INPUT_HIDDEN_STD=0.045, HIDDEN_OUTPUT_MEAN=0.2,
    HIDDEN_OUTPUT_STD=0.37, HIDDEN_HIDDEN_MEAN=0.2, HIDDEN_HIDDEN_STD=0.37, PDROP_INPUT=0.2,
    ETA=5e-3, ETA_DECAY=0.95, LOSS_TYPE="max")
