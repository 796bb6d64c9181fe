"""Checks and wraps the C-like code strings of model definitions.

Snippets are pasted verbatim into generated C++. Before that, every identifier
is checked against the names the snippet may use, so that a typo is reported
against the model and snippet (with its line) instead of as a C++ error.
"""
from __future__ import annotations

import difflib
import re
from typing import Iterable, List, Set, Tuple

from .errors import SnippetError

C_KEYWORDS = {
    "if", "else", "for", "while", "do", "return", "break", "continue", "switch", "case",
    "default", "const", "static", "true", "false", "sizeof", "goto", "void", "inline",
    "static_cast", "reinterpret_cast", "constexpr", "unsigned", "signed", "long", "short",
}
C_TYPES = {
    "scalar", "float", "double", "int", "bool", "char", "auto", "size_t", "timepoint",
    "uint8_t", "int8_t", "uint16_t", "int16_t", "uint32_t", "int32_t", "uint64_t", "int64_t",
}
C_MATH = {
    "exp", "expf", "exp2", "expm1", "log", "logf", "log2", "log10", "log1p", "sqrt", "sqrtf",
    "cbrt", "pow", "powf", "fabs", "fabsf", "abs", "fmin", "fmax", "fminf", "fmaxf", "min",
    "max", "floor", "floorf", "ceil", "ceilf", "round", "roundf", "trunc", "rint", "lrint",
    "fmod", "remainder", "sin", "cos", "tan", "asin", "acos", "atan", "atan2", "sinh", "cosh",
    "tanh", "asinh", "acosh", "atanh", "erf", "erfc", "tgamma", "lgamma", "hypot", "copysign",
    "isnan", "isinf", "isfinite", "signbit", "fma", "ldexp", "frexp", "modf", "nan",
    "INFINITY", "NAN", "M_PI", "M_E", "FLT_MAX", "DBL_MAX", "FLT_MIN", "DBL_MIN",
    "FLT_EPSILON", "DBL_EPSILON", "INT_MAX", "UINT_MAX", "SCALAR_MAX", "SCALAR_MIN",
    "TIME_MAX", "printf",
}
RANDOM_FUNCS = {"gennrand", "gennrand_uniform", "gennrand_normal", "gennrand_exponential",
                "gennrand_log_normal", "gennrand_gamma", "gennrand_binomial"}

#: Names every kernel defines itself; a model may not declare them.
GENN_BUILTIN_NAMES = {"t", "dt", "id", "batch", "id_pre", "id_post", "id_syn", "num_neurons",
                      "num_pre", "num_post", "num_batch"}


def check_declared_name(name: str, where: str) -> None:
    """Raise SnippetError unless ``name`` may be declared by a model.

    Names starting with ``_`` are reserved for the generated code's own locals,
    so that a user name can never shadow one of them.
    """
    if not isinstance(name, str) or not name.isidentifier() or not name.isascii():
        raise SnippetError(f"{where}: '{name}' is not a valid C identifier")
    if name.startswith("_"):
        raise SnippetError(f"{where}: '{name}' starts with '_', which is reserved for "
                           f"generated code; rename it")
    if name in C_KEYWORDS or name in C_TYPES or name in GENN_BUILTIN_NAMES:
        raise SnippetError(f"{where}: '{name}' is a C keyword, type or a name GeNN defines "
                           f"itself ({', '.join(sorted(GENN_BUILTIN_NAMES))}); rename it")


_TOKEN = re.compile(r"""
    (?P<comment>//[^\n]*|/\*.*?\*/)
  | (?P<string>"(?:\\.|[^"\\])*"|'(?:\\.|[^'\\])*')
  | (?P<number>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?[fFdDuUlL]*)
  | (?P<ident>[A-Za-z_]\w*)
  | (?P<other>->|::|\S)
""", re.VERBOSE | re.DOTALL)

_DECL_TYPES = C_TYPES | {"unsigned", "signed", "long", "short"}


def tokens(code: str) -> List[Tuple[str, str, int]]:
    """(kind, text, line) for each token, comments dropped; lines count from 1."""
    out = []
    for m in _TOKEN.finditer(code):
        kind = m.lastgroup
        if kind == "comment":
            continue
        line = code.count("\n", 0, m.start()) + 1
        out.append((kind, m.group(), line))
    return out


def declared_names(toks: List[Tuple[str, str, int]]) -> Set[str]:
    """Names declared locally in a snippet (``scalar a = 1, b;``, ``for (int i ...``)."""
    names: Set[str] = set()
    i, n = 0, len(toks)
    while i < n:
        kind, text, _ = toks[i]
        if kind == "ident" and text in _DECL_TYPES:
            j = i + 1
            while j < n and (toks[j][1] in _DECL_TYPES or toks[j][1] in ("*", "&", "const")):
                j += 1
            if j < n and toks[j][0] == "ident":
                names.add(toks[j][1])
                depth = 0
                k = j + 1
                while k < n:
                    t = toks[k][1]
                    if t in "([{":
                        depth += 1
                    elif t in ")]}":
                        if depth == 0:
                            break
                        depth -= 1
                    elif t == ";" and depth == 0:
                        break
                    elif t == "," and depth == 0 and k + 1 < n and toks[k + 1][0] == "ident":
                        names.add(toks[k + 1][1])
                    k += 1
            i = j
        i += 1
    return names


def used_identifiers(code: str) -> List[Tuple[str, int]]:
    """Identifiers a snippet reads or calls, excluding members (``a.b``) and locals."""
    toks = tokens(code)
    local = declared_names(toks)
    out = []
    for i, (kind, text, line) in enumerate(toks):
        if kind != "ident":
            continue
        prev = toks[i - 1][1] if i > 0 else ""
        if prev in (".", "->", "::"):
            continue
        if text in local or text in C_KEYWORDS or text in C_TYPES:
            continue
        out.append((text, line))
    return out


def closest(name: str, valid: Iterable[str]) -> str:
    """Text suggesting the closest valid name, or an empty string."""
    match = difflib.get_close_matches(name, list(valid), n=1, cutoff=0.6)
    return f" Did you mean '{match[0]}'?" if match else ""


def check_identifiers(code: str, allowed: Iterable[str], where: str) -> None:
    """Raise SnippetError naming ``where`` and the line if ``code`` uses an unknown name."""
    allowed = set(allowed) | C_MATH
    for name, line in used_identifiers(code):
        if name not in allowed:
            valid = sorted(n for n in allowed if n not in C_MATH)
            raise SnippetError(
                f"{where}, line {line}: unknown identifier '{name}'.{closest(name, valid)} "
                f"Valid names here: {', '.join(valid)} (plus C math functions).")


def uses(code: str, name: str) -> bool:
    """Whether ``code`` mentions the identifier ``name``."""
    return any(t == name for k, t, _ in tokens(code) if k == "ident")


_COMPOUND = set("+-*/%&|^")


def assigns(code: str, name: str) -> bool:
    """Whether ``code`` may modify the identifier ``name``.

    Conservative: assignment, compound assignment, ++/-- and taking the
    address count as modification (a false positive only costs a store).
    """
    toks = [t for k, t, _ in tokens(code) if k != "string"]
    for i, t in enumerate(toks):
        if t != name:
            continue
        nxt = toks[i + 1:i + 4]
        if nxt[:1] == ["="] and nxt[1:2] != ["="]:
            return True
        if len(nxt) >= 2 and nxt[0] in _COMPOUND and nxt[1] == "=":
            return True
        if nxt[:2] in (["+", "+"], ["-", "-"]) or nxt[:3] in (["<", "<", "="], [">", ">", "="]):
            return True
        prev = toks[max(0, i - 2):i]
        if prev in (["+", "+"], ["-", "-"]) or prev[-1:] == ["&"]:
            return True
    return False


def typed_literals(code: str, precision: str) -> str:
    """``code`` with its floating-point literals typed as GeNN 5 types them.

    An unsuffixed literal (``1.0``, ``2e-3``) has the model's scalar type (a
    ``float`` in single precision, where C++ would make it a ``double``); ``f``
    makes a float and GeNN's own ``d`` suffix a double. Comments and strings are
    left alone.
    """
    out, pos = [], 0
    for m in _TOKEN.finditer(code):
        if m.lastgroup != "number":
            continue
        text = m.group()
        body = text.rstrip("fFdDuUlL")
        suffix = text[len(body):]
        if not ("." in body or "e" in body or "E" in body) or suffix.lower() not in ("", "d"):
            continue
        typed = body + ("f" if suffix == "" and precision == "float" else "")
        out.append(code[pos:m.start()])
        out.append(typed)
        pos = m.end()
    out.append(code[pos:])
    return "".join(out)


def with_line(code: str, label: str) -> str:
    """The snippet preceded by a ``#line`` directive so compiler errors name ``label``."""
    label = label.replace("\\", "/").replace('"', "'")
    return f'#line 1 "{label}"\n{code.rstrip()}\n'
