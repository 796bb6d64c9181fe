"""DVS128 Gesture with EventProp (the original's ``simulator_DVS_gesture.py``).

Usage, as with the original research code::

    from genn_eventprop.simulators.dvs_gesture import p, DVSGestureModel
    p["DATA_DIR"] = "data"          # the IBM release or tonic's layout
    res = DVSGestureModel(p).train_test(p)

Events are read from the IBM release (AEDAT 3.1 recordings cut at their label
windows) or from tonic's ``.npy`` layout (``datasets.dvs_gesture``), down-sampled
in space by DOWNSAMPLE (4: 32 x 32 pixels), each pixel with an OFF and an ON
input channel (2048 inputs), then binned to DT_MS as SHD is (one spike per
channel and step, at the start of the step); events at or after TRIAL_MS are
dropped and counted in the run's ``data_report``. Subjects play the part of
SHD's speakers (EVALUATION='speaker', cross_validate over SPEAKER_LEFT).
Everything else (splits, class balancing, REWIRE_SILENT) is the SHD simulator's.

The original passed tonic's event times, which tonic gives in µs, to the
network as if they were ms, so an 18000 "ms" trial saw only the first 18 ms of
each gesture; here times are converted to ms.
"""
from __future__ import annotations

from functools import lru_cache
from typing import Dict, List, Tuple

import numpy as np

from ..datasets.dvs_gesture import (CLASSES, find_dvs_gesture, iter_dvs_gesture, n_channels,
                                    to_channels)
from ..datasets.shd import cache_root
from ..datasets.spikes import GridSpikes, cached_grid, concat_grids, grid_cache_key, to_grid
from ..params import defaults
from .shd import SHDModel

#: The default parameters (a fresh copy; edit it and pass it in, as in the original).
p = defaults("dvs_gesture")


class DVSGestureModel(SHDModel):
    """DVS gesture classification with EventProp (see module docstring)."""

    benchmark = "dvs_gesture"
    FILE_KEYS = ("DATA_DIR", "DT_MS", "TRIAL_MS", "DOWNSAMPLE", "REDUCED_CLASSES")

    def data_name(self, p) -> str:
        return "DVS gesture"

    def dropped_label(self, which: str) -> str:
        return f"events of the {which} split at or after the trial end"

    def read_grid(self, p, which: str) -> Tuple[GridSpikes, List[str], int]:
        source = find_dvs_gesture(p["DATA_DIR"])
        stats = [(f, f.stat()) for group in source.files(which) for f in group]
        identity = tuple((str(f), st.st_size, st.st_mtime_ns) for f, st in stats)
        grid, counts = _gesture_grid(source.fmt, str(source.root), which, identity,
                                     p["DATA_DIR"], p["DT_MS"], p["TRIAL_MS"], p["DOWNSAMPLE"])
        for what, n in counts.items():
            if what != "after_trial_end" and n:
                self._dropped[f"{which} split: {what.replace('_', ' ')}"] = n
        return grid, list(CLASSES), counts["after_trial_end"]


@lru_cache(maxsize=4)
def _gesture_grid(fmt: str, root: str, split: str, identity: Tuple, data_dir, dt: float,
                  trial_ms: float, factor: int) -> Tuple[GridSpikes, Dict[str, int]]:
    """One split binned to the grid, once per process and setting, and kept on disk
    (keyed by every file's path, size and mtime and the settings): reading and
    binning the real recordings takes minutes. Also returns what was left out: the
    reader's counts (``DVSEvents.report``), events at or after the trial end and
    events merged into one spike per channel and step (``events_merged``)."""
    settings = {"dt": dt, "trial_ms": trial_ms, "downsample": factor, "split": split}
    entry = cache_root(f"{root}/{fmt}") / grid_cache_key(repr(identity), settings)

    def build():
        grids, counts = [], {"after_trial_end": 0, "events_merged": 0}
        for events in iter_dvs_gesture(data_dir, split):
            ids = to_channels(events.x, events.y, events.p, factor)
            grid, lost = to_grid(events.t_ms, ids, events.offsets, events.labels,
                                 events.users, dt, trial_ms, n_channels(factor),
                                 crop_ms=np.inf)
            grids.append(grid)
            counts["after_trial_end"] += lost
            counts["events_merged"] += len(ids) - lost - len(grid.ids)
            for what, n in events.report.items():
                counts[what] = counts.get(what, 0) + int(n)
        return concat_grids(grids), {"counts": counts, "source": root, "split": split}

    grid, meta = cached_grid(entry, build)
    return grid, meta["counts"]


#: Name of the original research code's class.
DVSG_model = DVSGestureModel

__all__ = ["p", "DVSGestureModel", "DVSG_model"]
