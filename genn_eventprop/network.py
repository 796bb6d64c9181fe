"""One EventProp network assembled from ``genn_models`` on the engine.

``EventPropNetwork(spec)`` builds input -> hidden layers (optionally recurrent)
-> output with the loss of ``spec.loss``; it runs batches of input spike trains
forward, computes exact gradients with the backward pass (``docs/eventprop.md``)
and applies Adam. Order of passes: forward of a batch, then its backward pass,
then the optimiser (the exact order; the original's interleaving is not used).
"""
from __future__ import annotations

import dataclasses
import warnings
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np

from . import engine as pygenn
from .genn_models.input_events import (Emission, by_neuron_then_time, emission,
                                       input_events_model)
from .genn_models.regularisers import RegParams, get_regulariser
from .genn_models import (adam_model, alif_model, get_loss, grad_reduce_model, input_model, li_output_model,
                          lif_model, lif_output_model, softmax_models, synapse_model)

#: Hidden neuron types: name -> whether tau_m/tau_syn are per-neuron variables.
HIDDEN_NEURONS = {"LIF": False, "hetLIF": True, "ALIF": False}
#: Output neuron types of the voltage losses (first-spike losses use spiking LIF outputs).
OUTPUT_NEURONS = {"LI": False, "hetLI": True}


@dataclass
class HiddenLayer:
    """A hidden layer: ``size`` neurons of type ``neuron`` (ms, threshold in V units)."""
    size: int
    neuron: str = "LIF"
    recurrent: bool = False
    tau_m: float = 20.0
    tau_syn: float = 5.0
    theta: float = 1.0
    p_drop: float = 0.0
    tau_B: float = 100.0
    B_incr: float = 0.05
    noise: float = 0.0
    train_tau: bool = False


@dataclass
class WeightInit:
    """Normal(mean, sd) initial weights of one connection."""
    mean: float = 0.0
    sd: float = 1.0


@dataclass
class NetworkSpec:
    """What to build. Times in ms; ``n_steps`` steps of ``dt`` per trial."""
    n_input: int
    hidden: Sequence[HiddenLayer]
    n_output: int
    loss: str = "sum"
    dt: float = 1.0
    n_steps: int = 1000
    batch_size: int = 32
    tau_m_out: float = 20.0
    tau_syn_out: float = 5.0
    theta_out: float = 1.0
    tau_accumulator: float = 20.0
    tau_0: float = 0.5
    tau_1: float = 6.4
    alpha: float = 3e-3
    #: A silent correct output's trial-end drive: tau_m (ALPHA g'(T) + (1 - p_y)/tau_0)
    #: when True, tau_m ALPHA g'(T) alone (the original's phantom spike) when False.
    phantom_softmax: bool = False
    weights: Dict[str, WeightInit] = field(default_factory=dict)
    seed: int = 0
    n_max_spike: int = 500
    p_drop_input: float = 0.0
    n_input_delay: int = 0
    input_delay: float = 50.0
    precision: str = "float"
    learning_rate: float = 1e-3
    adam_beta1: float = 0.9
    adam_beta2: float = 0.999
    adam_epsilon: float = 1e-8
    num_threads: Optional[int] = None
    output_neuron: str = "LI"
    train_w: bool = True
    train_w_output: bool = True
    train_tau_output: bool = False
    min_tau_m: float = 3.0
    min_tau_syn: float = 1.0
    regulariser: str = "none"
    reg: RegParams = field(default_factory=RegParams)
    name: str = "eventprop"
    #: Input spikes from a host-computed schedule, so input work scales with input
    #: spikes (``genn_models.input_events``); False: the ``input_model`` neuron
    #: population, every input neuron updated every step (same results).
    event_driven_input: bool = True


@dataclass
class BatchResult:
    """What one forward pass returns (valid batch members only).

    ``scores``: per-class softmax input (mean/max voltage, or -t_first/TAU_0);
    ``first_spike_t``: first output spike times (ms, -1 if none; LIF outputs);
    ``spike_counts``: spikes per population, shape (batch, neurons);
    ``tape_overflow``: spikes per population that did not fit the tape
    (their backward pass is missing; raise ``n_max_spike``);
    ``deferred_input_spikes``: input spikes moved to the next step because
    their neuron already spiked in that step; ``unemitted_input_spikes``:
    deferred input spikes that the trial ended before;
    ``delayed_beyond_trial``: spikes of delayed input copies that fall after
    the end of the trial (not emitted).
    """
    scores: np.ndarray
    probabilities: np.ndarray
    predictions: np.ndarray
    loss: Optional[float]
    correct: Optional[int]
    spike_counts: Dict[str, np.ndarray]
    tape_overflow: Dict[str, int]
    deferred_input_spikes: int
    unemitted_input_spikes: int = 0
    delayed_beyond_trial: int = 0
    first_spike_t: Optional[np.ndarray] = None


def connection_names(spec: NetworkSpec) -> List[str]:
    """Names of the connections, e.g. in_h0, h0_h0 (recurrent), h0_h1, h1_out."""
    names, prev = [], "in"
    for i, layer in enumerate(spec.hidden):
        names.append(f"{prev}_h{i}")
        if layer.recurrent:
            names.append(f"h{i}_h{i}")
        prev = f"h{i}"
    names.append(f"{prev}_out")
    return names


def validate_spec(spec: NetworkSpec) -> NetworkSpec:
    """Check sizes, names and time constants; return a private copy."""
    spec = dataclasses.replace(spec, hidden=[dataclasses.replace(h) for h in spec.hidden],
                               weights=dict(spec.weights))
    get_loss(spec.loss)
    get_regulariser(spec.regulariser)
    if int(spec.n_input_delay) != spec.n_input_delay or spec.n_input_delay < 0:
        raise ValueError(f"NetworkSpec.n_input_delay must be a non-negative integer, "
                         f"got {spec.n_input_delay!r}")
    for what, n in (("n_input", spec.n_input), ("n_output", spec.n_output),
                    ("n_steps", spec.n_steps), ("batch_size", spec.batch_size),
                    ("n_max_spike", spec.n_max_spike)):
        if int(n) != n or n < 1:
            raise ValueError(f"NetworkSpec.{what} must be a positive integer, got {n!r}")
    if not spec.hidden:
        raise ValueError("NetworkSpec.hidden needs at least one HiddenLayer")
    taus = [(f"hidden[{i}]", h.tau_m, h.tau_syn) for i, h in enumerate(spec.hidden)]
    taus.append(("output", spec.tau_m_out, spec.tau_syn_out))
    for where, tm, ts in taus:
        if tm <= 0 or ts <= 0 or tm == ts:
            raise ValueError(f"{where}: tau_m ({tm}) and tau_syn ({ts}) must be positive and "
                             f"different (the exact solution divides by tau_m - tau_syn)")
    for i, h in enumerate(spec.hidden):
        if h.neuron not in HIDDEN_NEURONS:
            raise ValueError(f"hidden[{i}].neuron '{h.neuron}' is unknown; valid: "
                             f"{', '.join(HIDDEN_NEURONS)}")
        if h.train_tau and h.neuron == "ALIF":
            raise ValueError(f"hidden[{i}]: train_tau is not available for ALIF neurons; "
                             f"use LIF or hetLIF")
    if spec.output_neuron not in OUTPUT_NEURONS:
        raise ValueError(f"output_neuron '{spec.output_neuron}' is unknown; valid: "
                         f"{', '.join(OUTPUT_NEURONS)}")
    unknown = set(spec.weights) - set(connection_names(spec))
    if unknown:
        raise ValueError(f"weights given for unknown connections {sorted(unknown)}; "
                         f"valid: {', '.join(connection_names(spec))}")
    return spec


def hidden_definition(layer: HiddenLayer):
    """The neuron model of a hidden layer."""
    if layer.neuron == "ALIF":
        return alif_model()
    return lif_model(HIDDEN_NEURONS[layer.neuron] or layer.train_tau, layer.train_tau)


def output_time_constants(spec: NetworkSpec) -> Tuple[bool, bool]:
    """(per-neuron initial taus drawn (hetLI)?, per-neuron tau variables?) of the outputs;
    trained time constants are per-neuron variables even when they start equal."""
    drawn = get_loss(spec.loss).kind == "LI" and OUTPUT_NEURONS[spec.output_neuron]
    return drawn, drawn or spec.train_tau_output


def output_definition(spec: NetworkSpec):
    """The neuron model of the output population (spiking LIF for first-spike losses)."""
    loss = get_loss(spec.loss)
    het = output_time_constants(spec)[1]
    if loss.kind == "LIF":
        return lif_output_model(loss, het, spec.train_tau_output)
    return li_output_model(loss, het, spec.train_tau_output)


def synapse_definition(spec: NetworkSpec, name: str):
    """The weight-update model of connection ``name`` (e.g. "in_h0", "h0_out")."""
    pre, post = name.split("_")
    _, _, het, tau_grads = post_time_constants(spec, post)
    return synapse_model(pre != "in", het, tau_grads)


def post_time_constants(spec: NetworkSpec, post_name: str) -> Tuple[float, float, bool, bool]:
    """(tau_m, tau_syn, per-neuron taus?, trains taus?) of a target population."""
    if post_name == "out":
        return (spec.tau_m_out, spec.tau_syn_out, output_time_constants(spec)[1],
                spec.train_tau_output)
    layer = spec.hidden[int(post_name[1:])]
    return (layer.tau_m, layer.tau_syn, HIDDEN_NEURONS[layer.neuron] or layer.train_tau,
            layer.train_tau)


def population_variables(spec: NetworkSpec) -> Dict[str, List[str]]:
    """Variables of every population ("input", "h0", ..., "out"), without building."""
    spec = validate_spec(spec)
    out = {"input": (input_events_model() if spec.event_driven_input
                     else input_model()).var_names()}
    for i, layer in enumerate(spec.hidden):
        out[f"h{i}"] = hidden_definition(layer).var_names()
    out["out"] = output_definition(spec).var_names()
    return out


def connection_variables(spec: NetworkSpec) -> Dict[str, List[str]]:
    """Per-synapse variables of every connection, without building."""
    spec = validate_spec(spec)
    return {name: synapse_definition(spec, name).var_names() for name in connection_names(spec)}


class EventPropNetwork:
    """An EventProp-trainable spiking network on the engine (see module doc)."""

    def __init__(self, spec: NetworkSpec):
        self.spec = validate_spec(spec)
        self.loss = get_loss(self.spec.loss)
        self.model = pygenn.GeNNModel(self.spec.precision, self.spec.name,
                                      num_threads=self.spec.num_threads)
        self.model.dt = self.spec.dt
        self.model.batch_size = self.spec.batch_size
        self.model.seed = self.spec.seed
        self.pops: Dict[str, object] = {}
        self.synapses: Dict[str, object] = {}
        self.adam: Dict[str, object] = {}
        self.reduce: Dict[str, object] = {}
        self._adam_steps = 0
        self._trials = 0
        self._base_seed = self.spec.seed or int.from_bytes(np.random.bytes(8), "little") or 1
        self._delayed_beyond = 0
        self._emission: Optional[Emission] = None
        self._build()

    @property
    def n_input_neurons(self) -> int:
        """Input channels times (1 + ``n_input_delay``) delayed copies."""
        return self.spec.n_input * (1 + int(self.spec.n_input_delay))

    # ------------------------------------------------------------------ build
    def _tape_egps(self, pop, n, slope: bool):
        size = self.spec.batch_size * n * self.spec.n_max_spike
        pop.extra_global_params["tape_step"].set_init_values(np.zeros(size, np.int32))
        pop.extra_global_params["tape_phi"].set_init_values(np.zeros(size))
        if slope:
            pop.extra_global_params["tape_slope"].set_init_values(np.ones(size))

    def _control(self, pop, extra=()):
        for name in ("backward",) + tuple(extra):
            pop.set_param_dynamic(name)

    def _add_input(self):
        s = self.spec
        if s.event_driven_input:
            pop = self.model.add_neuron_population("input", self.n_input_neurons,
                                                   input_events_model(), {}, {"phi": 0.0})
            pop.enable_spike_schedule(["phi"])
            self.pops["input"] = pop
            return
        pop = self.model.add_neuron_population(
            "input", self.n_input_neurons, input_model(),
            {"n_steps": s.n_steps, "n_max_spike": s.n_max_spike, "backward": 0.0,
             "p_drop": s.p_drop_input},
            {"startSpike": 0, "endSpike": 0, "next_t": 0.0, "deferred": 0, "phi": 0.0, "spk": 0,
             "tape_len": 0, "tape_event": -1, "event_step": -10, "tape_lost": 0})
        pop.extra_global_params["spikeTimes"].set_init_values(np.zeros(1))
        self._tape_egps(pop, self.n_input_neurons, slope=False)
        self._control(pop, ("p_drop",))
        self.pops["input"] = pop

    def _lif_vars(self):
        return {"V": 0.0, "I": 0.0, "lambda_V": 0.0, "lambda_I": 0.0, "lamE_V": 0.0,
                "jr_V": 0.0, "rev_hold": 0.0, "next_step": -10, "event_step": -10, "reg_drive": 0.0,
                "tape_next": -1, "phi": 0.0, "spk": 0, "tape_len": 0, "tape_event": -1,
                "tape_lost": 0}

    def _add_hidden(self, i: int, layer: HiddenLayer):
        s = self.spec
        het = HIDDEN_NEURONS[layer.neuron] or layer.train_tau
        params = {"theta": layer.theta, "p_drop": layer.p_drop, "n_steps": s.n_steps,
                  "n_max_spike": s.n_max_spike, "backward": 0.0, "noise": layer.noise}
        vars_ = self._lif_vars()
        taus = self._initial_taus(layer.size, layer.tau_m, layer.tau_syn,
                                  HIDDEN_NEURONS[layer.neuron])
        (vars_ if het else params).update(taus)
        if layer.train_tau:
            vars_.update(dtau_m=0.0, dtau_s=0.0)
        if layer.neuron == "ALIF":
            params.update(tau_B=layer.tau_B, B_incr=layer.B_incr)
            vars_.update(B=0.0, lambda_B=0.0, lamE_B=0.0, jr_B=0.0)
        pop = self.model.add_neuron_population(f"h{i}", layer.size, hidden_definition(layer),
                                               params, vars_)
        self._tape_egps(pop, layer.size, slope=True)
        if layer.neuron == "ALIF":
            pop.extra_global_params["tape_B"].set_init_values(
                np.zeros(self.spec.batch_size * layer.size * self.spec.n_max_spike))
        self._control(pop, ("p_drop", "noise"))
        if layer.train_tau:
            self._tau_tape(pop, layer.size)
        self.pops[f"h{i}"] = pop

    def _initial_taus(self, n, tau_m, tau_syn, heterogeneous):
        """Time constants of a population: homogeneous, or (hetLIF/hetLI) drawn per
        neuron from Gamma(3, tau/3) clipped to [MIN_TAU, 3 tau] as in the original."""
        if not heterogeneous:
            return {"tau_m": tau_m, "tau_syn": tau_syn}
        rng = np.random.default_rng([self._base_seed, n, len(self.pops)])
        s = self.spec
        return {"tau_m": np.clip(rng.gamma(3.0, tau_m / 3.0, n), s.min_tau_m, 3.0 * tau_m),
                "tau_syn": np.clip(rng.gamma(3.0, tau_syn / 3.0, n), s.min_tau_syn, 3.0 * tau_syn)}

    def _tau_tape(self, pop, n):
        size = self.spec.batch_size * n * self.spec.n_steps
        pop.extra_global_params["tape_Vn"].set_init_values(np.zeros(size))
        pop.extra_global_params["tape_In"].set_init_values(np.zeros(size))

    def _add_output(self):
        s = self.spec
        het_init, het = output_time_constants(s)
        taus = self._initial_taus(s.n_output, s.tau_m_out, s.tau_syn_out, het_init)
        grads = {"dtau_m": 0.0, "dtau_s": 0.0} if s.train_tau_output else {}
        if self.loss.kind == "LIF":
            params = {"theta": s.theta_out, "p_drop": 0.0, "n_steps": s.n_steps,
                      "n_max_spike": s.n_max_spike, "backward": 0.0, "tau_0": s.tau_0,
                      "tau_1": s.tau_1, "alpha": s.alpha,
                      "phantom_softmax": 1.0 if s.phantom_softmax else 0.0}
            vars_ = dict(self._lif_vars(), t_first=-1.0, score=0.0, p=0.0, y=0.0, **grads)
            (vars_ if het else params).update(taus)
            pop = self.model.add_neuron_population("out", s.n_output, output_definition(s),
                                                   params, vars_)
            self._tape_egps(pop, s.n_output, slope=True)
            self._control(pop, ("p_drop",))
        else:
            params = {"n_steps": s.n_steps, "backward": 0.0}
            vars_ = {"V": 0.0, "I": 0.0, "lambda_V": 0.0, "lambda_I": 0.0, "score": 0.0,
                     "score_step": 0, "p": 0.0, "y": 0.0, **grads}
            (vars_ if het else params).update(taus)
            pop = self.model.add_neuron_population("out", s.n_output, output_definition(s),
                                                   params, vars_)
            self._control(pop)
        if s.train_tau_output:
            self._tau_tape(pop, s.n_output)
        for egp, _ in self.loss.egps:
            per_step = egp == "tape_Vout"
            pop.extra_global_params[egp].set_init_values(
                np.zeros(s.batch_size * s.n_steps * (s.n_output if per_step else 1)))
        self.pops["out"] = pop

    def _add_connection(self, name: str):
        pre_name, post_name = name.split("_")
        pre_name = "input" if pre_name == "in" else pre_name
        pre, post = self.pops[pre_name], self.pops[post_name]
        backprop = pre_name != "input"
        tau_m, tau_syn, het, _ = post_time_constants(self.spec, post_name)
        init = self.spec.weights.get(name, WeightInit(0.0, 1.0))
        g = pygenn.init_var("Normal", {"mean": init.mean, "sd": init.sd})
        params = {"backward": 0.0} if het else {"tau_m": tau_m, "tau_syn": tau_syn,
                                                 "backward": 0.0}
        spiking = "lamE_V" in post.vars
        post_refs = {"lamE_V_post": pygenn.create_var_ref(post, "lamE_V" if spiking else "lambda_V"),
                     "lambda_I_post": pygenn.create_var_ref(post, "lambda_I")}
        if het:
            post_refs.update(tau_m_post=pygenn.create_var_ref(post, "tau_m"),
                             tau_syn_post=pygenn.create_var_ref(post, "tau_syn"))
        sg = self.model.add_synapse_population(
            name, "DENSE", pre, post,
            pygenn.init_weight_update(synapse_definition(self.spec, name), params,
                                      {"g": g, "dg": 0.0},
                                      {} if het else {"fS": 0.0, "fM": 0.0},
                                      pre_var_refs={"phi_pre": pygenn.create_var_ref(pre, "phi")},
                                      post_var_refs=post_refs),
            pygenn.init_postsynaptic("DeltaCurr"))
        if backprop:
            sg.pre_target_var = "revIsyn"
        sg.set_wu_param_dynamic("backward")
        self.synapses[name] = sg
        red = self.model.add_custom_update(f"reduce_{name}", "reduce", grad_reduce_model(), {},
                                           {"dg_sum": 0.0},
                                           {"dg": pygenn.create_wu_var_ref(sg, "dg")})
        self.reduce[name] = red
        trained = self.spec.train_w_output if post_name == "out" else self.spec.train_w
        if trained:
            self._add_optimiser(name, pygenn.create_wu_var_ref(sg, "g"),
                                pygenn.create_wu_var_ref(red, "dg_sum"))

    def _add_optimiser(self, key, target_ref, grad_ref, min_value=None):
        """Adam (with a lower bound for time constants) on one trained quantity."""
        s = self.spec
        params = {"beta1": s.adam_beta1, "beta2": s.adam_beta2, "epsilon": s.adam_epsilon,
                  "alpha": s.learning_rate, "m_scale": 1.0, "v_scale": 1.0, "grad_scale": 1.0}
        if min_value is not None:
            params["min_value"] = min_value
        adam = self.model.add_custom_update(
            f"adam_{key}".replace(".", "_"), "adam", adam_model(min_value is not None), params,
            {"m": 0.0, "v": 0.0}, {"g": target_ref, "dg_sum": grad_ref})
        for p in ("alpha", "m_scale", "v_scale", "grad_scale"):
            adam.set_param_dynamic(p)
        self.adam[key] = adam

    def _add_tau_training(self, pop_name: str):
        """Gradient reduction and bounded Adam for tau_m and tau_syn of a population."""
        pop = self.pops[pop_name]
        for tau, grad, lower in (("tau_m", "dtau_m", self.spec.min_tau_m),
                                 ("tau_syn", "dtau_s", self.spec.min_tau_syn)):
            key = f"{pop_name}.{tau}"
            red = self.model.add_custom_update(
                f"reduce_{pop_name}_{tau}", "reduce", grad_reduce_model(), {}, {"dg_sum": 0.0},
                {"dg": pygenn.create_var_ref(pop, grad)})
            self.reduce[key] = red
            self._add_optimiser(key, pygenn.create_var_ref(pop, tau),
                                pygenn.create_var_ref(red, "dg_sum"), lower)

    def _add_softmax(self):
        out = self.pops["out"]
        smax, ssum, apply = softmax_models()
        score = pygenn.create_var_ref(out, "score")
        cu_max = self.model.add_custom_update("softmax_max", "softmax1", smax, {}, {"smax": 0.0},
                                              {"score": score})
        max_ref = pygenn.create_var_ref(cu_max, "smax")
        cu_sum = self.model.add_custom_update("softmax_sum", "softmax2", ssum, {}, {"ssum": 0.0},
                                              {"score": score, "smax": max_ref})
        self.model.add_custom_update(
            "softmax_apply", "softmax3", apply, {}, {},
            {"score": score, "smax": max_ref, "ssum": pygenn.create_var_ref(cu_sum, "ssum"),
             "p": pygenn.create_var_ref(out, "p")})

    def _build(self):
        self._add_input()
        for i, layer in enumerate(self.spec.hidden):
            self._add_hidden(i, layer)
        self._add_output()
        for name in connection_names(self.spec):
            self._add_connection(name)
        for i, layer in enumerate(self.spec.hidden):
            if layer.train_tau:
                self._add_tau_training(f"h{i}")
        if self.spec.train_tau_output:
            self._add_tau_training("out")
        self._add_softmax()
        self.model.build()
        self.model.load()

    # ---------------------------------------------------------------- weights
    @property
    def connections(self) -> List[str]:
        return list(self.synapses)

    def _sg(self, name):
        if name not in self.synapses:
            raise KeyError(f"no connection '{name}'; valid: {', '.join(self.synapses)}")
        return self.synapses[name]

    def get_weights(self, name: str) -> np.ndarray:
        """Weights of connection ``name`` as a (n_pre, n_post) float64 copy."""
        sg = self._sg(name)
        return np.array(sg.vars["g"].view, dtype=np.float64).reshape(sg.src.size, sg.trg.size)

    def set_weights(self, name: str, w) -> None:
        sg = self._sg(name)
        w = np.asarray(w, dtype=np.float64)
        shape = (sg.src.size, sg.trg.size)
        if w.shape != shape:
            raise ValueError(f"weights for '{name}' must have shape {shape}, got {w.shape}")
        sg.vars["g"].view[...] = w.reshape(sg.vars["g"].view.shape)
        sg.vars["g"].push_to_device()

    # ------------------------------------------------------------------- runs
    def _with_delays(self, times, ids):
        """Add the delayed copies: copy k of channel c is input neuron k*n_input + c,
        shifted by k*input_delay ms; spikes shifted past the trial are counted."""
        s = self.spec
        trial_t = s.n_steps * s.dt
        copies = range(1 + int(s.n_input_delay))
        times = np.concatenate([times + k * s.input_delay for k in copies])
        ids = np.concatenate([ids + k * s.n_input for k in copies])
        inside = times < trial_t
        self._delayed_beyond += int((~inside).sum())
        return times[inside], ids[inside]

    def _set_inputs(self, batch) -> int:
        """Load a batch of samples, each ``(times_ms, neuron_ids)``; returns its size."""
        s = self.spec
        if len(batch) > s.batch_size:
            raise ValueError(f"batch of {len(batch)} samples exceeds batch_size {s.batch_size}")
        trial_t = s.n_steps * s.dt
        n_in = self.n_input_neurons
        self._delayed_beyond = 0
        start = np.zeros((s.batch_size, n_in), np.uint32)
        end = np.zeros_like(start)
        chunks, offset = [], 0
        per_member = []
        for b in range(s.batch_size):
            times, ids = (batch[b] if b < len(batch) else (np.zeros(0), np.zeros(0, int)))
            times = np.asarray(times, dtype=np.float64).reshape(-1)
            ids = np.asarray(ids).reshape(-1)
            if times.shape != ids.shape:
                raise ValueError(f"sample {b}: {times.size} spike times but {ids.size} ids")
            if ids.size and (ids.min() < 0 or ids.max() >= s.n_input):
                raise ValueError(f"sample {b}: neuron ids must lie in [0, {s.n_input})")
            if times.size and (times.min() < 0 or times.max() >= trial_t):
                raise ValueError(f"sample {b}: spike times must lie in [0, {trial_t}) ms "
                                 f"(n_steps * dt); got [{times.min()}, {times.max()}]")
            times, ids = self._with_delays(times, ids.astype(np.int64))
            if s.event_driven_input:
                per_member.append((times, ids))
                continue
            order = by_neuron_then_time(times, ids, n_in)
            counts = np.bincount(ids, minlength=n_in)
            start[b] = offset + np.concatenate(([0], np.cumsum(counts)[:-1]))
            end[b] = start[b] + counts
            chunks.append(times[order])
            offset += times.size
        if s.event_driven_input:
            self._set_emission(per_member)
            return len(batch)
        all_times = np.concatenate(chunks) if offset else np.full(1, 2.0 * trial_t)
        if "input_weight" in dict(self.loss.egps):
            self._set_input_weight([all_times[a:b] for a, b in zip(start.min(1), end.max(1))])
        inp = self.pops["input"]
        inp.extra_global_params["spikeTimes"].values = all_times
        inp.extra_global_params["spikeTimes"].push_to_device()
        self._write(inp, "startSpike", start)
        self._write(inp, "endSpike", end)
        return len(batch)

    def _set_emission(self, per_member) -> None:
        """The batch's input spikes as emitted (scheduled inputs); ``per_member``: each
        member's (times, ids), delayed copies included."""
        s = self.spec
        self._emission = emission(per_member, s.batch_size, self.n_input_neurons, s.dt,
                                  s.n_steps, np.float32 if s.precision == "float" else np.float64)
        if "input_weight" in dict(self.loss.egps):
            self._set_input_weight([t for t, _ in per_member])

    def _drop_inputs(self, training: bool) -> None:
        """Input dropout of the scheduled inputs: each emitted spike is dropped with
        probability p_drop (as ``input_model`` does per spike, from a host stream
        seeded by the trial's seed)."""
        p = self.spec.p_drop_input
        if not (training and p > 0.0):
            return
        rng = np.random.default_rng([self.model.seed, 0x1D])
        self._emission = self._emission.keep(rng.random(self._emission.ids.size) >= p)

    def _push_schedule(self, backward: bool) -> None:
        """Hand the input spikes of this pass to the engine: the forward emission, or
        its reverse replay for the backward pass."""
        offsets, ids, phi = self._emission.schedule(backward, self.spec.n_steps)
        self.pops["input"].push_spike_schedule(offsets, ids, {"phi": phi})

    def _set_input_weight(self, member_times):
        """a(t_n) = 0.01 dt/TAU_ACCUMULATOR sum_{s <= t_n} exp(-(t_n - s)/TAU_ACCUMULATOR)
        over all input spikes of a sample (``member_times``: each member's spike times,
        delayed copies included, before dropout), n = 1..T: the weight of the voltage
        samples of ``sum_weigh_input``."""
        s = self.spec
        tau, T = s.tau_accumulator, s.n_steps
        arrivals = np.zeros((s.batch_size, T))   # spikes in (t_{n-1}, t_n], decayed to t_n
        for b, st in enumerate(member_times):
            st = np.sort(np.asarray(st, dtype=np.float64))    # a fixed order of the sums
            n = np.minimum(np.floor(st / s.dt).astype(int), T - 1)
            np.add.at(arrivals[b], n, np.exp(-((n + 1) * s.dt - st) / tau))
        weight = np.zeros_like(arrivals)
        acc, decay = np.zeros(s.batch_size), np.exp(-s.dt / tau)
        for n in range(T):
            acc = acc * decay + arrivals[:, n]
            weight[:, n] = acc
        out = self.pops["out"].extra_global_params["input_weight"]
        out.values = (0.01 * s.dt / tau * weight).reshape(-1)
        out.push_to_device()

    def _write(self, pop, var, value):
        v = pop.vars[var]
        v.view[...] = np.broadcast_to(value, v.view.shape) if np.ndim(value) == 0 else \
            np.asarray(value).reshape(v.view.shape)
        v.push_to_device()

    def _reset_trial(self):
        for name, pop in self.pops.items():
            for var, value in (("V", 0.0), ("I", 0.0), ("B", 0.0), ("tape_len", 0), ("tape_lost", 0),
                               ("deferred", 0), ("t_first", -1.0), ("score_step", 0)):
                if var in pop.vars:
                    self._write(pop, var, value)
        out = self.pops["out"]
        if "score" in out.vars:
            self._write(out, "score", -np.inf if self.loss.is_max else 0.0)

    def _set_phase(self, backward: bool):
        value = 1.0 if backward else 0.0
        for name, pop in self.pops.items():
            if name == "input" and self.spec.event_driven_input:
                self._push_schedule(backward)
                continue
            pop.set_dynamic_param_value("backward", value)
        for sg in self.synapses.values():
            sg.set_dynamic_param_value("backward", value)
        self.model.timestep = 0

    def _read(self, pop, var) -> np.ndarray:
        v = pop.vars[var]
        v.pull_from_device()
        return np.array(v.view, dtype=np.float64).reshape(self.spec.batch_size, -1)

    def _set_training(self, training: bool):
        """Dropout and membrane noise act only in training; each training trial
        draws from its own random streams (seed derived from spec.seed and the
        trial count, so runs are reproducible)."""
        s = self.spec
        if not s.event_driven_input:
            self.pops["input"].set_dynamic_param_value("p_drop",
                                                       s.p_drop_input if training else 0.0)
        for i, layer in enumerate(s.hidden):
            pop = self.pops[f"h{i}"]
            pop.set_dynamic_param_value("p_drop", layer.p_drop if training else 0.0)
            pop.set_dynamic_param_value("noise", layer.noise if training else 0.0)
        if training:
            seq = np.random.SeedSequence([self._base_seed, self._trials])
            self.model.seed = int(seq.generate_state(1, np.uint64)[0]) or 1
            self._trials += 1

    def forward(self, batch, labels=None, training: bool = False,
                on_step: Optional[Callable[[int], None]] = None) -> BatchResult:
        """Run one batch forward; with ``labels`` also the loss (mean over samples).

        ``training`` switches on input/hidden dropout and membrane noise;
        ``on_step(step)`` is called after every simulated step (recording).
        """
        n_valid = self._set_inputs(batch)
        self._set_training(training)
        if self.spec.event_driven_input:
            self._drop_inputs(training)
        self._reset_trial()
        self._set_phase(backward=False)
        if on_step is None:
            self.model.step_times(self.spec.n_steps)
        for step in range(self.spec.n_steps if on_step is not None else 0):
            self.model.step_time()
            on_step(step)
        for group in ("softmax1", "softmax2", "softmax3"):
            self.model.custom_update(group)
        return self._result(n_valid, labels)

    def _result(self, n, labels) -> BatchResult:
        out = self.pops["out"]
        scores = self._read(out, "score")[:n]
        probs = self._read(out, "p")[:n]
        preds = np.argmax(scores, axis=1)
        counts, overflow = {}, {}
        for name, pop in self.pops.items():
            if "tape_len" in pop.vars:
                taped = self._read(pop, "tape_len")[:n]
                lost = self._read(pop, "tape_lost")[:n]
                counts[name] = (taped + lost).astype(np.int64)
                overflow[name] = int(lost.sum())
        deferred, unemitted = self._input_report(counts, overflow, n)
        if unemitted:
            warnings.warn(f"{unemitted} input spikes were deferred past the end of the trial and "
                          f"not emitted (several spikes of one input neuron in the last steps); "
                          f"use a smaller dt", RuntimeWarning, stacklevel=3)
        first = self._read(out, "t_first")[:n] if "t_first" in out.vars else None
        loss = correct = None
        if labels is not None:
            labels = self._check_labels(labels, n)
            loss = float(np.mean(self._sample_losses(probs, labels, first)))
            correct = int(np.sum(preds == labels))
        return BatchResult(scores, probs, preds, loss, correct, counts, overflow, deferred,
                           unemitted, self._delayed_beyond, first)

    def _input_report(self, counts, overflow, n) -> Tuple[int, int]:
        """Input spikes per neuron (into ``counts``/``overflow``), and the deferred and
        unemitted input spikes of the ``n`` samples."""
        if not self.spec.event_driven_input:
            inp = self.pops["input"]
            deferred = int(self._read(inp, "deferred")[:n].sum())
            unemitted = int((self._read(inp, "endSpike") - self._read(inp, "startSpike"))[:n].sum())
            return deferred, unemitted
        em = self._emission
        counts["input"] = em.counts()[:n].astype(np.int64)
        overflow["input"] = 0
        return int(em.deferred[:n].sum()), int(em.unemitted[:n].sum())

    def _check_labels(self, labels, n) -> np.ndarray:
        labels = np.asarray(labels).reshape(-1)
        if labels.size != n:
            raise ValueError(f"{labels.size} labels for a batch of {n} samples")
        if labels.size and (labels.min() < 0 or labels.max() >= self.spec.n_output):
            raise ValueError(f"labels must lie in [0, {self.spec.n_output})")
        return labels.astype(np.int64)

    def _sample_losses(self, probs, labels, first) -> np.ndarray:
        """-log p_y, plus ALPHA g(t_y) for first-spike losses when the label neuron spiked;
        for per-step losses the mean over samples t_n of -log softmax(V(t_n))_y."""
        rows = np.arange(labels.size)
        if self.loss.per_step:
            s = self.spec
            tape = np.array(self.pops["out"].extra_global_params["tape_Vout"].view,
                            dtype=np.float64).reshape(s.batch_size, s.n_output, s.n_steps)
            V = tape[:labels.size]
            logz = np.log(np.exp(V - V.max(1, keepdims=True)).sum(1)) + V.max(1)
            return np.mean(logz - V[rows, labels], axis=1)
        loss = -np.log(np.maximum(probs[rows, labels], 1e-300))
        if self.loss.kind == "LIF":
            s, trial_t = self.spec, self.spec.n_steps * self.spec.dt
            t_y = first[rows, labels]
            spiked = t_y >= 0
            g = self.loss.g(np.where(spiked, t_y, 0.0), trial_t, s.tau_1)
            loss = loss + np.where(spiked, s.alpha * g, 0.0)
        return loss

    def _set_regularisation(self, n):
        """Per-neuron ``reg_drive`` of each hidden layer from this trial's spike counts
        (of the ``n`` samples in the batch)."""
        regulariser = get_regulariser(self.spec.regulariser)
        for i, layer in enumerate(self.spec.hidden):
            pop = self.pops[f"h{i}"]
            counts = (self._read(pop, "tape_len") + self._read(pop, "tape_lost"))[:n]
            tau_m = (np.array(pop.vars["tau_m"].view, dtype=np.float64).reshape(-1)
                     if HIDDEN_NEURONS[layer.neuron] else layer.tau_m)
            drive = np.zeros((self.spec.batch_size, layer.size))
            drive[:n] = regulariser(counts, tau_m, self.spec.reg)
            self._write(pop, "reg_drive", drive)

    def _warn_overflow(self, res: BatchResult) -> None:
        """Spikes beyond the tape have no backward pass: say so whenever gradients are
        computed (a forward pass alone loses nothing; its counts stay exact)."""
        if any(res.tape_overflow.values()):
            warnings.warn(f"spike tape overflow (spikes without backward pass): "
                          f"{ {k: v for k, v in res.tape_overflow.items() if v} }; raise "
                          f"n_max_spike (now {self.spec.n_max_spike})", RuntimeWarning,
                          stacklevel=3)

    def _backward(self, labels, n):
        y = np.zeros((self.spec.batch_size, self.spec.n_output))
        y[np.arange(n), labels] = 1.0
        self._write(self.pops["out"], "y", y)
        self._set_regularisation(n)
        self._set_phase(backward=True)
        self.model.step_times(self.spec.n_steps + 1)
        self.model.custom_update("reduce")

    def gradients(self, batch, labels, training: bool = False
                  ) -> Tuple[BatchResult, Dict[str, np.ndarray]]:
        """Forward + backward without changing weights: (result, dL/dW per connection).

        Gradients are of the batch-mean loss, shape (n_pre, n_post) each, plus
        "POP.tau_m"/"POP.tau_syn" (per neuron) for populations that train them.
        """
        res = self.forward(batch, labels, training)
        self._warn_overflow(res)
        n = len(batch)
        self._backward(self._check_labels(labels, n), n)
        grads = {}
        for key, red in self.reduce.items():
            g = np.array(red.vars["dg_sum"].view, dtype=np.float64) / n
            if key in self.synapses:
                sg = self.synapses[key]
                g = g.reshape(sg.src.size, sg.trg.size)
            grads[key] = g.reshape(-1) if key not in self.synapses else g
        return res, grads

    def spikes(self, pop_name: str, sample: int = 0) -> Tuple[np.ndarray, np.ndarray]:
        """Spike (times in ms, neuron ids) of one sample of the last forward pass, from
        the spike tapes (sub-step times; at most ``n_max_spike`` per neuron)."""
        s = self.spec
        if pop_name == "input" and s.event_driven_input:
            em = self._emission
            mine = em.member == sample
            times = (em.steps[mine] + em.phi[mine].astype(np.float64)) * s.dt
            order = np.argsort(times, kind="stable")
            return times[order], em.ids[mine][order]
        pop = self.pops[pop_name]
        n = pop.size
        count = self._read(pop, "tape_len")[sample].astype(np.int64)
        steps = np.array(pop.extra_global_params["tape_step"].view).reshape(
            s.batch_size, n, s.n_max_spike)[sample]
        phis = np.array(pop.extra_global_params["tape_phi"].view, dtype=np.float64).reshape(
            s.batch_size, n, s.n_max_spike)[sample]
        ids = np.repeat(np.arange(n), count)
        k = np.concatenate([np.arange(c) for c in count]) if ids.size else np.zeros(0, int)
        times = (steps[ids, k] + phis[ids, k]) * s.dt
        order = np.argsort(times, kind="stable")
        return times[order], ids[order]

    def variable(self, pop_name: str, var: str) -> np.ndarray:
        """A copy of a neuron variable, shape (batch, neurons) (shared ones: (1, neurons))."""
        v = self.pops[pop_name].vars[var]
        v.pull_from_device()
        arr = np.array(v.view, dtype=np.float64)
        return arr.reshape(-1, self.pops[pop_name].size)

    def state_dict(self) -> Dict[str, np.ndarray]:
        """Everything training changes: weights, time constants, Adam moments and step,
        and the count of training trials (which selects the random streams)."""
        out = {f"w/{name}": self.get_weights(name) for name in self.synapses}
        for key in self.reduce:
            if "." in key:
                pop, tau = key.split(".")
                out[f"tau/{key}"] = self.get_time_constants(pop)[tau]
        for key, adam in self.adam.items():
            for m in ("m", "v"):
                out[f"adam/{key}/{m}"] = np.array(adam.vars[m].view, dtype=np.float64)
        out["adam_steps"] = np.array(self._adam_steps)
        out["trials"] = np.array(self._trials)
        return out

    def load_state_dict(self, state: Dict[str, np.ndarray]) -> None:
        """Restore what ``state_dict`` saved (same network spec)."""
        for key, value in state.items():
            kind, _, rest = key.partition("/")
            if kind == "w":
                self.set_weights(rest, value)
            elif kind == "tau":
                pop, tau = rest.split(".")
                self.set_time_constants(pop, **{tau: value})
            elif kind == "adam":
                name, m = rest.rsplit("/", 1)
                var = self.adam[name].vars[m]
                var.view[...] = np.asarray(value).reshape(var.view.shape)
                var.push_to_device()
        self._adam_steps = int(state["adam_steps"])
        self._trials = int(state["trials"])

    def get_time_constants(self, pop_name: str) -> Dict[str, np.ndarray]:
        """Per-neuron tau_m, tau_syn (ms) of a population with per-neuron time constants."""
        pop = self.pops[pop_name]
        if "tau_m" not in pop.vars:
            raise ValueError(f"population '{pop_name}' has parameter time constants; "
                             f"use hetLIF/hetLI or train_tau for per-neuron values")
        return {t: np.array(pop.vars[t].view, dtype=np.float64).reshape(-1)
                for t in ("tau_m", "tau_syn")}

    def set_time_constants(self, pop_name: str, tau_m=None, tau_syn=None) -> None:
        current = self.get_time_constants(pop_name)
        pop = self.pops[pop_name]
        for name, value in (("tau_m", tau_m), ("tau_syn", tau_syn)):
            if value is not None:
                value = np.broadcast_to(np.asarray(value, np.float64), current[name].shape)
                pop.vars[name].view[...] = value.reshape(pop.vars[name].view.shape)
                pop.vars[name].push_to_device()

    def train_step(self, batch, labels, learning_rate: Optional[float] = None,
                   on_step: Optional[Callable[[int], None]] = None,
                   warn_overflow: bool = True) -> BatchResult:
        """Forward (training mode), backward and one Adam step on every trained
        quantity; returns the forward result (``on_step`` as in ``forward``).
        ``warn_overflow=False``: the caller reports ``res.tape_overflow`` itself."""
        res = self.forward(batch, labels, training=True, on_step=on_step)
        if warn_overflow:
            self._warn_overflow(res)
        n = len(batch)
        self._backward(self._check_labels(labels, n), n)
        self._adam_steps += 1
        k = self._adam_steps
        s = self.spec
        lr = s.learning_rate if learning_rate is None else learning_rate
        for adam in self.adam.values():
            adam.set_dynamic_param_value("alpha", lr)
            adam.set_dynamic_param_value("m_scale", 1.0 / (1.0 - s.adam_beta1 ** k))
            adam.set_dynamic_param_value("v_scale", 1.0 / (1.0 - s.adam_beta2 ** k))
            adam.set_dynamic_param_value("grad_scale", 1.0 / n)
        self.model.custom_update("adam")
        return res
