"""MNIST, latency-coded, trained with EventProp (the original's ``simulator_MNIST.py``).

Usage, as with the original research code::

    from genn_eventprop.simulators.mnist import p, MNISTModel
    p["DATA_DIR"] = "data"          # the four IDX files, plain or .gz
    res = MNISTModel(p).train_test(p)

Each image becomes one spike per pixel brighter than 1 (of 255), at
2 dt + (255 - v)/255 (TRIAL_MS - 4 dt): 784 input neurons, brighter pixels
earlier (``datasets.mnist.LatencyImages``). The training file is shuffled with
TRAIN_DATA_SEED; the first N_TRAIN images train, the last N_VALIDATE validate.
The test file is shuffled with TEST_DATA_SEED and its first N_TEST images test.
"""
from __future__ import annotations

from typing import Any, Dict, List

import numpy as np

from ..datasets.mnist import N_CLASSES, N_PIXELS, LatencyImages, find_mnist, load_mnist
from ..network import NetworkSpec
from ..params import defaults
from ..params.mapping import network_spec
from ..params.spec import ParamError
from .base import Simulator

#: The default parameters (a fresh copy; edit it and pass it in, as in the original).
p = defaults("mnist")


def digits(p: Dict[str, Any]) -> List[int]:
    """The digits trained on (REDUCED_CLASSES, else all ten), relabelled 0..k-1 in order."""
    wanted = p["REDUCED_CLASSES"] or list(range(N_CLASSES))
    if max(wanted) >= N_CLASSES:
        raise ParamError(f"REDUCED_CLASSES {wanted}: MNIST has the digits 0..9")
    return wanted


def _relabel(labels: np.ndarray, wanted: List[int]) -> np.ndarray:
    table = np.full(N_CLASSES, -1, np.int64)
    table[wanted] = np.arange(len(wanted))
    return table[labels]


class MNISTModel(Simulator):
    """MNIST classification with EventProp (see module docstring)."""

    benchmark = "mnist"

    @property
    def n_classes(self) -> int:
        return len(digits(self.p))

    def n_inputs(self, p: Dict[str, Any]) -> int:
        return N_PIXELS

    def encode(self, images: np.ndarray, split: str, p: Dict[str, Any]):
        """The images of ``split`` as input spike trains (a sequence of samples)."""
        return LatencyImages(images, p["TRIAL_MS"], p["DT_MS"])

    def network_spec(self, p: Dict[str, Any]) -> NetworkSpec:
        find_mnist(p["DATA_DIR"])               # missing files: an error before any work
        return network_spec(p, self.n_inputs(p), len(digits(p)),
                            f"{self.benchmark}_h{p['NUM_HIDDEN']}")

    def load_split(self, split: str, p: Dict[str, Any]):
        data = load_mnist(p["DATA_DIR"])
        wanted = digits(p)
        if split == "test":
            images, labels, seed = data.test_images, data.test_labels, p["TEST_DATA_SEED"]
        else:
            images, labels, seed = data.train_images, data.train_labels, p["TRAIN_DATA_SEED"]
        order = np.random.default_rng(seed).permutation(len(labels))
        order = order[np.isin(labels[order], wanted)]
        if split == "test":
            chosen = order[:p["N_TEST"]]
        else:
            n_train, n_val = p["N_TRAIN"], p["N_VALIDATE"]
            if n_train + n_val > len(order):
                raise ParamError(f"N_TRAIN ({n_train}) + N_VALIDATE ({n_val}) exceed the "
                                 f"{len(order)} training images of the digits {wanted}")
            chosen = order[:n_train] if split == "train" else order[len(order) - n_val:]
        return self.encode(images[chosen], split, p), _relabel(labels[chosen], wanted)


#: Name of the original research code's class.
mnist_model = MNISTModel

__all__ = ["p", "MNISTModel", "mnist_model", "digits"]
