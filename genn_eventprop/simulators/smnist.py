"""Sequential MNIST with EventProp (the original's ``simulator_SMNIST.py``).

Usage, as with the original research code::

    from genn_eventprop.simulators.smnist import p, SMNISTModel
    p["DATA_DIR"] = "data"          # the four MNIST IDX files, plain or .gz
    res = SMNISTModel(p).train_test(p)

Each image is read pixel by pixel (2 ms per pixel with the duplicated spikes)
through 99 threshold-crossing input neurons (``datasets.smnist``, tonic's SMNIST
encoding); spikes at or after TRIAL_MS (1500 ms: the last ~17 pixels) are
dropped and counted in the run's ``data_report``. Files, splits, seeds and
REDUCED_CLASSES are those of the MNIST simulator; REWIRE_SILENT as in SHD.
"""
from __future__ import annotations

from typing import Any, Dict

import numpy as np

from ..datasets.smnist import ThresholdCrossingImages
from ..params import defaults
from .mnist import MNISTModel
from .rewire import rewire_silent

#: The default parameters (a fresh copy; edit it and pass it in, as in the original).
p = defaults("smnist")


class SMNISTModel(MNISTModel):
    """Sequential MNIST classification with EventProp (see module docstring)."""

    benchmark = "smnist"

    def n_inputs(self, p: Dict[str, Any]) -> int:
        return p["N_INPUT_NEURONS"]

    def encode(self, images: np.ndarray, split: str, p: Dict[str, Any]):
        samples = ThresholdCrossingImages(images, p["TRIAL_MS"], p["N_INPUT_NEURONS"],
                                          p["DUPLICATE_SPIKES"], p["PIXEL_MS"])
        self._dropped[f"spikes of the {split} images at or after TRIAL_MS"] = \
            samples.dropped_spikes()
        return samples

    def after_epoch(self, p, net, spike_totals, epoch):
        rewire_silent(p, net, spike_totals, epoch)


#: Name of the original research code's class.
SMNIST_model = SMNISTModel

__all__ = ["p", "SMNISTModel", "SMNIST_model"]
