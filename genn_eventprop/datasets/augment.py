"""Training-data augmentations for spike-train data sets (SHD/SSC style).

These are the augmentations of T. Nowotny's ``genn_eventprop`` research code
(GeNN 4 scripts: ``utils.py`` and the per-epoch loop of ``simulator_SHD.py``),
re-implemented as pure numpy functions. Nothing here modifies its inputs: every
function returns new arrays.

A *sample* is a pair ``(times_ms, ids)``: a float64 array of spike times in
milliseconds (measured from the start of the trial) and an int64 array, of the
same length, of the input channel (neuron) that fired each spike. Spike times
must lie in ``[0, trial_ms)`` and channel ids in ``[0, n_channels)``.

Every function takes an explicit :class:`numpy.random.Generator` and draws its
random numbers in the same order and with the same calls as the original, so
(apart from the deviations listed below) the same generator state gives the
same spikes as the original.

Augmentations, under the names used as keys of the original's ``AUGMENTATION``
parameter dictionary (see :data:`AUGMENTATIONS` and :func:`apply_augmentations`):

``"random_shift": max_shift``
    :func:`random_shift` -- move all channel ids of a sample by one random
    integer.
``"random_dilate": [min_factor, max_factor]``
    :func:`random_dilate` -- stretch or compress time by one log-uniform factor.
``"ID_jitter": sigma``
    :func:`id_jitter` -- move each spike's channel id by its own rounded
    Gaussian offset.
``"blend": [p_1, ..., p_k]``
    :func:`blend_dataset` (built on :func:`blend`) -- append new samples, each a
    random thinning of ``k`` centred samples of one class.
``"NORMALISE_SPIKE_NUMBER": True``
    :func:`normalise_spike_number` -- thin every sample so that its expected
    spike count is the smallest spike count in the training set.

Order (as in the original): ``NORMALISE_SPIKE_NUMBER`` first, whatever its
position in the dictionary, then the other entries in the dictionary's order.
The whole chain is meant to be re-run on the unaugmented training set at every
epoch, with the random numbers continuing from epoch to epoch.

Deliberate differences from the original
----------------------------------------
* Nothing is dropped silently: every function returns the number of spikes it
  removed, and :func:`apply_augmentations` reports them per augmentation. The
  original removed spikes shifted out of the channel range or the trial
  without telling anyone.
* :func:`apply_augmentations` only sees the training set. The original's
  spike-number normalisation also thinned the evaluation samples, anew every
  epoch, to the training set's target; the simulators thin them once per run
  to the same target with :func:`thin_grid` (a network trained on thinned
  inputs must be evaluated on inputs of the same statistics).
* :func:`blend`: when the same sample is picked more than once for one blend,
  the original (which deep-copied the picks, turning repeated picks into one
  shared object) applied that sample's centring offset once per repeat, so the
  repeats were moved several times over. Here every pick is moved by its own
  offset exactly once.
* :func:`blend`: samples without spikes are left out of the centring means and
  contribute no spikes (the original failed on them: the mean of an empty
  array is NaN); the output is sorted by time with a stable sort (ties keep the
  order of the picks; the original's sort left tie order unspecified); there is
  no check that ids are below 700 (the original's SHD-only assertion, which
  also failed on an empty result).
* :func:`normalise_spike_number`: the target is the smallest count among the
  samples that have spikes, not capped at 100000 (the original started its
  minimum search at 1e5) and not 0 when a sample is empty (the original then
  failed with a division by zero); empty samples stay empty.
* :func:`apply_augmentations` rejects unknown names and malformed parameters
  (the original ignored unknown keys, so a misspelt augmentation did nothing),
  and ``"blend"`` needs the target training-set size ``n_train`` (the
  original's ``N_TRAIN``) passed explicitly.
* Inputs are checked: spike times outside ``[0, trial_ms)`` or ids outside
  ``[0, n_channels)`` raise instead of being silently dropped or kept.

Like the original, these functions do not put spikes back on a time grid
(:func:`random_dilate` gives times that are not multiples of the time step)
and :func:`blend` can produce more than one spike for one channel at one time.
"""
import math
import numbers
import types
import warnings
from collections.abc import Mapping

import numpy as np

from genn_eventprop.errors import UserError

__all__ = [
    "AUGMENTATIONS",
    "AugmentationError",
    "apply_augmentations",
    "blend",
    "blend_dataset",
    "id_jitter",
    "normalise_spike_number",
    "random_dilate",
    "random_shift",
]


class AugmentationError(UserError, ValueError):
    """Bad augmentation name, parameter or input sample (a :class:`ValueError`)."""


# ----------------------------------------------------------------------------
# Argument checks
# ----------------------------------------------------------------------------

def _is_real(value):
    return (not isinstance(value, (bool, np.bool_)) and isinstance(value, numbers.Real)
            and math.isfinite(value))


def _is_int(value):
    return not isinstance(value, (bool, np.bool_)) and isinstance(value, numbers.Integral)


def _check_rng(rng, where):
    if not isinstance(rng, np.random.Generator):
        raise AugmentationError(
            f"{where}: rng must be a numpy.random.Generator (e.g. numpy.random.default_rng(seed)), "
            f"got {type(rng).__name__}")


def _check_n_channels(n_channels, where):
    if not _is_int(n_channels) or n_channels < 1:
        raise AugmentationError(f"{where}: n_channels must be an integer >= 1, got {n_channels!r}")
    return int(n_channels)


def _check_trial_ms(trial_ms, where):
    if not _is_real(trial_ms) or trial_ms <= 0:
        raise AugmentationError(f"{where}: trial_ms must be a finite number > 0, got {trial_ms!r}")
    return float(trial_ms)


def _as_sample(sample, where, n_channels=None, trial_ms=None):
    """Return ``(times float64, ids int64)`` views of ``sample`` after checking it."""
    if isinstance(sample, (str, bytes)) or not hasattr(sample, "__len__") or len(sample) != 2:
        raise AugmentationError(
            f"{where}: a sample must be a pair (times_ms, ids), got {type(sample).__name__}")
    times = np.asarray(sample[0])
    ids = np.asarray(sample[1])
    if times.ndim != 1 or ids.ndim != 1 or len(times) != len(ids):
        raise AugmentationError(
            f"{where}: times_ms and ids must be 1-D arrays of equal length, got shapes "
            f"{times.shape} and {ids.shape}")
    if times.size and times.dtype.kind not in "iuf":
        raise AugmentationError(f"{where}: times_ms must be numbers (ms), got dtype {times.dtype}")
    if ids.size and ids.dtype.kind not in "iu":
        raise AugmentationError(f"{where}: ids must be integers, got dtype {ids.dtype}")
    times = times.astype(np.float64, copy=False)
    ids = ids.astype(np.int64, copy=False)
    if times.size:
        if not np.all(np.isfinite(times)):
            raise AugmentationError(f"{where}: times_ms must be finite")
        if trial_ms is not None and (times.min() < 0.0 or times.max() >= trial_ms):
            raise AugmentationError(
                f"{where}: spike times must lie in [0, trial_ms={trial_ms:g}) ms, got "
                f"[{times.min():g}, {times.max():g}]")
    if ids.size and n_channels is not None and (ids.min() < 0 or ids.max() >= n_channels):
        raise AugmentationError(
            f"{where}: channel ids must lie in [0, n_channels={n_channels}), got "
            f"[{ids.min()}, {ids.max()}]")
    return times, ids


def _as_labels(labels, n, where, what="labels"):
    arr = np.asarray(labels)
    if arr.ndim != 1 or len(arr) != n:
        raise AugmentationError(
            f"{where}: {what} must be a 1-D array with one entry per sample ({n}), got shape {arr.shape}")
    if arr.size and arr.dtype.kind not in "iu":
        raise AugmentationError(f"{where}: {what} must be integers, got dtype {arr.dtype}")
    return arr.astype(np.int64, copy=False)


def _check_probs(probs, where):
    if isinstance(probs, (str, bytes, Mapping)) or not hasattr(probs, "__len__") or len(probs) == 0 \
            or not all(_is_real(p) and 0.0 <= p <= 1.0 for p in probs):
        raise AugmentationError(
            f"{where}: probs must be a non-empty list of probabilities in [0, 1], one per blended "
            f"sample, e.g. [0.5, 0.5]; got {probs!r}")
    return [float(p) for p in probs]


def _check_max_shift(max_shift, where):
    if not _is_real(max_shift) or max_shift < 0:
        raise AugmentationError(
            f"{where}: max_shift must be one number >= 0 (largest channel shift), e.g. 40.0; "
            f"got {max_shift!r}")
    return float(max_shift)


def _check_factors(min_factor, max_factor, where):
    if not (_is_real(min_factor) and _is_real(max_factor) and 0 < min_factor <= max_factor):
        raise AugmentationError(
            f"{where}: the dilation factors must be numbers with 0 < min_factor <= max_factor, "
            f"e.g. [0.9, 1.1]; got min_factor={min_factor!r}, max_factor={max_factor!r}")
    return float(min_factor), float(max_factor)


def _check_sigma(sigma, where):
    if not _is_real(sigma) or sigma < 0:
        raise AugmentationError(
            f"{where}: sigma must be one number >= 0 (standard deviation of the channel jitter, "
            f"in channels), e.g. 5.0; got {sigma!r}")
    return float(sigma)


# ----------------------------------------------------------------------------
# Per-sample augmentations
# ----------------------------------------------------------------------------

def _kept(times, ids, keep):
    """((times, ids) where ``keep``, number of spikes removed)."""
    return (times[keep], ids[keep]), int(len(ids) - np.count_nonzero(keep))


def random_shift(sample, rng, max_shift, n_channels):
    """Shift all channel ids of one sample by the same random integer.

    Draws ``u ~ Uniform[-max_shift, max_shift)`` (one ``rng.uniform`` call) and
    truncates it towards zero, ``shift = int(u)``, as the original did. So
    ``|shift| < max_shift`` for integer ``max_shift`` (40 gives -39..39), and 0 is
    twice as likely as any other value (it collects ``u`` in ``(-1, 1)``).
    Every spike keeps its time (ms); its id becomes ``id + shift``. Spikes whose
    new id falls outside ``[0, n_channels)`` are removed and counted.

    Args:
        sample: ``(times_ms, ids)``, ids in ``[0, n_channels)``.
        rng: ``numpy.random.Generator``.
        max_shift: number >= 0, largest shift in channels.
        n_channels: number of input channels.

    Returns:
        ``((times_ms, ids), n_dropped)``: new float64/int64 arrays with the kept
        spikes in their original order, and the number of spikes removed.
    """
    where = "random_shift"
    _check_rng(rng, where)
    max_shift = _check_max_shift(max_shift, where)
    n_channels = _check_n_channels(n_channels, where)
    times, ids = _as_sample(sample, where, n_channels=n_channels)
    shift = math.trunc(rng.uniform(-max_shift, max_shift))
    new_ids = ids + shift
    return _kept(times, new_ids, (new_ids >= 0) & (new_ids < n_channels))


def random_dilate(sample, rng, min_factor, max_factor, trial_ms):
    """Stretch or compress the time axis of one sample by one random factor.

    Draws ``factor = exp(Uniform[log(min_factor), log(max_factor)))`` (log-uniform,
    one ``rng.uniform`` call), as the original did, and multiplies every spike
    time (ms, measured from trial start) by it; ids are unchanged, so the
    temporal order of the spikes is kept. Spikes whose new time is
    ``>= trial_ms`` are removed and counted.

    Args:
        sample: ``(times_ms, ids)``, times in ``[0, trial_ms)``.
        rng: ``numpy.random.Generator``.
        min_factor, max_factor: numbers with ``0 < min_factor <= max_factor``.
        trial_ms: trial length in ms.

    Returns:
        ``((times_ms, ids), n_dropped)``: new arrays with the kept spikes in their
        original order, and the number of spikes removed.
    """
    where = "random_dilate"
    _check_rng(rng, where)
    min_factor, max_factor = _check_factors(min_factor, max_factor, where)
    trial_ms = _check_trial_ms(trial_ms, where)
    times, ids = _as_sample(sample, where, trial_ms=trial_ms)
    factor = np.exp(rng.uniform(np.log(min_factor), np.log(max_factor)))
    new_times = times * factor
    return _kept(new_times, ids, new_times < trial_ms)


def id_jitter(sample, rng, sigma, n_channels):
    """Move each spike to a nearby channel by its own rounded Gaussian offset.

    Draws one standard normal number ``z`` per spike (one
    ``rng.standard_normal(n_spikes)`` call) and changes that spike's id to
    ``id + round(sigma * z)`` (round half to even, as numpy's ``round``), as the
    original did; times (ms) are unchanged. Spikes whose new id falls outside
    ``[0, n_channels)`` are removed (not clipped) and counted.

    Args:
        sample: ``(times_ms, ids)``, ids in ``[0, n_channels)``.
        rng: ``numpy.random.Generator``.
        sigma: number >= 0, standard deviation of the offset in channels.
        n_channels: number of input channels.

    Returns:
        ``((times_ms, ids), n_dropped)``: new arrays with the kept spikes in their
        original order, and the number of spikes removed.
    """
    where = "ID_jitter"
    _check_rng(rng, where)
    sigma = _check_sigma(sigma, where)
    n_channels = _check_n_channels(n_channels, where)
    times, ids = _as_sample(sample, where, n_channels=n_channels)
    offsets = np.rint(rng.standard_normal(len(ids)) * sigma).astype(np.int64)
    new_ids = ids + offsets
    return _kept(times, new_ids, (new_ids >= 0) & (new_ids < n_channels))


# ----------------------------------------------------------------------------
# Blending
# ----------------------------------------------------------------------------

def blend(samples, probs, rng, n_channels, trial_ms):
    """Blend several samples (normally of one class) into one new sample.

    1. Centring: for each sample with spikes, its mean channel id ``mx_i`` and
       mean spike time ``mt_i`` (ms) are computed; ``MX`` and ``MT`` are the
       means of these per-sample means (each sample counts once, whatever its
       spike count). Sample ``i`` is moved by ``int(MX - mx_i)`` channels and
       ``int(MT - mt_i)`` ms, both truncated towards zero, so times move by whole
       milliseconds.
    2. Thinning: each spike of sample ``i`` is kept independently with
       probability ``probs[i]`` (one ``rng.uniform(0, 1, n_i)`` draw per sample,
       in sample order), so the result holds on average ``sum_i probs[i] * n_i``
       spikes.
    3. The kept spikes of all samples are merged and sorted by time (stable:
       equal times keep the order of the samples), and spikes moved outside
       ``[0, trial_ms)`` ms or ``[0, n_channels)`` are removed and counted.

    The result can hold two spikes of one channel at one time. Samples without
    spikes are left out of the means and add nothing. Passing the same sample
    more than once is allowed; each copy is moved once (see the module notes).

    Args:
        samples: sequence of ``k`` samples ``(times_ms, ids)``.
        probs: ``k`` probabilities in ``[0, 1]``, one per sample.
        rng: ``numpy.random.Generator``.
        n_channels: number of input channels.
        trial_ms: trial length in ms.

    Returns:
        ``((times_ms, ids), n_dropped)``: the new sample, and the number of
        spikes that survived the thinning but were removed for lying outside the
        trial or the channel range.
    """
    where = "blend"
    _check_rng(rng, where)
    probs = _check_probs(probs, where)
    n_channels = _check_n_channels(n_channels, where)
    trial_ms = _check_trial_ms(trial_ms, where)
    if isinstance(samples, (str, bytes)) or not hasattr(samples, "__len__"):
        raise AugmentationError(f"{where}: samples must be a sequence of (times_ms, ids) pairs")
    if len(samples) != len(probs):
        raise AugmentationError(
            f"{where}: one probability per sample is needed, got {len(samples)} samples and "
            f"{len(probs)} probabilities")
    arrays = [_as_sample(s, f"{where} (sample {i})", n_channels=n_channels, trial_ms=trial_ms)
              for i, s in enumerate(samples)]
    full = [i for i, (t, _) in enumerate(arrays) if len(t)]
    if not full:
        return (np.zeros(0, np.float64), np.zeros(0, np.int64)), 0
    mean_ids = np.array([np.mean(arrays[i][1]) for i in full])
    mean_times = np.array([np.mean(arrays[i][0]) for i in full])
    grand_id = np.mean(mean_ids)
    grand_time = np.mean(mean_times)
    parts_t, parts_x = [], []
    for j, i in enumerate(full):
        times, ids = arrays[i]
        id_offset = math.trunc(grand_id - mean_ids[j])
        time_offset = float(math.trunc(grand_time - mean_times[j]))
        pick = rng.uniform(0.0, 1.0, len(times)) < probs[i]
        parts_t.append(times[pick] + time_offset)
        parts_x.append(ids[pick] + id_offset)
    new_t = np.concatenate(parts_t)
    new_x = np.concatenate(parts_x)
    order = np.argsort(new_t, kind="stable")
    new_t = new_t[order]
    new_x = new_x[order]
    return _kept(new_t, new_x,
                 (new_t >= 0.0) & (new_t < trial_ms) & (new_x >= 0) & (new_x < n_channels))


def blend_dataset(samples, labels, rng, n_new, probs, n_channels, trial_ms, *, speakers=None):
    """Append ``n_new`` blended samples to a data set.

    For each new sample, as in the original: an *anchor* is drawn uniformly from
    all samples (``rng.integers(0, n_samples)``), so classes are blended in
    proportion to their frequency; then ``len(probs)`` samples of the anchor's
    class are drawn uniformly with replacement (``rng.integers(0, n_class,
    len(probs))``, from that class's samples in data-set order; the same sample
    can be drawn twice, and the anchor itself need not be among them) and
    combined with :func:`blend`. The new sample gets the anchor's label (and, if
    given, the anchor's speaker, although the blended samples may come from
    other speakers).

    Args:
        samples: sequence of samples ``(times_ms, ids)``.
        labels: integer class of each sample.
        rng: ``numpy.random.Generator``.
        n_new: number of samples to add, >= 0. The original added
            ``N_TRAIN - len(samples)`` (none when that is negative).
        probs: per-pick keep probabilities, see :func:`blend`.
        n_channels: number of input channels.
        trial_ms: trial length in ms.
        speakers: optional speaker of each sample.

    Returns:
        ``(samples, labels, speakers, n_dropped)``: a new list with copies of the
        original samples followed by the ``n_new`` blended ones, the matching
        int64 labels, the matching speakers (``None`` when not given), and the
        total number of spikes :func:`blend` removed for lying outside the trial
        or channel range.
    """
    where = "blend"
    _check_rng(rng, where)
    probs = _check_probs(probs, where)
    n_channels = _check_n_channels(n_channels, where)
    trial_ms = _check_trial_ms(trial_ms, where)
    if not _is_int(n_new) or n_new < 0:
        raise AugmentationError(f"{where}: n_new must be an integer >= 0, got {n_new!r}")
    if isinstance(samples, (str, bytes)) or not hasattr(samples, "__len__"):
        raise AugmentationError(f"{where}: samples must be a sequence of (times_ms, ids) pairs")
    arrays = [_as_sample(s, f"{where} (sample {i})", n_channels=n_channels, trial_ms=trial_ms)
              for i, s in enumerate(samples)]
    labels = _as_labels(labels, len(arrays), where)
    if speakers is not None:
        speakers = np.asarray(speakers)
        if speakers.ndim != 1 or len(speakers) != len(arrays):
            raise AugmentationError(
                f"{where}: speakers must be a 1-D array with one entry per sample "
                f"({len(arrays)}), got shape {speakers.shape}")
    if n_new > 0 and not arrays:
        raise AugmentationError(f"{where}: cannot blend new samples from an empty data set")
    members = {c: np.flatnonzero(labels == c) for c in np.unique(labels)}
    new_samples, anchors, n_dropped = [], [], 0
    for _ in range(int(n_new)):
        anchor = int(rng.integers(0, len(arrays)))
        same_class = members[labels[anchor]]
        picks = same_class[rng.integers(0, len(same_class), len(probs))]
        new, dropped = blend([arrays[k] for k in picks], probs, rng, n_channels, trial_ms)
        new_samples.append(new)
        anchors.append(anchor)
        n_dropped += dropped
    anchors = np.array(anchors, dtype=np.int64)
    out_samples = [(t.copy(), x.copy()) for t, x in arrays] + new_samples
    out_labels = np.concatenate([labels, labels[anchors]]).astype(np.int64)
    out_speakers = None if speakers is None else np.concatenate([speakers, speakers[anchors]])
    return out_samples, out_labels, out_speakers, n_dropped


# ----------------------------------------------------------------------------
# Spike-number normalisation
# ----------------------------------------------------------------------------

def normalise_spike_number(samples, rng, target=None):
    """Thin every sample so that its expected spike count is ``target``.

    ``target`` defaults, as in the original, to the smallest spike count among
    ``samples`` (here: among those with at least one spike). A sample with
    ``n > target`` spikes keeps each spike independently with probability
    ``target / n`` (one ``rng.random(n)`` draw per sample, in sample order), so
    its new count is Binomial(n, target/n): equal to ``target`` on average, not
    exactly. Samples with ``n <= target`` spikes are kept whole (and still
    consume their ``n`` random numbers, like the original). Kept spikes keep
    their times (ms), ids and order; empty samples stay empty.

    To treat evaluation data as the original did, pass the training set's
    target explicitly: ``normalise_spike_number(eval_samples, rng,
    target=min(len(t) for t, _ in train_samples if len(t)))``.

    Args:
        samples: sequence of samples ``(times_ms, ids)``.
        rng: ``numpy.random.Generator``.
        target: integer >= 0 or ``None`` (smallest non-zero count in ``samples``).

    Returns:
        ``(samples, n_dropped)``: a new list of new samples, and the total number
        of spikes removed.
    """
    where = "NORMALISE_SPIKE_NUMBER"
    _check_rng(rng, where)
    if isinstance(samples, (str, bytes)) or not hasattr(samples, "__len__"):
        raise AugmentationError(f"{where}: samples must be a sequence of (times_ms, ids) pairs")
    arrays = [_as_sample(s, f"{where} (sample {i})") for i, s in enumerate(samples)]
    if target is None:
        counts = [len(t) for t, _ in arrays if len(t)]
        target = min(counts) if counts else 0
    elif not _is_int(target) or target < 0:
        raise AugmentationError(f"{where}: target must be an integer >= 0 or None, got {target!r}")
    if target == 0 and any(len(t) for t, _ in arrays):
        warnings.warn(f"{where}: target 0 removes every spike", RuntimeWarning, stacklevel=2)
    out, n_dropped = [], 0
    for times, ids in arrays:
        n = len(times)
        if n == 0:
            out.append((times.copy(), ids.copy()))
            continue
        keep = rng.random(n) < target / n
        out.append((times[keep], ids[keep]))
        n_dropped += n - int(np.count_nonzero(keep))
    return out, n_dropped


def thin_grid(grid, target: int, rng):
    """:func:`normalise_spike_number` for a compact ``GridSpikes`` set: each sample
    of ``n > target`` spikes keeps each spike with probability ``target / n``.

    Draws the same random numbers in the same order as
    :func:`normalise_spike_number` on the same samples (one ``rng.random(n)`` per
    non-empty sample, in sample order, done as one draw), so both give the same
    spikes. Returns ``(new GridSpikes, spikes removed)``.
    """
    where = "NORMALISE_SPIKE_NUMBER"
    _check_rng(rng, where)
    if not _is_int(target) or target < 0:
        raise AugmentationError(f"{where}: target must be an integer >= 0, got {target!r}")
    counts = grid.spike_counts()
    prob = np.repeat(float(target) / np.maximum(counts, 1), counts)
    keep = rng.random(int(counts.sum())) < prob
    owner = np.repeat(np.arange(len(counts)), counts)
    kept = np.bincount(owner[keep], minlength=len(counts))
    offsets = np.concatenate(([0], np.cumsum(kept))).astype(np.int64)
    thinned = type(grid)(grid.steps[keep], grid.ids[keep], offsets, grid.labels,
                         grid.speakers, grid.dt, grid.n_channels)
    return thinned, int(counts.sum() - offsets[-1])


# ----------------------------------------------------------------------------
# Registry and per-epoch application
# ----------------------------------------------------------------------------

#: Augmentation name (key of the ``AUGMENTATION`` parameter) -> function.
AUGMENTATIONS = types.MappingProxyType({
    "random_shift": random_shift,
    "random_dilate": random_dilate,
    "ID_jitter": id_jitter,
    "blend": blend_dataset,
    "NORMALISE_SPIKE_NUMBER": normalise_spike_number,
})

_EXPECTED = {
    "random_shift": "one number max_shift >= 0 (largest channel shift), e.g. {'random_shift': 40.0}",
    "random_dilate": "a pair [min_factor, max_factor] with 0 < min_factor <= max_factor, "
                     "e.g. {'random_dilate': [0.9, 1.1]}",
    "ID_jitter": "one number sigma >= 0 (jitter standard deviation in channels), e.g. {'ID_jitter': 5.0}",
    "blend": "a non-empty list of probabilities in [0, 1], one per blended sample, "
             "e.g. {'blend': [0.5, 0.5]}",
    "NORMALISE_SPIKE_NUMBER": "True or False",
}


def _bad_param(name, value):
    return AugmentationError(
        f"augmentation {name!r} expects {_EXPECTED[name]}; got {value!r}")


def _parse_param(name, value):
    """Check one ``AUGMENTATION`` entry; return its normalised parameter."""
    if name in ("random_shift", "ID_jitter"):
        if not _is_real(value) or value < 0:
            raise _bad_param(name, value)
        return float(value)
    if name == "random_dilate":
        if isinstance(value, (str, bytes, Mapping)) or not hasattr(value, "__len__") \
                or len(value) != 2 or not all(_is_real(v) for v in value) \
                or not 0 < value[0] <= value[1]:
            raise _bad_param(name, value)
        return (float(value[0]), float(value[1]))
    if name == "blend":
        if isinstance(value, (str, bytes, Mapping)) or not hasattr(value, "__len__") \
                or len(value) == 0 or not all(_is_real(v) and 0 <= v <= 1 for v in value):
            raise _bad_param(name, value)
        return [float(v) for v in value]
    # NORMALISE_SPIKE_NUMBER
    if not isinstance(value, (bool, np.bool_)):
        raise _bad_param(name, value)
    return bool(value)


def _plan(augmentation):
    """The ``(name, parameter)`` steps to run, in the original's order."""
    if not isinstance(augmentation, Mapping):
        raise AugmentationError(
            f"augmentation must be a dict of augmentation name -> parameter, got "
            f"{type(augmentation).__name__}")
    unknown = [k for k in augmentation if k not in AUGMENTATIONS]
    if unknown:
        raise AugmentationError(
            f"unknown augmentation(s) {', '.join(repr(k) for k in unknown)}; valid names are "
            f"{', '.join(repr(k) for k in AUGMENTATIONS)}")
    steps = []
    if "NORMALISE_SPIKE_NUMBER" in augmentation:
        if _parse_param("NORMALISE_SPIKE_NUMBER", augmentation["NORMALISE_SPIKE_NUMBER"]):
            steps.append(("NORMALISE_SPIKE_NUMBER", True))
    for name, value in augmentation.items():
        if name != "NORMALISE_SPIKE_NUMBER":
            steps.append((name, _parse_param(name, value)))
    return steps


def check_augmentation(augmentation):
    """Raise AugmentationError for unknown names or malformed parameters (what
    ``apply_augmentations`` would reject), before any data are touched."""
    _plan(augmentation)


def apply_augmentations(samples, labels, augmentation, rng, n_channels, trial_ms, *, n_train=None,
                        normalise_target=None):
    """Apply an ``AUGMENTATION`` dictionary to a training set, for one epoch.

    Runs, as the original did at the start of each epoch:
    ``NORMALISE_SPIKE_NUMBER`` first when it is ``True`` (its target is the
    smallest non-zero spike count of the training set), then every other entry
    in the dictionary's order: ``"blend"`` appends ``max(0, n_train -
    len(samples))`` blended samples (:func:`blend_dataset`), and
    ``"random_shift"``, ``"random_dilate"`` and ``"ID_jitter"`` transform every
    sample present at that point (blended ones included), drawing for the
    samples in order. An empty dictionary returns copies unchanged.

    Only training data go in here; evaluation data must not be augmented.
    All names and parameters are checked before anything is done.

    Args:
        samples: training samples ``(times_ms, ids)``; not modified.
        labels: integer class of each sample.
        augmentation: dict name -> parameter, names from :data:`AUGMENTATIONS`:
            ``{"random_shift": max_shift, "random_dilate": [min, max],
            "ID_jitter": sigma, "blend": [p_1, ..., p_k],
            "NORMALISE_SPIKE_NUMBER": bool}``.
        rng: ``numpy.random.Generator``; carry the same one across epochs.
        n_channels: number of input channels.
        trial_ms: trial length in ms.
        n_train: required with ``"blend"``: the training-set size after
            blending (the original's ``N_TRAIN``).
        normalise_target: spike-count target of ``NORMALISE_SPIKE_NUMBER``
            (``None``: the smallest non-zero count of ``samples``); pass one
            fixed target per run so that evaluation data can be thinned to the
            same expected count (:func:`thin_grid`).

    Returns:
        ``(samples, labels, report)``: a new list of new samples, int64 labels,
        and a dict with ``"applied"`` (names in the order run), ``"dropped"``
        (name -> spikes removed: out of range for the shifts, dilation and
        jitter; out of range after centring for blend; thinned away for
        NORMALISE_SPIKE_NUMBER), ``"n_blended"`` (samples added) and
        ``"normalise_target"`` (the spike-count target, or ``None``).

    Raises:
        AugmentationError (a ValueError): unknown names (the message lists the
            valid ones), malformed parameters (the message names the
            augmentation and the expected form), ``"blend"`` without
            ``n_train``, or bad samples.
    """
    where = "apply_augmentations"
    steps = _plan(augmentation)
    _check_rng(rng, where)
    n_channels = _check_n_channels(n_channels, where)
    trial_ms = _check_trial_ms(trial_ms, where)
    if any(name == "blend" for name, _ in steps) and (not _is_int(n_train) or n_train < 0):
        raise AugmentationError(
            f"augmentation 'blend' needs n_train, the training-set size after blending (the "
            f"original's N_TRAIN), as an integer >= 0; got n_train={n_train!r}")
    if isinstance(samples, (str, bytes)) or not hasattr(samples, "__len__"):
        raise AugmentationError(f"{where}: samples must be a sequence of (times_ms, ids) pairs")
    current = [_as_sample(s, f"{where} (sample {i})", n_channels=n_channels, trial_ms=trial_ms)
               for i, s in enumerate(samples)]
    labels = _as_labels(labels, len(current), where).copy()
    report = {"applied": [], "dropped": {}, "n_blended": 0, "normalise_target": None}
    for name, param in steps:
        dropped = 0
        if name == "NORMALISE_SPIKE_NUMBER":
            target = normalise_target
            if target is None:
                counts = [len(t) for t, _ in current if len(t)]
                target = min(counts) if counts else 0
            current, dropped = normalise_spike_number(current, rng, target=target)
            report["normalise_target"] = target
        elif name == "blend":
            n_new = max(0, int(n_train) - len(current))
            current, labels, _, dropped = blend_dataset(
                current, labels, rng, n_new, param, n_channels, trial_ms)
            report["n_blended"] += n_new
        else:
            new = []
            for s in current:
                if name == "random_shift":
                    s, d = random_shift(s, rng, param, n_channels)
                elif name == "random_dilate":
                    s, d = random_dilate(s, rng, param[0], param[1], trial_ms)
                else:
                    s, d = id_jitter(s, rng, param, n_channels)
                new.append(s)
                dropped += d
            current = new
        report["applied"].append(name)
        report["dropped"][name] = report["dropped"].get(name, 0) + int(dropped)
    if not steps:
        current = [(t.copy(), x.copy()) for t, x in current]
    return current, labels, report
