"""Model definitions and initialisers with PyGeNN 5 names.

A model is a small record of parameter names, variables and C-like code
strings; nothing here generates code. ``create_*`` build definitions and
``init_*`` bind a definition (or the name of a built-in) to values.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional

from .access import CustomUpdateVarAccess, VarAccess, VarAccessMode
from .errors import ModelDefinitionError, SnippetError
from .snippet import check_declared_name


@dataclass(frozen=True)
class Var:
    """A model variable: name, C type and access flag."""
    name: str
    type: str = "scalar"
    access: Any = None


@dataclass(frozen=True)
class Param:
    name: str
    type: str = "scalar"


@dataclass(frozen=True)
class DerivedParam:
    """A parameter computed from the others and dt: ``func(pars: dict, dt) -> value``."""
    name: str
    func: Callable
    type: str = "scalar"


@dataclass(frozen=True)
class EGP:
    """Extra global parameter; pointer types end in ``*``."""
    name: str
    type: str

    @property
    def is_pointer(self) -> bool:
        return self.type.strip().endswith("*")

    @property
    def value_type(self) -> str:
        return self.type.strip().rstrip("*").strip()


@dataclass(frozen=True)
class VarRef:
    """A variable reference slot of a model: name, type and access mode."""
    name: str
    type: str = "scalar"
    access: Any = VarAccessMode.READ_WRITE


@dataclass(frozen=True)
class AdditionalInput:
    name: str
    type: str
    init: float


@dataclass
class ModelBase:
    """Fields shared by every kind of model definition."""
    name: str
    kind: str = ""
    params: List[Param] = field(default_factory=list)
    derived_params: List[DerivedParam] = field(default_factory=list)
    vars: List[Var] = field(default_factory=list)
    extra_global_params: List[EGP] = field(default_factory=list)
    code: Dict[str, str] = field(default_factory=dict)

    def __post_init__(self):
        seen = set()
        for kind, name in self.declared_names():
            where = f"{self.kind or 'model'} '{self.name}', {kind}"
            check_declared_name(name, where)
            if name in seen:
                raise SnippetError(f"{where}: '{name}' is declared more than once")
            seen.add(name)

    def declared_names(self):
        """(kind, name) of everything this model declares for its code to use."""
        out = [("param", p.name) for p in self.params]
        out += [("derived param", d.name) for d in self.derived_params]
        out += [("var", v.name) for v in self.vars]
        out += [("extra global param", e.name) for e in self.extra_global_params]
        for attr in ("pre_vars", "post_vars", "pre_neuron_var_refs", "post_neuron_var_refs",
                     "psm_var_refs", "neuron_var_refs", "var_refs", "extra_global_param_refs",
                     "additional_input_vars"):
            out += [(attr.rstrip("s").replace("_", " "), x.name) for x in getattr(self, attr, [])]
        return out

    def param_names(self) -> List[str]:
        return [p.name for p in self.params]

    def var_names(self) -> List[str]:
        return [v.name for v in self.vars]

    def var(self, name: str) -> Var:
        for v in self.vars:
            if v.name == name:
                return v
        raise KeyError(name)


@dataclass
class NeuronModel(ModelBase):
    additional_input_vars: List[AdditionalInput] = field(default_factory=list)
    auto_refractory_required: bool = False


@dataclass
class WeightUpdateModel(ModelBase):
    pre_vars: List[Var] = field(default_factory=list)
    post_vars: List[Var] = field(default_factory=list)
    pre_neuron_var_refs: List[VarRef] = field(default_factory=list)
    post_neuron_var_refs: List[VarRef] = field(default_factory=list)
    psm_var_refs: List[VarRef] = field(default_factory=list)


@dataclass
class PostsynapticModel(ModelBase):
    neuron_var_refs: List[VarRef] = field(default_factory=list)


@dataclass
class CurrentSourceModel(ModelBase):
    neuron_var_refs: List[VarRef] = field(default_factory=list)


@dataclass
class CustomUpdateModel(ModelBase):
    var_refs: List[VarRef] = field(default_factory=list)
    extra_global_param_refs: List[EGP] = field(default_factory=list)


@dataclass
class VarInitSnippet(ModelBase):
    pass


@dataclass
class SparseConnectInitSnippet(ModelBase):
    calc_max_row_len_func: Optional[Callable] = None
    calc_max_col_len_func: Optional[Callable] = None


def _as_params(params) -> List[Param]:
    out = []
    for p in params or []:
        if isinstance(p, str):
            out.append(Param(p))
        else:
            out.append(Param(*p))
    return out


def _as_derived(derived) -> List[DerivedParam]:
    out = []
    for d in derived or []:
        name, func = d[0], d[1]
        out.append(DerivedParam(name, func, d[2] if len(d) > 2 else "scalar"))
    return out


def _check_flag(value, flag_type, where: str):
    """PyGeNN's Var/VarRef constructors take only their own enum: another flag would
    silently mean other dimensions (the bits of the enums overlap)."""
    if not isinstance(value, flag_type):
        raise ModelDefinitionError(
            f"{where}: access must be a {flag_type.__name__} member, got {value!r} "
            f"({type(value).__name__}); valid: "
            f"{', '.join(f'{flag_type.__name__}.{m.name}' for m in flag_type)}")
    return value


def _as_vars(vars_, default_access, flag_type, model: str) -> List[Var]:
    out = []
    for v in vars_ or []:
        if isinstance(v, str):
            out.append(Var(v, "scalar", default_access))
        elif len(v) == 2:
            out.append(Var(v[0], v[1], default_access))
        else:
            out.append(Var(v[0], v[1], _check_flag(v[2], flag_type,
                                                     f"model '{model}', variable '{v[0]}'")))
    return out


def _as_refs(refs, model: str, default_mode=VarAccessMode.READ_WRITE) -> List[VarRef]:
    out = []
    for r in refs or []:
        if isinstance(r, str):
            out.append(VarRef(r, "scalar", default_mode))
        elif len(r) == 2:
            out.append(VarRef(r[0], r[1], default_mode))
        else:
            out.append(VarRef(r[0], r[1], _check_flag(
                r[2], VarAccessMode, f"model '{model}', variable reference '{r[0]}'")))
    return out


def _as_egps(egps, model: str) -> List[EGP]:
    out = [EGP(e[0], e[1]) for e in (egps or [])]
    for e in out:
        if not e.is_pointer:
            raise ModelDefinitionError(
                f"model '{model}', extra global parameter '{e.name}': type '{e.type}' is not "
                f"an array; GeNN 5 has only array extra global parameters (write "
                f"'{e.type}*'), use a parameter (dynamic if it changes) for a single value")
    return out


def _code(**kwargs) -> Dict[str, str]:
    return {k: v for k, v in kwargs.items() if v}


def create_neuron_model(class_name, params=None, vars=None, derived_params=None,
                        sim_code=None, threshold_condition_code=None, reset_code=None,
                        extra_global_params=None, additional_input_vars=None,
                        auto_refractory_required=False) -> NeuronModel:
    """Define a neuron model. Variables default to ``VarAccess.READ_WRITE``."""
    return NeuronModel(
        class_name, "neuron", _as_params(params), _as_derived(derived_params),
        _as_vars(vars, VarAccess.READ_WRITE, VarAccess, class_name),
        _as_egps(extra_global_params, class_name),
        _code(sim_code=sim_code, threshold_condition_code=threshold_condition_code,
              reset_code=reset_code),
        [AdditionalInput(*a) for a in (additional_input_vars or [])],
        auto_refractory_required)


def create_weight_update_model(class_name, params=None, vars=None, pre_vars=None,
                               post_vars=None, pre_neuron_var_refs=None,
                               post_neuron_var_refs=None, psm_var_refs=None,
                               derived_params=None,
                               pre_spike_syn_code=None, pre_event_syn_code=None,
                               post_event_syn_code=None, post_spike_syn_code=None,
                               synapse_dynamics_code=None,
                               pre_event_threshold_condition_code=None,
                               post_event_threshold_condition_code=None,
                               pre_spike_code=None, post_spike_code=None,
                               pre_dynamics_code=None, post_dynamics_code=None,
                               extra_global_params=None) -> WeightUpdateModel:
    """Define a weight update model. Variables default to ``VarAccess.READ_WRITE``."""
    return WeightUpdateModel(
        class_name, "weight_update", _as_params(params), _as_derived(derived_params),
        _as_vars(vars, VarAccess.READ_WRITE, VarAccess, class_name),
        _as_egps(extra_global_params, class_name),
        _code(pre_spike_syn_code=pre_spike_syn_code, pre_event_syn_code=pre_event_syn_code,
              post_event_syn_code=post_event_syn_code,
              post_spike_syn_code=post_spike_syn_code,
              synapse_dynamics_code=synapse_dynamics_code,
              pre_event_threshold_condition_code=pre_event_threshold_condition_code,
              post_event_threshold_condition_code=post_event_threshold_condition_code,
              pre_spike_code=pre_spike_code, post_spike_code=post_spike_code,
              pre_dynamics_code=pre_dynamics_code, post_dynamics_code=post_dynamics_code),
        _as_vars(pre_vars, VarAccess.READ_WRITE, VarAccess, class_name),
        _as_vars(post_vars, VarAccess.READ_WRITE, VarAccess, class_name),
        _as_refs(pre_neuron_var_refs, class_name), _as_refs(post_neuron_var_refs, class_name),
        _as_refs(psm_var_refs, class_name))


def create_postsynaptic_model(class_name, params=None, vars=None, neuron_var_refs=None,
                              derived_params=None, sim_code=None,
                              extra_global_params=None) -> PostsynapticModel:
    """Define a postsynaptic model; ``sim_code`` uses ``inSyn`` and ``injectCurrent(x)``."""
    return PostsynapticModel(
        class_name, "postsynaptic", _as_params(params), _as_derived(derived_params),
        _as_vars(vars, VarAccess.READ_WRITE, VarAccess, class_name),
        _as_egps(extra_global_params, class_name),
        _code(sim_code=sim_code), _as_refs(neuron_var_refs, class_name))


def create_current_source_model(class_name, params=None, vars=None, neuron_var_refs=None,
                                derived_params=None, injection_code=None,
                                extra_global_params=None) -> CurrentSourceModel:
    """Define a current source; ``injection_code`` calls ``injectCurrent(x)``."""
    return CurrentSourceModel(
        class_name, "current_source", _as_params(params), _as_derived(derived_params),
        _as_vars(vars, VarAccess.READ_WRITE, VarAccess, class_name),
        _as_egps(extra_global_params, class_name),
        _code(injection_code=injection_code), _as_refs(neuron_var_refs, class_name))


def create_custom_update_model(class_name, params=None, vars=None, derived_params=None,
                               var_refs=None, update_code=None, extra_global_params=None,
                               extra_global_param_refs=None) -> CustomUpdateModel:
    """Define a custom update. Variables default to ``CustomUpdateVarAccess.READ_WRITE``."""
    return CustomUpdateModel(
        class_name, "custom_update", _as_params(params), _as_derived(derived_params),
        _as_vars(vars, CustomUpdateVarAccess.READ_WRITE, CustomUpdateVarAccess, class_name),
        _as_egps(extra_global_params, class_name), _code(update_code=update_code),
        _as_refs(var_refs, class_name), _as_egps(extra_global_param_refs, class_name))


def create_var_init_snippet(class_name, params=None, derived_params=None,
                            var_init_code=None, extra_global_params=None) -> VarInitSnippet:
    """Define a variable initialiser; ``var_init_code`` assigns ``value``."""
    return VarInitSnippet(class_name, "var_init", _as_params(params),
                          _as_derived(derived_params), [],
                          _as_egps(extra_global_params, class_name),
                          _code(var_init_code=var_init_code))


def create_sparse_connect_init_snippet(class_name, params=None, derived_params=None,
                                       row_build_code=None, col_build_code=None,
                                       calc_max_row_len_func=None,
                                       calc_max_col_len_func=None,
                                       extra_global_params=None) -> SparseConnectInitSnippet:
    """Define a sparse connectivity initialiser; ``row_build_code`` calls ``addSynapse(j)``.

    ``calc_max_row_len_func(num_pre, num_post, pars)`` bounds the row length.
    """
    if col_build_code:
        raise NotImplementedError(
            f"sparse connectivity snippet '{class_name}': col_build_code is not supported "
            "by this engine; write the connectivity as row_build_code")
    return SparseConnectInitSnippet(class_name, "sparse_init", _as_params(params),
                                    _as_derived(derived_params), [],
                                    _as_egps(extra_global_params, class_name),
                                    _code(row_build_code=row_build_code),
                                    calc_max_row_len_func, calc_max_col_len_func)


@dataclass
class Init:
    """A definition (or built-in name, resolved later) bound to parameter values."""
    snippet: Any
    params: Dict[str, Any] = field(default_factory=dict)
    vars: Dict[str, Any] = field(default_factory=dict)
    pre_vars: Dict[str, Any] = field(default_factory=dict)
    post_vars: Dict[str, Any] = field(default_factory=dict)
    pre_var_refs: Dict[str, Any] = field(default_factory=dict)
    post_var_refs: Dict[str, Any] = field(default_factory=dict)
    psm_var_refs: Dict[str, Any] = field(default_factory=dict)
    var_refs: Dict[str, Any] = field(default_factory=dict)


def init_var(snippet, params=None) -> Init:
    """Initialise a variable with a var-init snippet (object or built-in name)."""
    return Init(snippet, dict(params or {}))


def init_sparse_connectivity(snippet, params=None) -> Init:
    return Init(snippet, dict(params or {}))


def init_weight_update(snippet, params=None, vars=None, pre_vars=None, post_vars=None,
                       pre_var_refs=None, post_var_refs=None, psm_var_refs=None) -> Init:
    return Init(snippet, dict(params or {}), dict(vars or {}), dict(pre_vars or {}),
                dict(post_vars or {}), dict(pre_var_refs or {}), dict(post_var_refs or {}),
                dict(psm_var_refs or {}))


def init_postsynaptic(snippet, params=None, vars=None, var_refs=None) -> Init:
    return Init(snippet, dict(params or {}), dict(vars or {}), var_refs=dict(var_refs or {}))


@dataclass(frozen=True)
class VarReference:
    """A reference to a variable of a group (neuron, synapse, custom update, ...)."""
    group: Any
    var_name: str
    kind: str  # "neuron" (per element of a population-like group) or "wu"


@dataclass(frozen=True)
class EGPReference:
    group: Any
    egp_name: str


def create_var_ref(group, var_name: str) -> VarReference:
    """Reference a per-element variable of a neuron population, current source or custom update."""
    return VarReference(group, var_name, "neuron")


def create_psm_var_ref(group, var_name: str) -> VarReference:
    """Reference a postsynaptic-model variable of a synapse group."""
    return VarReference(group, var_name, "psm")


def create_wu_pre_var_ref(group, var_name: str) -> VarReference:
    return VarReference(group, var_name, "wu_pre")


def create_wu_post_var_ref(group, var_name: str) -> VarReference:
    return VarReference(group, var_name, "wu_post")


def create_out_post_var_ref(group) -> VarReference:
    """Reference the postsynaptic input accumulator (``outPost``/``inSyn``) of a synapse group."""
    return VarReference(group, "outPost", "out_post")


def create_wu_var_ref(group, var_name: str, transpose_group=None,
                      transpose_var_name: Optional[str] = None) -> VarReference:
    """Reference a weight-update (per synapse) variable."""
    if transpose_group is not None:
        raise NotImplementedError("transposed weight-update variable references are not "
                                  "supported by this engine")
    return VarReference(group, var_name, "wu")


def create_egp_ref(group, egp_name: str) -> EGPReference:
    return EGPReference(group, egp_name)
