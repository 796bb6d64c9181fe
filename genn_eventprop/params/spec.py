"""One parameter: default, documentation, type and range check."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Optional, Sequence, Tuple

from ..errors import UserError


class ParamError(UserError, ValueError):
    """A parameter dict ``p`` is invalid; the message names the key and the fix."""


def _type_name(kinds) -> str:
    return " or ".join(k.__name__ for k in kinds)


@dataclass(frozen=True)
class ParamSpec:
    """``kinds``: accepted Python types (int is accepted where float is);
    ``low``/``high``: inclusive bounds for numbers; ``choices``: allowed values;
    ``item``: check applied to each element of a list value."""
    default: Any
    doc: str
    kinds: Tuple[type, ...] = ()
    low: Optional[float] = None
    high: Optional[float] = None
    choices: Optional[Sequence[Any]] = None
    item: Optional[Callable[[str, Any], Any]] = None
    nullable: bool = False
    convert: Optional[Callable[[str, Any], Any]] = None

    def check(self, key: str, value: Any) -> Any:
        if self.convert is not None:
            return self.convert(key, value)
        if value is None and self.nullable:
            return value
        kinds = self.kinds or (type(self.default),)
        if float in kinds and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if isinstance(value, bool) and bool not in kinds:
            raise ParamError(f"parameter '{key}' must be {_type_name(kinds)}, got bool {value!r}")
        if not isinstance(value, kinds):
            raise ParamError(f"parameter '{key}' must be {_type_name(kinds)}, got "
                             f"{type(value).__name__} {value!r}")
        if self.choices is not None and value not in self.choices:
            raise ParamError(f"parameter '{key}' must be one of {list(self.choices)}, "
                             f"got {value!r}")
        if self.low is not None and value < self.low:
            raise ParamError(f"parameter '{key}' must be >= {self.low}, got {value!r}")
        if self.high is not None and value > self.high:
            raise ParamError(f"parameter '{key}' must be <= {self.high}, got {value!r}")
        if self.item is not None:
            value = [self.item(f"{key}[{i}]", v) for i, v in enumerate(value)]
        return value


def num(default, doc, low=None, high=None, integer=False, nullable=False) -> ParamSpec:
    return ParamSpec(default, doc, (int,) if integer else (float,), low, high, nullable=nullable)


def flag(default, doc) -> ParamSpec:
    return ParamSpec(default, doc, (bool,))


def text(default, doc, choices=None, nullable=False) -> ParamSpec:
    return ParamSpec(default, doc, (str,), choices=choices, nullable=nullable)


def checked(default, doc, convert: Callable[[str, Any], Any]) -> ParamSpec:
    """A parameter validated (and normalised) by ``convert(key, value)``."""
    return ParamSpec(default, doc, convert=convert)


def fixed(value, doc) -> ParamSpec:
    """A key of the original kept so that its scripts run: only ``value`` (its no-op
    setting here) is accepted; ``doc`` says why and what to use instead."""
    def convert(key, given):
        if given != value or type(given) is not type(value):
            raise ParamError(f"'{key}' = {given!r} cannot be honoured: {doc}")
        return given
    return ParamSpec(value, doc, convert=convert)


def _epoch_trial(key, value):
    if (not isinstance(value, (list, tuple)) or len(value) != 2
            or not all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in value)):
        raise ParamError(f"'{key}' must be a pair [epoch, trial] of non-negative integers, "
                         f"got {value!r}")
    return [int(value[0]), int(value[1])]


def epoch_trials(doc) -> ParamSpec:
    """A list of [epoch, trial] pairs: trial = index (from 0) of the training mini-batch
    within the epoch; both must lie inside the run (checked when the run starts)."""
    return ParamSpec([], doc, (list,), item=_epoch_trial)


def names(default, doc, choices) -> ParamSpec:
    def one(key, value):
        if value not in choices:
            raise ParamError(f"'{key}' must be one of {list(choices)}, got {value!r}")
        return value
    return ParamSpec(default, doc, (list,), item=one)


def pairs(default, doc, first_choices) -> ParamSpec:
    """A list of (population, variable) pairs."""
    def one(key, value):
        if (not isinstance(value, (list, tuple)) or len(value) != 2
                or not all(isinstance(v, str) for v in value)):
            raise ParamError(f"'{key}' must be a pair (population, variable), got {value!r}")
        if value[0] not in first_choices:
            raise ParamError(f"'{key}': population '{value[0]}' is not one of "
                             f"{list(first_choices)}")
        return (value[0], value[1])
    return ParamSpec(default, doc, (list,), item=one)
