"""Spiking Heidelberg Digits (SHD) and Spiking Speech Commands (SSC).

Usage, as with the original research code::

    from genn_eventprop.simulators.shd import p, SHD_model
    p["NUM_HIDDEN"] = 512
    res = SHD_model(p).train_test(p)

The data are the official HDF5 files (``genn_eventprop.datasets.shd``), looked
up in ``DATA_DIR`` or ``$GENN_EVENTPROP_DATA``. Spikes are binned to the
``DT_MS`` grid as the original did (``datasets.spikes.to_grid``); classes,
class names and speakers come from the files. Validation data
(``EVALUATION``): ``random`` draws ``N_VALIDATE`` samples of the training file
(the rest, up to ``N_TRAIN``, train), ``speaker`` validates on every sample of
``SPEAKER_LEFT``, ``validation_set`` on SSC's validation file. Augmentations
and class balancing act on the training data of each epoch, seeded by
``TRAIN_DATA_SEED``, never on validation or test data. The exception is
``NORMALISE_SPIKE_NUMBER``, which changes the input statistics the network is
trained for: its target (the smallest spike count of the training file) also
applies to validation and test samples, thinned once per run with a fixed seed
(the original thinned them too, anew every epoch).
"""
from __future__ import annotations

import dataclasses
import zlib
from functools import lru_cache
from typing import Any, Dict, List, Optional, Tuple

import numpy as np

from ..datasets.augment import apply_augmentations, thin_grid
from ..datasets.shd import cache_root, find_data_file, read_spike_file
from ..datasets.spikes import (GridSpikes, cached_grid, grid_cache_key, prune_stale_grids,
                               to_grid)
from ..network import NetworkSpec
from ..params import ParamError, defaults
from ..params.mapping import network_spec
from .base import Simulator
from .rewire import rewire_silent

#: The original cropped the recordings at 1 s (tonic's CropTime) before binning.
CROP_MS = 1000.0


class SHDModel(Simulator):
    """SHD/SSC classification with EventProp (see module docstring)."""

    benchmark = "shd"

    def __init__(self, p: Optional[Dict[str, Any]] = None):
        self._files: Dict[Tuple, GridSpikes] = {}
        self._splits: Dict[str, Tuple[GridSpikes, Optional[GridSpikes]]] = {}
        self._class_info: Dict[str, Any] = {}
        super().__init__(p)

    # ------------------------------------------------------------------ data
    #: The keys that shape a data file's grid (besides which file).
    FILE_KEYS = ("DATA_SET", "DATA_DIR", "DT_MS", "TRIAL_MS", "RESCALE_T", "RESCALE_X",
                 "REDUCED_CLASSES")

    def data_name(self, p) -> str:
        """The data set's name in messages."""
        return p["DATA_SET"]

    def read_grid(self, p, which: str) -> Tuple[GridSpikes, List[str], int]:
        """(grid, class names, spikes dropped) of one data file, before REDUCED_CLASSES."""
        return _grid(p["DATA_SET"].lower(), which, p["DATA_DIR"], p["DT_MS"], p["TRIAL_MS"],
                     p["RESCALE_T"], p["RESCALE_X"])

    def dropped_label(self, which: str) -> str:
        return f"spikes of the {which} file after 1000 ms or the trial end"

    def _file(self, p, which: str) -> GridSpikes:
        """One data file on the grid, reduced to REDUCED_CLASSES (relabelled 0..k-1 in
        increasing class order)."""
        key = (which,) + tuple(repr(p[k]) for k in self.FILE_KEYS)
        if key not in self._files:
            grid, names, dropped = self.read_grid(p, which)
            if p["REDUCED_CLASSES"]:
                wanted = p["REDUCED_CLASSES"]
                if max(wanted) >= len(names):
                    raise ParamError(f"REDUCED_CLASSES {wanted}: the {self.data_name(p)} file "
                                     f"has classes 0..{len(names) - 1}")
                grid = grid.subset(np.flatnonzero(np.isin(grid.labels, wanted)))
                grid = dataclasses.replace(grid, labels=np.searchsorted(wanted, grid.labels))
                names = [names[c] for c in wanted]
            if self._class_info and self._class_info["names"] != names:
                raise ParamError(f"the {self.data_name(p)} {which} file names its classes "
                                 f"{names}, the training file {self._class_info['names']}: "
                                 "the files do not belong together")
            self._class_info = {"names": names, "n_channels": grid.n_channels}
            self._dropped[self.dropped_label(which)] = dropped
            self._files[key] = grid
        return self._files[key]

    #: The keys that decide the training and validation sets, besides FILE_KEYS.
    SPLIT_KEYS = ("TRAIN_DATA_SEED", "EVALUATION", "N_TRAIN", "N_VALIDATE", "SPEAKER_LEFT",
                  "BALANCE_EVAL_CLASSES")

    def _train_and_validation(self, p) -> Tuple[GridSpikes, Optional[GridSpikes]]:
        """The training and validation sets, made once per setting: the subsets copy
        the spikes (gigabytes for SSC) and are asked for by validation, the training
        split and the validation split."""
        key = repr([p[k] for k in self.FILE_KEYS + self.SPLIT_KEYS])
        if key not in self._splits:
            self._splits[key] = self._split(p)
        return self._splits[key]

    def _split(self, p) -> Tuple[GridSpikes, Optional[GridSpikes]]:
        data = self._file(p, "train")
        rng = np.random.default_rng([p["TRAIN_DATA_SEED"], 1])
        evaluation = p["EVALUATION"]
        if evaluation == "random":
            n_train = len(data) - p["N_VALIDATE"] if p["N_TRAIN"] is None else p["N_TRAIN"]
            n = n_train + p["N_VALIDATE"]
            if n > len(data) or n_train < 1:
                raise ParamError(f"N_TRAIN + N_VALIDATE = {n} but the {self.data_name(p)} "
                                 f"training file holds {len(data)} samples")
            order = rng.permutation(len(data))
            train = data.subset(order[:n_train])
            val = data.subset(order[n_train:n]) if p["N_VALIDATE"] else None
        elif evaluation == "speaker":
            left = _speaker_list(p)[0] if isinstance(p["SPEAKER_LEFT"], list) else p["SPEAKER_LEFT"]
            train, val = self._speaker_split(p, data, left, rng)
        else:
            train = self._sized(p, data, "N_TRAIN", rng, "training")
            val = self._sized(p, self._file(p, "valid"), "N_VALIDATE", rng, "validation")
        if val is not None and p["BALANCE_EVAL_CLASSES"]:
            val = val.subset(_balanced(val.labels, rng))
        return train, val

    def _sized(self, p, data: GridSpikes, key: str, rng, what: str) -> GridSpikes:
        n = len(data) if p[key] is None else p[key]
        if n > len(data):
            raise ParamError(f"{key} = {n} but the {self.data_name(p)} {what} file "
                             f"holds {len(data)} samples")
        return data.subset(np.sort(rng.permutation(len(data))[:n]))

    def training_size(self, p) -> int:
        return len(self._train_and_validation(p)[0])

    def _speaker_split(self, p, data: GridSpikes, left: int, rng):
        speakers = np.unique(data.speakers)
        if left not in speakers:
            raise ParamError(f"SPEAKER_LEFT {left} is not a speaker of the {self.data_name(p)} "
                             f"training file; speakers: {speakers.tolist()}")
        rest = np.flatnonzero(data.speakers != left)
        n_train = len(rest) if p["N_TRAIN"] is None else p["N_TRAIN"]
        if n_train > len(rest):
            raise ParamError(f"N_TRAIN = {n_train} but only {len(rest)} training samples "
                             f"are not of speaker {left} (N_TRAIN = None takes them all)")
        train = data.subset(rng.permutation(rest)[:n_train])
        return train, data.subset(np.flatnonzero(data.speakers == left))

    def load_split(self, split: str, p: Dict[str, Any]):
        if split == "test":
            data = self._file(p, "test")
        else:
            train, val = self._train_and_validation(p)
            data = train if split == "train" else val
        return data, data.labels

    @property
    def n_classes(self) -> int:
        """Classes of the data (from the file's class names, after REDUCED_CLASSES)."""
        return len(self.class_names(self.p))

    def class_names(self, p) -> List[str]:
        self._file(p, "train")
        return self._class_info["names"]

    def cross_validation_data(self, p):
        data = self._file(p, "train")
        return data, data.labels

    # --------------------------------------------------------------- epochs
    def epoch_data(self, p, samples: GridSpikes, labels, epoch, rng):
        """Class balancing, then the augmentations, on this epoch's training data."""
        data_rng = np.random.default_rng([p["TRAIN_DATA_SEED"], 2, epoch])
        if p["BALANCE_TRAIN_CLASSES"]:
            samples = samples.subset(_balanced(samples.labels, data_rng))
        if not p["AUGMENTATION"]:
            return samples, samples.labels, {}
        augmented, new_labels, report = apply_augmentations(
            [samples[i] for i in range(len(samples))], samples.labels, p["AUGMENTATION"],
            data_rng, samples.n_channels, p["TRIAL_MS"],
            n_train=len(samples) if p["N_TRAIN"] is None else p["N_TRAIN"],
            normalise_target=self._normalise_target(p))
        counts = {f"spikes dropped by {name}": int(n) for name, n in report["dropped"].items()}
        if "blend" in p["AUGMENTATION"]:
            counts["samples added by blend"] = int(report.get("n_blended", 0))
        return augmented, np.asarray(new_labels, dtype=np.int64), counts

    def _normalise_target(self, p) -> Optional[int]:
        """NORMALISE_SPIKE_NUMBER's target: the smallest non-zero spike count of the
        training file (after binning and REDUCED_CLASSES), one value per run."""
        if not p["AUGMENTATION"].get("NORMALISE_SPIKE_NUMBER"):
            return None
        counts = self._file(p, "train").spike_counts()
        return int(counts[counts > 0].min()) if (counts > 0).any() else 0

    def evaluation_data(self, p, samples, split):
        """With NORMALISE_SPIKE_NUMBER the network trains on inputs thinned to the
        target count, so evaluation samples are thinned to the same expected count,
        once per run and seeded, so that every epoch is validated on the same
        spikes (the original thinned them anew every epoch); without it they are
        used as they are."""
        target = self._normalise_target(p)
        if target is None:
            return samples
        seed = p["TEST_DATA_SEED"] if split == "test" else p["TRAIN_DATA_SEED"]
        rng = np.random.default_rng([seed, 5, zlib.crc32(split.encode("utf-8"))])
        thinned, dropped = thin_grid(samples, target, rng)
        self._dropped[f"spikes of the {split} samples thinned by NORMALISE_SPIKE_NUMBER "
                      f"(to {target})"] = dropped
        return thinned

    def after_epoch(self, p, net, spike_totals, epoch):
        rewire_silent(p, net, spike_totals, epoch)

    # ---------------------------------------------------------- validation
    def folds(self, p, samples, labels):
        """Leave-one-speaker-out over SPEAKER_LEFT (a list; one id: every speaker) with
        EVALUATION='speaker', else N_FOLD folds; over the whole training file."""
        if p["EVALUATION"] != "speaker":
            return super().folds(p, samples, labels)
        out = []
        for speaker in _speaker_list(p, samples):
            train = np.flatnonzero(samples.speakers != speaker)
            held = np.flatnonzero(samples.speakers == speaker)
            out.append((f"speaker{speaker}", train, held))
        return out

    def cross_validate_SHD(self, p=None):
        """The original's name of ``cross_validate``."""
        return self.cross_validate(p)

    def fold_training_size(self, p) -> int:
        if p["EVALUATION"] != "speaker":
            return super().fold_training_size(p)
        data = self._file(p, "train")
        return len(data) - max(int((data.speakers == s).sum()) for s in _speaker_list(p, data))

    def network_spec(self, p: Dict[str, Any]) -> NetworkSpec:
        """Input channels and classes come from the data file."""
        names = self.class_names(p)
        return network_spec(p, self._class_info["n_channels"], len(names),
                            f"{self.benchmark}_h{p['NUM_HIDDEN']}")


def _grid(dataset: str, which: str, data_dir, dt, trial_ms, rescale_t, rescale_x):
    """(grid, class names, spikes dropped) of one data file, shared by all simulators of
    this process while the file is unchanged (tests and scans build many)."""
    path = find_data_file(dataset, which, data_dir)
    stat = path.stat()
    return _grid_of_file(str(path), stat.st_size, stat.st_mtime_ns, dt, trial_ms, rescale_t,
                         rescale_x)


@lru_cache(maxsize=4)
def _grid_of_file(path: str, size: int, mtime_ns: int, dt, trial_ms, rescale_t, rescale_x):
    """Binned once per file and setting: kept on disk next to the file's own cache
    (keyed by the file's identity and every setting that shapes the grid) and here."""
    settings = {"dt": dt, "trial_ms": trial_ms, "rescale_t": rescale_t,
                "rescale_x": rescale_x, "crop_ms": CROP_MS}
    entry = cache_root(path) / grid_cache_key(f"{path}|{size}|{mtime_ns}", settings)
    identity = f"{size}|{mtime_ns}"

    def build():
        raw = read_spike_file(path)
        grid, dropped = to_grid(raw.times, raw.units, raw.offsets, raw.labels, raw.speakers, dt,
                                trial_ms, raw.n_channels, rescale_t, rescale_x, CROP_MS,
                                time_scale=1000.0)
        return grid, {"names": list(raw.keys), "dropped": dropped, "source": path,
                      "identity": identity}

    grid, meta = cached_grid(entry, build,
                             lambda: prune_stale_grids(entry.parent, path, identity))
    return grid, meta["names"], meta["dropped"]


def _speaker_list(p, data: Optional[GridSpikes] = None) -> List[int]:
    left = p["SPEAKER_LEFT"]
    if isinstance(left, list):
        return left
    if data is None:
        return [left]
    return np.unique(data.speakers[data.speakers >= 0]).tolist()


def _balanced(labels: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Indices of an equal number of samples of every class present (the smallest class
    size), drawn without replacement, in random order."""
    classes, counts = np.unique(labels, return_counts=True)
    n = counts.min()
    picked = np.concatenate([rng.choice(np.flatnonzero(labels == c), n, replace=False)
                             for c in classes])
    return rng.permutation(picked)


class SSCModel(SHDModel):
    """The same simulator with the SSC defaults (its own validation file)."""

    benchmark = "ssc"


#: The default parameters (a fresh copy; edit it and pass it in, as in the original).
p = defaults("shd")

#: Name of the original research code's class.
SHD_model = SHDModel

__all__ = ["p", "SHDModel", "SHD_model", "SSCModel"]
