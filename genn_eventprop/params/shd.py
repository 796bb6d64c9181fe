"""SHD/SSC defaults: every key of the original ``simulator_SHD.py``, on top of the
common keys. Differences from the original are said in the key docs."""
from __future__ import annotations

from typing import Any

from ..datasets.augment import check_augmentation
from .common import COMMON, with_defaults
from .spec import ParamError, checked, fixed, flag, num, text

EVALUATIONS = ("random", "speaker", "validation_set")
DATA_SETS = ("SHD", "SSC")


def _classes(key: str, value: Any):
    if value is None:
        return None
    if not isinstance(value, (list, tuple)) or not value or not all(
            isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in value):
        raise ParamError(f"'{key}' must be None or a non-empty list of class indices (>= 0), "
                         f"got {value!r}")
    if len(set(value)) != len(value):
        raise ParamError(f"'{key}' lists a class twice: {value!r}")
    return sorted(int(v) for v in value)


def _speakers(key: str, value: Any):
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    if isinstance(value, (list, tuple)) and value and all(
            isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in value):
        return [int(v) for v in value]
    raise ParamError(f"'{key}' must be a speaker id (int >= 0) or a non-empty list of them "
                     f"(cross_validate leaves each out in turn), got {value!r}")


def _augmentation(key: str, value: Any):
    if not isinstance(value, dict):
        raise ParamError(f"'{key}' must be a dict of augmentation name -> setting, got "
                         f"{type(value).__name__} {value!r}")
    try:
        check_augmentation(value)
    except ValueError as e:
        raise ParamError(f"'{key}': {e}") from e
    return dict(value)


SHD = with_defaults(
    {**COMMON,
     "DATA_SET": text("SHD", "SHD (20 classes) or SSC (35 classes)", DATA_SETS),
     "DATA_DIR": text(None, "folder with the data files (None: $GENN_EVENTPROP_DATA); "
                            "tonic's layout <dir>/SHD/... is accepted", nullable=True),
     "TRAIN_DATA_SEED": num(123, "seed of the train/validation split, class balancing and "
                                 "augmentation", low=0, integer=True),
     "TEST_DATA_SEED": num(456, "seed of what is random about the test data", low=0,
                           integer=True),
     "MODEL_SEED": fixed(None, "the network is seeded by SEED here; set SEED"),
     "N_TRAIN": num(7644, "training samples per epoch (with N_VALIDATE = 512: all 8156 of "
                          "SHD's training file; None: every sample not used for "
                          "validation)", low=1, integer=True, nullable=True),
     "N_VALIDATE": num(512, "validation samples: drawn from the training file with "
                            "EVALUATION='random', taken from the validation file with "
                            "'validation_set'; 0: no validation (also with 'speaker')",
                       low=0, integer=True),
     "EVALUATION": text("random", "validation data: 'random' (N_VALIDATE samples of the "
                                  "training file), 'speaker' (all samples of SPEAKER_LEFT), "
                                  "'validation_set' (SSC's own validation file)", EVALUATIONS),
     "SPEAKER_LEFT": checked(0, "speaker left out for validation with EVALUATION='speaker'; "
                                "cross_validate leaves out each speaker of this list in turn "
                                "(an int: every speaker)", _speakers),
     "REDUCED_CLASSES": checked(None, "train and test on these class indices only (None: all)",
                                _classes),
     "BALANCE_TRAIN_CLASSES": flag(False, "each epoch, train on an equal number of samples "
                                          "of every class (random subsample of each class "
                                          "to the smallest class size)"),
     "BALANCE_EVAL_CLASSES": flag(False, "validate on an equal number of samples of every "
                                         "class (subsampled once)"),
     "AUGMENTATION": checked({}, "augmentations applied to the training data each epoch "
                                 "(random_shift, random_dilate, ID_jitter, blend, "
                                 "NORMALISE_SPIKE_NUMBER); never to validation or test data, except "
                                 "that NORMALISE_SPIKE_NUMBER thins them to the same "
                                 "target once per run",
                             _augmentation),
     "RESCALE_T": num(1.0, "factor on spike times before binning to DT_MS (1: none)",
                      low=1e-6),
     "RESCALE_X": num(1.0, "factor on channel ids (floor); the input has 700 * RESCALE_X "
                           "channels", low=1e-6, high=1.0),
     "REWIRE_SILENT": flag(False, "after each epoch, give hidden neurons that were silent "
                                  "all epoch new input weights (REWIRE_LIFT = 0: redrawn from "
                                  "the initial distribution; else raised by REWIRE_LIFT)"),
     "REWIRE_LIFT": num(0.0, "see REWIRE_SILENT"),
     "DOWNLOAD_SHD": fixed(False, "runs never download; fetch the files once with "
                                  "'genn-eventprop data shd' (or ssc)"),
     "DATA_BUFFER_NAME": fixed(None, "preprocessed data are cached next to the data files"),
     "CUDA_VISIBLE_DEVICES": fixed(False, "runs use the CPU engine; there is no GPU backend "
                                          "yet"),
     "DEBUG_HIDDEN_N": fixed(False, "hidden spike counts are not reported per trial; record "
                                    "them with REC_SPIKES"),
     "CHECKPOINT_BEST": flag(True, "with CHECKPOINT: also keep the checkpoint of the epoch "
                                   "with the best validation accuracy (LOAD_BEST, TEST_BEST "
                                   "after a resume)"),
     "TRAIN_TAUM": fixed(False, "the original trained tau_m alone; TRAIN_TAU trains tau_m "
                                "and tau_syn with exact gradients"),
     "TAUM_OUTPUT_EPOCH_TRIAL": fixed([], "trained time constants are saved in the "
                                          "checkpoints (tau/...)"),
     "N_FOLD": num(5, "cross_validate with EVALUATION='random': number of folds", low=2,
                   integer=True)},
    NAME="shd", DT_MS=1.0, TRIAL_MS=1400.0, N_EPOCH=100, NUM_HIDDEN=256,
    LOSS_TYPE="sum_weigh_exp", TAU_MEM_OUTPUT=20.0, PDROP_INPUT=0.1,
    MIN_EPOCH_ETA_FIXED=300, MIN_TAU_M=1.0,
    # The original's default is "none"; its SHD runs regularised (LBD 2e-9, NU_UPPER 14).
    # Without it the recurrent layer's activity runs away within ~10 epochs
    # (measured, bench/RESULTS.md) and accuracy degrades.
    REG_TYPE="simple")


SSC = with_defaults(SHD, NAME="ssc", DATA_SET="SSC", EVALUATION="validation_set",
                    N_TRAIN=None, N_VALIDATE=9981)
