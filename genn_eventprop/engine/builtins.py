"""Built-in models with PyGeNN 5 names, parameters and behaviour."""
from __future__ import annotations

import math

from .access import VarAccess
from .models import (create_current_source_model, create_neuron_model,
                     create_postsynaptic_model, create_sparse_connect_init_snippet,
                     create_var_init_snippet, create_weight_update_model)

# LIF: tau_m dV/dt = -(V - Vrest) + R (Isyn + Ioffset), integrated exactly over dt
# with the input held constant; R = TauM / C (MOhm for nF, ms).
LIF = create_neuron_model(
    "LIF",
    params=["C", "TauM", "Vrest", "Vreset", "Vthresh", "Ioffset", "TauRefrac"],
    derived_params=[("ExpTC", lambda p, dt: math.exp(-dt / p["TauM"])),
                    ("Rmembrane", lambda p, dt: p["TauM"] / p["C"])],
    vars=[("V", "scalar"), ("RefracTime", "scalar")],
    sim_code="""
if (RefracTime <= 0.0) {
    scalar alpha = ((Isyn + Ioffset) * Rmembrane) + Vrest;
    V = alpha - (ExpTC * (alpha - V));
}
else {
    RefracTime -= dt;
}
""",
    threshold_condition_code="RefracTime <= 0.0 && V >= Vthresh",
    reset_code="V = Vreset;\nRefracTime = TauRefrac;\n")

# Spikes at the times spikeTimes[startSpike..endSpike) (ms); per batch member the
# range differs, the time array is shared.
SpikeSourceArray = create_neuron_model(
    "SpikeSourceArray",
    vars=[("startSpike", "unsigned int"),
          ("endSpike", "unsigned int", VarAccess.READ_ONLY_DUPLICATE)],
    extra_global_params=[("spikeTimes", "scalar*")],
    threshold_condition_code="startSpike != endSpike && t >= spikeTimes[startSpike]",
    reset_code="startSpike++;\n")

# Poisson process of rate `rate` (Hz): exponential inter-spike intervals in steps.
Poisson = create_neuron_model(
    "Poisson",
    params=["rate"],
    vars=[("timeStepToSpike", "scalar")],
    derived_params=[("isi", lambda p, dt: 1000.0 / (p["rate"] * dt)
                     if p["rate"] > 0 else math.inf)],
    sim_code="""
if (timeStepToSpike <= 0.0) {
    timeStepToSpike += isi * gennrand_exponential();
}
timeStepToSpike -= 1.0;
""",
    threshold_condition_code="timeStepToSpike <= 0.0")

StaticPulse = create_weight_update_model(
    "StaticPulse", vars=[("g", "scalar", VarAccess.READ_ONLY)],
    pre_spike_syn_code="addToPost(g);")

StaticPulseConstantWeight = create_weight_update_model(
    "StaticPulseConstantWeight", params=["g"], pre_spike_syn_code="addToPost(g);")

DeltaCurr = create_postsynaptic_model(
    "DeltaCurr", sim_code="injectCurrent(inSyn);\ninSyn = 0;\n")

# Exponentially decaying current; `init` scales the injection so that a weight is
# the total charge delivered over the decay, as in GeNN.
ExpCurr = create_postsynaptic_model(
    "ExpCurr", params=["tau"],
    derived_params=[("expDecay", lambda p, dt: math.exp(-dt / p["tau"])),
                    ("init", lambda p, dt: (p["tau"] * (1.0 - math.exp(-dt / p["tau"]))) / dt)],
    sim_code="injectCurrent(init * inSyn);\ninSyn *= expDecay;\n")

DC = create_current_source_model("DC", params=["amp"], injection_code="injectCurrent(amp);")

Constant = create_var_init_snippet("Constant", params=["constant"],
                                   var_init_code="value = constant;")
Uniform = create_var_init_snippet(
    "Uniform", params=["min", "max"],
    var_init_code="const scalar scale = max - min;\nvalue = min + (gennrand_uniform() * scale);")
Normal = create_var_init_snippet(
    "Normal", params=["mean", "sd"],
    var_init_code="value = mean + (gennrand_normal() * sd);")
NormalClipped = create_var_init_snippet(
    "NormalClipped", params=["mean", "sd", "min", "max"],
    var_init_code="""
scalar normal;
do {
    normal = mean + (gennrand_normal() * sd);
} while (normal > max || normal < min);
value = normal;
""")
Exponential = create_var_init_snippet(
    "Exponential", params=["lambda"],
    var_init_code="value = lambda * gennrand_exponential();")


def _binomial_inverse_cdf(p: float, n: int, quantile: float) -> int:
    """Smallest k with P(X <= k) >= quantile for X ~ Binomial(n, p)."""
    if p <= 0.0:
        return 0
    if p >= 1.0:
        return n
    cdf, pmf = 0.0, (1.0 - p) ** n
    for k in range(n + 1):
        cdf += pmf
        if cdf >= quantile:
            return k
        pmf *= (n - k) / (k + 1) * p / (1.0 - p)
    return n


def _fixed_prob_max_row(num_pre, num_post, pars):
    """Row length bound that holds for all rows with probability ~0.9999 (as GeNN)."""
    quantile = 0.9999 ** (1.0 / max(num_pre, 1))
    return max(1, _binomial_inverse_cdf(pars["prob"], num_post, quantile))


# Geometric skipping: the gap to the next connection is 1 + floor(log(u) / log(1 - p)).
FixedProbability = create_sparse_connect_init_snippet(
    "FixedProbability", params=["prob"],
    derived_params=[("probLogRecip", lambda p, dt: 1.0 / math.log(1.0 - p["prob"])
                     if p["prob"] < 1.0 else 0.0)],
    row_build_code="""
int prevJ = -1;
while (true) {
    if (prob >= 1.0) { prevJ++; }
    else if (prob <= 0.0) { break; }
    else {
        const scalar u = gennrand_uniform();
        prevJ += (1 + (int)(log(u) * probLogRecip));
    }
    if (prevJ < (int)num_post) { addSynapse(prevJ + id_post_begin); }
    else { break; }
}
""",
    calc_max_row_len_func=_fixed_prob_max_row)

FixedProbabilityNoAutapse = create_sparse_connect_init_snippet(
    "FixedProbabilityNoAutapse", params=["prob"],
    derived_params=[("probLogRecip", lambda p, dt: 1.0 / math.log(1.0 - p["prob"])
                     if p["prob"] < 1.0 else 0.0)],
    row_build_code="""
int prevJ = -1;
while (true) {
    int nextJ;
    do {
        if (prob >= 1.0) { nextJ = prevJ + 1; }
        else if (prob <= 0.0) { nextJ = (int)num_post; }
        else {
            const scalar u = gennrand_uniform();
            nextJ = prevJ + (1 + (int)(log(u) * probLogRecip));
        }
        prevJ = nextJ;
    } while (nextJ == (int)id_pre);
    if (nextJ < (int)num_post) { addSynapse(nextJ + id_post_begin); }
    else { break; }
}
""",
    calc_max_row_len_func=_fixed_prob_max_row)

OneToOne = create_sparse_connect_init_snippet(
    "OneToOne", row_build_code="if (id_pre < num_post) { addSynapse(id_pre + id_post_begin); }\n",
    calc_max_row_len_func=lambda num_pre, num_post, pars: 1,
    calc_max_col_len_func=lambda num_pre, num_post, pars: 1)

NEURON_MODELS = {m.name: m for m in (LIF, SpikeSourceArray, Poisson)}
WEIGHT_UPDATE_MODELS = {m.name: m for m in (StaticPulse, StaticPulseConstantWeight)}
POSTSYNAPTIC_MODELS = {m.name: m for m in (DeltaCurr, ExpCurr)}
CURRENT_SOURCE_MODELS = {m.name: m for m in (DC,)}
CUSTOM_UPDATE_MODELS: dict = {}
VAR_INIT_SNIPPETS = {m.name: m for m in (Constant, Uniform, Normal, NormalClipped, Exponential)}
SPARSE_INIT_SNIPPETS = {m.name: m for m in (FixedProbability, FixedProbabilityNoAutapse,
                                            OneToOne)}
