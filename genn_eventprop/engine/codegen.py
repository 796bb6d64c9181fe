"""Generates the C++17/OpenMP source of a model.

Every kernel follows one pattern: loop over elements (and batch members), bind
each variable and parameter a snippet uses to a local of the same name, paste
the snippet (after a ``#line`` directive naming model, group and snippet),
then write the writable locals back. Spike propagation is event driven: the
neuron update compacts spike flags into per-batch spike lists, and the
synapse update walks those lists (work ~ spikes x fan-out).
"""
from __future__ import annotations

import re
import zlib
from dataclasses import dataclass
from typing import Dict, Iterable, List, Optional, Sequence

from .access import VarAccessDim, VarAccessMode
from .ctypes_map import c_literal, c_storage_type, resolve
from .errors import ModelDefinitionError
from .groups import CurrentSource, CustomUpdate, NeuronGroup, SynapseGroup, Variable
from .models import Init
from .prelude import prelude
from .snippet import RANDOM_FUNCS, assigns, check_identifiers, typed_literals, uses, with_line

LINE_RESET = "#line __RESET__"
POST_INPUT_CALL = re.compile(r"\baddToPostInput\s*\(\s*([A-Za-z_]\w*)")


@dataclass
class Binding:
    """A local named ``name`` bound to ``symbol[index]``."""
    name: str
    c_type: str
    symbol: str
    index: str
    writable: bool


@dataclass
class ArraySpec:
    """A state array that Python allocates and the compiled code points at."""
    symbol: str
    c_type: str
    count: int


def stream_tag(*parts) -> int:
    """A 32-bit RNG stream tag unique to (group, purpose)."""
    return zlib.crc32("/".join(str(p) for p in parts).encode()) & 0xFFFFFFFF


class Generator:
    """Builds the source of one GeNNModel; ``arrays`` lists the state to allocate."""

    def __init__(self, model):
        self.model = model
        self.precision = model.precision
        self.B = model.batch_size
        self.arrays: List[ArraySpec] = []
        self.globals: List[str] = []
        self.snippet_labels: Dict[str, str] = {}

    # ----------------------------------------------------------------- helpers
    def ctype(self, t: str) -> str:
        return resolve(t, self.precision)

    def add_array(self, symbol: str, c_type: str, count: int) -> None:
        st = c_storage_type(c_type, self.precision)
        self.arrays.append(ArraySpec(symbol, st, int(count)))
        self.globals.append(f"{st}* __restrict__ {symbol} = nullptr;")

    def var_index(self, var: Variable, element: str, batch: str = "batch") -> str:
        """Index of ``var`` for an element expression and a batch expression."""
        e = element if var.element else "0"
        if var.batched:
            n = var.size if var.element else 1
            return f"(size_t)({batch}) * {n} + ({e})"
        return f"({e})"

    def var_binding(self, var: Variable, element: str, name: Optional[str] = None,
                    writable: Optional[bool] = None, batch: str = "batch") -> Binding:
        if writable is None:
            writable = not (var.mode & VarAccessMode.READ_ONLY)
        return Binding(name or var.name, self.ctype(var.type), var.symbol,
                       self.var_index(var, element, batch), writable)

    def param_decls(self, group, definition, params: Dict, code: Iterable[str],
                    dynamic: Iterable[str] = ()) -> List[str]:
        """``const`` locals for the params, derived params and EGPs ``code`` uses."""
        code = list(code)
        out = []
        derived = group.derived_param_values(definition, params)
        types = {p.name: p.type for p in definition.params}
        for name, value in params.items():
            if not any(uses(c, name) for c in code):
                continue
            t = self.ctype(types.get(name, "scalar"))
            if name in dynamic:
                out.append(f"const {t} {name} = dp_{name}_{group.name};")
            else:
                out.append(f"const {t} {name} = {c_literal(value, t, self.precision)};")
        dtypes = {d.name: d.type for d in definition.derived_params}
        for name, value in derived.items():
            if any(uses(c, name) for c in code):
                t = self.ctype(dtypes[name])
                out.append(f"const {t} {name} = {c_literal(value, t, self.precision)};")
        return out

    def egp_decls(self, egps: Dict, code: Iterable[str]) -> List[str]:
        code = list(code)
        out = []
        for name, egp in egps.items():
            if not any(uses(c, name) for c in code):
                continue
            t = self.ctype(egp.type)
            if egp.is_pointer:
                out.append(f"{c_storage_type(t, self.precision)}* const {name} = {egp.symbol};")
            else:
                out.append(f"const {t} {name} = {egp.symbol}[0];")
        return out

    def bind(self, bindings: Sequence[Binding], code: Iterable[str]):
        """Declarations (and write-backs, if any) for the bindings ``code`` mentions.

        Variables stored in their own C type are bound as references, so a
        variable the code touches only on a rare branch (e.g. at a spike) costs
        no load or store on the other steps; bool variables (stored as uint8_t)
        are copied in and written back.
        """
        code = list(code)
        decls, backs = [], []
        for b in bindings:
            if not any(uses(c, b.name) for c in code):
                continue
            writable = b.writable and any(assigns(c, b.name) for c in code)
            direct = c_storage_type(b.c_type, self.precision) == b.c_type
            element = f"{b.symbol}[{b.index}]"
            if direct:
                decls.append(f"{'' if writable else 'const '}{b.c_type}& {b.name} = {element};")
            elif writable:
                decls.append(f"{b.c_type} {b.name} = {element};")
                backs.append(f"{element} = {b.name};")
            else:
                decls.append(f"const {b.c_type} {b.name} = {element};")
        return decls, backs

    def snippet(self, code: str, allowed: Iterable[str], where: str, snippet_name: str,
                template: str = "{}") -> str:
        """Validated snippet text wrapped in ``#line`` directives.

        ``template`` places the snippet inside generated code, e.g. an
        expression snippet inside an assignment.
        """
        check_identifiers(code, allowed, f"{where}, {snippet_name}")
        code = typed_literals(code, self.precision)
        label = f"{where} {snippet_name}"
        self.snippet_labels[label.replace('"', "'")] = f"{where}, {snippet_name}"
        before, after = template.split("{}")
        return f"{before}\n{with_line(code, label)}{LINE_RESET}\n{after}"

    def rng_decl(self, code: Iterable[str], tag: int, a: str, b: str, c: str) -> List[str]:
        if any(uses(x, f) for x in code for f in RANDOM_FUNCS):
            return [f"Rng _rng(::seed, {tag}u, (uint32_t)({a}), (uint32_t)({b}), (uint32_t)({c}));"]
        return []

    # ------------------------------------------------------------------ arrays
    def declare_arrays(self):
        m = self.model
        B = self.B
        for pop in m.neuron_populations.values():
            slots = pop.num_delay_slots
            for v in pop.vars.values():
                self.add_array(v.symbol, v.type, v.num_elements())
            self.add_array(f"spkCnt_{pop.name}", "uint32_t", B * slots)
            self.add_array(f"spk_{pop.name}", "uint32_t", B * slots * pop.size)
            self.add_array(f"spkFlag_{pop.name}", "uint8_t", B * pop.size)
            self.add_array(f"sT_{pop.name}", "scalar", B * pop.size)
            self.add_array(f"recordSpk_{pop.name}", "uint32_t", 0)
            self.globals.append(f"uint32_t spkQuePtr_{pop.name} = 0;")
            self.declare_egps(pop.extra_global_params.values())
            self.declare_dynamic(pop)
        for sg in m.synapse_populations.values():
            for v in sg.all_variables():
                self.add_array(v.symbol, v.type, v.num_elements())
            self.add_array(f"outPost_{sg.name}", "scalar", B * sg.trg.size)
            if self.uses_add_to_pre(sg):
                self.add_array(f"outPre_{sg.name}", "scalar", B * sg.src.size)
            for name in self.post_input_targets(sg):
                self.add_array(f"outPostIn_{sg.name}_{name}", "scalar", B * sg.trg.size)
            if sg.matrix_type == "SPARSE":
                self.add_array(f"rowLength_{sg.name}", "uint32_t", sg.src.size)
                self.add_array(f"ind_{sg.name}", "uint32_t", sg.src.size * sg.max_row_length)
                if self.needs_columns(sg):
                    self.add_array(f"colLength_{sg.name}", "uint32_t", sg.trg.size)
                    self.add_array(f"remap_{sg.name}", "uint32_t", sg.trg.size * sg.src.size)
            if "pre_event_threshold_condition_code" in sg.wu.code:
                slots = sg.src.num_delay_slots
                self.add_array(f"evntFlag_{sg.name}", "uint8_t", B * sg.src.size)
                self.add_array(f"evntCnt_{sg.name}", "uint32_t", B * slots)
                self.add_array(f"evnt_{sg.name}", "uint32_t", B * slots * sg.src.size)
            if "post_event_threshold_condition_code" in sg.wu.code:
                self.add_array(f"pevntFlag_{sg.name}", "uint8_t", B * sg.trg.size)
                self.add_array(f"pevntCnt_{sg.name}", "uint32_t", B)
                self.add_array(f"pevnt_{sg.name}", "uint32_t", B * sg.trg.size)
            self.declare_egps(sg.extra_global_params.values())
            self.declare_egps(sg.ps_extra_global_params.values())
            self.declare_dynamic(sg)
        for cs in m.current_sources.values():
            for v in cs.vars.values():
                self.add_array(v.symbol, v.type, v.num_elements())
            self.declare_egps(cs.extra_global_params.values())
            self.declare_dynamic(cs)
        for cu in m.custom_updates.values():
            for v in cu.vars.values():
                self.add_array(v.symbol, v.type, v.num_elements())
            self.declare_egps(cu.extra_global_params.values())
            self.declare_dynamic(cu)

    def declare_egps(self, egps):
        for egp in egps:
            t = c_storage_type(egp.type, self.precision)
            self.globals.append(f"{t}* {egp.symbol} = nullptr;")

    def declare_dynamic(self, group):
        for name in sorted(group.dynamic_params):
            self.globals.append(f"scalar dp_{name}_{group.name} = "
                                f"{c_literal(group.params[name], 'scalar', self.precision)};")

    def all_groups(self):
        m = self.model
        return (list(m.neuron_populations.values()) + list(m.synapse_populations.values())
                + list(m.current_sources.values()) + list(m.custom_updates.values()))

    @staticmethod
    def uses_add_to_pre(sg: SynapseGroup) -> bool:
        return any(uses(c, "addToPre") for k, c in sg.wu.code.items() if k.endswith("syn_code")
                   or k == "synapse_dynamics_code")

    @staticmethod
    def post_input_targets(sg: SynapseGroup) -> List[str]:
        """Additional input variables of the target that ``addToPostInput(var, x)`` feeds.

        An extension of GeNN 5's ``addToPost``: a weight update can feed more than one
        input of the postsynaptic neuron (e.g. a current and a voltage increment).
        """
        names = []
        for key, code in sg.wu.code.items():
            if key.endswith("syn_code") or key == "synapse_dynamics_code":
                names += [m for m in POST_INPUT_CALL.findall(code) if m not in names]
        valid = [a.name for a in sg.trg.definition.additional_input_vars]
        for name in names:
            if name not in valid:
                raise ModelDefinitionError(
                    f"synapse population '{sg.name}': addToPostInput({name}, ...) names no "
                    f"additional input variable of neuron model '{sg.trg.definition.name}' "
                    f"(population '{sg.trg.name}'); valid: {', '.join(valid) or 'none'}")
        return names

    @staticmethod
    def check_event_code(sg: SynapseGroup) -> None:
        """Spike-like event code needs both halves, as GeNN 5.4's weight update model
        validation demands: an event handler without its threshold condition (or the
        reverse) would otherwise silently never run."""
        for side in ("pre", "post"):
            syn, cond = f"{side}_event_syn_code", f"{side}_event_threshold_condition_code"
            if (syn in sg.wu.code) == (cond in sg.wu.code):
                continue
            given, missing = (syn, cond) if syn in sg.wu.code else (cond, syn)
            raise ModelDefinitionError(
                f"weight update model '{sg.wu.name}' (synapse population '{sg.name}'): "
                f"{given} is given but {missing} is missing; to handle {side}synaptic "
                f"spike-like events GeNN 5.4 needs both")

    @staticmethod
    def needs_columns(sg: SynapseGroup) -> bool:
        return any(k in sg.wu.code for k in ("post_spike_syn_code", "post_event_syn_code"))

    # ---------------------------------------------------------- neuron update
    def queue_advance(self, pop: NeuronGroup) -> List[str]:
        """Each step a delayed population moves its spike queue on by one slot."""
        slots = pop.num_delay_slots
        return ([f"spkQuePtr_{pop.name} = (spkQuePtr_{pop.name} + 1) % {slots};"]
                if slots > 1 else [])

    def neuron_update(self, pop: NeuronGroup) -> str:
        """One step of ``pop`` with batch size 1: parallel over its neurons, spikes
        flagged and compacted (see ``neuron_element``)."""
        N = pop.size
        lines = [f"// ---- neuron update: {pop.name}"] + self.queue_advance(pop)
        if pop.schedule_vars is not None:
            lines += ["{", "const int _b = 0;", "const unsigned int batch = 0;"]
            return "\n".join(lines + self.schedule_body(pop) + ["}"])
        lines += ["#pragma omp parallel for schedule(static)",
                  f"for (int64_t _k = 0; _k < (int64_t){N}; _k++) {{",
                  "const unsigned int batch = 0;",
                  "const unsigned int id = (unsigned int)_k;"] + self.neuron_element(pop) + ["}"]
        lines += self.compaction(pop)
        return "\n".join(lines)

    def neuron_element(self, pop: NeuronGroup) -> List[str]:
        """One step of neuron ``id`` of batch member ``batch`` in GeNN 5.4's order
        (neuronUpdateGroupMerged.cc): inputs, sim code, WU pre/post dynamics,
        spike-like event conditions, threshold, then at a spike the WU spike
        code, spike output and reset. With a batch (``B > 1``) spikes are
        appended to the member's list directly, else flagged and compacted."""
        B, N = self.B, pop.size
        nm = pop.definition
        where = f"neuron model '{nm.name}' (population '{pop.name}')"
        sim = nm.code.get("sim_code", "")
        thresh = nm.code.get("threshold_condition_code", "")
        reset = nm.code.get("reset_code", "")
        own = [self.var_binding(v, "id") for v in pop.vars.values()]
        inputs = self.neuron_inputs(pop)
        base = ["t", "dt", "id", "batch", "num_neurons", "num_batch", "st"] + list(RANDOM_FUNCS)
        names = (base + [b.name for b in own] + inputs + pop.definition.param_names()
                 + [d.name for d in nm.derived_params] + list(pop.extra_global_params))
        direct = B > 1
        body = [f"const unsigned int num_neurons = {N};",
                f"const unsigned int num_batch = {B};",
                f"const scalar st = sT_{pop.name}[_k];"]
        all_code = [sim, thresh, reset]
        body += self.param_decls(pop, nm, pop.params, all_code, pop.dynamic_params)
        body += self.egp_decls(pop.extra_global_params, all_code)
        body += self.rng_decl(all_code, stream_tag(pop.name, "neuron"), "_iT", "id", "batch")
        decls, backs = self.bind(own, all_code)
        body += decls
        body += self.input_blocks(pop, inputs, all_code)
        if nm.auto_refractory_required and thresh:
            body.append(self.snippet(thresh.strip().rstrip(";"), names, where,
                                     "threshold_condition_code", "const bool _old_spike = ({});"))
        if sim:
            body.append(self.snippet(sim, names, where, "sim_code"))
        # Variables kept in a local copy (bool) are stored now, so that weight-update
        # code reading them through references sees the values sim_code left.
        body += backs
        body += self.wu_neuron_side_blocks(pop, "dynamics")
        body += self.event_conditions(pop, direct)
        if thresh:
            template = ("const bool _spiked = ({}) && !_old_spike;" if nm.auto_refractory_required
                        else "const bool _spiked = ({});")
            body.append(self.snippet(thresh.strip().rstrip(";"), names, where,
                                     "threshold_condition_code", template))
        else:
            body.append("const bool _spiked = false;")
        reset_text = self.snippet(reset, names, where, "reset_code") if reset else ""
        body += self.spike_block(pop, direct, reset_text, backs)
        return ["    " + x for x in "\n".join(body).split("\n")]

    def spike_block(self, pop: NeuronGroup, direct: bool, reset: str,
                    backs: List[str]) -> List[str]:
        """What a true spike does, in GeNN 5.4's order (genEmitTrueSpike of the CPU
        backend, then reset): the WU pre/post spike code sees the neuron's state
        before reset and the previous spike time, then the spike is recorded, its
        time stored and it is appended to the spike list, then ``reset_code`` runs."""
        out = [] if direct else [f"spkFlag_{pop.name}[_k] = _spiked ? 1 : 0;"]
        out.append("if (_spiked) {")
        out += self.wu_neuron_side_blocks(pop, "spike")
        if direct:
            out.append("_out_spk[_n_spk++] = id; "
                       "if (_rec) { _rec[id / 32] |= (1u << (id % 32)); }")
        out.append(f"sT_{pop.name}[_k] = t;")
        if reset:
            out.append(reset)
            out += backs
        out.append("}")
        return out

    @staticmethod
    def neuron_inputs(pop: NeuronGroup) -> List[str]:
        """Names of the inputs of ``pop``'s neuron model: Isyn and its additional input vars."""
        return ["Isyn"] + [a.name for a in pop.definition.additional_input_vars]

    @staticmethod
    def input_local(name: str) -> str:
        """The writable local accumulating input ``name``; sim code sees a const copy."""
        return f"_in_{name}"

    def input_blocks(self, pop: NeuronGroup, inputs: List[str], code: List[str]) -> List[str]:
        """Input accumulation in GeNN 5.4's order: Isyn = 0 and additional inputs at
        their initial value, then postsynaptic models, presynaptic outputs (addToPre),
        current sources; finally ``const`` copies, since in GeNN the neuron's own code
        may only read its inputs."""
        nm = pop.definition
        N = pop.size
        body = [f"scalar {self.input_local('Isyn')} = 0;"]
        for a in nm.additional_input_vars:
            body.append(f"{self.ctype(a.type)} {self.input_local(a.name)} = "
                        f"{c_literal(a.init, a.type, self.precision)};")
        for sg in pop.in_syn:
            body += self.psm_block(sg)
            idx = f"(size_t)batch * {N} + id"
            for name in self.post_input_targets(sg):
                arr = f"outPostIn_{sg.name}_{name}"
                body.append(f"{self.input_local(name)} += {arr}[{idx}]; {arr}[{idx}] = 0;")
        for sg in pop.out_syn:
            if self.uses_add_to_pre(sg):
                self.check_target(sg.pre_target_var, pop, self.synapse_where(sg),
                                  "pre_target_var")
                idx = f"(size_t)batch * {sg.src.size} + id"
                body.append(f"{self.input_local(sg.pre_target_var)} += outPre_{sg.name}[{idx}]; "
                            f"outPre_{sg.name}[{idx}] = 0;")
        for cs in pop.current_sources:
            body += self.current_source_block(cs)
        types = {a.name: a.type for a in nm.additional_input_vars}
        for name in inputs:
            if any(uses(c, name) for c in code):
                body.append(f"const {self.ctype(types.get(name, 'scalar'))} {name} = "
                            f"{self.input_local(name)};")
        return body

    def event_outputs(self, pop: NeuronGroup):
        """(name, count slot, list start) of the spike list and each spike-like event list."""
        slots, N = pop.num_delay_slots, pop.size
        q = f"spkQuePtr_{pop.name}"
        out = [("spk", f"spkCnt_{pop.name}[_b * {slots} + {q}]",
                f"spk_{pop.name} + ((size_t)_b * {slots} + {q}) * {N}")]
        for sg in pop.out_syn:
            if "pre_event_threshold_condition_code" in sg.wu.code:
                out.append((f"evntFlag_{sg.name}", f"evntCnt_{sg.name}[_b * {slots} + {q}]",
                            f"evnt_{sg.name} + ((size_t)_b * {slots} + {q}) * {N}"))
        for sg in pop.in_syn:
            if "post_event_threshold_condition_code" in sg.wu.code:
                out.append((f"pevntFlag_{sg.name}", f"pevntCnt_{sg.name}[_b]",
                            f"pevnt_{sg.name} + (size_t)_b * {N}"))
        return out

    def recording_pointer(self, pop: NeuronGroup) -> List[str]:
        words = (pop.size + 31) // 32
        out = ["uint32_t* _rec = nullptr;"]
        if pop.spike_recording_enabled:
            out += [f"if (recordSpk_{pop.name} && numRecordingTimesteps) {{",
                    f"    _rec = recordSpk_{pop.name} + ((size_t)(_iT % numRecordingTimesteps)"
                    f" * {self.B} + _b) * {words};",
                    f"    std::memset(_rec, 0, {words} * sizeof(uint32_t));",
                    "}"]
        return out

    def per_batch_neuron_body(self, pop: NeuronGroup, body: List[str]) -> List[str]:
        """One batch member (``_b``), neurons in order: spikes are appended directly."""
        N = pop.size
        outs = self.event_outputs(pop)
        lines = self.recording_pointer(pop)
        for name, _, start in outs:
            lines += [f"uint32_t _n_{name} = 0;", f"uint32_t* const _out_{name} = {start};"]
        lines += [f"for (unsigned int id = 0; id < {N}; id++) {{",
                  f"const size_t _k = (size_t)_b * {N} + id;"] + body + ["}"]
        lines += [f"{count} = _n_{name};" for name, count, _ in outs]
        return lines

    def schedule_body(self, pop: NeuronGroup) -> List[str]:
        """One step of batch member ``_b`` of a population driven by a spike schedule
        (``NeuronGroup.enable_spike_schedule``): only the scheduled neurons, in id
        order; each sets its schedule variables and then spikes as in ``spike_block``."""
        n, N = pop.name, pop.size
        _, count, start = self.event_outputs(pop)[0]
        lines = self.recording_pointer(pop)
        lines += ["uint32_t _n_spk = 0;", f"uint32_t* const _out_spk = {start};",
                  f"if (_iT < (uint64_t)schedSteps_{n}) {{",
                  f"const int64_t* const _off = schedOff_{n} + (size_t)_b * (schedSteps_{n} + 1);",
                  "for (int64_t _e = _off[_iT]; _e < _off[_iT + 1]; _e++) {",
                  f"const unsigned int id = schedId_{n}[_e];",
                  f"const size_t _k = (size_t)_b * {N} + id;",
                  f"const unsigned int num_neurons = {N};",
                  f"const unsigned int num_batch = {self.B};",
                  "(void)num_neurons; (void)num_batch;"]
        for name in pop.schedule_vars:
            var = pop.vars[name]
            lines.append(f"{var.symbol}[{self.var_index(var, 'id')}] = schedVal_{n}_{name}[_e];")
        lines.append("const bool _spiked = true;")
        lines += self.spike_block(pop, True, "", [])
        lines += ["}", "}", f"{count} = _n_spk;"]
        return lines

    def declare_schedule(self, pop: NeuronGroup) -> None:
        """Globals of a scheduled population, after checking that nothing it skips
        (inputs, per-step weight-update code, spike-like events) is needed."""
        where = f"neuron population '{pop.name}' (driven by a spike schedule)"
        if pop.in_syn or pop.current_sources:
            raise ModelDefinitionError(
                f"{where}: receives synapses or current sources, but no neuron code runs to "
                f"use them; remove them or do not schedule this population")
        for sg in pop.out_syn:
            for key in ("pre_dynamics_code", "pre_event_threshold_condition_code"):
                if sg.wu.code.get(key, "").strip():
                    raise ModelDefinitionError(
                        f"{where}: outgoing synapse population '{sg.name}' has {key}, which "
                        f"needs every neuron updated every step; it cannot be scheduled")
        n = pop.name
        self.globals += [f"const int64_t* schedOff_{n} = nullptr;",
                         f"const uint32_t* schedId_{n} = nullptr;",
                         f"uint32_t schedSteps_{n} = 0;"]
        for name in pop.schedule_vars:
            t = c_storage_type(pop.vars[name].type, self.precision)
            self.globals.append(f"const {t}* schedVal_{n}_{name} = nullptr;")

    @staticmethod
    def synapse_where(sg: SynapseGroup) -> str:
        return f"synapse population '{sg.name}' (weight update model '{sg.wu.name}')"

    def check_target(self, target: str, pop: NeuronGroup, where: str, what: str) -> None:
        """Raise unless ``target`` is an input of ``pop``'s neuron model (as GeNN's
        set*TargetVar does): Isyn or one of its additional input variables."""
        inputs = self.neuron_inputs(pop)
        if target not in inputs:
            raise ModelDefinitionError(
                f"{where}: {what} '{target}' is not an input variable of neuron model "
                f"'{pop.definition.name}' (population '{pop.name}'); valid: {', '.join(inputs)}")

    def psm_block(self, sg: SynapseGroup) -> List[str]:
        ps = sg.ps
        code = ps.code.get("sim_code", "")
        self.check_target(sg.post_target_var, sg.trg, self.synapse_where(sg), "post_target_var")
        where = f"postsynaptic model '{ps.name}' (synapse population '{sg.name}')"
        vars_ = [self.var_binding(v, "id") for v in sg.psm_vars.values()]
        names = (["t", "dt", "id", "batch", "num_neurons", "num_batch", "inSyn", "injectCurrent"]
                 + [b.name for b in vars_] + ps.param_names() + [d.name for d in ps.derived_params]
                 + list(sg.ps_extra_global_params) + list(RANDOM_FUNCS))
        out = ["{"]
        out += self.param_decls(sg, ps, sg.ps_params, [code])
        out += self.egp_decls(sg.ps_extra_global_params, [code])
        out += self.rng_decl([code], stream_tag(sg.name, "psm"), "_iT", "id", "batch")
        decls, backs = self.bind(vars_, [code])
        idx = f"(size_t)batch * {sg.trg.size} + id"
        out.append(f"scalar inSyn = outPost_{sg.name}[{idx}];")
        out += decls
        out.append(f"#define injectCurrent(x) ({self.input_local(sg.post_target_var)} += (x))")
        if code:
            out.append(self.snippet(code, names, where, "sim_code"))
        out.append("#undef injectCurrent")
        out += backs
        out.append(f"outPost_{sg.name}[{idx}] = inSyn;")
        out.append("}")
        return out

    def current_source_block(self, cs: CurrentSource) -> List[str]:
        d = cs.definition
        code = d.code.get("injection_code", "")
        where = f"current source model '{d.name}' (current source '{cs.name}')"
        # PyGeNN 5.4's CurrentSource.target_var (default Isyn) picks the input it feeds.
        target = getattr(cs, "target_var", "Isyn")
        self.check_target(target, cs.pop, f"current source '{cs.name}' (model '{d.name}')",
                          "target_var")
        vars_ = [self.var_binding(v, "id") for v in cs.vars.values()]
        # GeNN binds a current source's neuron variable references read-only.
        refs = [self.var_binding(v, "id", name, writable=False)
                for name, v in cs.neuron_var_refs.items()]
        names = (["t", "dt", "id", "batch", "num_neurons", "num_batch", "injectCurrent"]
                 + [b.name for b in vars_ + refs] + d.param_names()
                 + [x.name for x in d.derived_params] + list(cs.extra_global_params)
                 + list(RANDOM_FUNCS))
        out = ["{"]
        out += self.param_decls(cs, d, cs.params, [code], cs.dynamic_params)
        out += self.egp_decls(cs.extra_global_params, [code])
        out += self.rng_decl([code], stream_tag(cs.name, "cs"), "_iT", "id", "batch")
        decls, backs = self.bind(vars_ + refs, [code])
        out += decls
        out.append(f"#define injectCurrent(x) ({self.input_local(target)} += (x))")
        out.append(self.snippet(code, names, where, "injection_code"))
        out.append("#undef injectCurrent")
        out += backs
        out.append("}")
        return out

    def wu_side_bindings(self, sg: SynapseGroup, side: str) -> List[Binding]:
        """Bindings of per-neuron weight-update code (pre or post side): its own
        pre/post variables, and its neuron variable references, which GeNN 5.4
        binds read-only there (``addLocalVarRefs(true)``)."""
        vars_, refs = ((sg.pre_vars, sg.pre_var_refs) if side == "pre"
                       else (sg.post_vars, sg.post_var_refs))
        out = [self.var_binding(v, "id") for v in vars_.values()]
        out += [self.var_binding(v, "id", name, writable=False) for name, v in refs.items()]
        return out

    def wu_neuron_side_blocks(self, pop: NeuronGroup, what: str) -> List[str]:
        """Per-neuron weight-update code: pre/post ``*_dynamics_code`` or ``*_spike_code``."""
        out = []
        for side, groups in (("pre", pop.out_syn), ("post", pop.in_syn)):
            for sg in groups:
                key = f"{side}_{what}_code"
                code = sg.wu.code.get(key)
                if not code:
                    continue
                out += self.wu_block(sg, code, key, self.wu_side_bindings(sg, side),
                                     [f"id_{side}", "id", "batch", f"num_{side}", "num_batch",
                                      f"st_{side}"],
                                     [f"const unsigned int id_{side} = id;",
                                      f"const unsigned int num_{side} = num_neurons;",
                                      f"const scalar st_{side} = sT_{pop.name}[_k];"],
                                     stream_tag(sg.name, key), "id")
        return out

    def wu_block(self, sg, code, key, bindings, extra_names, pre_lines, tag, elem,
                 macros: Sequence[str] = (), template: str = "{}") -> List[str]:
        wu = sg.wu
        where = f"weight update model '{wu.name}' (synapse population '{sg.name}')"
        names = (["t", "dt", "num_batch"] + list(extra_names) + [b.name for b in bindings]
                 + wu.param_names() + [d.name for d in wu.derived_params]
                 + list(sg.extra_global_params) + list(RANDOM_FUNCS)
                 + [m.split("(")[0].split()[-1] for m in macros])
        out = ["{"] + list(pre_lines)
        out += self.param_decls(sg, wu, sg.params, [code], sg.dynamic_params)
        out += self.egp_decls(sg.extra_global_params, [code])
        out += self.rng_decl([code], tag, "_iT", elem, "batch")
        decls, backs = self.bind(bindings, [code])
        out += decls
        out += [f"#define {m}" for m in macros]
        out.append(self.snippet(code, names, where, key, template))
        out += [f"#undef {m.split('(')[0].split()[-1]}" for m in macros]
        out += backs
        out.append("}")
        return out

    def event_conditions(self, pop: NeuronGroup, direct: bool) -> List[str]:
        """Spike-like event conditions of outgoing (pre) and incoming (post) synapses."""
        out = []
        for side, groups, flag in (("pre", pop.out_syn, "evntFlag"),
                                   ("post", pop.in_syn, "pevntFlag")):
            for sg in groups:
                key = f"{side}_event_threshold_condition_code"
                code = sg.wu.code.get(key)
                if not code:
                    continue
                out += self.wu_block(sg, code.strip().rstrip(";"), key,
                                     self.wu_side_bindings(sg, side),
                                     [f"id_{side}", "id", "batch", f"num_{side}"],
                                     [f"const unsigned int id_{side} = id;",
                                      f"const unsigned int num_{side} = num_neurons;"],
                                     stream_tag(sg.name, key), "id",
                                     template=(f"if ({{}}) {{{{ _out_{flag}_{sg.name}[_n_{flag}_{sg.name}++] = id; }}}}"
                                               if direct else f"{flag}_{sg.name}[_k] = ({{}}) ? 1 : 0;"))
        return out

    def compaction(self, pop: NeuronGroup) -> List[str]:
        """Turn per-neuron flags into ordered per-batch spike lists (+ recording bits)."""
        N = pop.size
        out = [f"for (int _b = 0; _b < {self.B}; _b++) {{"] + self.recording_pointer(pop)
        for name, count, start in self.event_outputs(pop):
            flags = f"spkFlag_{pop.name}" if name == "spk" else name
            rec = "_rec" if name == "spk" else "nullptr"
            out.append(f"{count} = compact_flags({flags} + (size_t)_b * {N}, {N}, {start}, {rec});")
        out.append("}")
        return out

    # --------------------------------------------------------- synapse update
    def synapse_bindings(self, sg: SynapseGroup) -> List[Binding]:
        """Bindings of per-synapse code. As in GeNN 5.4 (applySynapseSubstitutions),
        only the synapse variables may be written: presynaptic and postsynaptic
        weight-update variables and neuron variable references are const there."""
        out = [self.var_binding(v, "_syn") for v in sg.vars.values()]
        out += [self.var_binding(v, "id_pre", writable=False) for v in sg.pre_vars.values()]
        out += [self.var_binding(v, "id_post", writable=False) for v in sg.post_vars.values()]
        out += [self.var_binding(v, "id_pre", name, writable=False)
                for name, v in sg.pre_var_refs.items()]
        out += [self.var_binding(v, "id_post", name, writable=False)
                for name, v in sg.post_var_refs.items()]
        return out

    def synapse_macros(self, sg: SynapseGroup, row_local: bool = False) -> List[str]:
        """addToPost/addToPre/addToPostInput; with ``row_local`` (the loop runs over
        one presynaptic row) addToPre adds to the row's local sum ``_pre_acc``."""
        macros = [f"addToPost(x) (outPost_{sg.name}[(size_t)batch * {sg.trg.size} + id_post]"
                  f" += (x))"]
        if self.uses_add_to_pre(sg):
            macros.append("addToPre(x) (_pre_acc += (x))" if row_local else
                          f"addToPre(x) (outPre_{sg.name}[(size_t)batch * {sg.src.size} + id_pre]"
                          f" += (x))")
        if self.post_input_targets(sg):
            macros.append(f"addToPostInput(v, x) (outPostIn_{sg.name}_##v[(size_t)batch * "
                          f"{sg.trg.size} + id_post] += (x))")
        return macros

    def synapse_body(self, sg: SynapseGroup, key: str, row_local: bool = False) -> List[str]:
        code = sg.wu.code[key]
        lines = [f"const unsigned int num_pre = {sg.src.size};",
                 f"const unsigned int num_post = {sg.trg.size};",
                 "const unsigned int id_syn = (unsigned int)_syn;",
                 f"const scalar st_pre = sT_{sg.src.name}[(size_t)batch * {sg.src.size} + id_pre]"
                 f" + {sg.axonal_delay_steps + 1} * dt;",
                 f"const scalar st_post = sT_{sg.trg.name}[(size_t)batch * {sg.trg.size} + id_post]"
                 f" + dt;"]
        names = ["id_pre", "id_post", "id_syn", "num_pre", "num_post", "batch", "st_pre",
                 "st_post"] + self.post_input_targets(sg)
        return self.wu_block(sg, code, key, self.synapse_bindings(sg), names, lines,
                             stream_tag(sg.name, key), "_syn",
                             self.synapse_macros(sg, row_local))

    def row_loop(self, sg: SynapseGroup, key: str) -> List[str]:
        """Loop over the synapses of row ``id_pre``, running ``key``.

        addToPre of the row is summed in a local and added to the presynaptic
        input once per row: a sum in memory would chain every synapse on a store
        and a reload. Where reassociation is allowed (``REASSOCIATE``) the sum
        vectorises.
        """
        pre_acc = self.uses_add_to_pre(sg)
        body = self.synapse_body(sg, key, row_local=pre_acc)
        head = ["scalar _pre_acc = 0;"] if pre_acc else []
        if sg.matrix_type == "DENSE":
            head += [f"for (unsigned int id_post = 0; id_post < {sg.trg.size}; id_post++) {{",
                     f"    const size_t _syn = (size_t)id_pre * {sg.trg.size} + id_post;"]
        else:
            head += [f"const unsigned int _row_len = rowLength_{sg.name}[id_pre];",
                     "for (unsigned int _j = 0; _j < _row_len; _j++) {",
                     f"    const size_t _syn = (size_t)id_pre * {sg.max_row_length} + _j;",
                     f"    const unsigned int id_post = ind_{sg.name}[_syn];"]
        tail = ["}"]
        if pre_acc:
            tail.append(f"outPre_{sg.name}[(size_t)batch * {sg.src.size} + id_pre] += _pre_acc;")
        return head + ["    " + x for x in "\n".join(body).split("\n")] + tail

    def col_loop(self, sg: SynapseGroup, body: List[str]) -> List[str]:
        """Loop over the synapses of column ``id_post``."""
        if sg.matrix_type == "DENSE":
            head = [f"for (unsigned int id_pre = 0; id_pre < {sg.src.size}; id_pre++) {{",
                    f"    const size_t _syn = (size_t)id_pre * {sg.trg.size} + id_post;"]
        else:
            head = [f"const unsigned int _col_len = colLength_{sg.name}[id_post];",
                    "for (unsigned int _j = 0; _j < _col_len; _j++) {",
                    f"    const size_t _syn = remap_{sg.name}[(size_t)id_post * {sg.src.size} + _j];",
                    f"    const unsigned int id_pre = (unsigned int)(_syn / {sg.max_row_length});"]
        return head + ["    " + x for x in "\n".join(body).split("\n")] + ["}"]

    def event_loop(self, sg, key, cnt, lst, n, slot, slots: int, per_pre: bool) -> List[str]:
        """Process batch member ``_b``'s list of spikes/events (``slots`` delay slots)
        through ``key``."""
        inner = (self.row_loop(sg, key) if per_pre
                 else self.col_loop(sg, self.synapse_body(sg, key)))
        idname = "id_pre" if per_pre else "id_post"
        loop = [f"const uint32_t _cnt = {cnt}[_b * {slots} + {slot}];",
                f"const uint32_t* _lst = {lst} + ((size_t)_b * {slots} + {slot}) * {n};",
                "for (uint32_t _s = 0; _s < _cnt; _s++) {",
                f"    const unsigned int {idname} = _lst[_s];"]
        return loop + ["    " + x for x in inner] + ["}"]

    def dense_single_batch(self, sg: SynapseGroup, key: str, cnt, lst, slot) -> List[str]:
        """Batch size 1, DENSE, no addToPre: parallel over postsynaptic neurons instead."""
        body = self.synapse_body(sg, key)
        return (["{", "const unsigned int batch = 0;",
                 f"const uint32_t _cnt = {cnt}[{slot}];",
                 f"const uint32_t* _lst = {lst} + (size_t){slot} * {sg.src.size};",
                 "#pragma omp parallel for schedule(static)",
                 f"for (int _jj = 0; _jj < {sg.trg.size}; _jj++) {{",
                 "    const unsigned int id_post = (unsigned int)_jj;",
                 "    for (uint32_t _s = 0; _s < _cnt; _s++) {",
                 "        const unsigned int id_pre = _lst[_s];",
                 f"        const size_t _syn = (size_t)id_pre * {sg.trg.size} + id_post;"]
                + ["        " + x for x in "\n".join(body).split("\n")]
                + ["    }", "}", "}"])

    def synapse_update(self, sg: SynapseGroup) -> str:
        """One step of ``sg`` with batch size 1; DENSE without addToPre runs
        parallel over its targets (``dense_single_batch``)."""
        single = sg.matrix_type == "DENSE" and not self.uses_add_to_pre(sg)
        return "\n".join([f"// ---- synapse update: {sg.name}", "{", "const int _b = 0;",
                          "const unsigned int batch = 0;"]
                         + self.synapse_batch_body(sg, single=single) + ["}"])

    def synapse_batch_body(self, sg: SynapseGroup, single: bool = False) -> List[str]:
        """One step of ``sg`` for batch member ``_b``: synapse dynamics, then
        presynaptic spikes and events (rows), then postsynaptic ones (columns).
        ``single``: the presynaptic part as ``dense_single_batch`` instead."""
        out = []
        wu = sg.wu.code
        pop = sg.src
        slot = (f"((spkQuePtr_{pop.name} + {pop.num_delay_slots - sg.axonal_delay_steps}) % "
                f"{pop.num_delay_slots})")
        if "synapse_dynamics_code" in wu:
            out += [f"for (unsigned int id_pre = 0; id_pre < {sg.src.size}; id_pre++) {{"]
            out += ["    " + x for x in self.row_loop(sg, "synapse_dynamics_code")] + ["}"]
        for key, cnt, lst in (("pre_spike_syn_code", f"spkCnt_{pop.name}", f"spk_{pop.name}"),
                              ("pre_event_syn_code", f"evntCnt_{sg.name}", f"evnt_{sg.name}")):
            if key not in wu:
                continue
            if single:
                out += self.dense_single_batch(sg, key, cnt, lst, slot)
            else:
                out += ["{"] + self.event_loop(sg, key, cnt, lst, pop.size, slot,
                                               pop.num_delay_slots, True) + ["}"]
        if "post_spike_syn_code" in wu:
            out += ["{"] + self.event_loop(sg, "post_spike_syn_code", f"spkCnt_{sg.trg.name}",
                                           f"spk_{sg.trg.name}", sg.trg.size,
                                           f"spkQuePtr_{sg.trg.name}", sg.trg.num_delay_slots,
                                           False) + ["}"]
        if "post_event_syn_code" in wu:
            out += ["{"] + self.event_loop(sg, "post_event_syn_code", f"pevntCnt_{sg.name}",
                                           f"pevnt_{sg.name}", sg.trg.size, "0", 1,
                                           False) + ["}"]
        return out

    # ---------------------------------------------------------- custom update
    def custom_update(self, cu: CustomUpdate) -> str:
        d = cu.definition
        code = d.code.get("update_code", "")
        where = f"custom update model '{d.name}' (custom update '{cu.name}')"
        B = self.B if cu.dims & VarAccessDim.BATCH else 1
        items = [(name, v, cu.ref_modes[name]) for name, v in cu.var_refs.items()]
        items += [(v.name, v, v.mode) for v in cu.vars.values()]
        reduce_batch = any((m & VarAccessMode.REDUCE) and B > 1 and not v.batched
                           for _, v, m in items)
        reduce_neuron = any((m & VarAccessMode.REDUCE) and not v.element for _, v, m in items)
        if reduce_batch and reduce_neuron:
            raise ModelDefinitionError(f"{where}: cannot reduce over batch and neurons at once")
        plain, reductions = [], []
        for name, v, mode in items:
            if mode & VarAccessMode.REDUCE:
                reductions.append((name, v, mode))
            else:
                plain.append(self.var_binding(v, "id", name, writable=not (
                    mode & VarAccessMode.READ_ONLY)))
        wu = cu.is_wu
        base = ["t", "dt", "batch", "num_batch", "id"] + list(RANDOM_FUNCS)
        if wu:
            base += ["id_pre", "id_post", "id_syn", "num_pre", "num_post"]
        else:
            base += ["num_neurons"]
        names = (base + [b.name for b in plain] + [r[0] for r in reductions] + d.param_names()
                 + [x.name for x in d.derived_params] + list(cu.extra_global_params)
                 + list(cu.egp_refs))
        egps = dict(cu.extra_global_params)
        egps.update(cu.egp_refs)
        pre = self.param_decls(cu, d, cu.params, [code], cu.dynamic_params)
        pre += self.egp_decls(egps, [code])
        decls, backs = self.bind(plain, [code])
        red_decl, red_combine, red_init, red_store = [], [], [], []
        for name, v, mode in reductions:
            t, is_max, ident = self.reduction_type(v, mode)
            red_init.append(f"{t} _red_{name} = {ident};")
            red_decl.append(f"{t} {name} = {ident};")
            red_combine.append((name, is_max))
            idx = self.var_index(v, "id")
            red_store.append(f"{v.symbol}[{idx}] = _red_{name};")
        snippet = self.snippet(code, names, where, "update_code")
        rng = self.rng_decl([code], stream_tag(cu.name, "cu"), "_iT", "id", "batch")

        def iteration(slot: str = "") -> List[str]:
            """One element and batch member; the reductions combine into _red_X``slot``."""
            combine = [f"_red_{n}{slot} = std::max(_red_{n}{slot}, {n});" if is_max
                       else f"_red_{n}{slot} += {n};" for n, is_max in red_combine]
            return ["{"] + rng + decls + red_decl + [snippet] + backs + combine + ["}"]

        if wu:
            sg = cu.sg
            elem_head = self.wu_element_loop(sg)
        else:
            elem_head = [f"for (unsigned int id = 0; id < {cu.size}; id++) {{"]
        lines = [f"// ---- custom update: {cu.name}", "{",
                 f"const unsigned int num_batch = {B};"]
        if not wu:
            lines.append(f"const unsigned int num_neurons = {cu.size};")
        lines += pre
        if reduce_neuron:
            lines += ["#pragma omp parallel for schedule(static)",
                      f"for (int _bb = 0; _bb < {B}; _bb++) {{",
                      "const unsigned int batch = (unsigned int)_bb;"] + red_init
            lines += elem_head + iteration() + ["}" * (2 if wu else 1)]
            lines += red_store + ["}"]
        elif B > 1 and self.row_block(cu, wu):
            lines += self.blocked_batch_loop(cu, wu, iteration("[_j]"), reductions)
        else:
            lines += ["#pragma omp parallel for schedule(static)"] + self.parallel_elements(
                cu, wu)
            lines += red_init
            lines += [f"for (unsigned int batch = 0; batch < {B}; batch++) {{"]
            lines += iteration() + ["}"] + red_store + ["}" * (2 if wu else 1)]
        lines.append("}")
        return "\n".join(lines)

    def reduction_type(self, v: Variable, mode):
        """(C type, is a max, identity value) of a reduction into ``v``."""
        t = self.ctype(v.type)
        is_max = bool(mode & VarAccessMode.MAX)
        ident = "-SCALAR_MAX" if is_max and t in ("float", "double") else (
            "std::numeric_limits<" + t + ">::lowest()" if is_max else "0")
        return t, is_max, ident

    #: Most elements of a custom update handled as one block (see blocked_batch_loop).
    CU_BLOCK = 1024

    def row_block(self, cu: CustomUpdate, wu: bool) -> int:
        """Elements per block of ``blocked_batch_loop``: a synapse row (if not too
        long), else CU_BLOCK neurons; 0 where blocking does not apply."""
        if not wu:
            return self.CU_BLOCK
        sg = cu.sg
        row = sg.trg.size if sg.matrix_type == "DENSE" else sg.max_row_length
        return row if row <= self.CU_BLOCK else 0

    def blocked_batch_loop(self, cu: CustomUpdate, wu: bool, iteration: List[str],
                           reductions) -> List[str]:
        """Batch members in the outer loop, a block of elements in the inner one.

        Batch-duplicated variables lie one whole population apart per member; an
        element-outer loop would jump that stride (a multiple of 4 KiB, so the
        accesses also fight over the same cache sets) for every element. Here
        each member's block is read contiguously; the reductions of the block are
        kept in local arrays and still combine the members in order 0..B-1, so
        the results are the same as element by element.
        """
        B, block = self.B, self.row_block(cu, wu)
        out = ["#pragma omp parallel for schedule(static)"]
        if wu:
            sg = cu.sg
            out += [f"for (int _row = 0; _row < {sg.src.size}; _row++) {{",
                    "const unsigned int id_pre = (unsigned int)_row;",
                    f"const unsigned int num_pre = {sg.src.size}, num_post = {sg.trg.size};"]
            if sg.matrix_type == "DENSE":
                count = str(sg.trg.size)
                elem = ["const unsigned int id_post = _j;",
                        f"const unsigned int id = id_pre * {sg.trg.size} + _j;"]
            else:
                count = f"rowLength_{sg.name}[id_pre]"
                elem = [f"const unsigned int id = id_pre * {sg.max_row_length} + _j;",
                        f"const unsigned int id_post = ind_{sg.name}[id];"]
            elem.append("const unsigned int id_syn = id;")
            out += [f"const unsigned int _n = {count};"]
        else:
            n_blocks = -(-cu.size // block)
            out += [f"for (int _blk = 0; _blk < {n_blocks}; _blk++) {{",
                    f"const unsigned int _first = (unsigned int)_blk * {block};",
                    f"const unsigned int _n = std::min({cu.size}u - _first, {block}u);"]
            elem = ["const unsigned int id = _first + _j;"]
        for name, v, mode in reductions:
            t, _, ident = self.reduction_type(v, mode)
            out.append(f"{t} _red_{name}[{block}];")
            out.append(f"for (unsigned int _j = 0; _j < _n; _j++) {{ _red_{name}[_j] = {ident}; }}")
        out += [f"for (unsigned int batch = 0; batch < {B}; batch++) {{",
                "for (unsigned int _j = 0; _j < _n; _j++) {"] + elem
        out += iteration + ["}", "}", "for (unsigned int _j = 0; _j < _n; _j++) {"] + elem
        for name, v, _ in reductions:
            out.append(f"{v.symbol}[{self.var_index(v, 'id')}] = _red_{name}[_j];")
        out += ["}", "}"]
        return out

    def wu_element_loop(self, sg: SynapseGroup) -> List[str]:
        """Opening of a loop over synapses of ``sg`` binding id_pre/id_post/id/id_syn."""
        if sg.matrix_type == "DENSE":
            return [f"for (unsigned int id_pre = 0; id_pre < {sg.src.size}; id_pre++) {{",
                    f"for (unsigned int id_post = 0; id_post < {sg.trg.size}; id_post++) {{",
                    f"const unsigned int id = id_pre * {sg.trg.size} + id_post;",
                    "const unsigned int id_syn = id;",
                    f"const unsigned int num_pre = {sg.src.size}, num_post = {sg.trg.size};"]
        return [f"for (unsigned int id_pre = 0; id_pre < {sg.src.size}; id_pre++) {{",
                f"for (unsigned int _j = 0; _j < rowLength_{sg.name}[id_pre]; _j++) {{",
                f"const unsigned int id = id_pre * {sg.max_row_length} + _j;",
                f"const unsigned int id_post = ind_{sg.name}[id];",
                "const unsigned int id_syn = id;",
                f"const unsigned int num_pre = {sg.src.size}, num_post = {sg.trg.size};"]

    def parallel_elements(self, cu: CustomUpdate, wu: bool) -> List[str]:
        if wu:
            return self.wu_element_loop(cu.sg)
        return [f"for (int _ii = 0; _ii < {cu.size}; _ii++) {{",
                "const unsigned int id = (unsigned int)_ii;"]

    # ------------------------------------------------------------ initialise
    def init_var_code(self, group, var: Variable, elem_loop: List[str], close: int,
                      id_names: List[str]) -> List[str]:
        snip = var.init.snippet
        code = snip.code.get("var_init_code", "")
        where = (f"variable initialisation snippet '{snip.name}' (variable '{var.name}' of "
                 f"'{group.name}')")
        names = (["value", "dt", "batch", "num_batch", "t"] + id_names + list(RANDOM_FUNCS)
                 + snip.param_names() + [d.name for d in snip.derived_params])
        decls = self.param_decls(group, snip, var.init.params, [code])
        t = self.ctype(var.type)
        nb = self.B if var.batched else 1
        idx = self.var_index(var, "_id_elem", "batch")
        body = ["{", f"{t} value = 0;"] + self.rng_decl(
            [code], stream_tag(group.name, var.symbol, "init"), "_id_elem", "batch", "0")
        body += [self.snippet(code, names, where, "var_init_code"),
                 f"{var.symbol}[{idx}] = ({c_storage_type(t, self.precision)})value;", "}"]
        out = ["{", f"const unsigned int num_batch = {self.B};"] + decls
        out += ["#pragma omp parallel for schedule(static)"] + elem_loop
        out += [f"for (unsigned int batch = 0; batch < {nb}; batch++)"] + body
        out += ["}" * close, "}"]
        return out

    def init_group_vars(self, group) -> List[str]:
        out = []
        if isinstance(group, SynapseGroup):
            sides = [(group.vars, "_syn"), (group.pre_vars, group.src.size),
                     (group.post_vars, group.trg.size), (group.psm_vars, group.trg.size)]
        else:
            sides = [(group.vars, group.size)]
        for store, size in sides:
            for var in store.values():
                if not isinstance(var.init, Init):
                    continue
                if size == "_syn":
                    sg = group
                    if sg.matrix_type == "DENSE":
                        loop = [f"for (int _ip = 0; _ip < {sg.src.size}; _ip++) {{",
                                "const unsigned int id_pre = (unsigned int)_ip;",
                                f"for (unsigned int id_post = 0; id_post < {sg.trg.size}; "
                                f"id_post++) {{",
                                f"const size_t _id_elem = (size_t)id_pre * {sg.trg.size} + id_post;"]
                    else:
                        loop = [f"for (int _ip = 0; _ip < {sg.src.size}; _ip++) {{",
                                "const unsigned int id_pre = (unsigned int)_ip;",
                                f"for (unsigned int _j = 0; _j < rowLength_{sg.name}[id_pre]; _j++) {{",
                                f"const size_t _id_elem = (size_t)id_pre * {sg.max_row_length} + _j;",
                                f"const unsigned int id_post = ind_{sg.name}[_id_elem];"]
                    loop.append(f"const unsigned int num_pre = {sg.src.size}, "
                                f"num_post = {sg.trg.size};")
                    out += self.init_var_code(group, var, loop, 2,
                                              ["id_pre", "id_post", "num_pre", "num_post"])
                else:
                    n = size if var.element else 1
                    loop = [f"for (int _ii = 0; _ii < {n}; _ii++) {{",
                            "const unsigned int id = (unsigned int)_ii; const size_t _id_elem = id;",
                            f"const unsigned int num_neurons = {size};"]
                    out += self.init_var_code(group, var, loop, 1, ["id", "num_neurons"])
        return out

    def init_connectivity(self, sg: SynapseGroup) -> List[str]:
        snip = sg.connectivity.snippet
        code = snip.code.get("row_build_code", "")
        where = f"sparse connectivity snippet '{snip.name}' (synapse population '{sg.name}')"
        names = (["id_pre", "num_pre", "num_post", "id_post_begin", "id_thread", "num_threads",
                  "addSynapse", "dt"] + list(RANDOM_FUNCS) + snip.param_names()
                 + [d.name for d in snip.derived_params])
        decls = self.param_decls(sg, snip, sg.connectivity.params, [code])
        R = sg.max_row_length
        out = ["{", "uint64_t _overflow = 0;"] + decls
        out += ["#pragma omp parallel for schedule(static) reduction(+:_overflow)",
                f"for (int _ip = 0; _ip < {sg.src.size}; _ip++) {{",
                "const unsigned int id_pre = (unsigned int)_ip;",
                f"const unsigned int num_pre = {sg.src.size}, num_post = {sg.trg.size};",
                "const unsigned int id_post_begin = 0, id_thread = 0, num_threads = 1;",
                "unsigned int _row_len = 0;"]
        out += self.rng_decl([code], stream_tag(sg.name, "connectivity"), "id_pre", "0", "0")
        out += [f"#define addSynapse(_j) do {{ if (_row_len < {R}) {{ ind_{sg.name}[(size_t)id_pre"
                f" * {R} + _row_len++] = (_j); }} else {{ _overflow++; }} }} while (0)",
                self.snippet(code, names, where, "row_build_code"), "#undef addSynapse",
                f"rowLength_{sg.name}[id_pre] = _row_len;", "}",
                f"conn_overflow_{sg.name} = _overflow;", "}"]
        self.globals.append(f"uint64_t conn_overflow_{sg.name} = 0;")
        return out

    def build_columns(self, sg: SynapseGroup) -> List[str]:
        return ["{",
                f"std::memset(colLength_{sg.name}, 0, {sg.trg.size} * sizeof(uint32_t));",
                f"for (unsigned int i = 0; i < {sg.src.size}; i++) {{",
                f"    for (unsigned int _j = 0; _j < rowLength_{sg.name}[i]; _j++) {{",
                f"        const size_t _syn = (size_t)i * {sg.max_row_length} + _j;",
                f"        const unsigned int post = ind_{sg.name}[_syn];",
                f"        remap_{sg.name}[(size_t)post * {sg.src.size} + colLength_{sg.name}[post]++]"
                f" = (uint32_t)_syn;",
                "    }", "}", "}"]

    # ------------------------------------------------------------ time steps
    #: Synapse code with addToPre may be reassociated (as GeNN's ``optimize_code``
    #: builds with -ffast-math): the row sums then vectorise. Deterministic.
    REASSOCIATE = ('#if defined(__GNUC__) && !defined(__clang__)\n#pragma GCC push_options\n'
                   '#pragma GCC optimize("associative-math", "no-signed-zeros", '
                   '"no-trapping-math")\n#endif')
    REASSOCIATE_END = "#if defined(__GNUC__) && !defined(__clang__)\n#pragma GCC pop_options\n#endif"
    REASSOCIATE_CLANG = ("#if defined(__clang__) && __clang_major__ >= 12\n"
                         "#pragma clang fp reassociate(on)\n#endif")

    def step_preamble(self) -> List[str]:
        m = self.model
        return [f"const scalar dt = {c_literal(m.dt, 'scalar', self.precision)};",
                "const scalar t = (scalar)((double)_iT * (double)dt);"]

    def delayed(self) -> List[NeuronGroup]:
        return [p for p in self.model.neuron_populations.values() if p.num_delay_slots > 1]

    def queue_params(self) -> str:
        """Spike-queue positions as parameters: in a fused run every batch member
        keeps its own (they shadow the globals, which step_time passes)."""
        return "".join(f", const uint32_t spkQuePtr_{p.name}" for p in self.delayed())

    def queue_args(self) -> str:
        return "".join(f", spkQuePtr_{p.name}" for p in self.delayed())

    def batch_step_functions(self) -> List[str]:
        """Per-group functions for one batch member and one step, called by
        ``step_time`` (every member in parallel, group after group, as GeNN) and by
        ``step_times(n)``, which runs n whole steps of each member in one parallel
        loop: members are independent within a step, so one fork and join replaces
        two per group and step, and members are dealt out dynamically so that a
        busy core delays only the members it holds. Same operations, same order
        within a member: results are identical either way (the group functions
        are never inlined, so both callers run the same machine code)."""
        m = self.model
        syn, neu = list(m.synapse_populations.values()), list(m.neuron_populations.values())
        qp, qa = self.queue_params(), self.queue_args()
        out = []
        for sg in syn:
            reassoc = self.uses_add_to_pre(sg)
            out += [self.REASSOCIATE] if reassoc else []
            out += [f"static NOINLINE void _syn_{sg.name}(const int _b, const uint64_t _iT{qp}) {{"]
            out += [self.REASSOCIATE_CLANG] if reassoc else []
            out += self.step_preamble() + ["const unsigned int batch = (unsigned int)_b;",
                                           f"// ---- synapse update: {sg.name}"]
            out += self.synapse_batch_body(sg) + ["}"]
            out += [self.REASSOCIATE_END] if reassoc else []
        for pop in neu:
            out += [f"static NOINLINE void _neu_{pop.name}(const int _b, const uint64_t _iT{qp}) {{"]
            out += self.step_preamble() + ["const unsigned int batch = (unsigned int)_b;",
                                           f"// ---- neuron update: {pop.name}"]
            out += (self.schedule_body(pop) if pop.schedule_vars is not None else
                    self.per_batch_neuron_body(pop, self.neuron_element(pop))) + ["}"]
        par = f"#pragma omp parallel for schedule(static)\nfor (int _b = 0; _b < {self.B}; _b++) "
        out += ["extern \"C\" void step_time() {", "const SubnormalsFlushed _flushed;",
                "const uint64_t _iT = iT;", "double _tick = wall_time();"]
        out += [f"{par}_syn_{sg.name}(_b, _iT{qa});" for sg in syn]
        out.append("double _tock = wall_time(); synapseUpdateTime += _tock - _tick; "
                   "_tick = _tock;")
        for pop in neu:
            out += self.queue_advance(pop) + [f"{par}_neu_{pop.name}(_b, _iT{qa});"]
        out += ["neuronUpdateTime += wall_time() - _tick;", "iT++;", "}"]
        timing = bool(getattr(m, "timing_enabled", False))
        out += ["static void _member_steps(const int _b, const uint64_t _iT0, const uint32_t _n,"
                " double& _t_syn, double& _t_neu) {"]
        out += [f"uint32_t spkQuePtr_{p.name} = ::spkQuePtr_{p.name};" for p in self.delayed()]
        out += ["for (uint32_t _s = 0; _s < _n; _s++) {", "const uint64_t _iT = _iT0 + _s;"]
        out += ["const double _t0 = wall_time();"] if timing else []
        out += [f"_syn_{sg.name}(_b, _iT{qa});" for sg in syn]
        out += ["const double _t1 = wall_time(); _t_syn += _t1 - _t0;"] if timing else []
        for pop in neu:
            out += self.queue_advance(pop) + [f"_neu_{pop.name}(_b, _iT{qa});"]
        out += ["_t_neu += wall_time() - _t1;"] if timing else []
        out += ["}", "}"]
        out += ["extern \"C\" void step_times(uint32_t n) {",
                "if (n == 0) { return; }", "const SubnormalsFlushed _flushed;",
                "const double _tick = wall_time();",
                "double _t_syn = 0.0, _t_neu = 0.0;",
                "#pragma omp parallel for schedule(dynamic, 1) reduction(+:_t_syn, _t_neu)",
                f"for (int _b = 0; _b < {self.B}; _b++) {{ _member_steps(_b, iT, n, _t_syn, "
                f"_t_neu); }}"]
        out += [f"spkQuePtr_{p.name} = (uint32_t)((spkQuePtr_{p.name} + (uint64_t)n) % "
                f"{p.num_delay_slots});" for p in self.delayed()]
        out += ["iT += n;",
                "// the wall time of the run, split as the members' own time was",
                "const double _wall = wall_time() - _tick;",
                "const double _busy = _t_syn + _t_neu;",
                "synapseUpdateTime += (_busy > 0.0) ? _wall * _t_syn / _busy : 0.0;",
                "neuronUpdateTime += (_busy > 0.0) ? _wall * _t_neu / _busy : 0.0;", "}"]
        return out

    def single_step_functions(self) -> List[str]:
        """Batch size 1: each group parallel over its neurons or targets; step_times
        repeats step_time."""
        m = self.model
        step = ["extern \"C\" void step_time() {", "const SubnormalsFlushed _flushed;",
                "const uint64_t _iT = iT;"]
        step += self.step_preamble() + ["double _tick = wall_time();"]
        step += [self.synapse_update(sg) for sg in m.synapse_populations.values()]
        step.append("double _tock = wall_time(); synapseUpdateTime += _tock - _tick; "
                    "_tick = _tock;")
        step += [self.neuron_update(pop) for pop in m.neuron_populations.values()]
        step += ["neuronUpdateTime += wall_time() - _tick;", "iT++;", "}",
                 "extern \"C\" void step_times(uint32_t n) {",
                 "for (uint32_t _s = 0; _s < n; _s++) { step_time(); }", "}"]
        return step

    # --------------------------------------------------------------- assemble
    def generate(self) -> str:
        m = self.model
        for sg in m.synapse_populations.values():
            self.check_event_code(sg)
        self.declare_arrays()
        for pop in m.neuron_populations.values():
            if pop.schedule_vars is not None:
                self.declare_schedule(pop)
        step = self.batch_step_functions() if self.B > 1 else self.single_step_functions()
        init = ["extern \"C\" void initialize(int user_connectivity_mask) {",
                "const SubnormalsFlushed _flushed;",
                f"const scalar dt = {c_literal(m.dt, 'scalar', self.precision)};",
                "const scalar t = 0; (void)t;", "const double _tick = wall_time();"]
        for n, sg in enumerate(m.synapse_populations.values()):
            if sg.matrix_type == "SPARSE" and sg.connectivity is not None:
                init.append(f"if (!(user_connectivity_mask >> {n} & 1)) {{")
                init += self.init_connectivity(sg)
                init.append("}")
        for group in self.all_groups():
            init += self.init_group_vars(group)
        for sg in m.synapse_populations.values():
            if sg.matrix_type == "SPARSE" and self.needs_columns(sg):
                init += self.build_columns(sg)
        init.append("initTime += wall_time() - _tick;")
        init.append("}")
        custom = []
        for group_name in sorted({cu.update_group for cu in m.custom_updates.values()}):
            custom.append(f"extern \"C\" void custom_update_{group_name}() {{")
            custom.append("const SubnormalsFlushed _flushed;")
            custom.append(f"const scalar dt = {c_literal(m.dt, 'scalar', self.precision)};")
            custom.append("const uint64_t _iT = iT;")
            custom.append("const scalar t = (scalar)((double)iT * (double)dt);")
            custom.append("const double _tick = wall_time();")
            for cu in m.custom_updates.values():
                if cu.update_group == group_name:
                    custom.append(self.custom_update(cu))
            custom.append(f"customUpdateTime_{group_name} += wall_time() - _tick;")
            custom.append("}")
            self.globals.append(f"double customUpdateTime_{group_name} = 0.0;")
        body = "\n".join(step + init + custom)
        src = (prelude(self.precision) + "#include <limits>\nextern \"C\" {\n"
               + "\n".join(self.globals) + "\n}\n" + body + "\n")
        return self.fix_lines(src)

    @staticmethod
    def fix_lines(src: str) -> str:
        """Replace the reset markers with ``#line`` directives back into the generated file."""
        out = []
        for i, line in enumerate(src.split("\n"), start=1):
            out.append(f'#line {i + 1} "model.cpp"' if line.strip() == LINE_RESET else line)
        return "\n".join(out)
