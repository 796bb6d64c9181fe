"""EventProp neuron models (GeNN 5 syntax) composed from ``snippets``.

Every model runs both passes: the dynamic parameter ``backward`` selects the
forward dynamics (0) or the reverse-time adjoint (1). The simulation time is
restarted at 0 for each pass; ``step`` is the forward step being simulated
(forward) or reversed (backward, starting at ``n_steps``). ``spk`` carries the
decision of ``sim_code`` to the threshold: in the forward pass a spike, in the
backward pass the backward event of a taped spike (its ``phi`` restored).
"""
from __future__ import annotations

from ..engine import VarAccess, create_neuron_model
from . import snippets as sn
from .losses import Loss

TAPE_EGPS = [("tape_step", "int*"), ("tape_phi", "scalar*")]
SPIKE_TAPE_EGPS = TAPE_EGPS + [("tape_slope", "scalar*")]
CONTROL_PARAMS = ["n_steps", "n_max_spike", "backward"]
TAPE_VARS = [("phi", "scalar"), ("spk", "int"), ("tape_len", "int"), ("tape_event", "int"),
             ("event_step", "int"), ("tape_lost", "int")]


def input_model():
    """Spike source replaying sub-step spike times and re-emitting them backwards.

    Spikes at times s in [t_n, t_n + dt) are emitted in step n with
    phi = (s - t_n)/dt. A neuron emits at most one spike per step; a further
    spike in the same step is emitted in the next step with phi = 0 and counted
    in ``deferred``. ``p_drop`` drops spikes (input dropout).
    """
    next_time = ("next_t = (startSpike != endSpike) ? spikeTimes[startSpike] "
                 ": (scalar)3.0e38;\n")
    forward = f"""
if (step == 0) {{
    {next_time}}}
if (next_t < t + dt) {{
    const scalar s = next_t;
    startSpike++;
    {next_time}
    if (s < t) {{
        deferred++;
    }}
    if (p_drop <= 0.0 || gennrand_uniform() >= p_drop) {{
        phi = fmax((s - t) / dt, (scalar)0.0);
        spk = 1;
{sn.tape_write({"tape_step": "step", "tape_phi": "phi"})}
    }}
}}
"""
    backward = f"""
if (step == n_steps) {{
{sn.event_cursor_init()}}}
{sn.backward_event()}
"""
    return create_neuron_model(
        "EvpInput", params=CONTROL_PARAMS + ["p_drop"],
        vars=[("startSpike", "unsigned int"), ("endSpike", "unsigned int"),
              ("next_t", "scalar"), ("deferred", "int")] + TAPE_VARS,
        extra_global_params=[("spikeTimes", "scalar*")] + TAPE_EGPS,
        sim_code=_two_pass(forward, backward),
        threshold_condition_code="spk != 0")


def _two_pass(forward: str, backward: str, prefix: str = "", spiking: bool = True) -> str:
    """sim_code choosing the forward or the backward pass (``backward`` param);
    spiking models also get their tape position and clear ``spk``."""
    tape = sn.tape_base() if spiking else ""
    clear = "spk = 0;\n" if spiking else ""
    return (prefix + tape + sn.step_index() + clear +
            f"if (backward == 0) {{\n{forward}\n}}\nelse {{\n{backward}\n}}\n")


def _tau_fields(heterogeneous: bool):
    """tau_m/tau_syn as parameters, or as per-neuron variables (hetLIF/hetLI)."""
    if heterogeneous:
        return [], [("tau_m", "scalar", VarAccess.READ_ONLY),
                    ("tau_syn", "scalar", VarAccess.READ_ONLY)]
    return ["tau_m", "tau_syn"], []


#: What a population with trainable time constants adds: gradient accumulators,
#: the V/I tape and the arrivals' tau-derivative inputs (see ``snippets.tau_gradient``).
TAU_GRAD_VARS = [("dtau_m", "scalar"), ("dtau_s", "scalar")]
TAU_GRAD_EGPS = [("tape_Vn", "scalar*"), ("tape_In", "scalar*")]
TAU_GRAD_INPUTS = [("dKm", "scalar", 0.0), ("dKs", "scalar", 0.0), ("dEs", "scalar", 0.0)]


LIF_STATE = [("V", "scalar"), ("I", "scalar"), ("lambda_V", "scalar"), ("lambda_I", "scalar"),
             ("lamE_V", "scalar"), ("jr_V", "scalar"), ("rev_hold", "scalar"),
             ("tape_next", "int"), ("next_step", "int"), ("reg_drive", "scalar")]
INPUTS = [("Vsyn", "scalar", 0.0), ("revIsyn", "scalar", 0.0)]


def lif_model(heterogeneous: bool = False, train_tau: bool = False):
    """Hidden LIF neuron (``hetLIF`` when ``heterogeneous``): no loss terms.

    ``train_tau``: per-neuron tau_m/tau_syn with their gradients (implies
    heterogeneous storage).
    """
    het = heterogeneous or train_tau
    name = ("EvpHetLIF" if het else "EvpLIF") + ("TauGrad" if train_tau else "")
    return _spiking_model(name, het, train_tau=train_tau)


def alif_model():
    """Hidden ALIF neuron: threshold theta + B, tau_B dB/dt = -B, B += B_incr at a spike."""
    return _spiking_model("EvpALIF", False, adaptive=True)


def _spiking_model(name: str, heterogeneous: bool, loss: Loss = None, adaptive: bool = False,
                   train_tau: bool = False):
    params, tau_vars = _tau_fields(heterogeneous)
    extra_vars, spike_extra, spike_loss, init_extra, last_step = [], "", "0.0", "", ""
    extra_params = []
    if loss is not None:
        extra_vars = [("t_first", "scalar"), ("score", "scalar"), ("p", "scalar"),
                      ("y", "scalar")]
        extra_params = ["tau_0", "tau_1", "alpha", "phantom_softmax"]
        spike_extra = "if (t_first < 0.0) {\n    t_first = t + phi * dt;\n}\n"
        last_step = ("if (step == (int)n_steps - 1) {\n"
                     "    score = -((t_first < 0.0) ? trial_t + 1.0 : t_first) / tau_0;\n}\n")
        g_first = f"(alpha * {loss.g_prime.replace('tf', 't_first')})"
        spike_loss = f"((tape_next == 0) ? ((y - p) / tau_0 + y * {g_first}) : 0.0)"
        g_end = f"(alpha * {loss.g_prime.replace('tf', 'trial_t')})"
        # The correct output did not spike: no spike time to differentiate, so its
        # trial end is driven as if it spiked there ("phantom spike").
        init_extra = (f"if (y > 0.5 && tape_len == 0) {{\n"
                      f"    lambda_V -= tau_m * (phantom_softmax * (1.0 - p) / tau_0 "
                      f"+ {g_end});\n}}\n")
    hidden = loss is None
    forward = (sn.lif_forward(adaptive, noise=hidden) + "phi = 0.0;\n" + sn.lif_threshold(spike_extra, adaptive)
               + last_step)
    backward = sn.lif_backward(spike_loss=spike_loss, init_extra=init_extra, adaptive=adaptive,
                               train_tau=train_tau)
    inputs = INPUTS
    if train_tau:
        forward = sn.tau_tape_write() + forward
        extra_vars = extra_vars + TAU_GRAD_VARS
        inputs = INPUTS + TAU_GRAD_INPUTS
    derived = [("trial_t", lambda p, dt: p["n_steps"] * dt)] if loss is not None else []
    if not heterogeneous:
        derived += sn.step_constant_params()
    egps = SPIKE_TAPE_EGPS + (TAU_GRAD_EGPS if train_tau else [])
    if adaptive:
        derived.append(sn.adaptation_constant())
        extra_params = extra_params + ["tau_B", "B_incr"]
        extra_vars = extra_vars + [("B", "scalar"), ("lambda_B", "scalar"), ("lamE_B", "scalar"),
                                   ("jr_B", "scalar")]
        egps = egps + [("tape_B", "scalar*")]
    if hidden:
        extra_params = extra_params + ["noise"]
    return create_neuron_model(
        name, params=params + ["theta", "p_drop"] + CONTROL_PARAMS + extra_params,
        derived_params=derived,
        vars=LIF_STATE + tau_vars + TAPE_VARS + extra_vars,
        extra_global_params=egps,
        additional_input_vars=inputs,
        sim_code=_two_pass(forward, backward, sn.step_constants(heterogeneous)),
        threshold_condition_code="spk != 0")


def lif_output_model(loss: Loss, heterogeneous: bool = False, train_tau: bool = False):
    """Spiking LIF output for first-spike losses (``loss.kind == "LIF"``)."""
    het = heterogeneous or train_tau
    return _spiking_model(f"EvpLIFOut_{loss.name}" + ("Het" if het else "")
                          + ("TauGrad" if train_tau else ""), het, loss, train_tau=train_tau)


def _per_step_softmax() -> str:
    """p_id(t_n) = softmax over the classes of the taped V(t_n) of this batch member:
    a loop over the population's own tape row, so any number of classes works."""
    return """    const size_t row = (size_t)batch * num_neurons;
    const size_t at = (size_t)n_steps;
    scalar vmax = -3.0e38;
    for (unsigned int c = 0; c < num_neurons; c++) {
        vmax = fmax(vmax, tape_Vout[(row + c) * at + n - 1]);
    }
    scalar zsum = 0.0;
    for (unsigned int c = 0; c < num_neurons; c++) {
        zsum += exp(tape_Vout[(row + c) * at + n - 1] - vmax);
    }
    const scalar p_now = exp(tape_Vout[(row + id) * at + n - 1] - vmax) / zsum;
"""


def li_output_model(loss: Loss, heterogeneous: bool = False, train_tau: bool = False):
    """Non-spiking leaky-integrator output (``LI``/``hetLI``) for voltage losses.

    Forward: exact step, then the sample V(t_{step+1}) enters ``score`` (a
    weighted mean, or the running maximum with its step in ``score_step``).
    Backward: reverse propagation and the loss drive dL/dV at each sample.
    """
    heterogeneous = heterogeneous or train_tau
    params, tau_vars = _tau_fields(heterogeneous)
    if loss.is_max:
        sample = ("if (V > score) {\n    score = V;\n    score_step = step + 1;\n}\n")
        drive = "((n == score_step) ? (p - y) : 0.0)"
    else:
        weight = loss.weight
        tape = ("    tape_Vout[((size_t)batch * num_neurons + id) * (size_t)n_steps + n - 1] = V;\n"
                if loss.per_step else "")
        sample = (f"{{\n    const int n = step + 1;\n    const scalar u = (scalar)n / n_steps;\n"
                  f"    score += dt / trial_t * {weight} * V;\n{tape}}}\n")
        drive = ("((p_now - y) / n_steps)" if loss.per_step
                 else f"(dt / trial_t * {weight} * (p - y))")
    drive_at = ("{\n    const int n = step;\n    const scalar u = (scalar)n / n_steps;\n"
                + (_per_step_softmax() if loss.per_step else "")
                + f"    lambda_V += {drive};\n}}\n")
    forward = (sn.tau_tape_write() if train_tau else "") + sn.lif_forward() + sample
    backward = f"""
if (step == n_steps) {{
    lambda_V = 0.0;
    lambda_I = 0.0;
{drive_at}
}}
else {{
{sn.tau_gradient("lambda_V") if train_tau else ""}{sn.adjoint_step()}
    if (step >= 1) {drive_at}
}}
"""
    het = "het" if heterogeneous else ""
    return create_neuron_model(
        f"Evp{het}LI_{loss.name}" + ("_tau_grad" if train_tau else ""),
        params=params + ["n_steps", "backward"],
        derived_params=[("trial_t", lambda p, dt: p["n_steps"] * dt)]
        + ([] if heterogeneous else sn.step_constant_params()),
        vars=[("V", "scalar"), ("I", "scalar"), ("lambda_V", "scalar"), ("lambda_I", "scalar"),
              ("score", "scalar"),
              ("score_step", "int"), ("p", "scalar"), ("y", "scalar")] + tau_vars
        + (TAU_GRAD_VARS if train_tau else []),
        extra_global_params=list(loss.egps) + (TAU_GRAD_EGPS if train_tau else []),
        additional_input_vars=[("Vsyn", "scalar", 0.0)] + (TAU_GRAD_INPUTS if train_tau else []),
        sim_code=_two_pass(forward, backward, sn.step_constants(heterogeneous), spiking=False))
