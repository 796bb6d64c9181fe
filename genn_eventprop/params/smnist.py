"""Sequential MNIST defaults: every key of the original ``simulator_SMNIST.py``, on top
of the common keys and the MNIST data keys. Differences from the original are said
in the key docs."""
from __future__ import annotations

from typing import Any

from .common import with_defaults
from .mnist import MNIST
from .shd import SHD
from .spec import ParamError, checked, fixed, flag, num

#: Keys of the original MNIST simulator that its SMNIST simulator does not have.
_MNIST_ONLY = ("DATASET", "DEBUG", "ETA_FIDDELING", "ETA_REDUCE", "ETA_REDUCE_PERIOD")


def _odd_neurons(key: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 3 or value % 2 == 0:
        raise ParamError(f"'{key}' must be an odd integer >= 3 (two neurons per threshold "
                         f"and one for 255), got {value!r}")
    return int(value)


SMNIST = with_defaults(
    {**{k: v for k, v in MNIST.items() if k not in _MNIST_ONLY},
     "REWIRE_SILENT": SHD["REWIRE_SILENT"],
     "REWIRE_LIFT": SHD["REWIRE_LIFT"],
     "AUGMENTATION": fixed({}, "the original's spike-train augmentations are implemented for "
                               "SHD/SSC only (genn-eventprop shd)"),
     "SPEAKER_LEFT": fixed(0, "MNIST has no speakers; validation uses N_VALIDATE images"),
     "N_INPUT_NEURONS": checked(99, "threshold-crossing input neurons (odd; tonic's num_neurons): "
                                "(n-1)/2 grey-value thresholds with an onset and an offset "
                                "neuron each, and one neuron for pixels of 255",
                                _odd_neurons),
     "DUPLICATE_SPIKES": flag(True, "send every input spike twice, PIXEL_MS apart "
                                    "(tonic's duplicate; each pixel then takes 2 PIXEL_MS)"),
     "PIXEL_MS": num(1.0, "time per pixel of the sequence (ms; tonic's dt of 1000 us)",
                     low=1e-3)},
    NAME="smnist", DT_MS=1.0, TRIAL_MS=1500.0, N_MAX_SPIKE=1500, N_EPOCH=100, NUM_HIDDEN=256,
    INPUT_HIDDEN_MEAN=0.02, INPUT_HIDDEN_STD=0.01, HIDDEN_OUTPUT_MEAN=0.0,
    HIDDEN_OUTPUT_STD=0.3, HIDDEN_HIDDEN_MEAN=0.0, HIDDEN_HIDDEN_STD=0.02, PDROP_INPUT=0.1,
    ETA=1e-3, ETA_DECAY=1.0, LOSS_TYPE="sum_weigh_exp", REWIRE_SILENT=True)
