"""Compiles generated C++ into a shared library, cached by content hash.

One directory per hash of (source, compiler, flags) under the cache root
(``GENN_EVENTPROP_CACHE``, else the user cache dir). A second build of an
unchanged model compiles nothing. Concurrent builds of the same model (e.g.
cross-validation folds in parallel processes) serialise on a file lock, and
the library appears atomically (compiled to a temporary name, then renamed).
"""
from __future__ import annotations

import fcntl
import hashlib
import os
import re
import shutil
import subprocess
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional

from .errors import BuildError

BASE_FLAGS = ["-std=c++17", "-O3", "-fPIC", "-shared", "-fno-math-errno"]
_warned_no_openmp = False


def cache_root() -> Path:
    env = os.environ.get("GENN_EVENTPROP_CACHE")
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "genn_eventprop"


def find_compiler() -> str:
    """The C++ compiler: ``$CXX``, else g++, else clang++."""
    cxx = os.environ.get("CXX")
    candidates = [cxx] if cxx else ["g++", "c++", "clang++"]
    for c in candidates:
        path = shutil.which(c.split()[0]) if c else None
        if path:
            return c
    raise BuildError(
        "no C++17 compiler found (tried " + ", ".join(c for c in candidates if c) + "). "
        "Install one, e.g. 'sudo apt-get install g++' (Debian/Ubuntu), 'xcode-select --install'"
        " (macOS) or 'conda install cxx-compiler', or set CXX to its path.")


def _compiler_id(cxx: str) -> str:
    try:
        out = subprocess.run(cxx.split() + ["--version"], capture_output=True, text=True,
                             timeout=60)
        return out.stdout.splitlines()[0] if out.stdout else cxx
    except (OSError, subprocess.SubprocessError):
        return cxx


_openmp_cache: Dict[str, bool] = {}


def openmp_flags(cxx: str) -> List[str]:
    """``-fopenmp`` if the compiler supports it; warn once and go single-threaded if not."""
    global _warned_no_openmp
    if cxx not in _openmp_cache:
        with tempfile.TemporaryDirectory() as d:
            src = Path(d) / "omp.cpp"
            src.write_text("#include <omp.h>\nint main(){return omp_get_max_threads() > 0 ? 0 : 1;}\n")
            res = subprocess.run(cxx.split() + ["-fopenmp", str(src), "-o", str(Path(d) / "a")],
                                 capture_output=True, text=True)
            _openmp_cache[cxx] = res.returncode == 0
    if _openmp_cache[cxx]:
        return ["-fopenmp"]
    if not _warned_no_openmp:
        warnings.warn(f"compiler '{cxx}' has no OpenMP support: models will run "
                      "single-threaded (install libomp, or set CXX to a compiler with OpenMP)")
        _warned_no_openmp = True
    return []


def arch_flags() -> List[str]:
    return [] if os.environ.get("GENN_EVENTPROP_PORTABLE") else ["-march=native"]


@dataclass
class BuildResult:
    library: Path
    directory: Path
    compiled: bool  # False when the cache already held the library


def build_library(source: str, model_name: str, labels: Dict[str, str],
                  extra_flags: Optional[List[str]] = None, force: bool = False) -> BuildResult:
    """Compile ``source`` (or reuse the cached build) and return the library path."""
    cxx = find_compiler()
    flags = BASE_FLAGS + arch_flags() + openmp_flags(cxx) + list(extra_flags or [])
    key = hashlib.sha256("\0".join([source, cxx, _compiler_id(cxx)] + flags).encode())
    directory = cache_root() / f"{model_name}_{key.hexdigest()[:20]}"
    library = directory / "model.so"
    if force and library.exists():
        library.unlink()
    if library.exists():
        return BuildResult(library, directory, False)
    directory.mkdir(parents=True, exist_ok=True)
    with open(directory / "lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if library.exists():
                return BuildResult(library, directory, False)
            src = directory / "model.cpp"
            tmp_src = directory / f"model.cpp.{os.getpid()}"
            tmp_src.write_text(source)
            os.replace(tmp_src, src)
            tmp_lib = directory / f"model.so.{os.getpid()}.tmp"
            cmd = cxx.split() + flags + [src.name, "-o", tmp_lib.name]
            res = subprocess.run(cmd, cwd=directory, capture_output=True, text=True)
            if res.returncode != 0:
                if tmp_lib.exists():
                    tmp_lib.unlink()
                raise BuildError(describe_compile_error(model_name, res.stderr, labels, directory))
            os.replace(tmp_lib, library)
            return BuildResult(library, directory, True)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


_DIAG = re.compile(r'^(?P<file>[^:\n]+):(?P<line>\d+):(?:(?P<col>\d+):)?\s*(?:fatal )?error:\s*(?P<msg>.*)$',
                   re.MULTILINE)


def describe_compile_error(model_name: str, stderr: str, labels: Dict[str, str],
                           directory: Path) -> str:
    """A message naming the model, snippet and snippet line of the first compile error."""
    m = _DIAG.search(stderr)
    head = f"compiling model '{model_name}' failed"
    if m:
        where = labels.get(m.group("file"))
        if where:
            head += f": {where}, line {m.group('line')}: {m.group('msg')}"
        else:
            head += (f": generated code {directory / 'model.cpp'} line {m.group('line')}: "
                     f"{m.group('msg')}")
    tail = "\n".join(stderr.strip().splitlines()[:40])
    return f"{head}\n--- compiler output ---\n{tail}"
