"""Learning-rate schedule of the original simulators, as one small state machine.

- ``ETA_DECAY``: at the start of every training epoch, lr *= ETA_DECAY.
- ``LR_EASE_IN_FACTOR``: each run starts at lr/1000 and the rate used grows by
  this factor after every batch until it reaches lr (1.0 switches it off).
- ``ETA_FAC``/``MIN_EPOCH_ETA_FIXED``: after every epoch a fast and a slow EMA
  of the accuracy (factors EMA_ALPHA1, EMA_ALPHA2) are updated; when more than
  MIN_EPOCH_ETA_FIXED epochs have passed since the last reduction and the fast
  EMA is not above the slow one, lr *= ETA_FAC.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass
class LearningRate:
    eta: float
    decay: float = 1.0
    ease_in: float = 1.0
    fac: float = 0.5
    min_epochs_fixed: int = 10 ** 6
    ema_alpha1: float = 0.8
    ema_alpha2: float = 0.95
    lr: float = 0.0
    current: float = 0.0
    ema_fast: float = 0.0
    ema_slow: float = 0.0
    last_reduction: int = 0

    def __post_init__(self):
        if self.lr == 0.0:
            self.lr = self.eta
        if self.current == 0.0:
            self.current = self.lr / 1000.0 if self.ease_in > 1.0 else self.lr

    def start_epoch(self) -> None:
        self.lr *= self.decay
        self.current = min(self.current, self.lr) if self.ease_in > 1.0 else self.lr

    def after_batch(self) -> None:
        if self.ease_in > 1.0:
            self.current = min(self.current * self.ease_in, self.lr)

    def end_epoch(self, epoch: int, accuracy: float) -> bool:
        """Update the EMAs; returns True when the rate was reduced."""
        self.ema_fast = self.ema_alpha1 * self.ema_fast + (1.0 - self.ema_alpha1) * accuracy
        self.ema_slow = self.ema_alpha2 * self.ema_slow + (1.0 - self.ema_alpha2) * accuracy
        if epoch - self.last_reduction > self.min_epochs_fixed and self.ema_fast <= self.ema_slow:
            self.lr *= self.fac
            self.current = self.lr
            self.last_reduction = epoch
            return True
        return False

    def state(self) -> dict:
        return asdict(self)
