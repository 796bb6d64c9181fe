"""Spike samples on the simulation grid, stored compactly.

``GridSpikes`` holds many samples as flat arrays (time step, channel) plus
offsets, and behaves as a read-only sequence of samples ``(times_ms, ids)``
as the simulators expect. ``to_grid`` turns raw spike times (ms) into it the
way the original code prepared SHD/SSC (tonic's ``CropTime`` and its own
``EventsToGrid``): spikes after ``crop_ms`` are dropped, times are scaled by
``rescale_t`` and channels by ``rescale_x`` (floor), spikes at or after the
trial end are dropped, and each (channel, step of ``dt``) keeps one spike, at
the start of the step.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Dict, Optional, Sequence, Tuple

import numpy as np


@dataclass
class GridSpikes:
    """Samples as flat arrays: ``steps`` (uint16, or int32 for trials of more than
    65535 steps), ``ids`` (uint16), ``offsets`` (n+1),
    with ``labels`` and ``speakers`` (-1: unknown) per sample; ``dt`` in ms."""
    steps: np.ndarray
    ids: np.ndarray
    offsets: np.ndarray
    labels: np.ndarray
    speakers: np.ndarray
    dt: float
    n_channels: int

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, i) -> Tuple[np.ndarray, np.ndarray]:
        a, b = int(self.offsets[i]), int(self.offsets[i + 1])
        return self.steps[a:b] * self.dt, self.ids[a:b].astype(np.int64)

    def spike_counts(self) -> np.ndarray:
        return np.diff(self.offsets)

    def subset(self, indices: Sequence[int]) -> "GridSpikes":
        """The samples ``indices`` (in that order), as a new compact set (the set itself
        when that is all of it, in order: SSC's training file is gigabytes)."""
        idx = np.asarray(indices, dtype=np.int64)
        if len(idx) == len(self) and np.array_equal(idx, np.arange(len(self))):
            return self
        counts = self.spike_counts()[idx]
        offsets = np.concatenate(([0], np.cumsum(counts))).astype(np.int64)
        take = (np.repeat(self.offsets[idx] - offsets[:-1], counts)
                + np.arange(offsets[-1], dtype=np.int64))
        return GridSpikes(self.steps[take], self.ids[take], offsets, self.labels[idx],
                          self.speakers[idx], self.dt, self.n_channels)


def concat_grids(grids: Sequence[GridSpikes]) -> GridSpikes:
    """The samples of several grids of the same ``dt`` and channels, one after another."""
    if not grids:
        raise ValueError("concat_grids needs at least one grid")
    first = grids[0]
    for g in grids[1:]:
        if g.dt != first.dt or g.n_channels != first.n_channels:
            raise ValueError(f"grids differ: dt {g.dt} vs {first.dt}, channels "
                             f"{g.n_channels} vs {first.n_channels}")
    starts = np.cumsum([0] + [int(g.offsets[-1]) for g in grids[:-1]])
    offsets = np.concatenate([[0]] + [np.asarray(g.offsets[1:]) + a
                                      for g, a in zip(grids, starts)]).astype(np.int64)
    steps_dtype = np.result_type(*[g.steps.dtype for g in grids])
    return GridSpikes(np.concatenate([g.steps for g in grids]).astype(steps_dtype, copy=False),
                      np.concatenate([g.ids for g in grids]),
                      offsets, np.concatenate([g.labels for g in grids]),
                      np.concatenate([g.speakers for g in grids]), first.dt, first.n_channels)


def to_grid(times: np.ndarray, units: np.ndarray, offsets: np.ndarray, labels, speakers,
            dt: float, trial_ms: float, n_channels: int, rescale_t: float = 1.0,
            rescale_x: float = 1.0, crop_ms: float = 1000.0, chunk_spikes: int = 1 << 21,
            time_scale: float = 1.0) -> Tuple[GridSpikes, int]:
    """Raw spikes of many samples -> ``GridSpikes``; also returns how many spikes were
    dropped for falling after ``crop_ms`` or the trial end (duplicates in a grid cell
    are merged, not counted as dropped). ``times`` are in units of ``time_scale`` ms
    (1000 for the files' seconds) and are cast to float64 before scaling. Works through
    whole samples of at most about ``chunk_spikes`` spikes at a time and writes into
    arrays sized once, so that memory stays near the result's size (4 bytes per
    spike; 6 for trials of more than 65535 steps) whatever the data set's size."""
    offsets = np.asarray(offsets, dtype=np.int64)
    n = len(offsets) - 1
    n_x = max(int(n_channels * rescale_x), 1)
    total = int(offsets[-1] - offsets[0]) if n else 0
    n_steps = int(round(trial_ms / dt)) + 1
    steps_out = np.empty(total, np.uint16 if n_steps <= 1 << 16 else np.int32)
    ids_out = np.empty(total, np.uint16)
    counts = np.zeros(n, np.int64)
    filled = dropped = first = 0
    while first < n:
        # Whole samples, at least one, up to chunk_spikes spikes.
        last = max(int(np.searchsorted(offsets, offsets[first] + chunk_spikes, "right")) - 1,
                   first + 1)
        last = min(last, n)
        a, b = int(offsets[first]), int(offsets[last])
        steps, ids, chunk_counts, lost = _grid_chunk(
            np.asarray(times[a:b], dtype=np.float64) * time_scale, np.asarray(units[a:b]),
            offsets[first:last + 1] - a, dt, trial_ms, n_x, rescale_t, rescale_x, crop_ms)
        steps_out[filled:filled + len(steps)] = steps
        ids_out[filled:filled + len(ids)] = ids
        counts[first:last] = chunk_counts
        filled += len(steps)
        dropped += lost
        first = last
    new_offsets = np.concatenate(([0], np.cumsum(counts))).astype(np.int64)
    # Slices, not copies: the tail (dropped and merged spikes) is a few percent.
    grid = GridSpikes(steps_out[:filled], ids_out[:filled], new_offsets,
                      np.asarray(labels, dtype=np.int64), np.asarray(speakers, dtype=np.int64),
                      float(dt), n_x)
    return grid, dropped


def _grid_chunk(times_ms, units, offsets, dt, trial_ms, n_x, rescale_t, rescale_x, crop_ms):
    """``to_grid`` for consecutive samples: (steps, ids, spikes per sample, dropped)."""
    n = len(offsets) - 1
    sample = np.repeat(np.arange(n, dtype=np.int64), np.diff(offsets))
    t = times_ms * rescale_t
    keep = (times_ms < crop_ms) & (t < trial_ms)
    dropped = int((~keep).sum())
    t, x, sample = t[keep], np.floor(units[keep] * rescale_x).astype(np.int64), sample[keep]
    steps = np.floor(t / dt).astype(np.int64)
    n_steps = int(round(trial_ms / dt)) + 1
    # Sort and drop repeats: np.unique's hash path (numpy >= 2.3) is ~10x slower here.
    key = np.sort((sample * n_steps + steps) * n_x + x)
    key = key[np.concatenate(([True], key[1:] != key[:-1]))] if key.size else key
    sample = key // (n_steps * n_x)
    return (((key // n_x) % n_steps).astype(np.int32), (key % n_x).astype(np.uint16),
            np.bincount(sample, minlength=n), dropped)


_GRID_ARRAYS = ("steps", "ids", "offsets", "labels", "speakers")
_GRID_CACHE_VERSION = 1


def grid_cache_key(source: str, settings: Dict[str, Any]) -> str:
    """Name of the cache entry of ``source`` (a data file's identity: path, size, mtime)
    binned with ``settings`` (every value that shapes the grid)."""
    text = json.dumps({"source": source, "settings": settings,
                       "version": _GRID_CACHE_VERSION}, sort_keys=True)
    return "grid-" + hashlib.sha1(text.encode("utf-8")).hexdigest()[:20]


def load_grid(entry: Path) -> Optional[Tuple[GridSpikes, Dict[str, Any]]]:
    """A cached grid (memory-mapped) and its metadata, or None if absent or damaged."""
    try:
        meta = json.loads((entry / "meta.json").read_text())
        arrays = {k: np.load(entry / f"{k}.npy", mmap_mode="r") for k in _GRID_ARRAYS}
    except (OSError, ValueError):
        return None
    grid = GridSpikes(arrays["steps"], arrays["ids"], np.asarray(arrays["offsets"]),
                      np.asarray(arrays["labels"]), np.asarray(arrays["speakers"]),
                      float(meta["dt"]), int(meta["n_channels"]))
    return grid, meta


def prune_stale_grids(root: Path, source: str, identity: str) -> int:
    """Remove the cached grids of ``source`` (a data file's path) made from an earlier
    version of it (``meta["identity"]``, its size and mtime, differs from
    ``identity``): once the file is replaced they can never be used again and hold
    up to gigabytes each. Grids of other files, and of the current file with other
    settings, stay. Returns the number removed."""
    removed = 0
    try:
        entries = [e for e in root.iterdir() if e.is_dir() and e.name.startswith("grid-")]
    except OSError:
        return 0
    for entry in entries:
        try:
            meta = json.loads((entry / "meta.json").read_text())
        except (OSError, ValueError):
            continue
        if meta.get("source") == source and meta.get("identity") not in (None, identity):
            shutil.rmtree(entry, ignore_errors=True)
            removed += not entry.exists()
    return removed


def cached_grid(entry: Path, build: Callable[[], Tuple[GridSpikes, Dict[str, Any]]],
                after_save: Optional[Callable[[], Any]] = None
                ) -> Tuple[GridSpikes, Dict[str, Any]]:
    """(grid, metadata) from the cache entry, memory-mapped; else ``build()``'s, saved
    there (then ``after_save()``) and used through the saved, memory-mapped copy, so the
    binned arrays (gigabytes for SSC) need not stay in the process's own memory. When
    the folder cannot be written the built grid is kept in memory."""
    cached = load_grid(entry)
    if cached is not None:
        return cached
    grid, meta = build()
    if save_grid(entry, grid, meta):
        if after_save is not None:
            after_save()
        saved = load_grid(entry)
        if saved is not None:
            return saved
    return grid, meta


def save_grid(entry: Path, grid: GridSpikes, meta: Dict[str, Any]) -> bool:
    """Write a grid cache entry atomically (a temporary folder renamed into place);
    False when the folder cannot be written (the caller keeps the grid in memory)."""
    try:
        entry.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=".tmp_grid_", dir=entry.parent))
    except OSError:
        return False
    try:
        for k in _GRID_ARRAYS:
            np.save(tmp / f"{k}.npy", getattr(grid, k))
        (tmp / "meta.json").write_text(json.dumps(dict(meta, dt=grid.dt,
                                                       n_channels=grid.n_channels)))
        os.replace(tmp, entry)
        return True
    except OSError:
        return entry.exists()
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
