"""The training loop shared by every benchmark.

A benchmark class supplies only ``load_split`` (data -> input spike trains and
labels) and ``network_spec`` (network and loss from ``p``). ``Simulator``
does the rest: validation of ``p``, epochs and mini-batches, shuffling,
learning-rate schedule, validation, checkpoints (weights + optimiser state +
epoch, written atomically; ``LOAD_LAST``/``LOAD_BEST`` resume exactly),
recordings, confusion matrices, predictions, progress bars, timing and the
output files under ``OUT_DIR``:

- ``NAME.json``: the resolved ``p``;
- ``NAME_results.txt``: one line per epoch;
- ``NAME_summary.json``: the ``RunResult`` as JSON;
- ``NAME_checkpoint_last.npz``/``NAME_checkpoint_best.npz``;
- ``NAME_recordings.npz`` (spikes, neuron and synapse variables, weights);
- ``NAME_predictions_<phase>.npz`` (with ``REC_PREDICTIONS``);
- ``NAME_training.png`` (with ``TRAINING_PLOT``), ``NAME_test_predictions.png``
  (with ``FANCY_PLOTS``, benchmarks that have a 2-d input plane).

No run overwrites another run's results: a new run refuses to start when
OUT_DIR already holds files of a run with its NAME (unless ``OVERWRITE``,
which deletes them first); resuming (``LOAD_LAST``/``LOAD_BEST``) continues
the same run. A test-only run (``test``) writes under ``NAME_test`` and reads
the checkpoints of ``NAME``; cross-validation folds write under ``NAME_foldK``.
"""
from __future__ import annotations

import json
import os
import sys
import tempfile
import time
import warnings
from dataclasses import asdict, dataclass, field
from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np

from ..errors import CheckpointError, NothingToTestError, OutputExistsError
from ..network import EventPropNetwork, NetworkSpec, validate_spec
from ..params import ParamError, validate
from .recording import Recorder, check_recording
from .schedule import LearningRate

Samples = Sequence[Tuple[np.ndarray, np.ndarray]]


@dataclass
class EpochStats:
    """One training epoch: losses and accuracies (fractions), learning rate, seconds;
    ``hidden_spikes``: mean spikes per training sample of all hidden neurons;
    ``tape_overflow``: spikes of any population that did not fit the spike tape
    (they had no backward pass)."""
    epoch: int
    train_loss: float
    train_accuracy: float
    validation_loss: Optional[float]
    validation_accuracy: Optional[float]
    learning_rate: float
    seconds: float
    hidden_spikes: float = 0.0
    tape_overflow: int = 0


@dataclass
class RunResult:
    """What ``train``/``test``/``train_test``/``cross_validate`` return.

    ``epochs``: per-epoch statistics; ``test_loss``/``test_accuracy``: of the
    final test (if run); ``confusion``: {phase: matrix [true, predicted]} of the
    last evaluation of each phase (with COLLECT_CONFUSION); ``folds``: results of
    each fold (cross_validate); ``timing``: seconds per phase; ``tape_overflow``:
    spikes without backward pass (raise N_MAX_SPIKE if non-zero); ``files``:
    the files written; ``fold_summary``: cross_validate's fold accuracies, mean, sd;
    ``data_report``: counts of what data preparation did (spikes dropped, samples
    added by augmentation), summed over epochs.
    """
    name: str
    epochs: List[EpochStats] = field(default_factory=list)
    test_loss: Optional[float] = None
    test_accuracy: Optional[float] = None
    best_epoch: Optional[int] = None
    best_validation_accuracy: Optional[float] = None
    confusion: Dict[str, List[List[int]]] = field(default_factory=dict)
    folds: List["RunResult"] = field(default_factory=list)
    timing: Dict[str, float] = field(default_factory=dict)
    tape_overflow: int = 0
    files: List[str] = field(default_factory=list)
    fold_summary: Dict[str, Any] = field(default_factory=dict)
    data_report: Dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> Dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: Dict[str, Any]) -> "RunResult":
        """The inverse of ``to_dict`` (e.g. a ``NAME_summary.json`` read back)."""
        d = dict(d)
        d["epochs"] = [EpochStats(**e) for e in d.get("epochs", [])]
        d["folds"] = [cls.from_dict(f) for f in d.get("folds", [])]
        return cls(**d)


def atomic_write(path: str, write) -> None:
    """Write via a temporary file in the same directory and rename (no torn files)."""
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".tmp_", suffix=os.path.basename(path))
    os.close(fd)
    try:
        write(tmp)
        # mkstemp makes the file private (0600); results get the user's usual mode.
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def _take(samples: Samples, idx) -> Samples:
    """A subset of samples: compact sets (``subset``) stay compact."""
    if hasattr(samples, "subset"):
        return samples.subset(idx)
    return [samples[i] for i in idx]


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


class Simulator:
    """Base class of the benchmark simulators (see module docstring)."""

    benchmark = ""
    n_classes = 0

    def __init__(self, p: Optional[Dict[str, Any]] = None):
        # What preparing the data left out, by description (see preparation_report);
        # set first: validation may already load data.
        self._dropped: Dict[str, int] = {}
        self.p = self._validated(p or {})
        self.net: Optional[EventPropNetwork] = None
        self._net_key = None
        self._best_state = None
        self._trained_net: Optional[EventPropNetwork] = None
        self._fold_label = ""

    # ----------------------------------------------------------- benchmark hooks
    def load_split(self, split: str, p: Dict[str, Any]) -> Tuple[Samples, np.ndarray]:
        """(samples, labels) of ``split`` in {"train", "validate", "test"}."""
        raise NotImplementedError(f"{type(self).__name__} must implement load_split")

    def network_spec(self, p: Dict[str, Any]) -> NetworkSpec:
        raise NotImplementedError(f"{type(self).__name__} must implement network_spec")

    def input_plane(self, split: str, p: Dict[str, Any]) -> Optional[np.ndarray]:
        """2-d coordinates of the samples for prediction plots (None: no plot)."""
        return None

    def epoch_data(self, p, samples: Samples, labels: np.ndarray, epoch: int,
                   rng: np.random.Generator) -> Tuple[Samples, np.ndarray, Dict[str, int]]:
        """The training data of one epoch (augmentation, class balancing) and a report of
        counts (spikes dropped, samples added), summed into ``RunResult.data_report``;
        default the data as they are."""
        return samples, labels, {}

    def after_epoch(self, p, net: EventPropNetwork, spike_totals: Dict[str, np.ndarray],
                    epoch: int) -> None:
        """Called after training epoch ``epoch`` with each hidden population's spikes per
        neuron summed over the epoch (e.g. to rewire silent neurons); default nothing."""

    def evaluation_data(self, p, samples: Samples, split: str) -> Samples:
        """The samples of an evaluation split ("validate", "test" or a fold's name)
        as the network sees them; default unchanged. Called once per run and split."""
        return samples

    def folds(self, p, samples: Samples, labels: np.ndarray) -> List[Tuple[str, np.ndarray,
                                                                          np.ndarray]]:
        """Cross-validation folds: (name, training indices, validation indices).
        Default: N_FOLD contiguous folds of the training data."""
        held = np.array_split(np.arange(len(labels)), p["N_FOLD"])
        everything = np.arange(len(labels))
        return [(f"fold{k}", np.setdiff1d(everything, h), h) for k, h in enumerate(held)]

    def cross_validation_data(self, p) -> Tuple[Samples, np.ndarray]:
        """The data the folds are cut from; default the training split."""
        return self._data(p, "train")

    def fold_training_size(self, p) -> int:
        """Training samples per epoch of the smallest fold (to check recording times)."""
        n = self.training_size(p)
        return n - -(-n // p["N_FOLD"])

    # -------------------------------------------------------------- public API
    def train(self, p: Optional[Dict[str, Any]] = None) -> RunResult:
        """Train for N_EPOCH epochs (validating each epoch if N_VALIDATE > 0)."""
        p = self._resolve(p)
        self._claim(p, [p["NAME"]])
        result = RunResult(p["NAME"])
        self._train(p, result, *self._data(p, "train"), self._data(p, "validate"))
        return self._finish(p, result)

    def test(self, p: Optional[Dict[str, Any]] = None) -> RunResult:
        """Evaluate the network trained by this simulator, or the checkpoint of run NAME
        chosen by LOAD_LAST/LOAD_BEST; writes its outputs under ``NAME_test``."""
        p = self._resolve(p)
        loading = p["LOAD_LAST"] or p["LOAD_BEST"]
        if not loading and (self.net is None or self.net is not self._trained_net
                            or repr(self.network_spec(p)) != self._net_key):
            found = Outputs(p).checkpoints()
            hint = (f"; OUT_DIR holds {', '.join(found)}: set LOAD_BEST=true or "
                    f"LOAD_LAST=true to test it" if found else
                    "; train first (train or train_test), or set LOAD_BEST/LOAD_LAST to test "
                    "a saved run")
            raise NothingToTestError(f"test: there is no trained network to test (run "
                                     f"'{p['NAME']}' in '{p['OUT_DIR']}'){hint}")
        if loading:
            self._checkpoint_file(p)
        test_p = dict(p, NAME=f"{p['NAME']}_test")
        self._claim(test_p, [test_p["NAME"]], resuming=False)
        result = RunResult(test_p["NAME"])
        net = self._network(p, result)
        if loading:
            self._load_checkpoint(p, net)
        Outputs(test_p).write_params(test_p, results_file=False)
        self._test(test_p, net, result)
        return self._finish(test_p, result)

    def train_test(self, p: Optional[Dict[str, Any]] = None) -> RunResult:
        """``train`` followed by ``test`` on the test split, with the network of the
        best validation epoch when TEST_BEST (and a validation split) is set."""
        p = self._resolve(p)
        self._claim(p, [p["NAME"]])
        result = RunResult(p["NAME"])
        self._train(p, result, *self._data(p, "train"), self._data(p, "validate"))
        if p["TEST_BEST"] and result.best_epoch is not None and self._best_state is not None:
            self.net.load_state_dict(self._best_state)
        self._test(p, self.net, result)
        return self._finish(p, result)

    def cross_validate(self, p: Optional[Dict[str, Any]] = None) -> RunResult:
        """Cross-validation over the training data (``folds``): each fold trains a fresh
        network on the rest and validates on its own part; the summary holds every
        fold's result and the mean and spread of their final validation accuracies."""
        p = self._resolve(p)
        plan = self._fold_plan(p)
        self._claim(p, [p["NAME"]] + [name for name, _, _ in plan[2]])
        folds = [self._run_fold(p, k, plan) for k in range(len(plan[2]))]
        return self.combine_folds(p, folds)

    def fold_names(self, p: Optional[Dict[str, Any]] = None) -> List[str]:
        """The names (``NAME_<fold>``) of ``cross_validate``'s folds, checked to be
        runnable (no checkpoint loading, recording inside the smallest fold)."""
        p = self._resolve(p)
        return [name for name, _, _ in self._fold_plan(p)[2]]

    def cross_validate_fold(self, p: Optional[Dict[str, Any]], k: int) -> RunResult:
        """Fold ``k`` of ``cross_validate`` alone, with the same data, seeds and files
        (``NAME_<fold>``), so that folds can run as separate tasks (scans)."""
        p = self._resolve(p)
        plan = self._fold_plan(p)
        names = [name for name, _, _ in plan[2]]
        if not 0 <= k < len(names):
            raise ParamError(f"fold {k} does not exist: cross_validate has {len(names)} folds "
                             f"(0..{len(names) - 1})")
        self._claim(p, [names[k]])
        return self._run_fold(p, k, plan)

    def _fold_plan(self, p):
        """(samples, labels, [(NAME_<fold>, training indices, held-out indices)]) after
        checking that the folds can run."""
        if p["LOAD_LAST"] or p["LOAD_BEST"]:
            raise NothingToTestError("cross_validate trains every fold from scratch: unset "
                                     "LOAD_LAST/LOAD_BEST")
        check_recording(p, self.network_spec(p), self.fold_training_size(p),
                        "training samples in the smallest fold's training part;")
        samples, labels = self.cross_validation_data(p)
        folds = [(f"{p['NAME']}_{name}", train, held)
                 for name, train, held in self.folds(p, samples, labels)]
        return samples, labels, folds

    def _run_fold(self, p, k: int, plan) -> RunResult:
        samples, labels, folds = plan
        name, train_idx, held_out = folds[k]
        fold_p = dict(p, NAME=name)
        fold = RunResult(name)
        self.net = None
        self._fold_label = f"fold {k + 1}/{len(folds)} "
        try:
            held = self.evaluation_data(p, _take(samples, held_out), name)
            self._train(fold_p, fold, _take(samples, train_idx), labels[train_idx],
                        (held, labels[held_out]))
        finally:
            self._fold_label = ""
        return self._finish(fold_p, fold)

    def combine_folds(self, p: Dict[str, Any], folds: List[RunResult]) -> RunResult:
        """``cross_validate``'s result from its folds' results: every fold, the mean and
        spread of their final validation accuracies (written as run NAME)."""
        result = RunResult(p["NAME"])
        result.folds = list(folds)
        accs = [f.epochs[-1].validation_accuracy for f in folds if f.epochs]
        if accs:
            result.best_validation_accuracy = float(np.mean(accs))
            result.fold_summary = {"validation_accuracy": accs, "mean": float(np.mean(accs)),
                                   "sd": float(np.std(accs)),
                                   "folds": [f.name for f in folds]}
        return self._finish(p, result)

    # --------------------------------------------------------------- internals
    def _resolve(self, p):
        return self.p if p is None else self._validated(p)

    def _validated(self, p) -> Dict[str, Any]:
        """``p`` validated key by key, then the settings that depend on each other and on
        the network (recording names and [epoch, trial] pairs), before any work starts."""
        p = validate(p, self.benchmark)
        try:
            spec = validate_spec(self.network_spec(p))
        except ParamError:
            raise
        except ValueError as e:
            raise ParamError(f"the parameters describe a network that cannot be built: {e}") from e
        check_recording(p, spec, self.training_size(p))
        return p

    def training_size(self, p) -> int:
        """Training samples per epoch (before augmentation)."""
        return p["N_TRAIN"]

    def _claim(self, p, stems: List[str], resuming: Optional[bool] = None) -> None:
        """Refuse to start a run that would overwrite another run's files (see module doc)."""
        if resuming is None:
            resuming = p["LOAD_LAST"] or p["LOAD_BEST"]
        if resuming:
            self._checkpoint_file(p)
        if not p["WRITE_TO_DISK"] or resuming:
            return
        existing = [f for stem in stems for f in Outputs(p, stem).existing()]
        if not existing:
            return
        if p["OVERWRITE"]:
            for f in existing:
                os.remove(f)
            return
        shown = ", ".join(os.path.basename(f) for f in existing[:4])
        more = f" and {len(existing) - 4} more" if len(existing) > 4 else ""
        raise OutputExistsError(
            f"'{p['OUT_DIR']}' already holds results of a run named '{stems[0]}' ({shown}{more});"
            f" a run never overwrites another run's results: choose another NAME or OUT_DIR, "
            f"resume it with LOAD_LAST=true, or set OVERWRITE=true to replace them")

    def _data(self, p, split):
        if split == "validate" and p.get("N_VALIDATE", 0) == 0:
            return None
        samples, labels = self.load_split(split, p)
        if split != "train":
            samples = self.evaluation_data(p, samples, split)
        return samples, np.asarray(labels, dtype=np.int64)

    def _network(self, p, result) -> EventPropNetwork:
        spec = self.network_spec(p)
        key = repr(spec)
        if self.net is None or key != self._net_key:
            t0 = time.perf_counter()
            self.net = EventPropNetwork(spec)
            self._net_key = key
            result.timing["build"] = result.timing.get("build", 0.0) + time.perf_counter() - t0
        return self.net

    def _batches(self, n, p, rng=None):
        order = rng.permutation(n) if rng is not None else np.arange(n)
        return [order[i:i + p["N_BATCH"]] for i in range(0, n, p["N_BATCH"])]

    def _train(self, p, result, samples, labels, validation):
        net = self._network(p, result)
        out = Outputs(p)
        out.write_params(p)
        rng = np.random.default_rng([p["SEED"], 7])
        schedule = LearningRate(p["ETA"], p["ETA_DECAY"], p["LR_EASE_IN_FACTOR"], p["ETA_FAC"],
                                p["MIN_EPOCH_ETA_FIXED"], p["EMA_ALPHA1"], p["EMA_ALPHA2"])
        start, best = 0, (None, -1.0)
        self._best_state = None
        if p["LOAD_LAST"] or p["LOAD_BEST"]:
            start, best, schedule, rng = self._load_checkpoint(p, net, schedule, rng)
            best_file = out.checkpoint_path("best")
            if best[0] is not None and os.path.exists(best_file):
                with np.load(best_file) as data:
                    self._best_state = {k: data[k] for k in data.files}
        recorder = Recorder(p, net, out.path("_recordings.npz") if start > 0 else None)
        all_samples, all_labels = samples, labels
        for epoch in range(start, p["N_EPOCH"]):
            t0 = time.perf_counter()
            schedule.start_epoch()
            samples, labels, report = self.epoch_data(p, all_samples, all_labels, epoch, rng)
            for key, count in report.items():
                result.data_report[key] = result.data_report.get(key, 0) + count
            batches = self._batches(len(labels), p, rng if p["SHUFFLE"] else None)
            loss_sum = correct = 0.0
            lost = 0
            spike_totals: Dict[str, np.ndarray] = {}
            bar = _progress(p, len(batches), f"{self._fold_label}epoch {epoch}")
            for trial, idx in enumerate(batches):
                batch = [samples[i] for i in idx]
                hook = recorder.before(epoch, trial)
                res = net.train_step(batch, labels[idx], schedule.current, on_step=hook,
                                     warn_overflow=False)
                recorder.after(epoch, trial, len(idx))
                schedule.after_batch()
                loss_sum += res.loss * len(idx)
                correct += res.correct
                lost += sum(res.tape_overflow.values())
                for pop, counts in res.spike_counts.items():
                    if pop.startswith("h"):
                        spike_totals[pop] = spike_totals.get(pop, 0) + counts.sum(axis=0)
                _tick(bar, loss_sum / ((trial * p["N_BATCH"]) + len(idx)),
                      correct / ((trial * p["N_BATCH"]) + len(idx)))
            _close(bar)
            self.after_epoch(p, net, spike_totals, epoch)
            result.tape_overflow += lost
            _warn_overflow(lost, len(labels), p, f"{self._fold_label}epoch {epoch}")
            result.timing["train"] = result.timing.get("train", 0.0) + time.perf_counter() - t0
            val_loss = val_acc = None
            if validation is not None:
                t1 = time.perf_counter()
                val_loss, val_acc, _ = self._evaluate(p, net, *validation, "validation", result)
                result.timing["validate"] = (result.timing.get("validate", 0.0)
                                             + time.perf_counter() - t1)
            train_acc = correct / len(labels)
            hidden = sum(float(v.sum()) for v in spike_totals.values()) / len(labels)
            stats = EpochStats(epoch, loss_sum / len(labels), train_acc, val_loss, val_acc,
                               schedule.lr, time.perf_counter() - t0, hidden, lost)
            result.epochs.append(stats)
            schedule.end_epoch(epoch, val_acc if (val_acc is not None and
                                                  p["EMA_WHICH"] == "validation") else train_acc)
            if val_acc is not None and val_acc > best[1]:
                best = (epoch, val_acc)
                self._best_state = net.state_dict()
            out.epoch_line(stats)
            _report(stats, self._fold_label, bar is not None)
            if p["CHECKPOINT"] and p["WRITE_TO_DISK"]:
                state = self._checkpoint_state(net, epoch, best, schedule, rng)
                out.checkpoint("last", state)
                if best[0] == epoch and p.get("CHECKPOINT_BEST", True):
                    out.checkpoint("best", state)
        result.best_epoch, result.best_validation_accuracy = (
            best if best[0] is not None else (None, None))
        recorder.save(out)
        self._trained_net = net

    def _test(self, p, net, result):
        t0 = time.perf_counter()
        samples, labels = self._data(p, "test")
        result.test_loss, result.test_accuracy, preds = self._evaluate(
            p, net, samples, labels, "test", result)
        result.timing["test"] = result.timing.get("test", 0.0) + time.perf_counter() - t0
        plane = self.input_plane("test", p) if p.get("FANCY_PLOTS") else None
        if plane is not None and p["WRITE_TO_DISK"]:
            Outputs(p).prediction_plot(plane, preds, labels)

    def _evaluate(self, p, net, samples, labels, phase, result):
        loss_sum = correct = 0.0
        preds = np.zeros(len(labels), dtype=np.int64)
        for idx in self._batches(len(labels), p):
            res = net.forward([samples[i] for i in idx], labels[idx])
            loss_sum += res.loss * len(idx)
            correct += res.correct
            preds[idx] = res.predictions
        if p["COLLECT_CONFUSION"]:
            conf = np.zeros((self.n_classes, self.n_classes), dtype=np.int64)
            np.add.at(conf, (labels, preds), 1)
            result.confusion[phase] = conf.tolist()
        if p["REC_PREDICTIONS"] and p["WRITE_TO_DISK"]:
            Outputs(p).predictions(phase, preds, labels)
        return loss_sum / len(labels), correct / len(labels), preds

    # ------------------------------------------------------------- checkpoints
    def _checkpoint_state(self, net, epoch, best, schedule, rng) -> Dict[str, np.ndarray]:
        state = dict(net.state_dict())
        state["epoch"] = np.array(epoch)
        state["best_epoch"] = np.array(-1 if best[0] is None else best[0])
        state["best_accuracy"] = np.array(best[1])
        state["schedule"] = np.array(json.dumps(schedule.state()))
        state["shuffle_rng"] = np.array(json.dumps(rng.bit_generator.state))
        return state

    @staticmethod
    def _checkpoint_file(p) -> str:
        """The checkpoint LOAD_BEST/LOAD_LAST name; an error if it does not exist."""
        which = "best" if p["LOAD_BEST"] else "last"
        path = Outputs(p).checkpoint_path(which)
        if not os.path.exists(path):
            raise CheckpointError(
                f"{'LOAD_BEST' if which == 'best' else 'LOAD_LAST'} is set but there is no "
                f"checkpoint {path}; train first (CHECKPOINT=True) or unset it")
        return path

    def _load_checkpoint(self, p, net, schedule=None, rng=None):
        path = self._checkpoint_file(p)
        with np.load(path) as data:
            state = {k: data[k] for k in data.files}
        net.load_state_dict(state)
        if schedule is not None:
            schedule = LearningRate(**json.loads(str(state["schedule"])))
        if rng is not None:
            rng.bit_generator.state = json.loads(str(state["shuffle_rng"]))
        best_epoch = int(state["best_epoch"])
        best = (None if best_epoch < 0 else best_epoch, float(state["best_accuracy"]))
        return int(state["epoch"]) + 1, best, schedule, rng

    def preparation_report(self) -> Dict[str, int]:
        """Counts of what loading the data dropped (e.g. spikes past the trial end), as
        the benchmark recorded them in ``self._dropped``."""
        return dict(self._dropped)

    def _finish(self, p, result):
        result.data_report.update(self.preparation_report())
        if p["WRITE_TO_DISK"]:
            out = Outputs(p)
            if p["TRAINING_PLOT"] and result.epochs:
                out.training_plot(result)
            result.files = sorted(set(out.existing()) | {out.path("_summary.json")})
            out.summary(result)
        return result


#: The files a run may write, after its stem (NAME, NAME_test or NAME_foldK).
RUN_FILES = (".json", "_results.txt", "_summary.json", "_checkpoint_last.npz",
             "_checkpoint_best.npz", "_recordings.npz", "_predictions_validation.npz",
             "_predictions_test.npz", "_training.png", "_test_predictions.png")


class Outputs:
    """The files of one run under OUT_DIR, all named after its stem (default NAME)."""

    def __init__(self, p, stem: Optional[str] = None):
        self.p = p
        self.stem = p["NAME"] if stem is None else stem
        self.dir = p["OUT_DIR"]
        if p["WRITE_TO_DISK"]:
            os.makedirs(self.dir, exist_ok=True)

    def path(self, suffix: str) -> str:
        return os.path.join(self.dir, f"{self.stem}{suffix}")

    def existing(self) -> List[str]:
        """The files of this run that exist now."""
        return sorted(p for p in (self.path(s) for s in RUN_FILES) if os.path.exists(p))

    def checkpoints(self) -> List[str]:
        return [os.path.basename(self.checkpoint_path(w)) for w in ("best", "last")
                if os.path.exists(self.checkpoint_path(w))]

    def write_params(self, p, results_file: bool = True):
        if p["WRITE_TO_DISK"]:
            atomic_write(self.path(".json"), lambda tmp: _write_json(tmp, p))
            header = ("# epoch train_loss train_accuracy validation_loss validation_accuracy "
                      "learning_rate seconds hidden_spikes_per_sample tape_overflow\n")
            if results_file and (not (p["LOAD_LAST"] or p["LOAD_BEST"]) or not os.path.exists(
                    self.path("_results.txt"))):
                with open(self.path("_results.txt"), "w") as f:
                    f.write(header)

    def epoch_line(self, s: EpochStats):
        if not self.p["WRITE_TO_DISK"]:
            return
        fmt = (lambda v: "nan" if v is None else f"{v:.6g}")
        with open(self.path("_results.txt"), "a") as f:
            f.write(f"{s.epoch} {fmt(s.train_loss)} {fmt(s.train_accuracy)} "
                    f"{fmt(s.validation_loss)} {fmt(s.validation_accuracy)} "
                    f"{fmt(s.learning_rate)} {s.seconds:.3f} {s.hidden_spikes:.6g} "
                    f"{s.tape_overflow}\n")

    def checkpoint_path(self, which: str) -> str:
        return self.path(f"_checkpoint_{which}.npz")

    def checkpoint(self, which: str, state):
        atomic_write(self.checkpoint_path(which), lambda tmp: _save_npz(tmp, state))

    def summary(self, result: RunResult):
        atomic_write(self.path("_summary.json"), lambda tmp: _write_json(tmp, result.to_dict()))

    def predictions(self, phase, preds, labels):
        atomic_write(self.path(f"_predictions_{phase}.npz"),
                     lambda tmp: _save_npz(tmp, {"predictions": preds, "labels": labels}))

    def recordings(self, arrays: Dict[str, np.ndarray]):
        atomic_write(self.path("_recordings.npz"), lambda tmp: _save_npz(tmp, arrays))

    def training_plot(self, result: RunResult):
        _save_figure(training_figure(result), self.path("_training.png"))

    def prediction_plot(self, plane, preds, labels):
        _save_figure(prediction_figure(plane, preds, labels), self.path("_test_predictions.png"))


def _pyplot():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def _save_figure(fig, path):
    atomic_write(path, lambda tmp: fig.savefig(tmp, dpi=100, format="png"))
    _pyplot().close(fig)


def training_figure(result: RunResult):
    """Loss and accuracy per epoch (train, and validation when there is one)."""
    plt = _pyplot()
    from matplotlib.ticker import MaxNLocator
    ep = [e.epoch for e in result.epochs]
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.5))
    axes[0].plot(ep, [e.train_loss for e in result.epochs], label="train")
    axes[1].plot(ep, [e.train_accuracy for e in result.epochs], label="train")
    if result.epochs[0].validation_accuracy is not None:
        axes[0].plot(ep, [e.validation_loss for e in result.epochs], label="validation")
        axes[1].plot(ep, [e.validation_accuracy for e in result.epochs], label="validation")
    axes[0].set(xlabel="epoch", ylabel="loss")
    axes[1].set(xlabel="epoch", ylabel="accuracy")
    for ax in axes:
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    axes[1].legend()
    fig.tight_layout()
    return fig


def prediction_figure(plane, preds, labels):
    """Test samples in the input plane, coloured by predicted class; errors marked."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(4.5, 4.5))
    colours = plt.get_cmap("viridis")
    classes = np.unique(np.concatenate([preds, labels]))
    for c in classes:
        sel = preds == c
        ax.scatter(plane[sel, 0], plane[sel, 1], s=4,
                   color=colours(c / max(classes.max(), 1)), label=f"predicted class {c}")
    wrong = preds != labels
    ax.scatter(plane[wrong, 0], plane[wrong, 1], s=12, marker="x", c="red",
               label="wrong prediction")
    ax.legend(loc="upper right", fontsize="small", markerscale=2)
    ax.set(title=f"test predictions ({wrong.sum()} errors)", xlabel="x", ylabel="y")
    return fig


def _write_json(path, obj):
    with open(path, "w") as f:
        json.dump(obj, f, indent=1, default=str)


def _save_npz(path, arrays):
    with open(path, "wb") as f:
        np.savez(f, **arrays)


def _progress(p, total, desc):
    """A tqdm bar on a terminal (none when PROGRESS is off or stderr is not a terminal,
    where bar redraws would only fill a log file)."""
    if not p["PROGRESS"] or not sys.stderr.isatty():
        return None
    from tqdm import tqdm
    return tqdm(total=total, desc=desc, leave=False)


def _tick(bar, loss, acc):
    if bar is not None:
        bar.set_postfix(loss=f"{loss:.4f}", acc=f"{acc:.3f}", refresh=False)
        bar.update(1)


def _report(s: EpochStats, label: str, bars: bool):
    """One line per epoch (under the progress bars when they are shown)."""
    val = ("" if s.validation_accuracy is None else
           f", validation loss {s.validation_loss:.4f} accuracy {s.validation_accuracy:.4f}")
    line = (f"{label}epoch {s.epoch}: train loss {s.train_loss:.4f} accuracy "
            f"{s.train_accuracy:.4f}{val}, hidden {s.hidden_spikes:.0f} spikes/sample "
            f"({s.seconds:.1f} s)")
    if bars:
        from tqdm import tqdm
        tqdm.write(line)
    else:
        print(line, flush=True)


def _warn_overflow(lost: int, n_samples: int, p, where: str) -> None:
    """One warning per epoch (not per batch) for spikes that missed the backward pass."""
    if lost:
        warnings.warn(f"{where}: {lost} spikes ({lost / n_samples:.1f} per sample) "
                      f"did not fit the spike tape and had no backward pass, so gradients "
                      f"are approximate; raise N_MAX_SPIKE (now {p['N_MAX_SPIKE']}) or "
                      f"regularise activity (REG_TYPE)", RuntimeWarning, stacklevel=3)


def _close(bar):
    if bar is not None:
        bar.close()
