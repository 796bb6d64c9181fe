"""``GeNNModel``: declare populations, build (generate + compile), load, simulate."""
from __future__ import annotations

import ctypes
import os
import shutil
import tempfile
from typing import Dict, List, Optional

import numpy as np

from . import builtins
from .codegen import Generator
from .ctypes_map import numpy_dtype
from .compiler import build_library
from .errors import ModelDefinitionError, StateError
from .groups import (GPU_ONLY, CurrentSource, CustomUpdate, NeuronGroup, SettingsGuard,
                     SynapseGroup, check_name, resolve_model)
from .models import Init
from .snippet import closest, uses

#: Preferences this engine honours: ``num_threads`` (extension: OpenMP threads),
#: ``optimize_code`` (False compiles with -O0) and ``debug_code`` (-O0 -g).
_KNOWN_PREFERENCES = ("num_threads", "optimize_code", "debug_code")
_GENN_ONLY_PREFERENCES = {
    **{k: "a setting of GeNN's CUDA backend" for k in (
        "manual_device_id", "device_select_method", "block_size_select_method",
        "manual_block_sizes", "generate_line_info", "enable_bitmask_optimisations",
        "generate_empty_state_push", "automatic_copy", "generate_simulation_kernel",
        "constant_cache_overhead", "pre_synaptic_reset_block_size", "manual_thread_block_sizes",
        "select_gpu_by_device_id")},
    **{k: "a GeNN logging level; this engine writes no logs" for k in (
        "genn_log_level", "code_gen_log_level", "transpiler_log_level", "runtime_log_level",
        "backend_log_level", "log_to_stdout")},
}
_GENN_MODEL_UNSUPPORTED = {name: GPU_ONLY for name in (
    "default_var_location", "default_sparse_connectivity_location",
    "default_narrow_sparse_ind_enabled", "fuse_postsynaptic_models",
    "fuse_pre_post_weight_update_models")}


def _check_preferences(prefs: Dict) -> None:
    for k in prefs:
        if k in _GENN_ONLY_PREFERENCES:
            raise ModelDefinitionError(
                f"preference '{k}' is {_GENN_ONLY_PREFERENCES[k]} and has no counterpart in "
                f"this CPU engine; remove it. Preferences here: {', '.join(_KNOWN_PREFERENCES)}")
        if k not in _KNOWN_PREFERENCES:
            raise ModelDefinitionError(f"unknown preference '{k}'.{closest(k, _KNOWN_PREFERENCES)}"
                                       f" Preferences here: {', '.join(_KNOWN_PREFERENCES)}")


def _compile_flags(prefs: Dict) -> List[str]:
    if prefs.get("debug_code"):
        return ["-O0", "-g"]
    if prefs.get("optimize_code") is False:
        return ["-O0"]
    return []


class GeNNModel(SettingsGuard):
    """A network of populations simulated by generated, compiled C++ (PyGeNN 5 API).

    ``precision`` is "float" or "double"; ``dt`` is in ms (default 0.5 as in
    GeNN); ``seed`` 0 draws a fresh seed at load, any other value makes every
    random draw reproducible whatever the number of threads.
    """

    def __init__(self, precision: str = "float", model_name: str = "GeNNModel",
                 backend: Optional[str] = None, time_precision: Optional[str] = None,
                 **preference_kwargs):
        if precision not in ("float", "double"):
            raise ModelDefinitionError(f"precision must be 'float' or 'double', got {precision!r}")
        if backend not in (None, "cpu", "single_threaded_cpu", "openmp"):
            raise ModelDefinitionError(
                f"backend {backend!r} is not available in this engine; use None (OpenMP CPU) "
                "or 'single_threaded_cpu' (one thread)")
        _check_preferences(preference_kwargs)
        self.name = check_name(model_name, "model")
        self.precision = precision
        self._built = None
        self.time_precision = time_precision or precision
        self.num_threads = preference_kwargs.get("num_threads")
        if backend == "single_threaded_cpu":
            if self.num_threads not in (None, 1):
                raise ModelDefinitionError(f"backend 'single_threaded_cpu' runs one thread; "
                                           f"num_threads={self.num_threads} contradicts it")
            self.num_threads = 1
        self._compile_flags = _compile_flags(preference_kwargs)
        self._dt = 0.5
        self._batch_size = 1
        self._lib = None
        self.seed = 0
        self._timing = False
        self.neuron_populations: Dict[str, NeuronGroup] = {}
        self.synapse_populations: Dict[str, SynapseGroup] = {}
        self.current_sources: Dict[str, CurrentSource] = {}
        self.custom_updates: Dict[str, CustomUpdate] = {}
        self._arrays: Dict[str, np.ndarray] = {}
        self._num_recording_timesteps = 0
        self.build_was_cached: Optional[bool] = None
        self._sealed = True

    _settable = ("dt", "batch_size", "seed", "timestep", "timing_enabled", "time_precision",
                 "num_threads")
    _unsupported = _GENN_MODEL_UNSUPPORTED

    @property
    def time_precision(self) -> str:
        return self._time_precision

    @time_precision.setter
    def time_precision(self, value: str):
        self._check_not_built("time_precision")
        if value != self.precision:
            raise ModelDefinitionError(
                f"time_precision {value!r} differs from precision {self.precision!r}: this "
                "engine keeps time in the model precision; use the same value")
        self._time_precision = value

    @property
    def timing_enabled(self) -> bool:
        """Whether the kernel timers (``neuron_update_time`` ...) may be read (set before build)."""
        return self._timing

    @timing_enabled.setter
    def timing_enabled(self, value: bool):
        self._check_not_built("timing_enabled")
        self._timing = bool(value)

    # ------------------------------------------------------------ properties
    @property
    def dt(self) -> float:
        return self._dt

    @dt.setter
    def dt(self, value):
        self._check_not_built("dt")
        if not value > 0:
            raise ModelDefinitionError(f"dt must be positive (ms), got {value}")
        self._dt = float(value)

    dT = dt

    @property
    def batch_size(self) -> int:
        return self._batch_size

    @batch_size.setter
    def batch_size(self, value):
        self._check_not_built("batch_size")
        if int(value) != value or value < 1:
            raise ModelDefinitionError(f"batch_size must be a positive integer, got {value}")
        self._batch_size = int(value)

    @property
    def seed(self) -> int:
        """Seed of every random stream (0: a fresh one at ``load``).

        Extension: setting it after ``load`` re-keys the streams used from the
        next step on (already initialised variables keep their values), e.g. to
        draw new dropout masks for each trial while ``timestep`` restarts at 0.
        """
        return self._seed

    @seed.setter
    def seed(self, value: int):
        value = int(value)
        if not 0 <= value < 2 ** 64:
            raise ValueError(f"seed must lie in [0, 2**64), got {value}")
        self._seed = value
        if self._lib is not None and value:
            ctypes.c_uint64.in_dll(self._lib, "seed").value = value

    @property
    def timestep(self) -> int:
        self._require_loaded("timestep")
        return int(ctypes.c_uint64.in_dll(self._lib, "iT").value)

    @timestep.setter
    def timestep(self, value: int):
        self._require_loaded("timestep")
        ctypes.c_uint64.in_dll(self._lib, "iT").value = int(value)

    @property
    def t(self) -> float:
        """Time at the start of the next step, in ms (``timestep * dt``)."""
        return self.timestep * self._dt

    # ---------------------------------------------------------- declaration
    def _check_not_built(self, what: str):
        if self._built is not None:
            raise StateError(f"cannot change {what}: model '{self.name}' is already built")

    def _check_new_name(self, name: str, what: str):
        check_name(name, what)
        self._check_not_built(f"the model (adding {what} '{name}')")
        for store in (self.neuron_populations, self.synapse_populations,
                      self.current_sources, self.custom_updates):
            if name in store:
                raise ModelDefinitionError(f"name '{name}' is already used in model "
                                           f"'{self.name}'; choose another {what} name")

    def _population(self, pop, role: str) -> NeuronGroup:
        if isinstance(pop, NeuronGroup):
            return pop
        if isinstance(pop, str) and pop in self.neuron_populations:
            return self.neuron_populations[pop]
        raise ModelDefinitionError(
            f"{role} {pop!r} is not a neuron population of this model."
            f"{closest(str(pop), self.neuron_populations)} "
            f"Populations: {', '.join(self.neuron_populations) or '(none)'}")

    def add_neuron_population(self, pop_name: str, num_neurons: int, neuron, params=None,
                              vars=None) -> NeuronGroup:
        self._check_new_name(pop_name, "neuron population")
        model = resolve_model(neuron, builtins.NEURON_MODELS, "neuron model",
                              f"neuron population '{pop_name}'")
        pop = NeuronGroup(self, pop_name, num_neurons, model, params or {}, vars or {})
        self.neuron_populations[pop_name] = pop
        return pop

    def add_synapse_population(self, pop_name: str, matrix_type, source, target,
                               weight_update_init, postsynaptic_init,
                               connectivity_init=None) -> SynapseGroup:
        self._check_new_name(pop_name, "synapse population")
        src = self._population(source, "source")
        trg = self._population(target, "target")
        for what, init in (("weight_update_init", weight_update_init),
                           ("postsynaptic_init", postsynaptic_init)):
            if not isinstance(init, Init):
                raise ModelDefinitionError(
                    f"synapse population '{pop_name}': {what} must come from "
                    f"init_{what.split('_init')[0]}(...), got {type(init).__name__}")
        sg = SynapseGroup(self, pop_name, matrix_type, src, trg, weight_update_init,
                          postsynaptic_init, connectivity_init)
        src.out_syn.append(sg)
        trg.in_syn.append(sg)
        self.synapse_populations[pop_name] = sg
        return sg

    def add_current_source(self, cs_name: str, current_source_model, pop, params=None,
                           vars=None, var_refs=None) -> CurrentSource:
        self._check_new_name(cs_name, "current source")
        model = resolve_model(current_source_model, builtins.CURRENT_SOURCE_MODELS,
                              "current source model", f"current source '{cs_name}'")
        target = self._population(pop, "target population")
        cs = CurrentSource(self, cs_name, model, target, params or {}, vars or {},
                           var_refs or {})
        target.current_sources.append(cs)
        self.current_sources[cs_name] = cs
        return cs

    def add_custom_update(self, cu_name: str, group_name: str, custom_update_model,
                          params=None, vars=None, var_refs=None, egp_refs=None) -> CustomUpdate:
        self._check_new_name(cu_name, "custom update")
        model = resolve_model(custom_update_model, builtins.CUSTOM_UPDATE_MODELS,
                              "custom update model", f"custom update '{cu_name}'")
        cu = CustomUpdate(self, cu_name, group_name, model, params or {}, vars or {},
                          var_refs or {}, egp_refs or {})
        self.custom_updates[cu_name] = cu
        return cu

    # ----------------------------------------------------------------- build
    def build(self, path_to_model: str = "./", always_rebuild: bool = False,
              never_rebuild: bool = False):
        """Generate and compile the model (reusing an identical earlier build)."""
        if self._lib is not None:
            raise StateError(f"model '{self.name}' is loaded; unload() before building again")
        for pop in self.neuron_populations.values():
            for sg in pop.out_syn:
                if sg.axonal_delay_steps < 0 or int(sg.axonal_delay_steps) != sg.axonal_delay_steps:
                    raise ModelDefinitionError(f"synapse population '{sg.name}': "
                                               "axonal_delay_steps must be a non-negative integer")
        for sg in self.synapse_populations.values():
            check_delayed_reads(sg)
        gen = Generator(self)
        source = gen.generate()
        result = build_library(source, self.name, gen.snippet_labels, self._compile_flags,
                               force=always_rebuild)
        self._built = (result, gen.arrays)
        self.build_was_cached = not result.compiled
        self.source = source
        return self

    # ------------------------------------------------------------------ load
    def load(self, num_recording_timesteps: Optional[int] = None):
        """Load the compiled model, allocate state and run initialisation."""
        if self._built is None:
            raise StateError(f"model '{self.name}' is not built: call build() before load()")
        if self._lib is not None:
            raise StateError(f"model '{self.name}' is already loaded")
        recording = [p for p in self.neuron_populations.values() if p.spike_recording_enabled]
        if recording and not num_recording_timesteps:
            raise StateError(
                f"populations {', '.join(p.name for p in recording)} record spikes: pass "
                "num_recording_timesteps to load()")
        result, arrays = self._built
        self._lib = self._open_library(result.library)
        if self.num_threads:
            self._lib.set_num_threads(int(self.num_threads))
        seed = self.seed or int.from_bytes(os.urandom(8), "little")
        ctypes.c_uint64.in_dll(self._lib, "seed").value = seed
        self._num_recording_timesteps = int(num_recording_timesteps or 0)
        ctypes.c_uint32.in_dll(self._lib, "numRecordingTimesteps").value = \
            self._num_recording_timesteps
        for spec in arrays:
            count = spec.count
            if spec.symbol.startswith("recordSpk_"):
                pop = self.neuron_populations[spec.symbol[len("recordSpk_"):]]
                if not pop.spike_recording_enabled:
                    continue
                count = self._num_recording_timesteps * self.batch_size * ((pop.size + 31) // 32)
            arr = aligned_zeros(max(count, 1), numpy_dtype(spec.c_type, self.precision))
            self._arrays[spec.symbol] = arr
            self._runtime_set_pointer(spec.symbol, arr, True)
        for pop in self.neuron_populations.values():
            self._arrays[f"sT_{pop.name}"][:] = -np.finfo(self._arrays[f"sT_{pop.name}"].dtype).max
        groups = (list(self.neuron_populations.values()) + list(self.synapse_populations.values())
                  + list(self.current_sources.values()) + list(self.custom_updates.values()))
        for group in groups:
            for var in group.all_variables():
                var._array = self._arrays[var.symbol]
            egps = list(group.extra_global_params.values())
            egps += list(getattr(group, "ps_extra_global_params", {}).values())
            for egp in egps:
                egp._bind(egp._init_values if egp._init_values is not None else np.zeros(1))
        mask = self._set_user_connectivity()
        for group in groups:
            for var in group.all_variables():
                if not isinstance(var.init, Init) and not group._sparse_mask_possible():
                    self._write_initial(var)
        self._lib.initialize(ctypes.c_int(mask))
        for sg in self.synapse_populations.values():
            if sg.matrix_type == "SPARSE":
                self._finish_sparse(sg)
        for group in groups:
            if group._sparse_mask_possible():
                for var in group.all_variables():
                    if not isinstance(var.init, Init):
                        self._write_initial(var)
        return self

    def _open_library(self, path):
        # Each load gets its own copy so two models built from identical code keep
        # separate state (dlopen would otherwise share one image and its globals).
        fd, tmp = tempfile.mkstemp(suffix=".so", prefix=f"{self.name}_")
        os.close(fd)
        shutil.copyfile(path, tmp)
        try:
            lib = ctypes.CDLL(tmp, mode=ctypes.RTLD_LOCAL)
        finally:
            os.unlink(tmp)
        return lib

    def _set_user_connectivity(self) -> int:
        mask = 0
        for n, sg in enumerate(self.synapse_populations.values()):
            sg.row_length = self._arrays.get(f"rowLength_{sg.name}")
            sg.ind = self._arrays.get(f"ind_{sg.name}")
            if sg.ind is not None:
                sg.ind = sg.ind.reshape(sg.src.size, sg.max_row_length)
            if sg.matrix_type != "SPARSE":
                continue
            if sg._user_connectivity is not None:
                pre, post = sg._user_connectivity
                counts = np.bincount(pre, minlength=sg.src.size)
                sg.row_length[:] = counts
                starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
                slot = np.arange(pre.size) - starts[pre]
                sg.ind[pre, slot] = post
                mask |= 1 << n
            elif sg.connectivity is None:
                raise ModelDefinitionError(
                    f"synapse population '{sg.name}' is SPARSE without connectivity: pass "
                    "init_sparse_connectivity(...) or call set_sparse_connections(pre, post)")
        return mask

    def _finish_sparse(self, sg: SynapseGroup):
        if sg.connectivity is not None and sg._user_connectivity is None:
            overflow = ctypes.c_uint64.in_dll(self._lib, f"conn_overflow_{sg.name}").value
            if overflow:
                raise ModelDefinitionError(
                    f"synapse population '{sg.name}': connectivity snippet "
                    f"'{sg.connectivity.snippet.name}' made {overflow} more synapses than the "
                    f"maximum row length {sg.max_row_length} allows; fix calc_max_row_len_func")

    def _write_initial(self, var):
        init = var.init
        if init is None:
            return
        group = var.group
        sg = group.sg if isinstance(group, CustomUpdate) else group
        if isinstance(sg, SynapseGroup) and sg._user_connectivity is not None \
                and isinstance(init, np.ndarray) and init.ndim >= 1 \
                and init.shape[-1] == sg._user_order.size and var.per_synapse \
                and var.symbol in {v.symbol for v in group.vars.values()}:
            # values given in the order of set_sparse_connections; storage is row-sorted
            init = init[..., sg._user_order]
        var.values = init

    def _runtime_set_pointer(self, symbol: str, array: np.ndarray, is_pointer: bool):
        if self._lib is None:
            return
        ctypes.c_void_p.in_dll(self._lib, symbol).value = array.ctypes.data

    def _push_schedule(self, pop, arrays: Dict[str, np.ndarray], steps: int):
        """Point the compiled code at a population's spike schedule (arrays kept alive by
        the population)."""
        self._require_loaded(f"spike schedule of '{pop.name}'")
        ctypes.c_void_p.in_dll(self._lib, f"schedOff_{pop.name}").value = \
            arrays["offsets"].ctypes.data
        ctypes.c_void_p.in_dll(self._lib, f"schedId_{pop.name}").value = arrays["ids"].ctypes.data
        for name in pop.schedule_vars:
            ctypes.c_void_p.in_dll(self._lib, f"schedVal_{pop.name}_{name}").value = \
                arrays[name].ctypes.data
        ctypes.c_uint32.in_dll(self._lib, f"schedSteps_{pop.name}").value = steps

    def _runtime_set_scalar(self, symbol: str, value):
        self._require_loaded(f"dynamic parameter {symbol}")
        ctype = ctypes.c_float if self.precision == "float" else ctypes.c_double
        ctype.in_dll(self._lib, symbol).value = float(value)

    def _require_loaded(self, what: str):
        if self._lib is None:
            raise StateError(f"{what}: model '{self.name}' is not loaded; call build() then "
                             "load() first")

    # --------------------------------------------------------------- timing
    def _timer(self, symbol: str) -> float:
        self._require_loaded("timing")
        if not self._timing:
            raise StateError(f"model '{self.name}' was built without timing: set "
                             "model.timing_enabled = True before build()")
        return float(ctypes.c_double.in_dll(self._lib, symbol).value)

    @property
    def neuron_update_time(self) -> float:
        """Seconds spent in neuron updates since load."""
        return self._timer("neuronUpdateTime")

    @property
    def presynaptic_update_time(self) -> float:
        """Seconds spent in synapse updates (spikes, events, dynamics) since load."""
        return self._timer("synapseUpdateTime")

    @property
    def init_time(self) -> float:
        return self._timer("initTime")

    def get_custom_update_time(self, name: str) -> float:
        return self._timer(f"customUpdateTime_{name}")

    # ------------------------------------------------------------- simulate
    def step_time(self):
        """Advance one time step: synapse update, then neuron update, then t += dt."""
        self._require_loaded("step_time")
        self._lib.step_time()

    def step_times(self, n: int):
        """Advance ``n`` time steps; the same result as ``n`` calls of step_time().

        An extension of this engine (PyGeNN has no counterpart): with a batch,
        each batch member runs all ``n`` steps in one parallel loop, so threads
        meet once instead of twice per population and step, and a busy core
        holds up only the members it runs.
        """
        self._require_loaded("step_times")
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or not 0 <= n < 2 ** 32:
            raise ValueError(f"step_times(n): n must be a non-negative integer below 2**32, "
                             f"got {n!r}")
        self._lib.step_times(ctypes.c_uint32(int(n)))

    def custom_update(self, name: str):
        """Run every custom update of update group ``name``, in the order they were added."""
        self._require_loaded(f"custom_update('{name}')")
        groups = sorted({cu.update_group for cu in self.custom_updates.values()})
        if name not in groups:
            raise ModelDefinitionError(f"no custom update group '{name}'.{closest(name, groups)} "
                                       f"Groups: {', '.join(groups) or '(none)'}")
        getattr(self._lib, f"custom_update_{name}")()

    def pull_recording_buffers_from_device(self):
        """No-op on CPU: recording buffers are host memory."""
        self._require_loaded("pull_recording_buffers_from_device")
        if not any(p.spike_recording_enabled for p in self.neuron_populations.values()):
            raise StateError(f"model '{self.name}' records nothing: set "
                             "spike_recording_enabled = True on a population before build()")

    def _recording_data(self, pop: NeuronGroup):
        self._require_loaded("spike_recording_data")
        n_rec = self._num_recording_timesteps
        if self.timestep < n_rec:
            raise StateError(
                f"{pop.where}: recorded spikes can be read once the recording buffer is full "
                f"({n_rec} steps, {self.timestep} simulated), as in GeNN; simulate "
                f"{n_rec - self.timestep} more steps or load with a smaller "
                "num_recording_timesteps")
        words = (pop.size + 31) // 32
        buf = self._arrays[f"recordSpk_{pop.name}"].reshape(n_rec, self.batch_size, words)
        bits = np.unpackbits(buf.view(np.uint8), axis=-1, bitorder="little")[..., :pop.size]
        end = self.timestep
        steps = np.arange(max(end - n_rec, 0), end)
        rows = bits[steps % n_rec]
        out = []
        for b in range(self.batch_size):
            k, ids = np.nonzero(rows[:, b, :])
            out.append((steps[k] * self._dt, ids.astype(np.int32)))
        return out

    def unload(self):
        """Release the compiled model and its state."""
        if self._lib is None:
            return
        for group in (list(self.neuron_populations.values())
                      + list(self.synapse_populations.values())
                      + list(self.current_sources.values()) + list(self.custom_updates.values())):
            for var in group.all_variables():
                var._array = None
        self._arrays = {}
        self._lib = None


#: Per-synapse code of a weight update model (what runs when a spike arrives).
_SYNAPSE_CODE = ("pre_spike_syn_code", "pre_event_syn_code", "post_spike_syn_code",
                 "post_event_syn_code", "synapse_dynamics_code")


def aligned_zeros(count: int, dtype, alignment: int = 64) -> np.ndarray:
    """Zeroed array whose data start on an ``alignment``-byte boundary.

    Vectorised loops may peel iterations until an address is aligned; with
    reassociated sums (addToPre) the split would then depend on where the
    allocator happened to put the array. Aligned state makes it the same in
    every run.
    """
    dtype = np.dtype(dtype)
    raw = np.zeros(count * dtype.itemsize + alignment, dtype=np.uint8)
    start = -raw.ctypes.data % alignment
    return raw[start:start + count * dtype.itemsize].view(dtype)


def check_delayed_reads(sg: SynapseGroup) -> None:
    """Reject what GeNN reads delayed under an axonal delay and this engine cannot.

    With ``axonal_delay_steps`` d > 0, GeNN's synapse code sees the presynaptic
    neuron variables (references), presynaptic weight-update variables and
    ``st_pre`` as they were when the spike was emitted, d steps earlier; this
    engine has no history of them and would read today's values.
    """
    if not sg.axonal_delay_steps:
        return
    names = ([(n, "presynaptic neuron variable reference") for n in sg.pre_var_refs]
             + [(n, "presynaptic weight-update variable") for n in sg.pre_vars]
             + [("st_pre", "presynaptic spike time")])
    for key in _SYNAPSE_CODE:
        code = sg.wu.code.get(key, "")
        for name, what in names:
            if uses(code, name):
                raise ModelDefinitionError(
                    f"synapse population '{sg.name}' (model '{sg.wu.name}'): {key} reads "
                    f"{what} '{name}' with axonal_delay_steps = {sg.axonal_delay_steps}. GeNN "
                    "reads it as it was when the spike was emitted; this engine keeps no "
                    "history of it and does not support this. Use axonal_delay_steps = 0, or "
                    "pass the value with the spike another way")
