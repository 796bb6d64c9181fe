"""Train on the Spiking Heidelberg Digits as the original train_SHD.py example does.

Speaker evaluation (speaker 0 left out for validation), the sum_weigh_exp loss,
spike numbers normalised, classes balanced, one recurrent hidden layer; then a
test on the test file with the network of the best validation epoch. Writes
the resolved parameters (NAME.json), per-epoch results and a summary under
OUT_DIR. Any key can be changed on the command line:

    python train_SHD.py --set DATA_DIR=/path/to/shd --set N_EPOCH=50
    python train_SHD.py --set DATA_DIR=data --params more.json --mode train
    python train_SHD.py --list-params

The data files (shd_train.h5, shd_test.h5, or .h5.gz) are looked up in DATA_DIR,
else $GENN_EVENTPROP_DATA; `genn-eventprop data shd` downloads them.
"""
import sys

from genn_eventprop.cli import run

EXAMPLE = {
    "NAME": "train_SHD",
    "EVALUATION": "speaker",
    "SPEAKER_LEFT": 0,
    "N_TRAIN": None,
    "LOSS_TYPE": "sum_weigh_exp",
    "AUGMENTATION": {"NORMALISE_SPIKE_NUMBER": True},
    "BALANCE_TRAIN_CLASSES": True,
    "BALANCE_EVAL_CLASSES": True,
    "RECURRENT": True,
    "NUM_HIDDEN": 256,
    "N_EPOCH": 50,
}

if __name__ == "__main__":
    sys.exit(run("shd", sys.argv[1:], EXAMPLE, prog="train_SHD.py"))
