"""The Yin-Yang dataset and its latency (time-to-first-spike) encoding.

The Yin-Yang dataset (Kriener, Göltz & Petrovici 2021) is a small 2-D, three-class
benchmark for spiking and biologically plausible learning. Points ``(x, y)`` are
drawn uniformly from the disc of radius ``R = r_big`` centred at ``(R, R)``, i.e.
from the square ``[0, 2R]^2`` with everything outside the disc rejected.
Every point then gets one of three labels from the yin-yang symbol drawn on that
disc. With the distances to the two "eye" centres

    d_L = sqrt((x - R/2)^2 + (y - R)^2)        (left eye at (R/2, R))
    d_R = sqrt((x - 3R/2)^2 + (y - R)^2)       (right eye at (3R/2, R))

and ``r = r_small``, the label is

    2 ("dot")   if  d_L < r  or  d_R < r
    1 ("yang")  else if  d_R <= r  or  r < d_L <= R/2  or  (y > R and d_R > R/2)
    0 ("yin")   otherwise.

The names follow the reference's ``class_names = ['yin', 'yang', 'dot']`` list
(index = label). The reference code calls the label-1 test "is_yin"; only the
integers matter and they are identical to the reference's.

Balancing: for each sample a target class is drawn uniformly from {0, 1, 2}
first; points are then drawn (and rejected) until one lies inside the disc and
has that class, so the three classes appear in roughly equal numbers.
Each sample is returned with its mirrored coordinates,
``(x, y, 1 - x, 1 - y)``, so that networks without a bias still see a symmetric
input (the mirror is ``1 - x`` for every ``r_big``, as in the reference).

This module reproduces the reference generator bit for bit (same legacy
``numpy.random.RandomState`` stream and the same float64 operations): with the
default radii, ``generate_yinyang(5000, 42)``, ``generate_yinyang(1000, 41)`` and
``generate_yinyang(1000, 40)`` are the train/validation/test splits of the
reference README, and equal the arrays published in its ``publication_data/``
folder.

Reference:
    L. Kriener, J. Göltz, M. A. Petrovici, "The Yin-Yang dataset",
    Neuro-Inspired Computational Elements Conference (NICE 2022),
    https://doi.org/10.1145/3517343.3517380, arXiv:2102.08211 (2021).
    Reference code: https://github.com/lkriener/yin_yang_data_set

Spike encoding (:func:`latency_encode`) follows the Yin-Yang simulator of
T. Nowotny's ``genn_eventprop`` research code: one bias input that fires at
``2*dt`` and one input per coordinate that fires once, at a time linear in the
coordinate value, within ``[2*dt, trial - 2*dt]``.
"""
import math
import numbers

import numpy as np

__all__ = [
    "CLASS_NAMES",
    "N_CLASSES",
    "class_of",
    "generate_yinyang",
    "in_disc",
    "latency_encode",
]

#: Class names indexed by label, as in the reference dataset.
CLASS_NAMES = ("yin", "yang", "dot")
N_CLASSES = 3

_SEED_MAX = 2**32 - 1


def _check_radii(r_small, r_big):
    for name, r in (("r_small", r_small), ("r_big", r_big)):
        if isinstance(r, bool) or not isinstance(r, numbers.Real) or not math.isfinite(r):
            raise ValueError(f"{name} must be a finite real number, got {r!r}")
        if r <= 0:
            raise ValueError(
                f"{name} must be > 0 (negative or zero radii leave a class empty), got {r!r}; "
                f"use a positive radius (defaults r_small=0.1, r_big=0.5)")
    if r_small >= r_big:
        raise ValueError(
            f"r_small must be smaller than r_big, got r_small={r_small!r} >= r_big={r_big!r}; "
            f"pass r_small < r_big (defaults r_small=0.1, r_big=0.5)")


def _label(x, y, r_small, r_big):
    """Label of a point; same float operations (in the same order) as the reference."""
    d_right = np.sqrt((x - 1.5 * r_big) ** 2 + (y - r_big) ** 2)
    d_left = np.sqrt((x - 0.5 * r_big) ** 2 + (y - r_big) ** 2)
    if d_right < r_small or d_left < r_small:
        return 2
    upper = (d_right <= r_small
             or (r_small < d_left <= 0.5 * r_big)
             or (y > r_big and d_right > 0.5 * r_big))
    return 1 if upper else 0


def class_of(x, y, r_small=0.1, r_big=0.5):
    """Label (0 yin, 1 yang, 2 dot) of the point ``(x, y)``.

    Only the region test: whether the point lies inside the disc of radius
    ``r_big`` centred at ``(r_big, r_big)`` is not checked (see :func:`in_disc`).
    """
    _check_radii(r_small, r_big)
    return _label(np.float64(x), np.float64(y), float(r_small), float(r_big))


def in_disc(x, y, r_big=0.5):
    """True if ``(x, y)`` lies in the closed disc of radius ``r_big`` around ``(r_big, r_big)``."""
    x, y = np.float64(x), np.float64(y)
    return not (np.sqrt((x - r_big) ** 2 + (y - r_big) ** 2) > r_big)


def generate_yinyang(size, seed, r_small=0.1, r_big=0.5, flipped_coords=True):
    """Generate ``size`` Yin-Yang samples from ``numpy.random.RandomState(seed)``.

    Returns ``(values, classes)``: ``values`` float64 of shape ``(size, 4)`` with
    columns ``(x, y, 1 - x, 1 - y)`` (shape ``(size, 2)``, just ``(x, y)``, when
    ``flipped_coords`` is False) and ``classes`` int64 of shape ``(size,)`` with
    labels in {0: yin, 1: yang, 2: dot}. Identical, bit for bit, to the reference
    ``YinYangDataset(r_small, r_big, size, seed)`` of Kriener et al.; use
    different seeds for training, validation and test sets (the reference uses
    seeds 42, 41 and 40 with sizes 5000, 1000 and 1000).
    """
    if isinstance(size, bool) or not isinstance(size, numbers.Integral):
        raise ValueError(f"size must be an integer >= 1 (number of samples), got {size!r}")
    if size < 1:
        raise ValueError(f"size must be >= 1 (number of samples), got {size!r}; pass a positive count")
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise ValueError(f"seed must be an integer in [0, 2**32 - 1], got {seed!r}")
    if not 0 <= seed <= _SEED_MAX:
        raise ValueError(f"seed must be in [0, 2**32 - 1] (numpy RandomState seed), got {seed!r}")
    _check_radii(r_small, r_big)
    r_small, r_big = float(r_small), float(r_big)

    rng = np.random.RandomState(int(seed))
    size = int(size)
    xy = np.empty((size, 2), dtype=np.float64)
    classes = np.empty(size, dtype=np.int64)
    for i in range(size):
        # RNG order per sample: one randint(3) for the target class, then
        # pairs of uniforms until a point inside the disc has that class.
        target = rng.randint(3)
        while True:
            x, y = rng.rand(2) * 2.0 * r_big
            if np.sqrt((x - r_big) ** 2 + (y - r_big) ** 2) > r_big:
                continue
            c = _label(x, y, r_small, r_big)
            if c == target:
                break
        xy[i, 0] = x
        xy[i, 1] = y
        classes[i] = c
    if not flipped_coords:
        return xy, classes
    values = np.empty((size, 4), dtype=np.float64)
    values[:, :2] = xy
    values[:, 2:] = 1.0 - xy
    return values, classes


def latency_encode(values, trial_ms, dt_ms):
    """Encode each sample as one spike per input neuron (time-to-first-spike).

    ``values``: array of shape ``(n_samples, n_features)`` with entries in [0, 1]
    (e.g. the ``(x, y, 1-x, 1-y)`` output of :func:`generate_yinyang`).
    Input neuron 0 is a bias that fires at ``2*dt_ms``; neuron ``k+1`` fires at
    ``2*dt_ms + values[:, k] * (trial_ms - 4*dt_ms)``, so all spikes lie in
    ``[2*dt_ms, trial_ms - 2*dt_ms]`` and there are ``n_features + 1`` inputs.

    Returns a list with one ``(times_ms, ids)`` pair per sample: float64 times
    and int64 neuron ids ``0..n_features``, in neuron order.
    """
    for name, v in (("trial_ms", trial_ms), ("dt_ms", dt_ms)):
        if isinstance(v, bool) or not isinstance(v, numbers.Real) or not math.isfinite(v):
            raise ValueError(f"{name} must be a finite real number, got {v!r}")
    if dt_ms <= 0:
        raise ValueError(f"dt_ms must be > 0 (simulation time step in ms), got {dt_ms!r}")
    if trial_ms <= 4 * dt_ms:
        raise ValueError(
            f"trial_ms must be > 4*dt_ms (spikes are placed in [2*dt_ms, trial_ms - 2*dt_ms]), "
            f"got trial_ms={trial_ms!r}, dt_ms={dt_ms!r}; lengthen the trial or shorten dt_ms")
    v = np.asarray(values, dtype=np.float64)
    if v.ndim == 1:
        raise ValueError(
            f"values must be 2-D (n_samples, n_features), got shape {v.shape}; "
            f"for one sample pass values[None, :]")
    if v.ndim != 2:
        raise ValueError(f"values must be 2-D (n_samples, n_features), got shape {v.shape}")
    if not np.all(np.isfinite(v)) or v.size and (v.min() < 0.0 or v.max() > 1.0):
        bad = v[~((v >= 0.0) & (v <= 1.0))]
        raise ValueError(
            f"values must lie in [0, 1] for latency encoding, found {bad.flat[0]!r} "
            f"({bad.size} entries outside); rescale the inputs to [0, 1] "
            f"(Yin-Yang data with r_big <= 0.5 already is)")
    n, k = v.shape
    span = trial_ms - 4 * dt_ms
    # The bias is a zero-valued feature so that it goes through the same formula.
    with_bias = np.zeros((n, k + 1), dtype=np.float64)
    with_bias[:, 1:] = v
    times = with_bias * span + 2 * dt_ms
    ids = np.arange(k + 1, dtype=np.int64)
    return [(times[i].copy(), ids.copy()) for i in range(n)]
