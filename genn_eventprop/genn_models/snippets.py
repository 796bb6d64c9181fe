"""C code pieces of the EventProp physics, each written once and composed.

The maths is in ``docs/eventprop.md``. Units: ms. Every function returns GeNN 5
snippet text; names of the variables it reads/writes are given as arguments so
that one piece serves neurons with scalar (parameter) or per-neuron (variable)
time constants alike.
"""
from __future__ import annotations


def kernel(x: str, tau_m: str = "tau_m", tau_syn: str = "tau_syn") -> str:
    """K(x) = tau_syn/(tau_m - tau_syn) (exp(-x/tau_m) - exp(-x/tau_syn)).

    Voltage at time x after a unit step of exponentially decaying current.
    """
    return (f"({tau_syn} / ({tau_m} - {tau_syn}) * "
            f"(exp(-({x}) / {tau_m}) - exp(-({x}) / {tau_syn})))")


def lif_forward() -> str:
    """Exact step of tau_m dV/dt = -V + I, tau_syn dI/dt = -I over dt.

    ``Isyn``/``Vsyn`` hold what the spikes arriving in this step add to I and V
    at the end of the step (see the synapse model). Leaves ``V_free`` (voltage
    before any reset) and the start voltage ``V_start`` as locals.
    """
    return f"""
const scalar V_start = V;
const scalar V_free = V * decay_m + I * k_dt + Vsyn;
I = I * decay_s + Isyn;
V = V_free;
"""


def tape_write(fields) -> str:
    """Append this step's spike to the neuron's tape, or count an overflow.

    ``fields`` maps tape EGP name -> C expression. ``tape_len`` counts entries
    this trial; ``tape_lost`` counts spikes that did not fit (reported to the
    caller: their backward pass is missing).
    """
    writes = "\n".join(f"    {egp}[tape_base + tape_len] = {expr};"
                       for egp, expr in fields.items())
    return f"""
if (tape_len < (int)n_max_spike) {{
{writes}
    tape_len++;
}}
else {{
    tape_lost++;
}}
"""


def tape_base() -> str:
    """Start of this neuron's tape slice in the tape EGP arrays."""
    return "const size_t tape_base = ((size_t)batch * num_neurons + id) * (size_t)n_max_spike;\n"


def lif_threshold(spike_extra: str = "") -> str:
    """Threshold crossing with linear interpolation of the sub-step spike time.

    phi = (theta - V_start)/(V_free - V_start), slope = (V_free - V_start)/dt;
    the reset removes theta at the spike time, decayed to the end of the step.
    A dropped spike (probability ``p_drop``) leaves V unreset.
    """
    return f"""
if (V_free >= theta && (p_drop <= 0.0 || gennrand_uniform() >= p_drop)) {{
    const scalar slope = (V_free - V_start) / dt;
    phi = fmin(fmax((theta - V_start) / (V_free - V_start), (scalar)0.0), (scalar)1.0);
    V = V_free - theta * exp(-((scalar)1.0 - phi) * dt / tau_m);
    spk = 1;
{tape_write({"tape_step": "step", "tape_phi": "phi", "tape_slope": "slope"})}
{spike_extra}
}}
"""


def adjoint_propagate(x: str, lv: str = "lambda_V", li: str = "lambda_I") -> str:
    """Reverse propagation of an adjoint pair over an event-free interval x.

    lambda_I <- lambda_I exp(-x/tau_syn) + lambda_V K(x); lambda_V <- lambda_V exp(-x/tau_m).
    """
    return f"""{{
    const scalar prop_x = {x};
    {li} = {li} * exp(-prop_x / tau_syn) + {lv} * {kernel("prop_x")};
    {lv} = {lv} * exp(-prop_x / tau_m);
}}
"""


def adjoint_step() -> str:
    """``adjoint_propagate(dt)`` with the per-step constants decay_m, decay_s, k_dt."""
    return """lambda_I = lambda_I * decay_s + lambda_V * k_dt;
lambda_V = lambda_V * decay_m;
"""


def step_constants(heterogeneous: bool) -> str:
    """decay_m = exp(-dt/tau_m), decay_s = exp(-dt/tau_syn), k_dt = K(dt).

    Derived parameters when the time constants are parameters; locals computed
    from the per-neuron variables otherwise.
    """
    if not heterogeneous:
        return ""
    return (f"const scalar decay_m = exp(-dt / tau_m);\n"
            f"const scalar decay_s = exp(-dt / tau_syn);\n"
            f"const scalar k_dt = {kernel('dt')};\n")


def step_constant_params():
    """Derived parameters decay_m, decay_s, k_dt for parameter time constants."""
    import math

    def k_dt(p, dt):
        tm, ts = p["tau_m"], p["tau_syn"]
        return ts / (tm - ts) * (math.exp(-dt / tm) - math.exp(-dt / ts))
    return [("decay_m", lambda p, dt: math.exp(-dt / p["tau_m"])),
            ("decay_s", lambda p, dt: math.exp(-dt / p["tau_syn"])),
            ("k_dt", k_dt)]


def adjoint_unpropagate(x: str, lv: str, li: str) -> str:
    """Inverse of ``adjoint_propagate(x)``: the pair x ms later in forward time."""
    return f"""{{
    const scalar prop_x = {x};
    {lv} = {lv} * exp(prop_x / tau_m);
    {li} = ({li} - {lv} * {kernel("prop_x")}) * exp(prop_x / tau_syn);
}}
"""


def adjoint_split(spike_loss: str = "0.0") -> str:
    """Prepare the adjoint for the step before: ``lamA`` and ``phi_split``.

    If the neuron spiked in step - 1 at offset phi, the adjoint just before that
    spike is lambda(s-) = jump(P((1 - phi) dt) lambda(t_step)) with
    lambda_V += (theta lambda_V / tau_m + R - dL_p/ds) / slope, where R
    (``rev_hold``) is what the targets sent back for this spike and
    ``spike_loss`` the loss's own dL/ds. ``lamA`` stores lambda(s-) moved
    back up to t_step (inverse propagation), so that (a) the next reverse step
    is a plain P(dt) of ``lamA`` and (b) a spike arriving in step - 1 before
    the spike (offset < ``phi_split``) sees the jump when its synapse
    propagates ``lamA`` back to the arrival time.
    """
    return f"""
lamA_V = lambda_V;
lamA_I = lambda_I;
phi_split = 2.0;
if (tape_next >= 0 && tape_step[tape_base + tape_next] == step - 1) {{
    const scalar split_phi = tape_phi[tape_base + tape_next];
{adjoint_propagate("((scalar)1.0 - split_phi) * dt", "lamA_V", "lamA_I")}
    lamA_V += (theta * lamA_V / tau_m + rev_hold - ({spike_loss})) / tape_slope[tape_base + tape_next];
{adjoint_unpropagate("((scalar)1.0 - split_phi) * dt", "lamA_V", "lamA_I")}
    phi_split = split_phi;
    tape_next--;
}}
"""


def lif_backward(drive: str = "0.0", spike_loss: str = "0.0", init_extra: str = "") -> str:
    """One reverse step of a spiking neuron, for forward step ``step`` (T = init).

    At ``step == T`` the adjoint starts from ``drive`` (the loss's dL/dV(t_T))
    and the tape pointers are set. Otherwise: the pair prepared by the previous
    reverse step (``lamA``, which already holds this step's jump) is propagated
    over dt and the drive of the sample at t_step is added. Then R for the
    spike of step - 1 is taken from ``revIsyn``, that spike's jump is prepared,
    and the spike of step - 2 is re-emitted as a backward event so that its
    targets see it while their adjoint is at t_step.
    """
    return f"""
if (step == n_steps) {{
    lambda_V = {drive};
    lambda_I = 0.0;
    tape_next = tape_len - 1;
    tape_event = tape_len - 1;
{init_extra}
}}
else {{
    lambda_V = lamA_V;
    lambda_I = lamA_I;
{adjoint_step()}
    if (step >= 1) {{
        lambda_V += {drive};
    }}
}}
rev_hold = revIsyn;
{adjoint_split(spike_loss)}
{backward_event()}
"""


def backward_event() -> str:
    """Re-emit the taped spike of step - 2 as a backward event carrying its phi."""
    return """
if (tape_event >= 0 && tape_step[tape_base + tape_event] == step - 2) {
    phi = tape_phi[tape_base + tape_event];
    spk = 1;
    tape_event--;
}
"""


def step_index() -> str:
    """Forward step index: t/dt going forward, T - t/dt going backward."""
    return ("const int step = backward ? (int)n_steps - (int)rint(t / dt) "
            ": (int)rint(t / dt);\n")
