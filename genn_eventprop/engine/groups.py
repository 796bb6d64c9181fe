"""Populations, synapse groups, current sources and custom updates of a model.

Groups hold what the user declared (model, parameter values, initial values)
and, once the model is loaded, numpy arrays shared with the compiled code.
"""
from __future__ import annotations

import difflib
import re
from typing import Any, Dict, List, Optional, Sequence

import numpy as np

from . import builtins
from .access import (VarAccess, VarAccessDim, VarAccessMode,
                     access_mode, custom_update_var_dims, model_var_dims)
from .ctypes_map import numpy_dtype, resolve
from .errors import ModelDefinitionError, StateError
from .models import EGP, Init, ModelBase, VarReference
from .snippet import closest

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
ELEMENT_BATCH = VarAccessDim.ELEMENT | VarAccessDim.BATCH


def check_name(name: str, what: str) -> str:
    if not isinstance(name, str) or not _NAME.match(name):
        raise ModelDefinitionError(
            f"{what} name {name!r} is not a valid identifier: use letters, digits and "
            "underscores, not starting with a digit")
    return name


def resolve_model(model, registry: Dict[str, ModelBase], kind: str, where: str) -> ModelBase:
    """A model definition from an object or the name of a built-in."""
    if isinstance(model, ModelBase):
        return model
    if isinstance(model, str):
        if model in registry:
            return registry[model]
        raise ModelDefinitionError(
            f"{where}: unknown built-in {kind} '{model}'.{closest(model, registry)} "
            f"Built-in {kind}s: {', '.join(sorted(registry))}")
    raise ModelDefinitionError(f"{where}: expected a {kind} definition or built-in name, "
                               f"got {type(model).__name__}")


def check_keys(given: Dict[str, Any], expected: List[str], what: str, where: str) -> None:
    """Raise if ``given`` misses or adds names relative to ``expected``."""
    given = dict(given or {})
    unknown = [k for k in given if k not in expected]
    if unknown:
        k = unknown[0]
        raise ModelDefinitionError(
            f"{where}: unknown {what} '{k}'.{closest(k, expected)} "
            f"Valid {what}s: {', '.join(expected) or '(none)'}")
    missing = [k for k in expected if k not in given]
    if missing:
        raise ModelDefinitionError(
            f"{where}: missing {what} '{missing[0]}'. All of these are required: "
            f"{', '.join(expected)}")


def check_ref_type(slot, var: "Variable", where: str, precision: str) -> None:
    """A variable reference slot and the variable it points at must have the same type
    (as in GeNN; a mismatch would silently convert, e.g. integer division)."""
    want, have = resolve(slot.type, precision), resolve(var.type, precision)
    if want != have:
        raise ModelDefinitionError(
            f"{where}: reference '{slot.name}' is declared '{slot.type}' but '{var.name}' of "
            f"'{var.group.name}' is '{var.type}'; declare the reference with type '{var.type}'")


def resolve_init(value, where: str):
    """A numeric constant, a numpy array or an Init with a resolved var-init snippet."""
    if isinstance(value, Init):
        snippet = resolve_model(value.snippet, builtins.VAR_INIT_SNIPPETS,
                                "variable initialisation snippet", where)
        check_keys(value.params, snippet.param_names(), "parameter", f"{where} ({snippet.name})")
        return Init(snippet, dict(value.params))
    if isinstance(value, (int, float, np.integer, np.floating, bool)):
        return value
    if isinstance(value, (list, tuple, np.ndarray)):
        return np.asarray(value)
    raise ModelDefinitionError(f"{where}: initial value must be a number, an array or "
                               f"init_var(...), got {type(value).__name__}")


def state_symbol(kind: str, group: str, name: str) -> str:
    """C name of a user variable/EGP: unique for (kind, group, name) and disjoint from
    the engine's own arrays (the group name's length makes the split unambiguous)."""
    return f"{kind}{len(group)}_{group}_{name}"


class Variable:
    """A state array shared with compiled code (PyGeNN ``Variable``).

    ``view`` is the live array: shape ``(batch_size, size)`` for batched
    variables when batch_size > 1, else ``(size,)``. For SPARSE synapse
    variables ``values`` holds only the existing synapses, in row order.
    """

    def __init__(self, group, name: str, c_type: str, dims: VarAccessDim, size: int,
                 init=None, mode=VarAccessMode.READ_WRITE):
        self.group = group
        self.name = name
        self.type = c_type
        self.dims = dims
        self.size = size
        self.init = init
        self.mode = mode
        self.symbol = state_symbol("v", group.name, name)
        self.per_synapse = False  # one value per synapse (may be stored as padded SPARSE rows)
        self._array: Optional[np.ndarray] = None

    @property
    def batched(self) -> bool:
        return bool(self.dims & VarAccessDim.BATCH) and self.group.model.batch_size > 1

    @property
    def element(self) -> bool:
        return bool(self.dims & VarAccessDim.ELEMENT)

    def num_elements(self) -> int:
        return (self.size if self.element else 1) * (self.group.model.batch_size
                                                     if self.batched else 1)

    def shape(self):
        n = self.size if self.element else 1
        return (self.group.model.batch_size, n) if self.batched else (n,)

    def _allocate(self, precision: str) -> np.ndarray:
        dtype = numpy_dtype(self.type, precision, f"variable '{self.name}' of '{self.group.name}'")
        self._array = np.zeros(self.num_elements(), dtype=dtype)
        return self._array

    def _require_loaded(self):
        if self._array is None:
            raise StateError(f"variable '{self.name}' of '{self.group.name}' has no storage "
                             "yet: call model.build() and model.load() first")

    @property
    def view(self) -> np.ndarray:
        self._require_loaded()
        return self._array.reshape(self.shape())

    @property
    def current_view(self) -> np.ndarray:
        return self.view

    def _mask(self):
        return self.group._sparse_mask() if self.element and self.per_synapse else None

    @property
    def values(self) -> np.ndarray:
        self._require_loaded()
        sparse = self._mask()
        v = self.view
        if sparse is None:
            return v.copy()
        return v[..., sparse].copy()

    @values.setter
    def values(self, vals):
        self._require_loaded()
        sparse = self._mask()
        v = self.view
        vals = np.asarray(vals)
        if sparse is None:
            v[...] = _broadcast(vals, v.shape, self)
        else:
            v[..., sparse] = _broadcast(vals, v[..., sparse].shape, self)

    @property
    def current_values(self) -> np.ndarray:
        return self.values

    def pull_from_device(self):
        """No-op: the CPU backend shares memory with numpy."""

    def push_to_device(self):
        """No-op: the CPU backend shares memory with numpy."""


def _broadcast(vals: np.ndarray, shape, var: Variable) -> np.ndarray:
    try:
        return np.broadcast_to(vals, shape)
    except ValueError:
        raise ModelDefinitionError(
            f"variable '{var.name}' of '{var.group.name}': values of shape {vals.shape} do "
            f"not fit shape {shape}") from None


class ExtraGlobalParameter:
    """An extra global parameter: pointer EGPs are arrays, scalar EGPs one value."""

    def __init__(self, group, egp: EGP):
        self.group = group
        self.name = egp.name
        self.type = egp.value_type
        self.is_pointer = egp.is_pointer
        self.symbol = state_symbol("e", group.name, egp.name)
        self._array: Optional[np.ndarray] = None
        self._init_values = None

    def set_init_values(self, values):
        """Give the values (copied into storage of matching type at load)."""
        self._init_values = np.atleast_1d(np.asarray(values))
        if self._array is not None:
            self._bind(self._init_values)

    def _bind(self, values):
        dtype = numpy_dtype(self.type, self.group.model.precision, f"EGP '{self.name}'")
        self._array = np.ascontiguousarray(values, dtype=dtype).reshape(-1).copy()
        self.group.model._runtime_set_pointer(self.symbol, self._array, self.is_pointer)

    @property
    def view(self) -> np.ndarray:
        if self._array is None:
            raise StateError(f"extra global parameter '{self.name}' of '{self.group.name}' "
                             "has no values: call set_init_values(...) and load the model")
        return self._array

    @property
    def values(self):
        return self.view.copy()

    @values.setter
    def values(self, vals):
        vals = np.atleast_1d(np.asarray(vals))
        if self._array is not None and vals.size == self._array.size:
            self._array[:] = vals.reshape(-1)
        else:
            self._bind(vals)

    def pull_from_device(self):
        """No-op on CPU."""

    def push_to_device(self):
        """Re-point the compiled code at the array (needed if it was replaced)."""
        if self._array is not None:
            self.group.model._runtime_set_pointer(self.symbol, self._array, self.is_pointer)


GPU_ONLY = ("a memory-placement or GPU performance setting of GeNN's CUDA backend; this "
             "CPU engine keeps all state in host memory and has no such choice. Remove it "
             "(results do not depend on it)")


class SettingsGuard:
    """Rejects PyGeNN settings this engine cannot honour, and near-miss names.

    PyGeNN's groups accept new attributes (pybind11 ``dynamic_attr``), so a
    script may keep its own data on them; but assigning a GeNN setting the
    engine does not implement, or a misspelling of one it does, must not be
    silently stored. ``_unsupported`` maps GeNN property names to the reason;
    ``_settable`` lists the implemented ones (for the near-miss check).
    """

    _unsupported: Dict[str, str] = {}
    _settable: tuple = ()

    def __setattr__(self, name, value):
        if self.__dict__.get("_sealed") and not name.startswith("_") and \
                name not in self.__dict__ and not hasattr(type(self), name):
            where = getattr(self, "where", type(self).__name__)
            if name in self._unsupported:
                raise ModelDefinitionError(f"{where}: '{name}' is not supported: "
                                           f"{self._unsupported[name]}")
            match = difflib.get_close_matches(name, self._settable, n=1, cutoff=0.8)
            if match:
                raise ModelDefinitionError(
                    f"{where}: '{name}' is not a setting. Did you mean '{match[0]}'? "
                    f"Settings: {', '.join(self._settable)}")
        object.__setattr__(self, name, value)


class Group(SettingsGuard):
    """Common part of every group: name, model definition, params, vars, EGPs."""

    kind = "group"

    def __init__(self, model, name: str, definition: ModelBase, params: Dict[str, Any]):
        self.model = model
        self.name = name
        self.definition = definition
        self.where = f"{self.kind} '{name}' (model '{definition.name}')"
        check_keys(params, definition.param_names(), "parameter", self.where)
        self.params = dict(params or {})
        self.dynamic_params: set = set()
        self.vars: Dict[str, Variable] = {}
        self.extra_global_params: Dict[str, ExtraGlobalParameter] = {
            e.name: ExtraGlobalParameter(self, e) for e in definition.extra_global_params}

    def _add_vars(self, defs, inits: Dict[str, Any], size: int, what: str = "variable"):
        check_keys(inits, [v.name for v in defs], what, self.where)
        for v in defs:
            init = resolve_init(inits[v.name], f"{self.where}, {what} '{v.name}'")
            dims = model_var_dims(v.access if v.access is not None else VarAccess.READ_WRITE)
            var = Variable(self, v.name, v.type, dims, size, init, access_mode(v.access))
            self._check_init_shape(var)
            self.vars[v.name] = var

    def _check_init_shape(self, var: Variable):
        if isinstance(var.init, np.ndarray) and self._sparse_mask_possible() is False:
            n = var.size if var.element else 1
            allowed = {(n,), (var.num_elements(),), var.shape()}
            if var.init.shape not in allowed and var.init.size != 1:
                raise ModelDefinitionError(
                    f"{self.where}, variable '{var.name}': initial values have shape "
                    f"{var.init.shape}, expected {var.shape()} (or ({n},) shared by the batch)")

    def _sparse_mask_possible(self):
        return False

    def _sparse_mask(self):
        return None

    def derived_param_values(self, definition: Optional[ModelBase] = None,
                             params: Optional[Dict[str, Any]] = None) -> Dict[str, float]:
        definition = definition or self.definition
        params = self.params if params is None else params
        values = dict(params)
        out = {}
        for d in definition.derived_params:
            try:
                out[d.name] = d.func(_ParamView(values), self.model.dt)
            except Exception as exc:
                raise ModelDefinitionError(
                    f"{self.where}: derived parameter '{d.name}' of model "
                    f"'{definition.name}' failed: {exc}") from exc
            values[d.name] = out[d.name]
        return out

    def set_param_dynamic(self, param_name: str, dynamic: bool = True):
        """Make a parameter changeable after build (``set_dynamic_param_value``)."""
        if param_name not in self.params:
            raise ModelDefinitionError(f"{self.where}: no parameter '{param_name}'."
                                       f"{closest(param_name, self.params)}")
        if self.model._built:
            raise StateError(f"{self.where}: set_param_dynamic must be called before build()")
        ptype = {p.name: p.type for p in self.definition.params}.get(param_name, "scalar")
        if dynamic and resolve(ptype, self.model.precision) not in ("float", "double"):
            raise ModelDefinitionError(
                f"{self.where}: parameter '{param_name}' has type '{ptype}'; dynamic parameters "
                "are stored in the model precision here, so only scalar/float/double "
                "parameters can be dynamic")
        (self.dynamic_params.add if dynamic else self.dynamic_params.discard)(param_name)

    def set_dynamic_param_value(self, param_name: str, value):
        if param_name not in self.dynamic_params:
            raise ModelDefinitionError(
                f"{self.where}: parameter '{param_name}' is not dynamic; call "
                f"set_param_dynamic('{param_name}') before build()")
        self.params[param_name] = value
        self.model._runtime_set_scalar(f"dp_{param_name}_{self.name}", value)

    def all_variables(self) -> List[Variable]:
        return list(self.vars.values())


class _ParamView(dict):
    """Parameter dict for derived-parameter functions (dict access as in PyGeNN)."""


class NeuronGroup(Group):
    kind = "neuron population"

    def __init__(self, model, name, num_neurons, definition, params, vars_):
        super().__init__(model, name, definition, params)
        if int(num_neurons) <= 0:
            raise ModelDefinitionError(f"{self.where}: num_neurons must be positive, "
                                       f"got {num_neurons}")
        self.num_neurons = self.size = int(num_neurons)
        self._add_vars(definition.vars, vars_, self.size)
        self._spike_recording = False
        self.in_syn: List["SynapseGroup"] = []
        self.out_syn: List["SynapseGroup"] = []
        self.current_sources: List["CurrentSource"] = []
        self.spike_arrays = None
        self.schedule_vars: Optional[List[str]] = None
        self._schedule: Optional[Dict[str, np.ndarray]] = None
        self._sealed = True

    _settable = ("spike_recording_enabled", "spike_event_recording_enabled")
    _unsupported = {"recording_zero_copy_enabled": GPU_ONLY,
                    "spike_time_location": GPU_ONLY,
                    "prev_spike_time_location": GPU_ONLY}

    @property
    def spike_recording_enabled(self) -> bool:
        return self._spike_recording

    @spike_recording_enabled.setter
    def spike_recording_enabled(self, value: bool):
        if self.model._built is not None and bool(value) != self._spike_recording:
            raise StateError(f"{self.where}: spike_recording_enabled must be set before "
                             "build() (the recording buffers are part of the generated code)")
        self._spike_recording = bool(value)

    @property
    def spike_event_recording_enabled(self) -> bool:
        return False

    @spike_event_recording_enabled.setter
    def spike_event_recording_enabled(self, value: bool):
        if value:
            raise ModelDefinitionError(
                f"{self.where}: spike-like event recording is not supported by this engine; "
                "record spikes (spike_recording_enabled) or read the variables each step")

    @property
    def num_delay_slots(self) -> int:
        return 1 + max([sg.axonal_delay_steps for sg in self.out_syn] + [0])

    def enable_spike_schedule(self, var_names: Sequence[str] = ()) -> None:
        """Extension: this population's spikes come from a schedule pushed by the host
        (``push_spike_schedule``) instead of its neuron code, so that a step costs
        the work of the spikes it emits, not of every neuron. Each scheduled spike
        first sets the variables ``var_names`` to the values given with it, then
        does what a spike does (weight-update spike code, spike list, recording,
        spike time). The model must have no sim, threshold or reset code; the
        population may not receive synapses or currents. Call before ``build()``."""
        if self.model._built is not None:
            raise StateError(f"{self.where}: enable_spike_schedule must be called before build()")
        code = {k: v for k, v in self.definition.code.items()
                if k in ("sim_code", "threshold_condition_code", "reset_code") and v.strip()}
        if code:
            raise ModelDefinitionError(
                f"{self.where}: a population driven by a spike schedule never runs its neuron "
                f"code, but the model has {', '.join(sorted(code))}; use a model without it")
        for name in var_names:
            var = self.vars.get(name)
            if var is None:
                raise ModelDefinitionError(
                    f"{self.where}: spike schedule variable '{name}' is not a variable of the "
                    f"population; valid: {', '.join(self.vars) or 'none'}")
            if not var.element:
                raise ModelDefinitionError(
                    f"{self.where}: spike schedule variable '{name}' must be per neuron")
        self.schedule_vars = list(var_names)

    def push_spike_schedule(self, offsets, ids, values: Optional[Dict[str, Any]] = None) -> None:
        """Give the spikes of the coming steps (extension, see ``enable_spike_schedule``).

        ``offsets``: shape (batch_size, S + 1); the spikes of batch member b in time
        step s (the model's ``timestep``, 0 <= s < S) are ``ids[offsets[b, s]:offsets[b,
        s + 1]]``, strictly ascending (one spike per neuron and step, emitted in id
        order as a neuron update would). Members' blocks follow each other and cover
        ``ids``. ``values``: for each schedule variable an array like ``ids``. Steps
        from S on emit nothing. The arrays are copied.
        """
        if self.schedule_vars is None:
            raise StateError(f"{self.where}: call enable_spike_schedule() before build() to "
                             "drive this population by a spike schedule")
        B = self.model.batch_size
        offsets = np.asarray(offsets)
        ids = np.asarray(ids).reshape(-1)
        if offsets.ndim != 2 or offsets.shape[0] != B or offsets.shape[1] < 1:
            raise ValueError(f"{self.where}: offsets must have shape (batch_size={B}, steps + 1), "
                             f"got {offsets.shape}")
        offsets = offsets.astype(np.int64)
        flat = offsets.reshape(-1)
        joined = (offsets[0, 0] == 0 and offsets[-1, -1] == ids.size
                  and np.all(offsets[1:, 0] == offsets[:-1, -1]))
        if not joined or np.any(np.diff(offsets, axis=1) < 0):
            raise ValueError(f"{self.where}: offsets must be non-decreasing along each row, start "
                             f"at 0, continue from one member to the next and end at len(ids) "
                             f"({ids.size})")
        if ids.size and (ids.min() < 0 or ids.max() >= self.size):
            raise ValueError(f"{self.where}: scheduled ids must lie in [0, {self.size})")
        starts = np.zeros(ids.size + 1, bool)
        starts[flat] = True
        if np.any((np.diff(ids.astype(np.int64)) <= 0) & ~starts[1:-1]):
            raise ValueError(f"{self.where}: the ids of one step must be strictly ascending (a "
                             "neuron spikes at most once per step)")
        values = dict(values or {})
        missing = set(self.schedule_vars) - set(values)
        unknown = set(values) - set(self.schedule_vars)
        if missing or unknown:
            raise ValueError(f"{self.where}: schedule values needed for exactly "
                             f"{self.schedule_vars}; missing {sorted(missing)}, unknown "
                             f"{sorted(unknown)}")
        arrays = {"offsets": np.ascontiguousarray(offsets),
                  "ids": np.ascontiguousarray(ids, dtype=np.uint32)}
        for name in self.schedule_vars:
            v = np.asarray(values[name]).reshape(-1)
            if v.size != ids.size:
                raise ValueError(f"{self.where}: schedule values of '{name}' have {v.size} "
                                 f"entries for {ids.size} spikes")
            arrays[name] = np.ascontiguousarray(
                v, dtype=numpy_dtype(self.vars[name].type, self.model.precision, name))
        self._schedule = arrays
        self.model._push_schedule(self, arrays, offsets.shape[1] - 1)

    @property
    def spike_recording_data(self):
        """Per batch member, ``(times_ms, neuron_ids)`` of the recorded spikes."""
        if not self.spike_recording_enabled:
            raise StateError(f"{self.where}: spike recording is not enabled; set "
                             "spike_recording_enabled = True before build()")
        return self.model._recording_data(self)


class SynapseGroup(Group):
    kind = "synapse population"

    def __init__(self, model, name, matrix_type, source: NeuronGroup, target: NeuronGroup,
                 wu_init: Init, ps_init: Init, connectivity_init: Optional[Init]):
        wu = resolve_model(wu_init.snippet, builtins.WEIGHT_UPDATE_MODELS,
                           "weight update model", f"synapse population '{name}'")
        super().__init__(model, name, wu, wu_init.params)
        mt = str(matrix_type).upper().split(".")[-1]
        if mt not in ("DENSE", "SPARSE"):
            raise ModelDefinitionError(f"{self.where}: matrix type {matrix_type!r} is not "
                                       "supported; use 'DENSE' or 'SPARSE'")
        self.matrix_type = mt
        self.src, self.trg = source, target
        self.wu = wu
        self.ps = resolve_model(ps_init.snippet, builtins.POSTSYNAPTIC_MODELS,
                                "postsynaptic model", self.where)
        self.ps_where = f"synapse population '{name}' (postsynaptic model '{self.ps.name}')"
        check_keys(ps_init.params, self.ps.param_names(), "parameter", self.ps_where)
        self.ps_params = dict(ps_init.params)
        if self.ps.neuron_var_refs or wu.psm_var_refs:
            raise ModelDefinitionError(f"{self.where}: neuron/PSM variable references of "
                                       "postsynaptic models are not supported by this engine")
        check_keys(wu_init.psm_var_refs, [r.name for r in wu.psm_var_refs],
                   "postsynaptic model variable reference", self.where)
        check_keys(ps_init.var_refs, [r.name for r in self.ps.neuron_var_refs],
                   "neuron variable reference", self.ps_where)
        self.axonal_delay_steps = 0
        self.pre_target_var = "Isyn"
        self.post_target_var = "Isyn"
        self.connectivity = None
        self._user_connectivity = None
        if mt == "SPARSE" and connectivity_init is not None:
            snip = resolve_model(connectivity_init.snippet, builtins.SPARSE_INIT_SNIPPETS,
                                 "sparse connectivity snippet", self.where)
            check_keys(connectivity_init.params, snip.param_names(), "parameter",
                       f"{self.where}, connectivity '{snip.name}'")
            self.connectivity = Init(snip, dict(connectivity_init.params))
        elif mt == "DENSE" and connectivity_init is not None:
            raise ModelDefinitionError(f"{self.where}: DENSE connectivity takes no "
                                       "connectivity initialiser; use 'SPARSE'")
        self.max_row_length = self._max_row_length()
        self._add_vars(wu.vars, wu_init.vars, source.size * self.max_row_length)
        for var in self.vars.values():
            var.per_synapse = True
        self.pre_vars: Dict[str, Variable] = {}
        self.post_vars: Dict[str, Variable] = {}
        self.psm_vars: Dict[str, Variable] = {}
        self._add_side_vars(self.pre_vars, wu.pre_vars, wu_init.pre_vars, source.size,
                            "presynaptic variable")
        self._add_side_vars(self.post_vars, wu.post_vars, wu_init.post_vars, target.size,
                            "postsynaptic variable")
        self._add_side_vars(self.psm_vars, self.ps.vars, ps_init.vars, target.size,
                            "postsynaptic model variable")
        self.pre_var_refs = self._neuron_refs(wu.pre_neuron_var_refs, wu_init.pre_var_refs,
                                              source, "presynaptic neuron variable reference")
        self.post_var_refs = self._neuron_refs(wu.post_neuron_var_refs, wu_init.post_var_refs,
                                               target, "postsynaptic neuron variable reference")
        self.ps_extra_global_params = {e.name: ExtraGlobalParameter(self, e)
                                       for e in self.ps.extra_global_params}
        for name, egp in self.ps_extra_global_params.items():
            egp.symbol = state_symbol("f", self.name, name)
        self.row_length = None
        self.ind = None
        self._sealed = True

    _settable = ("axonal_delay_steps", "back_prop_delay_steps", "max_dendritic_delay_timesteps",
                 "pre_target_var", "post_target_var")
    _unsupported = {name: GPU_ONLY for name in (
        "output_location", "sparse_connectivity_location", "dendritic_delay_location",
        "max_source_connections", "parallelism_hint", "num_threads_per_spike",
        "narrow_sparse_ind_enabled")}

    @property
    def back_prop_delay_steps(self) -> int:
        return 0

    @back_prop_delay_steps.setter
    def back_prop_delay_steps(self, value: int):
        if value != 0:
            raise ModelDefinitionError(
                f"{self.where}: back_prop_delay_steps = {value!r} is not supported: this engine "
                "has no back-propagation delay (postsynaptic spikes and variables reach the "
                "synapses in the same step); only 0 is accepted")

    @property
    def max_dendritic_delay_timesteps(self) -> int:
        return 1

    @max_dendritic_delay_timesteps.setter
    def max_dendritic_delay_timesteps(self, value: int):
        if value != 1:
            raise ModelDefinitionError(
                f"{self.where}: max_dendritic_delay_timesteps = {value!r} is not supported: "
                "this engine has no dendritic delays (addToPostDelay); only 1 is accepted")

    @property
    def psm_extra_global_params(self) -> Dict[str, "ExtraGlobalParameter"]:
        """Extra global parameters of the postsynaptic model (PyGeNN 5 name)."""
        return self.ps_extra_global_params

    def set_param_dynamic(self, param_name: str, dynamic: bool = True):
        raise ModelDefinitionError(
            f"{self.where}: synapse populations have set_wu_param_dynamic(...) for "
            "weight-update parameters and set_ps_param_dynamic(...) for postsynaptic ones "
            "(as in PyGeNN 5.4)")

    def set_wu_param_dynamic(self, param_name: str, dynamic: bool = True):
        """Make a weight-update parameter changeable after build (``set_dynamic_param_value``)."""
        Group.set_param_dynamic(self, param_name, dynamic)

    def set_ps_param_dynamic(self, param_name: str, dynamic: bool = True):
        if dynamic:
            raise ModelDefinitionError(
                f"{self.ps_where}: dynamic postsynaptic-model parameters are not supported by "
                "this engine; give the value as a weight-update or neuron parameter instead")

    def _add_side_vars(self, store, defs, inits, size, what):
        check_keys(inits, [v.name for v in defs], what, self.where)
        for v in defs:
            init = resolve_init(inits[v.name], f"{self.where}, {what} '{v.name}'")
            dims = model_var_dims(v.access if v.access is not None else VarAccess.READ_WRITE)
            var = Variable(self, v.name, v.type, dims, size, init, access_mode(v.access))
            kind = {"presynaptic variable": "p", "postsynaptic variable": "q"}.get(what, "s")
            var.symbol = state_symbol(kind, self.name, v.name)
            store[v.name] = var

    def _neuron_refs(self, slots, given, pop, what):
        check_keys(given, [r.name for r in slots], what, self.where)
        refs = {}
        for slot in slots:
            ref = given[slot.name]
            if isinstance(ref, str):
                ref = VarReference(pop, ref, "neuron")
            if not isinstance(ref, VarReference) or ref.group is not pop or \
                    ref.var_name not in pop.vars:
                raise ModelDefinitionError(
                    f"{self.where}: {what} '{slot.name}' must be create_var_ref(<{pop.name}>, "
                    f"<one of {', '.join(pop.vars)}>)")
            check_ref_type(slot, pop.vars[ref.var_name], self.where, self.model.precision)
            refs[slot.name] = pop.vars[ref.var_name]
        return refs

    def _max_row_length(self) -> int:
        if self.matrix_type == "DENSE":
            return self.trg.size
        if self.connectivity is None:
            return self.trg.size
        func = self.connectivity.snippet.calc_max_row_len_func
        if func is None:
            return self.trg.size
        pars = dict(self.connectivity.params)
        pars.update(self.derived_param_values(self.connectivity.snippet, pars))
        return max(1, min(self.trg.size, int(func(self.src.size, self.trg.size, pars))))

    def _sparse_mask_possible(self):
        return self.matrix_type == "SPARSE"

    @property
    def max_connections(self) -> int:
        """Maximum synapses per presynaptic neuron (row length of SPARSE storage)."""
        return self.max_row_length

    def _sparse_mask(self):
        if self.matrix_type != "SPARSE":
            return None
        if self.row_length is None:
            raise StateError(f"{self.where}: connectivity is only known after load()")
        k = np.arange(self.max_row_length)
        return (k[None, :] < self.row_length[:, None]).reshape(-1)

    def set_sparse_connections(self, pre_indices, post_indices):
        """Give SPARSE connectivity explicitly as parallel index arrays (before build)."""
        if self.matrix_type != "SPARSE":
            raise ModelDefinitionError(f"{self.where}: set_sparse_connections needs SPARSE")
        pre = np.asarray(pre_indices, dtype=np.int64).reshape(-1)
        post = np.asarray(post_indices, dtype=np.int64).reshape(-1)
        if pre.shape != post.shape:
            raise ModelDefinitionError(f"{self.where}: pre and post index arrays differ in "
                                       f"length ({pre.size} vs {post.size})")
        if pre.size and (pre.min() < 0 or pre.max() >= self.src.size or post.min() < 0
                         or post.max() >= self.trg.size):
            raise ModelDefinitionError(f"{self.where}: connection indices out of range "
                                       f"(pre < {self.src.size}, post < {self.trg.size})")
        order = np.lexsort((post, pre))
        self._user_order = order
        self._user_connectivity = (pre[order], post[order])
        counts = np.bincount(pre, minlength=self.src.size)
        self.max_row_length = max(1, int(counts.max()) if counts.size else 1)
        for var in self.vars.values():
            var.size = self.src.size * self.max_row_length

    def get_sparse_pre_inds(self) -> np.ndarray:
        mask = self._sparse_mask()
        return np.repeat(np.arange(self.src.size), self.max_row_length)[mask]

    def get_sparse_post_inds(self) -> np.ndarray:
        return self.ind.reshape(-1)[self._sparse_mask()].astype(np.int64)

    def pull_connectivity_from_device(self):
        """No-op on CPU."""

    def push_connectivity_to_device(self):
        """No-op on CPU."""

    def all_variables(self):
        return (list(self.vars.values()) + list(self.pre_vars.values())
                + list(self.post_vars.values()) + list(self.psm_vars.values()))


class CurrentSource(Group):
    kind = "current source"

    def __init__(self, model, name, definition, pop: NeuronGroup, params, vars_, var_refs):
        super().__init__(model, name, definition, params)
        self.pop = pop
        self.size = pop.size
        self._add_vars(definition.vars, vars_, pop.size)
        check_keys(var_refs, [r.name for r in definition.neuron_var_refs],
                   "neuron variable reference", self.where)
        self.neuron_var_refs = {}
        for slot in definition.neuron_var_refs:
            ref = var_refs[slot.name]
            if not isinstance(ref, VarReference) or ref.group is not pop:
                raise ModelDefinitionError(f"{self.where}: neuron variable reference "
                                           f"'{slot.name}' must reference a variable of "
                                           f"'{pop.name}'")
            check_ref_type(slot, pop.vars[ref.var_name], self.where, model.precision)
            self.neuron_var_refs[slot.name] = pop.vars[ref.var_name]
        self.target_var = "Isyn"
        self._sealed = True

    _settable = ("target_var",)


class CustomUpdate(Group):
    """A custom update over neuron-like or per-synapse variables.

    Its size and batching follow the variables it references: it is batched
    when any referenced variable has a batch axis.
    """

    kind = "custom update"

    def __init__(self, model, name, group_name, definition, params, vars_, var_refs, egp_refs):
        super().__init__(model, name, definition, params)
        self.update_group = check_name(group_name, "custom update group")
        check_keys(var_refs, [r.name for r in definition.var_refs], "variable reference",
                   self.where)
        self.var_refs: Dict[str, Variable] = {}
        self.ref_modes: Dict[str, VarAccessMode] = {}
        self.sg: Optional[SynapseGroup] = None
        sizes = set()
        for slot in definition.var_refs:
            ref = var_refs[slot.name]
            var = self._resolve_ref(ref, slot.name)
            check_ref_type(slot, var, self.where, model.precision)
            self.var_refs[slot.name] = var
            self.ref_modes[slot.name] = access_mode(slot.access)
            if ref.kind == "wu":
                sg = ref.group.sg if isinstance(ref.group, CustomUpdate) else ref.group
                if self.sg is not None and self.sg is not sg:
                    raise ModelDefinitionError(f"{self.where}: all weight-update references "
                                               "must be to the same synapse population")
                self.sg = sg
            sizes.add((ref.kind == "wu", var.size))
        if len({k for k, _ in sizes}) > 1:
            raise ModelDefinitionError(f"{self.where}: cannot mix neuron and weight-update "
                                       "variable references in one custom update")
        if len(sizes) > 1:
            raise ModelDefinitionError(
                f"{self.where}: referenced variables differ in size "
                f"({sorted(s for _, s in sizes)}); a custom update covers one population")
        if not sizes:
            raise ModelDefinitionError(f"{self.where}: a custom update model must reference "
                                       "variables (var_refs), as in GeNN")
        self.size = sizes.pop()[1]
        if not any(v.dims & VarAccessDim.ELEMENT for v in self.var_refs.values()):
            raise ModelDefinitionError(
                f"{self.where}: every referenced variable is shared across neurons; custom "
                "updates over such variables alone are not supported by this engine")
        batched = any(v.dims & VarAccessDim.BATCH for v in self.var_refs.values())
        self.dims = VarAccessDim.ELEMENT | (VarAccessDim.BATCH if batched else VarAccessDim(0))
        check_keys(vars_, definition.var_names(), "variable", self.where)
        if self.sg is not None:
            self._check_wu_var_access(definition)
        for v in definition.vars:
            init = resolve_init(vars_[v.name], f"{self.where}, variable '{v.name}'")
            dims = self._var_dims(v.access)
            self.vars[v.name] = Variable(self, v.name, v.type, dims, self.size, init,
                                         access_mode(v.access))
            self.vars[v.name].per_synapse = self.sg is not None
        self._check_ref_modes()
        check_keys(egp_refs, [e.name for e in definition.extra_global_param_refs],
                   "extra global parameter reference", self.where)
        self.egp_refs = {}
        for e in definition.extra_global_param_refs:
            ref = egp_refs[e.name]
            if ref.egp_name not in ref.group.extra_global_params:
                raise ModelDefinitionError(f"{self.where}: '{ref.group.name}' has no extra "
                                           f"global parameter '{ref.egp_name}'")
            target = ref.group.extra_global_params[ref.egp_name]
            if resolve(e.type, model.precision) != resolve(target.type, model.precision):
                raise ModelDefinitionError(
                    f"{self.where}: extra global parameter reference '{e.name}' is declared "
                    f"'{e.type}' but '{ref.egp_name}' of '{ref.group.name}' is "
                    f"'{target.type}*'; declare the reference with type '{target.type}*'")
            self.egp_refs[e.name] = target
        self._sealed = True

    def _resolve_ref(self, ref, slot_name):
        if not isinstance(ref, VarReference):
            raise ModelDefinitionError(f"{self.where}: variable reference '{slot_name}' must be "
                                       "made with create_var_ref or create_wu_var_ref")
        group = ref.group
        store = {"neuron": getattr(group, "vars", {}), "wu": getattr(group, "vars", {}),
                 "psm": getattr(group, "psm_vars", {}), "wu_pre": getattr(group, "pre_vars", {}),
                 "wu_post": getattr(group, "post_vars", {})}.get(ref.kind)
        if ref.kind == "out_post":
            raise ModelDefinitionError(f"{self.where}: out-post references are not supported")
        if ref.kind == "neuron" and isinstance(group, CustomUpdate) and group.is_wu:
            raise ModelDefinitionError(f"{self.where}: reference '{slot_name}' points at "
                                       f"custom update '{group.name}', which updates synapse "
                                       "variables; use create_wu_var_ref")
        if ref.kind == "neuron" and isinstance(group, SynapseGroup):
            raise ModelDefinitionError(f"{self.where}: reference '{slot_name}' points at "
                                       f"synapse population '{group.name}'; use "
                                       "create_wu_var_ref for per-synapse variables")
        if ref.kind == "wu" and not (isinstance(group, SynapseGroup) or (
                isinstance(group, CustomUpdate) and group.is_wu)):
            raise ModelDefinitionError(f"{self.where}: create_wu_var_ref needs a synapse "
                                       f"population or a weight-update custom update, "
                                       f"'{group.name}' is neither")
        if ref.var_name not in store:
            raise ModelDefinitionError(
                f"{self.where}: reference '{slot_name}': '{group.name}' has no variable "
                f"'{ref.var_name}'.{closest(ref.var_name, store)} Valid: {', '.join(store)}")
        return store[ref.var_name]

    def _check_wu_var_access(self, definition):
        """Per-synapse updates have no neuron axis to share or reduce over (GeNN rejects it)."""
        for v in definition.vars:
            if v.access is not None and int(v.access) & int(VarAccessDim.ELEMENT):
                raise ModelDefinitionError(
                    f"{self.where}: variable '{v.name}' has access {v.access!r}, which shares "
                    f"or reduces over neurons; a custom update of synapse variables (of "
                    f"'{self.sg.name}') cannot use *_SHARED_NEURON or REDUCE_NEURON_* access")

    def _var_dims(self, access) -> VarAccessDim:
        if access is None:
            return self.dims
        if isinstance(access, VarAccess):
            return VarAccessDim(int(access) & int(self.dims) & int(ELEMENT_BATCH))
        return custom_update_var_dims(access, self.dims)

    def _check_ref_modes(self):
        batched = self.model.batch_size > 1 and bool(self.dims & VarAccessDim.BATCH)
        for name, var in self.var_refs.items():
            mode = self.ref_modes[name]
            if mode & VarAccessMode.REDUCE:
                if var.dims == self.dims:
                    raise ModelDefinitionError(
                        f"{self.where}: reduction reference '{name}' targets '{var.name}' of "
                        f"'{var.group.name}', which has the same dimensions as the update; "
                        "a reduction target must drop the batch or the neuron axis")
            elif mode & VarAccessMode.READ_WRITE and batched and not var.batched:
                raise ModelDefinitionError(
                    f"{self.where}: reference '{name}' writes '{var.name}' of "
                    f"'{var.group.name}', which is shared across the batch, from a batched "
                    "update; make the reference READ_ONLY or a REDUCE_* reduction")
            elif mode & VarAccessMode.READ_WRITE and not var.element:
                raise ModelDefinitionError(
                    f"{self.where}: reference '{name}' writes '{var.name}' of "
                    f"'{var.group.name}', which is shared across neurons, from a per-neuron "
                    "update; make the reference READ_ONLY or a REDUCE_NEURON_* reduction")

    @property
    def is_wu(self) -> bool:
        return self.sg is not None

    def _sparse_mask_possible(self):
        return self.sg is not None and self.sg.matrix_type == "SPARSE"

    def _sparse_mask(self):
        return self.sg._sparse_mask() if self._sparse_mask_possible() else None
