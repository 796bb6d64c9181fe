"""C code pieces of the EventProp physics, each written once and composed.

The maths is in ``docs/eventprop.md``. Units: ms. Every function returns GeNN 5
snippet text; names of the variables it reads/writes are given as arguments so
that one piece serves neurons with scalar (parameter) or per-neuron (variable)
time constants alike.
"""
from __future__ import annotations

import math


def kernel(x: str, tau_m: str = "tau_m", tau_syn: str = "tau_syn") -> str:
    """K(x) = tau_syn/(tau_m - tau_syn) (exp(-x/tau_m) - exp(-x/tau_syn)).

    Voltage at time x after a unit step of exponentially decaying current.
    """
    return (f"({tau_syn} / ({tau_m} - {tau_syn}) * "
            f"(exp(-({x}) / {tau_m}) - exp(-({x}) / {tau_syn})))")


def kernel_dtau_m(x: str, k: str, e_m: str) -> str:
    """dK(x)/dtau_m = -K/(tau_m - tau_syn) + tau_syn x exp(-x/tau_m)/((tau_m - tau_syn) tau_m^2);
    ``k`` = K(x), ``e_m`` = exp(-x/tau_m)."""
    return (f"(-({k}) / (tau_m - tau_syn) + tau_syn * ({x}) * ({e_m}) / "
            f"((tau_m - tau_syn) * tau_m * tau_m))")


def kernel_dtau_s(x: str, k: str, e_s: str) -> str:
    """dK(x)/dtau_syn = K tau_m/(tau_syn (tau_m - tau_syn)) - x exp(-x/tau_syn)/(tau_syn (tau_m - tau_syn));
    ``k`` = K(x), ``e_s`` = exp(-x/tau_syn)."""
    return (f"(({k}) * tau_m / (tau_syn * (tau_m - tau_syn)) - ({x}) * ({e_s}) / "
            f"(tau_syn * (tau_m - tau_syn)))")


def tau_tape_write() -> str:
    """Forward: record V_n, I_n (start of the step) for the time-constant gradient."""
    return ("{\n    const size_t tau_base = ((size_t)batch * num_neurons + id) * (size_t)n_steps;\n"
            "    tape_Vn[tau_base + step] = V;\n    tape_In[tau_base + step] = I;\n}\n")


def tau_gradient(lam_v: str) -> str:
    """Backward, reverse step n: accumulate dL/dtau_m and dL/dtau_syn of step n.

    With L_V = dL/dV_free (``lam_v``), Lambda_I = lambda_I(t_{n+1}) and the
    tape's V_n, I_n, the step's dependence on the time constants gives
        dtau_m += L_V (V_n decay_m dt/tau_m^2 + I_n dK(dt)/dtau_m + dKm)
        dtau_s += L_V (I_n dK(dt)/dtau_syn + dKs) + Lambda_I (I_n decay_s dt/tau_syn^2 + dEs)
    where dKm, dKs, dEs are the arrivals' sum_w w dK(r)/dtau_m, w dK(r)/dtau_syn,
    w d exp(-r/tau_syn)/dtau_syn (sent by the synapses). The reset's share is
    added at the spike (``adjoint_prepare``).
    """
    return f"""{{
    const size_t tau_base = ((size_t)batch * num_neurons + id) * (size_t)n_steps;
    const scalar Vn = tape_Vn[tau_base + step];
    const scalar In = tape_In[tau_base + step];
    dtau_m += {lam_v} * (Vn * decay_m * dt / (tau_m * tau_m) + In * {kernel_dtau_m("dt", "k_dt", "decay_m")} + dKm);
    dtau_s += {lam_v} * (In * {kernel_dtau_s("dt", "k_dt", "decay_s")} + dKs)
              + lambda_I * (In * decay_s * dt / (tau_syn * tau_syn) + dEs);
}}
"""


def lif_forward(adaptive: bool = False, noise: bool = False) -> str:
    """Exact step of tau_m dV/dt = -V + I, tau_syn dI/dt = -I over dt.

    ``Isyn``/``Vsyn`` hold what the spikes arriving in this step add to I and V
    at the end of the step (see the synapse model). Leaves ``V_free`` (voltage
    before any reset) and the start voltage ``V_start`` as locals. ALIF
    (``adaptive``): the threshold adaptation decays, tau_B dB/dt = -B. With
    ``noise``, V_free gets noise * sqrt(dt) * N(0, 1) (membrane noise; additive,
    so the adjoint is unchanged).
    """
    extra = (" + ((noise > 0.0) ? noise * sqrt(dt) * gennrand_normal() : (scalar)0.0)"
             if noise else "")
    code = f"""
const scalar V_start = V;
const scalar V_free = V * decay_m + I * k_dt + Vsyn{extra};
I = I * decay_s + Isyn;
V = V_free;
"""
    if adaptive:
        code += "const scalar B_start = B;\nB = B * decay_B;\n"
    return code


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


def lif_threshold(spike_extra: str = "", adaptive: bool = False) -> str:
    """Threshold crossing with linear interpolation of the sub-step spike time.

    With D = V (LIF) or V - B (ALIF, threshold theta + B):
    phi = (theta - D_start)/(D_free - D_start), slope = (D_free - D_start)/dt.
    The reset sets V to 0 at the spike time: it removes V(s) = theta + B(s),
    decayed to the end of the step; ALIF adds B_incr to B at the spike. A
    dropped spike (probability ``p_drop``) leaves the neuron unreset.
    """
    b = " - B" if adaptive else ""
    b_start = " - B_start" if adaptive else ""
    fields = {"tape_step": "step", "tape_phi": "phi", "tape_slope": "slope"}
    adapt = ""
    v_at_spike = "theta"
    if adaptive:
        fields["tape_B"] = "B_s"
        adapt = ("    B += B_incr * exp(-((scalar)1.0 - phi) * dt / tau_B);\n")
        v_at_spike = "(theta + B_s)"
    b_s = ("    const scalar B_s = B_start * exp(-phi * dt / tau_B);\n" if adaptive else "")
    return f"""
const scalar D_start = V_start{b_start};
const scalar D_free = V_free{b};
if (D_free >= theta && (p_drop <= 0.0 || gennrand_uniform() >= p_drop)) {{
    const bool crossed = D_start < theta;
    const scalar slope = crossed ? (D_free - D_start) / dt : (scalar)0.0;
    phi = crossed ? fmin((theta - D_start) / (D_free - D_start), (scalar)1.0) : (scalar)0.0;
{b_s}    V = V_free - {v_at_spike} * exp(-((scalar)1.0 - phi) * dt / tau_m);
{adapt}    spk = 1;
{tape_write(fields)}
{spike_extra}
}}
"""


def adjoint_step(lam_v: str = "lambda_V", jump: str = "") -> str:
    """Reverse propagation of (lambda_V, lambda_I) over one step of dt.

    lambda_I <- lambda_I decay_s + L k_dt; lambda_V <- L decay_m + jump, where L
    is ``lam_v`` (lambda_V, or lambda_V + phi J after a spike) and ``jump`` the
    rest of a spike's jump, (1 - phi) J (see ``adjoint_prepare``).
    """
    return (f"lambda_I = lambda_I * decay_s + {lam_v} * k_dt;\n"
            f"lambda_V = {lam_v} * decay_m{jump};\n")


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


def adaptation_constant():
    """Derived parameter decay_B = exp(-dt/tau_B) of the ALIF threshold adaptation."""
    return ("decay_B", lambda p, dt: math.exp(-dt / p["tau_B"]))


def step_constant_params():
    """Derived parameters decay_m, decay_s, k_dt for parameter time constants."""
    def k_dt(p, dt):
        tm, ts = p["tau_m"], p["tau_syn"]
        return ts / (tm - ts) * (math.exp(-dt / tm) - math.exp(-dt / ts))
    out = [("decay_m", lambda p, dt: math.exp(-dt / p["tau_m"])),
           ("decay_s", lambda p, dt: math.exp(-dt / p["tau_syn"])),
           ("k_dt", k_dt)]
    return out


def adjoint_prepare(spike_loss: str = "0.0", adaptive: bool = False,
                    train_tau: bool = False) -> str:
    """Adjoint of the spike (if any) in step - 1, prepared while at t_step.

    Exact adjoint of the discrete spiking step (``docs/eventprop.md``): with
    Lambda = lambda(t_step), E = exp(-(1 - phi) dt/tau_m) and the jump

        J = (Lambda_V E v_reset - Lambda_B B_incr F/tau_B + R - dL_p/ds) / slope,

    (v_reset = theta/tau_m for LIF, (theta + B_s)/tau_m - B_s/tau_B for ALIF,
    F = exp(-(1 - phi) dt/tau_B)), the step back to t_{step-1} is
    lambda_V <- decay_m (Lambda_V + phi J) + (1 - phi) J and
    lambda_I <- decay_s Lambda_I + k_dt (Lambda_V + phi J); ALIF also
    lambda_B <- decay_B (Lambda_B - phi J) - (1 - phi) J - Lambda_V E exp(-phi dt/tau_B).
    ``lamE_V`` = Lambda_V + phi J is also what a spike arriving in step - 1
    sees (its synapse propagates it back to the arrival). R (``rev_hold``) is
    what the targets sent back for this spike, ``spike_loss`` the loss's dL/ds.
    A spike whose phi was clipped (neuron already above threshold) has J = 0.
    ``reg_drive`` (see ``regularisers``) is added to lambda_V(t_{step-1}) at
    every spike.
    """
    if adaptive:
        v_reset = "((theta + B_s) / tau_m - B_s / tau_B)"
        b_term = " - lambda_B * B_incr * F / tau_B"
        b_pre = ("    const scalar B_s = tape_B[tape_base + tape_next];\n"
                 "    const scalar F = exp(-((scalar)1.0 - sp_phi) * dt / tau_B);\n")
        b_init = "lamE_B = lambda_B;\njr_B = 0.0;\n"
        b_jump = ("        lamE_B = lambda_B - sp_phi * J;\n"
                  "        jr_B = -((scalar)1.0 - sp_phi) * J;\n")
        b_reset = "    jr_B -= lambda_V * E * exp(-sp_phi * dt / tau_B);\n"
    else:
        v_reset, b_term, b_pre, b_init, b_jump, b_reset = "(theta / tau_m)", "", "", "", "", ""
    tau_reset = ("    dtau_m -= theta * lambda_V * E * ((scalar)1.0 - sp_phi) * dt / (tau_m * tau_m);\n"
                 if train_tau else "")
    return f"""
lamE_V = lambda_V;
jr_V = 0.0;
{b_init}if (next_step == step - 1) {{
    const scalar sp_phi = tape_phi[tape_base + tape_next];
    const scalar slope = tape_slope[tape_base + tape_next];
    const scalar E = exp(-((scalar)1.0 - sp_phi) * dt / tau_m);
{b_pre}    if (slope > 0.0) {{
        const scalar J = (lambda_V * E * {v_reset}{b_term} + rev_hold - ({spike_loss})) / slope;
        lamE_V = lambda_V + sp_phi * J;
        jr_V = ((scalar)1.0 - sp_phi) * J;
{b_jump}    }}
{b_reset}{tau_reset}    jr_V += reg_drive;
    tape_next--;
    {tape_cursor("tape_next", "next_step")}}}
"""


def lif_backward(drive: str = "0.0", spike_loss: str = "0.0", init_extra: str = "",
                 adaptive: bool = False, train_tau: bool = False) -> str:
    """One reverse step of a spiking neuron, for forward step ``step`` (T = init).

    At ``step == T`` the adjoint starts from ``drive`` (the loss's dL/dV(t_T))
    and the tape pointers are set. Otherwise the step back uses what the
    previous reverse step prepared for this step's spike (``adjoint_prepare``)
    and adds the drive of the sample at t_step. Then R for the spike of
    step - 1 is taken from ``revIsyn``, that spike is prepared, and the spike
    of step - 2 is re-emitted as a backward event so that its targets see it
    while their adjoint is at t_step.
    """
    b_init = "    lambda_B = 0.0;\n" if adaptive else ""
    b_step = "    lambda_B = lamE_B * decay_B + jr_B;\n" if adaptive else ""
    return f"""
if (step == n_steps) {{
    lambda_V = {drive};
    lambda_I = 0.0;
{b_init}    tape_next = tape_len - 1;
    {tape_cursor("tape_next", "next_step")}{event_cursor_init()}{init_extra}
}}
else {{
{tau_gradient("lamE_V") if train_tau else ""}{adjoint_step("lamE_V", " + jr_V")}{b_step}    if (step >= 1) {{
        lambda_V += {drive};
    }}
}}
rev_hold = revIsyn;
{adjoint_prepare(spike_loss, adaptive, train_tau)}
{backward_event()}
"""


def tape_cursor(pointer: str, cached: str) -> str:
    """Cache the step of tape entry ``pointer`` in ``cached`` (-10 when none left).

    The per-step checks then read a contiguous per-neuron variable instead of
    gathering from the (large) tape.
    """
    return (f"{cached} = ({pointer} >= 0) ? tape_step[tape_base + {pointer}] : -10;\n")


def event_cursor_init() -> str:
    """Start the backward-event cursor at the last taped spike that arrives inside the trial.

    A spike of the last step (T - 1) would arrive in step T, after the trial:
    it has no effect on the loss, so it is not re-emitted. Leaving the cursor
    on it would stall the replay (it waits for reverse step T + 1, which never
    comes) and lose the backward events of all earlier spikes of the neuron.
    """
    return ("tape_event = tape_len - 1;\n"
            "while (tape_event >= 0 && tape_step[tape_base + tape_event] > (int)n_steps - 2) {\n"
            "    tape_event--;\n}\n"
            + tape_cursor("tape_event", "event_step"))


def backward_event() -> str:
    """Re-emit the taped spike of step - 2 as a backward event carrying its phi."""
    return f"""
if (event_step == step - 2) {{
    phi = tape_phi[tape_base + tape_event];
    spk = 1;
    tape_event--;
    {tape_cursor("tape_event", "event_step")}}}
"""


def step_index() -> str:
    """Forward step index: t/dt going forward, T - t/dt going backward."""
    return ("const int step = backward ? (int)n_steps - (int)rint(t / dt) "
            ": (int)rint(t / dt);\n")
