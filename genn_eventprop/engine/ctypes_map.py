"""C type names of model variables and their numpy equivalents."""
from __future__ import annotations

import numpy as np

from .errors import ModelDefinitionError

_FIXED = {
    "float": np.float32, "double": np.float64,
    "int": np.int32, "signed int": np.int32, "int32_t": np.int32,
    "unsigned int": np.uint32, "unsigned": np.uint32, "uint32_t": np.uint32,
    "int8_t": np.int8, "uint8_t": np.uint8, "char": np.int8, "unsigned char": np.uint8,
    "int16_t": np.int16, "uint16_t": np.uint16, "short": np.int16,
    "unsigned short": np.uint16, "int64_t": np.int64, "uint64_t": np.uint64,
    "long long": np.int64, "unsigned long long": np.uint64, "bool": np.uint8,
}


def normalise(c_type: str) -> str:
    return " ".join(c_type.replace("*", " ").split())


def resolve(c_type: str, precision: str) -> str:
    """The concrete C type of a (possibly ``scalar``) type name."""
    t = normalise(c_type)
    if t in ("scalar", "timepoint"):
        return precision
    return t


def numpy_dtype(c_type: str, precision: str, where: str = "") -> np.dtype:
    t = resolve(c_type, precision)
    if t not in _FIXED:
        raise ModelDefinitionError(
            f"{where}: unsupported type '{c_type}'. Supported: scalar, "
            f"{', '.join(sorted(_FIXED))}")
    return np.dtype(_FIXED[t])


def c_storage_type(c_type: str, precision: str) -> str:
    """The C type used for arrays (bool stored as uint8_t so numpy can share it)."""
    t = resolve(c_type, precision)
    return "uint8_t" if t == "bool" else t


def c_literal(value, c_type: str, precision: str) -> str:
    """A C literal of ``value`` converted to ``c_type``."""
    t = resolve(c_type, precision)
    if t in ("float", "double"):
        v = float(value)
        if np.isnan(v):
            return "NAN"
        if np.isinf(v):
            return "INFINITY" if v > 0 else "-INFINITY"
        return f"({t}){v!r}"
    if t == "bool":
        return "true" if value else "false"
    return f"({t}){int(value)}"
