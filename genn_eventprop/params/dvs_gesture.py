"""DVS gesture defaults: every key of the original ``simulator_DVS_gesture.py``, on top
of the common keys. Differences from the original are said in the key docs."""
from __future__ import annotations

from typing import Any

from .common import with_defaults
from .shd import EVALUATIONS, SHD
from .spec import ParamError, checked, fixed, num, text

#: SHD/SSC keys that have no meaning for event-camera data.
_SHD_ONLY = ("DATA_SET", "RESCALE_T", "RESCALE_X", "DOWNLOAD_SHD", "N_FOLD")


def _factor(key: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1 or 128 % value:
        raise ParamError(f"'{key}' must be a positive integer that divides 128 (the sensor "
                         f"width), e.g. 4 for 32 x 32 pixels, got {value!r}")
    return int(value)


DVS_GESTURE = with_defaults(
    {**{k: v for k, v in SHD.items() if k not in _SHD_ONLY},
     "DATA_DIR": text(None, "folder with the IBM release (DvsGesture/ with the .aedat files, "
                            "label CSVs and trials_to_train/test.txt) or tonic's layout "
                            "(DVSGesture/ibmGestureTrain, ibmGestureTest); None: "
                            "$GENN_EVENTPROP_DATA", nullable=True),
     "EVALUATION": text("random", "validation data: 'random' (N_VALIDATE samples of the "
                                  "training split) or 'speaker' (every gesture of the subject "
                                  "SPEAKER_LEFT)", EVALUATIONS[:2]),
     "SPEAKER_LEFT": SHD["SPEAKER_LEFT"],
     "N_TRAIN": num(None, "training samples per epoch (None: every training sample not used "
                          "for validation; the original's 1045 is tonic's 1077 minus 32)",
                    low=1, integer=True, nullable=True),
     "N_VALIDATE": num(32, "validation samples with EVALUATION='random' (0: none)", low=0,
                       integer=True),
     "DOWNSAMPLE": checked(4, "spatial down-sampling of the 128 x 128 sensor (the original's "
                              "tonic Downsample(spatial_factor=0.25)): input channel "
                              "(y//f * 128/f + x//f) * 2 + polarity", _factor),
     "AUGMENTATION": fixed({}, "the original's spike-train augmentations are implemented for "
                               "SHD/SSC only (genn-eventprop shd)"),
     "N_FOLD": num(5, "cross_validate with EVALUATION='random': number of folds", low=2,
                   integer=True)},
    NAME="dvs_gesture", DT_MS=1.0, TRIAL_MS=18000.0, N_MAX_SPIKE=3000, N_EPOCH=100,
    NUM_HIDDEN=256, INPUT_HIDDEN_MEAN=0.02, INPUT_HIDDEN_STD=0.01, HIDDEN_OUTPUT_MEAN=0.0,
    HIDDEN_OUTPUT_STD=0.3, HIDDEN_HIDDEN_MEAN=0.0, HIDDEN_HIDDEN_STD=0.02, PDROP_INPUT=0.1,
    REG_TYPE="none", ETA=1e-3, LOSS_TYPE="sum_weigh_exp", SPEAKER_LEFT=1)
