"""Independent pure-numpy (float64) reference of ``docs/eventprop.md``.

Written from the document only (no code from ``genn_eventprop`` is used), so
that the generated kernels can be checked against it.  Units: ms.

Network
-------
Populations, in order: ``"in"`` (``n_in`` spike sources), hidden LIF layers
``"h0"``, ``"h1"``, ... and the output ``"out"``.  Outputs are non-spiking
leaky integrators (``LI``) for the voltage losses (``sum*``, ``max``) and LIF
neurons for the first-spike losses.  Connections (weights of shape
``(n_pre, n_post)``), all with a delay of exactly ``dt``:

    "in_h0", "h0_h0" (if recurrent[0]), "h0_h1", "h1_h1" (if recurrent[1]),
    ..., "h{L-1}_out"          ("in_out" when there is no hidden layer)

Model (one sample)
------------------
A spike emitted in step ``m`` at offset ``phi`` (``s = t_m + phi*dt``) arrives
in step ``m+1`` at offset ``phi`` and acts for ``r = (1 - phi)*dt``.  All
arrivals of step ``n`` therefore come from spikes emitted in step ``n-1`` by
any population (recurrent ones included), so the populations of one step are
updated independently.  Per neuron, with

    K(x) = tau_syn/(tau_m - tau_syn) * (exp(-x/tau_m) - exp(-x/tau_syn)):

    I_{n+1} = I_n exp(-dt/tau_syn) + sum_arr w exp(-r/tau_syn)
    V_free  = V_n exp(-dt/tau_m)   + I_n K(dt) + sum_arr w K(r)

and for spiking neurons, if ``V_free >= theta``:

    slope   = (V_free - V_n)/dt
    phi     = clip((theta - V_n)/(V_free - V_n), 0, 1)
    V_{n+1} = V_free - theta exp(-(1 - phi) dt/tau_m)

(at most one spike per neuron and step), else ``V_{n+1} = V_free``.

Adjoint
-------
``lambda_V = dL/dV``, ``lambda_I = dL/dI``; between events

    P(x): lambda_I <- lambda_I exp(-x/tau_syn) + lambda_V K(x)
          lambda_V <- lambda_V exp(-x/tau_m)

and the spike step of the document (exact adjoint of the discrete model,
``backward_step`` with ``exact=True``, the default): with
``J = (theta E Lambda_V/tau_m + R - dL_p/ds)/slope``,
``lambda_V(t_n) = exp(-dt/tau_m)(Lambda_V + phi J) + (1-phi) J``; targets'
arrivals see ``Lambda_V + phi J``.  For a spike of ``j`` arriving at ``a``
(offset ``r``) at targets ``k``, with ``lambda_k(a) = P_k(r) Lambda'_k``:

    R_j       = sum_k w_jk (lambda_V,k(a)/tau_m,k - lambda_I,k(a)/tau_syn,k)
    dL/dw_jk += lambda_I,k(a)

``exact=False`` gives the continuous-time approximation (``P((1-phi) dt)``,
``lambda_V += J``, ``P(phi dt)``, arrivals see ``Lambda_V``), kept to show
its error: where a spike arrives in a step in which its target spikes
(``coincident_arrivals``) it lacks phi_k J_k, an error of order J_k K(r)
that can reach ~10% of a gradient; elsewhere the two agree to O(dt^2).

A spike with ``V_n >= theta`` has ``phi`` = 0, slope 0 and no jump.
"""
from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Dict, Optional, Sequence, Tuple, Union

import numpy as np

VOLTAGE_LOSSES = ("sum", "sum_weigh_linear", "sum_weigh_exp",
                  "sum_weigh_sigmoid", "max")
FIRST_SPIKE_LOSSES = ("first_spike", "first_spike_exp")
PER_STEP_LOSSES = ("avg_xentropy",)
LOSSES = VOLTAGE_LOSSES + FIRST_SPIKE_LOSSES + PER_STEP_LOSSES


@dataclass(frozen=True)
class Spec:
    """Network, neuron and loss parameters of one simulation (units ms).

    dt, T              step and number of steps (trial_t = T*dt)
    n_in, hidden, n_out  population sizes; ``hidden`` lists hidden layer sizes
    recurrent          one bool per hidden layer: all-to-all ``h{l}_h{l}``
                       (None: no recurrent layer)
    tau_m, tau_syn, theta  LIF/LI parameters of hidden layers and outputs;
                       ``*_out`` override them for the output population
    loss               one of ``LOSSES``
    tau_0, tau_1, alpha  first-spike loss parameters (TAU_0, TAU_1, ALPHA)
    phantom_softmax    a silent correct output's trial-end drive includes
                       (1 - p_y)/tau_0 (PHANTOM_SOFTMAX)
    """

    dt: float = 0.05
    T: int = 500
    n_in: int = 4
    hidden: Tuple[int, ...] = (4,)
    recurrent: Optional[Tuple[bool, ...]] = None
    n_out: int = 3
    tau_m: float = 20.0
    tau_syn: float = 5.0
    theta: float = 1.0
    loss: str = "sum"
    tau_0: float = 0.5
    tau_1: float = 6.4
    alpha: float = 3e-3
    phantom_softmax: bool = False
    tau_m_out: Optional[float] = None
    tau_syn_out: Optional[float] = None
    theta_out: Optional[float] = None

    def __post_init__(self):
        object.__setattr__(self, "hidden", tuple(int(h) for h in self.hidden))
        rec = (False,) * len(self.hidden) if self.recurrent is None else self.recurrent
        object.__setattr__(self, "recurrent", tuple(bool(r) for r in rec))
        if len(self.recurrent) != len(self.hidden):
            raise ValueError("recurrent needs one entry per hidden layer")
        if self.loss not in LOSSES:
            raise ValueError(f"unknown loss {self.loss!r}")

    @property
    def trial_t(self) -> float:
        return self.T * self.dt

    @property
    def first_spike(self) -> bool:
        return self.loss in FIRST_SPIKE_LOSSES


SpecLike = Union[Spec, dict]


def as_spec(spec: SpecLike) -> Spec:
    """Accept a ``Spec`` or a dict of its fields (missing ones get defaults)."""
    if isinstance(spec, Spec):
        return spec
    names = {f.name for f in fields(Spec)}
    unknown = set(spec) - names
    if unknown:
        raise ValueError(f"unknown spec keys {sorted(unknown)}")
    return Spec(**spec)


@dataclass(frozen=True)
class Population:
    """One population: ``kind`` is "input", "lif" or "li"."""

    name: str
    size: int
    kind: str
    tau_m: float = np.nan
    tau_syn: float = np.nan
    theta: float = np.inf

    def K(self, x):
        """Voltage response after time ``x`` to a unit current step."""
        return kernel(x, self.tau_m, self.tau_syn)

    def decay(self, dt: float):
        """(exp(-dt/tau_m), exp(-dt/tau_syn), K(dt)) of one full step."""
        return np.exp(-dt / self.tau_m), np.exp(-dt / self.tau_syn), self.K(dt)


def kernel(x, tau_m: float, tau_syn: float):
    """K(x) = tau_syn/(tau_m - tau_syn) (exp(-x/tau_m) - exp(-x/tau_syn))."""
    if abs(tau_m - tau_syn) <= 1e-12 * tau_m:
        return x / tau_m * np.exp(-x / tau_m)
    return tau_syn / (tau_m - tau_syn) * (np.exp(-x / tau_m) - np.exp(-x / tau_syn))


def populations(spec: SpecLike) -> Dict[str, Population]:
    """The populations of ``spec`` in update order, keyed by name."""
    spec = as_spec(spec)
    pops = [Population("in", spec.n_in, "input")]
    for l, size in enumerate(spec.hidden):
        pops.append(Population(f"h{l}", size, "lif", spec.tau_m, spec.tau_syn,
                               spec.theta))
    out_kind = "lif" if spec.first_spike else "li"
    pops.append(Population(
        "out", spec.n_out, out_kind,
        spec.tau_m if spec.tau_m_out is None else spec.tau_m_out,
        spec.tau_syn if spec.tau_syn_out is None else spec.tau_syn_out,
        spec.theta if spec.theta_out is None else spec.theta_out))
    return {p.name: p for p in pops}


def connections(spec: SpecLike) -> Dict[str, Tuple[str, str]]:
    """Connection name -> (pre, post) population names."""
    spec = as_spec(spec)
    names = ["in"] + [f"h{l}" for l in range(len(spec.hidden))] + ["out"]
    conns = {}
    for l in range(len(names) - 1):
        pre, post = names[l], names[l + 1]
        if pre.startswith("h") and spec.recurrent[l - 1]:
            conns[f"{pre}_{pre}"] = (pre, pre)
        conns[f"{pre}_{post}"] = (pre, post)
    return conns


def weight_shapes(spec: SpecLike) -> Dict[str, Tuple[int, int]]:
    """Connection name -> (n_pre, n_post)."""
    pops = populations(spec)
    return {name: (pops[pre].size, pops[post].size)
            for name, (pre, post) in connections(spec).items()}


# ---------------------------------------------------------------------------
# Forward pass
# ---------------------------------------------------------------------------

Emissions = Dict[int, Tuple[np.ndarray, np.ndarray, np.ndarray]]


@dataclass
class Record:
    """Everything the forward pass of one sample produced.

    V, I          pop -> (T+1, n) state at t_0..t_T (V after the reset)
    spiked        pop -> (T, n) bool, spike emitted in step n
    phi, slope    pop -> (T, n) offset and slope of that spike (0 if none)
    input_events  (step m, neuron, phi) arrays of the input spikes
    emissions     conn -> {m: (EI, EV, EM)}: for the spikes the pre population
                  emitted in step m (arriving in step m+1 at r = (1-phi) dt),
                  per pre neuron the sums of exp(-r/tau_syn), K(r) and
                  exp(-r/tau_m), with the target's time constants
    out_V         (T, n_out) output voltage samples V(t_1..t_T)
    first_t       (n_out,) first spike time s of each output (trial_t + 1 if
                  none; NaN for LI outputs); first_step its step (-1 if none)
    loss, prediction, label   set when a label was given
    """

    spec: Spec
    V: Dict[str, np.ndarray] = field(default_factory=dict)
    I: Dict[str, np.ndarray] = field(default_factory=dict)
    spiked: Dict[str, np.ndarray] = field(default_factory=dict)
    phi: Dict[str, np.ndarray] = field(default_factory=dict)
    slope: Dict[str, np.ndarray] = field(default_factory=dict)
    input_events: Tuple[np.ndarray, np.ndarray, np.ndarray] = None
    emissions: Dict[str, Emissions] = field(default_factory=dict)
    out_V: np.ndarray = None
    first_t: np.ndarray = None
    first_step: np.ndarray = None
    loss: Optional[float] = None
    prediction: Optional[int] = None
    label: Optional[int] = None

    def spike_counts(self) -> Dict[str, np.ndarray]:
        """Number of spikes per neuron of every spiking population."""
        return {p: s.sum(axis=0) for p, s in self.spiked.items()}

    def spike_steps(self) -> Dict[str, np.ndarray]:
        """(step, neuron) pairs of all spikes of every spiking population."""
        return {p: np.argwhere(s) for p, s in self.spiked.items()}


def input_events(spec: SpecLike, inputs: Sequence[Sequence[float]]):
    """Input spike times -> (step m, neuron, phi) with s = (m + phi)*dt.

    An input neuron emits at most one spike per step: a spike whose step is
    already taken by an earlier spike of the same neuron is emitted in the next
    free step with phi = 0; one pushed to step T or later is not emitted.
    """
    spec = as_spec(spec)
    if len(inputs) != spec.n_in:
        raise ValueError(f"expected {spec.n_in} input spike trains, got {len(inputs)}")
    steps, idx, phis = [], [], []
    for j, times in enumerate(inputs):
        times = np.sort(np.asarray(times, dtype=np.float64).ravel())
        if np.any(times < 0.0) or np.any(times >= spec.trial_t):
            raise ValueError("input spike times must lie in [0, T*dt)")
        last = -1
        for s in times:
            m = max(min(int(np.floor(s / spec.dt)), spec.T - 1), last + 1)
            if m >= spec.T:
                break
            steps.append(m)
            idx.append(j)
            phis.append(max(s / spec.dt - m, 0.0))
            last = m
    return (np.array(steps, dtype=np.int64), np.array(idx, dtype=np.int64),
            np.array(phis, dtype=np.float64))


def arrival_factors(dt: float, phi, post: Population):
    """(exp(-r/tau_syn), K(r), exp(-r/tau_m)) of ``post``, r = (1 - phi)*dt."""
    r = (1.0 - phi) * dt
    return np.exp(-r / post.tau_syn), post.K(r), np.exp(-r / post.tau_m)


def input_emissions(spec: Spec, events, post: Population) -> Emissions:
    """Arrival factors of the input spikes, summed per input neuron and step."""
    steps, idx, phis = events
    factors = arrival_factors(spec.dt, phis, post)
    out = {}
    for m in np.unique(steps):
        sel = steps == m
        rows = []
        for values in factors:
            row = np.zeros(spec.n_in)
            np.add.at(row, idx[sel], values[sel])
            rows.append(row)
        out[int(m)] = tuple(rows)
    return out


def spike_update(pop: Population, dt: float, V, V_free):
    """Threshold, interpolated offset and reset of a spiking population.

    Where V_free >= theta:  slope = (V_free - V_n)/dt (0 if V_n >= theta),
    phi = clip((theta - V_n)/(V_free - V_n), 0, 1),
    V_{n+1} = V_free - theta exp(-(1 - phi) dt/tau_m).
    Returns (V_next, spiked, phi, slope), phi and slope 0 where no spike.
    """
    spiked = V_free >= pop.theta
    rise = V_free - V
    ok = spiked & (rise > 0.0)
    phi = np.where(ok, (pop.theta - V) / np.where(ok, rise, 1.0), 0.0)
    phi = np.clip(phi, 0.0, 1.0)
    # Already above threshold at t_n: phi is clipped to 0 whatever V does, so the
    # spike time does not move with V and there is no jump (slope 0 marks that).
    slope = np.where(spiked & (V < pop.theta), rise / dt, 0.0)
    reset = np.where(spiked, pop.theta * np.exp(-(1.0 - phi) * dt / pop.tau_m), 0.0)
    return V_free - reset, spiked, phi, slope


def _check_weights(spec: Spec, weights: Dict[str, np.ndarray]):
    shapes = weight_shapes(spec)
    missing = set(shapes) - set(weights)
    if missing:
        raise ValueError(f"missing weights {sorted(missing)}")
    out = {}
    for name, shape in shapes.items():
        w = np.asarray(weights[name], dtype=np.float64)
        if w.shape != shape:
            raise ValueError(f"weights[{name!r}] has shape {w.shape}, expected {shape}")
        out[name] = w
    return out


def _network(spec: SpecLike, weights: Dict[str, np.ndarray]):
    """(spec, checked weights, populations, connections, non-input population names)."""
    spec = as_spec(spec)
    weights = _check_weights(spec, weights)
    pops = populations(spec)
    neurons = [name for name, p in pops.items() if p.kind != "input"]
    return spec, weights, pops, connections(spec), neurons


def simulate(spec: SpecLike, weights: Dict[str, np.ndarray],
             inputs: Sequence[Sequence[float]], label: Optional[int] = None) -> Record:
    """Forward pass of one sample; with ``label`` also its loss.

    ``inputs``: one array of spike times (ms, in [0, T*dt)) per input neuron.
    Step n (t_n -> t_{n+1}) of every population uses only the spikes emitted
    in step n-1:

        I_{n+1} = I_n exp(-dt/tau_syn) + sum_arr w exp(-r/tau_syn)
        V_free  = V_n exp(-dt/tau_m) + I_n K(dt) + sum_arr w K(r)

    followed by ``spike_update`` for LIF populations.
    """
    spec, weights, pops, conns, neurons = _network(spec, weights)
    dt, T = spec.dt, spec.T
    rec = Record(spec=spec, input_events=input_events(spec, inputs))
    for cname, (pre, post) in conns.items():
        rec.emissions[cname] = (input_emissions(spec, rec.input_events, pops[post])
                                if pre == "in" else {})
    for name in neurons:
        size = pops[name].size
        rec.V[name] = np.zeros((T + 1, size))
        rec.I[name] = np.zeros((T + 1, size))
        if pops[name].kind == "lif":
            rec.spiked[name] = np.zeros((T, size), bool)
            rec.phi[name] = np.zeros((T, size))
            rec.slope[name] = np.zeros((T, size))
    incoming = {name: [c for c, (_, post) in conns.items() if post == name]
                for name in neurons}
    outgoing = {name: [c for c, (pre, _) in conns.items() if pre == name]
                for name in neurons}
    decay = {name: pops[name].decay(dt) for name in neurons}

    for n in range(T):
        for name in neurons:
            p = pops[name]
            E_m, E_s, K_dt = decay[name]
            V, I = rec.V[name][n], rec.I[name][n]
            I_next = I * E_s
            V_free = V * E_m + I * K_dt
            for cname in incoming[name]:
                arrivals = rec.emissions[cname].get(n - 1)
                if arrivals is not None:
                    I_next += arrivals[0] @ weights[cname]
                    V_free += arrivals[1] @ weights[cname]
            rec.I[name][n + 1] = I_next
            if p.kind == "lif" and np.any(V_free >= p.theta):
                V_free, spiked, phi, slope = spike_update(p, dt, V, V_free)
                rec.spiked[name][n] = spiked
                rec.phi[name][n] = phi
                rec.slope[name][n] = slope
                for cname in outgoing[name]:
                    post = pops[conns[cname][1]]
                    rec.emissions[cname][n] = tuple(
                        spiked * f for f in arrival_factors(dt, phi, post))
            rec.V[name][n + 1] = V_free

    rec.out_V = rec.V["out"][1:]
    _first_spikes(rec)
    loss, rec.prediction = loss_from_record(spec, rec, 0 if label is None else label)[:2]
    if label is not None:
        rec.label, rec.loss = int(label), loss
    return rec


def _first_spikes(rec: Record):
    spec = rec.spec
    rec.first_t = np.full(spec.n_out, np.nan)
    rec.first_step = np.full(spec.n_out, -1, dtype=np.int64)
    if not spec.first_spike:
        return
    spiked = rec.spiked["out"]
    for c in range(spec.n_out):
        steps = np.flatnonzero(spiked[:, c])
        if steps.size:
            m = steps[0]
            rec.first_step[c] = m
            rec.first_t[c] = (m + rec.phi["out"][m, c]) * spec.dt
        else:
            rec.first_t[c] = spec.trial_t + 1.0


# ---------------------------------------------------------------------------
# Losses
# ---------------------------------------------------------------------------

def time_weight(loss: str, u):
    """Weight f(u), u = t_n/trial_t, of the summed voltage losses."""
    u = np.asarray(u, dtype=np.float64)
    if loss == "sum":
        return np.ones_like(u)
    if loss == "sum_weigh_linear":
        return 1.0 - u
    if loss == "sum_weigh_exp":
        return np.exp(-u)
    if loss == "sum_weigh_sigmoid":
        return 1.0 / (1.0 + np.exp((u - 0.5) / 0.2))
    raise ValueError(f"{loss!r} is not a summed voltage loss")


def softmax(z):
    z = np.asarray(z, dtype=np.float64)
    e = np.exp(z - z.max())
    return e / e.sum()


def first_spike_penalty(spec: Spec, t):
    """Penalty g(t_y): ALPHA/(1.01 trial_t - t) or ALPHA exp(t/TAU_1)."""
    if spec.loss == "first_spike":
        return spec.alpha / (1.01 * spec.trial_t - t)
    return spec.alpha * np.exp(t / spec.tau_1)


def first_spike_penalty_slope(spec: Spec, t):
    """g'(t) of ``first_spike_penalty`` without ALPHA (as in the document)."""
    if spec.loss == "first_spike":
        return 1.0 / (1.01 * spec.trial_t - t) ** 2
    return np.exp(t / spec.tau_1) / spec.tau_1


def loss_from_record(spec: SpecLike, rec: Record, label: int):
    """Loss of a simulated sample and its adjoint drives.

    ``spec`` may differ from ``rec.spec`` in the loss (within the same output
    kind), so one simulation serves several losses.  Returns
    ``(loss, prediction, drive, dLds)``: ``drive`` (T+1, n_out) is
    dL/dV_c(t_n) for n = 1..T (row 0 unused), phantom drive included;
    ``dLds`` (n_out,) is dL/ds of each output's first spike (0 if none).
    """
    spec = as_spec(spec)
    if spec.first_spike != rec.spec.first_spike:
        raise ValueError("loss needs a different output neuron kind")
    T, dt, trial_t = spec.T, spec.dt, spec.trial_t
    y = int(label)
    onehot = np.zeros(spec.n_out)
    onehot[y] = 1.0
    drive = np.zeros((T + 1, spec.n_out))
    dLds = np.zeros(spec.n_out)
    Vs = rec.out_V

    if spec.first_spike:
        t = rec.first_t
        p = softmax(-t / spec.tau_0)
        loss = -np.log(p[y]) + first_spike_penalty(spec, t[y])
        spiked = rec.first_step >= 0
        dLdt = (onehot - p) / spec.tau_0
        dLdt[y] += spec.alpha * first_spike_penalty_slope(spec, t[y])
        dLds = np.where(spiked, dLdt, 0.0)
        if not spiked[y]:
            tau_m_y = populations(spec)["out"].tau_m
            pull = spec.alpha * first_spike_penalty_slope(spec, trial_t)
            if spec.phantom_softmax:
                pull += (1.0 - p[y]) / spec.tau_0
            drive[T, y] -= tau_m_y * pull
        prediction = int(np.argmin(t))
    elif spec.loss == "avg_xentropy":
        z = Vs - Vs.max(axis=1, keepdims=True)
        p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
        loss = -np.mean(np.log(p[:, y]))
        drive[1:] = (p - onehot[None, :]) / T
        prediction = int(np.argmax(Vs.mean(axis=0)))
    elif spec.loss == "max":
        steps = np.argmax(Vs, axis=0)
        M = Vs[steps, np.arange(spec.n_out)]
        p = softmax(M)
        loss = -np.log(p[y])
        drive[steps + 1, np.arange(spec.n_out)] = p - onehot
        prediction = int(np.argmax(M))
    else:
        u = np.arange(1, T + 1) * dt / trial_t
        f = time_weight(spec.loss, u)
        S = dt / trial_t * (f[:, None] * Vs).sum(axis=0)
        p = softmax(S)
        loss = -np.log(p[y])
        drive[1:] = dt / trial_t * f[:, None] * (p - onehot)[None, :]
        prediction = int(np.argmax(S))
    return float(loss), prediction, drive, dLds


# ---------------------------------------------------------------------------
# Backward pass
# ---------------------------------------------------------------------------

def propagate(lam_V, lam_I, x, pop: Population):
    """P(x): lambda_I <- lambda_I exp(-x/tau_syn) + lambda_V K(x),
    lambda_V <- lambda_V exp(-x/tau_m)."""
    lam_I = lam_I * np.exp(-x / pop.tau_syn) + lam_V * pop.K(x)
    lam_V = lam_V * np.exp(-x / pop.tau_m)
    return lam_V, lam_I


def jump_size(lam_V_s, R, dLp, slope, pop: Population):
    """J = (theta lambda_V(s)/tau_m + R - dL_p/ds)/slope, the jump of
    lambda_V at a spike (0 where slope <= 0, no jump there)."""
    ok = slope > 0.0
    J = (pop.theta * lam_V_s / pop.tau_m + R - dLp) / np.where(ok, slope, 1.0)
    return np.where(ok, J, 0.0)


def backward_step(pop: Population, dt: float, lam_V, lam_I, spiked=None,
                  phi=None, slope=None, R=0.0, dLp=0.0, exact=True, extra=0.0):
    """Adjoint of step n: lambda(t_{n+1}) -> lambda(t_n).

    Returns (lambda_V(t_n), lambda_I(t_n), lambda_free), ``lambda_free``
    being the lambda_V(t_{n+1}) that the spikes arriving in step n see.

    Continuous-time approximation (``exact=False``): neurons that spiked in step n get
    P((1-phi) dt), lambda_V += J, P(phi dt); the others P(dt); arrivals see
    lambda_free = lambda_V(t_{n+1}).

    ``exact=True``: the exact adjoint of the discrete step.  With
    A = lambda_V(t_{n+1}), J = (theta A exp(-(1-phi) dt/tau_m)/tau_m + R
    - dL_p/ds)/slope (the same J):

        lambda_free = dL/dV_free = A + phi J
        lambda_V(t_n) = exp(-dt/tau_m) lambda_free + (1 - phi) J
        lambda_I(t_n) = exp(-dt/tau_syn) lambda_I(t_{n+1}) + K(dt) lambda_free

    ``extra`` is added to lambda_V(t_n) of the neurons that spiked (a drive
    per spike, as the spike-count regularisers give).
    It differs from the approximation by O(dt^2) J in lambda(t_n) and, for spikes
    arriving in the step in which the target spikes, by phi J in lambda_free.
    """
    if spiked is None or not spiked.any():
        return (*propagate(lam_V, lam_I, dt, pop), lam_V)
    x = np.where(spiked, (1.0 - phi) * dt, dt)
    J = np.where(spiked, jump_size(lam_V * np.exp(-x / pop.tau_m), R, dLp, slope, pop),
                 0.0)
    if not exact:
        V, I = propagate(lam_V, lam_I, x, pop)
        return (*propagate(V + J, I, dt - x, pop), lam_V)
    E_m, E_s, K_dt = pop.decay(dt)
    free = lam_V + phi * J
    V = E_m * free + (1.0 - phi) * J + np.where(spiked, extra, 0.0)
    return V, E_s * lam_I + K_dt * free, free


def arrival_adjoint(arrivals, W, seen_V, seen_I, post: Population):
    """Effect of the spikes emitted in step n on their targets ``k``.

    With lambda_k(a) = P_k(r) lambda_k(t_{n+2}) (``seen_V``, ``seen_I``)
    returns dL/dw_jk = lambda_I,k(a) summed over the spikes of j, and
    R_j = sum_k w_jk (lambda_V,k(a)/tau_m,k - lambda_I,k(a)/tau_syn,k).
    """
    EI, EV, EM = arrivals
    grad = np.outer(EI, seen_I) + np.outer(EV, seen_V)
    WV, WI = W @ seen_V, W @ seen_I
    R = EM * WV / post.tau_m - (EI * WI + EV * WV) / post.tau_syn
    return grad, R


def backward(spec: SpecLike, weights: Dict[str, np.ndarray], rec: Record,
             drive: np.ndarray, dLds: np.ndarray, exact: bool = True,
             spike_drive: Optional[Dict[str, np.ndarray]] = None) -> Dict[str, np.ndarray]:
    """Adjoint pass; returns dL/dW per connection.

    Start with lambda_V,out(t_T) = drive(T); for n = T-1..0: the spikes
    emitted in step n (arriving in step n+1) get R and add to dL/dW from
    ``seen`` = lambda(t_{n+2}) of their targets (after step n+2 and the drive
    at t_{n+2}; none for n = T-1), every population takes ``backward_step``
    from t_{n+1} to t_n, and for n >= 1 the drive at t_n is added to
    lambda_V,out.  ``exact`` (default) selects the exact adjoint of the
    discrete model, else the continuous-time approximation (``backward_step``).
    ``spike_drive`` {population: (size,)} is added to lambda_V(t_n) of a
    neuron that spiked in step n (the regularisers' drive; exact adjoint only).
    """
    spec, weights, pops, conns, neurons = _network(spec, weights)
    dt, T = spec.dt, spec.T
    grads = {c: np.zeros_like(w) for c, w in weights.items()}
    dLp_out = {}
    if spec.first_spike:
        for c in np.flatnonzero(rec.first_step >= 0):
            dLp_out.setdefault(int(rec.first_step[c]), np.zeros(spec.n_out))[c] = dLds[c]

    lam = {name: (np.zeros(pops[name].size), np.zeros(pops[name].size))
           for name in neurons}
    lam["out"] = (drive[T].copy(), np.zeros(spec.n_out))
    seen = None
    for n in range(T - 1, -1, -1):
        R = {}
        for cname, (pre, post) in conns.items():
            arrivals = rec.emissions[cname].get(n)
            if seen is None or arrivals is None:
                continue
            grad, R_conn = arrival_adjoint(arrivals, weights[cname], *seen[post],
                                           pops[post])
            grads[cname] += grad
            if pre != "in":
                R[pre] = R.get(pre, 0.0) + R_conn
        new, seen = {}, {}
        for name in neurons:
            p = pops[name]
            if p.kind == "lif":
                dLp = dLp_out.get(n, 0.0) if name == "out" else 0.0
                extra = (spike_drive or {}).get(name, 0.0)
                V, I, free = backward_step(p, dt, *lam[name], rec.spiked[name][n],
                                           rec.phi[name][n], rec.slope[name][n],
                                           R.get(name, 0.0), dLp, exact, extra)
            else:
                V, I, free = backward_step(p, dt, *lam[name])
            new[name] = (V, I)
            seen[name] = (free, lam[name][1])
        if n >= 1:
            V, I = new["out"]
            new["out"] = (V + drive[n], I)
        lam = new
    return grads


def coincident_arrivals(rec: Record, weights: Dict[str, np.ndarray]):
    """(conn, step, j, k): spikes of j arriving in a step in which their target
    k spikes (w_jk != 0).  There the continuous-time approximation is off: it
    omits phi_k J_k of ``backward_step`` (exact=True) from lambda_k(a)."""
    spec = rec.spec
    found = []
    for cname, (pre, post) in connections(spec).items():
        if post not in rec.spiked:
            continue
        for m, (EI, _, _) in sorted(rec.emissions[cname].items()):
            if m + 1 >= spec.T:
                continue
            for j in np.flatnonzero(EI):
                for k in np.flatnonzero(rec.spiked[post][m + 1]):
                    if weights[cname][j, k] != 0.0:
                        found.append((cname, m + 1, int(j), int(k)))
    return found


def loss_and_grad(spec: SpecLike, weights: Dict[str, np.ndarray],
                  inputs: Sequence[Sequence[float]], label: int, exact: bool = True):
    """(loss, {conn: dL/dW}) of one sample, gradients by the adjoint pass
    (exact for the discrete model, or the continuous-time approximation)."""
    spec = as_spec(spec)
    rec = simulate(spec, weights, inputs, label)
    loss, _, drive, dLds = loss_from_record(spec, rec, label)
    return loss, backward(spec, weights, rec, drive, dLds, exact)


def batch_loss_and_grad(spec: SpecLike, weights: Dict[str, np.ndarray],
                        batch_inputs: Sequence[Sequence[Sequence[float]]],
                        labels: Sequence[int], exact: bool = True):
    """Mean loss and mean gradients over a batch of samples."""
    if len(batch_inputs) != len(labels) or not labels:
        raise ValueError("need one label per sample and at least one sample")
    total = 0.0
    grads = None
    for inputs, label in zip(batch_inputs, labels):
        loss, g = loss_and_grad(spec, weights, inputs, label, exact)
        total += loss
        grads = g if grads is None else {c: grads[c] + g[c] for c in grads}
    B = len(labels)
    return total / B, {c: v / B for c, v in grads.items()}


__all__ = [
    "LOSSES", "VOLTAGE_LOSSES", "FIRST_SPIKE_LOSSES", "PER_STEP_LOSSES", "Spec", "Population",
    "Record", "as_spec", "kernel", "populations", "connections",
    "weight_shapes", "input_events", "simulate", "spike_update",
    "loss_from_record", "softmax", "time_weight", "propagate", "jump_size",
    "backward_step", "backward", "coincident_arrivals", "loss_and_grad",
    "batch_loss_and_grad",
]
