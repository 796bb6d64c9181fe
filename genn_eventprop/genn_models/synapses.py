"""EventProp synapse and custom-update models (GeNN 5 syntax).

Synapse (``docs/eventprop.md``): a spike with offset ``phi`` arrives one step
later and acts for r = (1 - phi) dt. Forward it adds ``g exp(-r/tau_syn)`` to
the target's I and ``g K(r)`` to its V. Backward (the taped spike re-emitted)
it reads the target's adjoint at t_{n+2}, propagates it back to the arrival,
accumulates ``dg += lambda_I(a)`` and, when the source has an adjoint, sends
``g (lambda_V(a)/tau_m - lambda_I(a)/tau_syn)`` back with ``addToPre``.
"""
from __future__ import annotations

from ..engine import CustomUpdateVarAccess, VarAccess, VarAccessMode, create_custom_update_model
from ..engine import create_weight_update_model

_RO = VarAccessMode.READ_ONLY


def synapse_model(backprop: bool, het_post: bool = False, tau_grads: bool = False):
    """EventProp weight update; ``backprop`` when the source neuron has an adjoint.

    With ``het_post`` the target's time constants are per-neuron variables read
    through references; otherwise they are parameters and the two exponentials
    of each spike are computed once per source spike (``pre_spike_code``).
    ``tau_grads`` (target trains its time constants, implies ``het_post``): the
    backward event also sends the target w dK(r)/dtau_m, w dK(r)/dtau_syn and
    w d exp(-r/tau_syn)/dtau_syn (``snippets.tau_gradient``).
    """
    het_post = het_post or tau_grads
    r = "(((scalar)1.0 - phi_pre) * dt)"
    if het_post:
        tm, ts = "tau_m_post", "tau_syn_post"
        factors = (f"const scalar fS = exp(-{r} / {ts});\n"
                   f"const scalar fM = exp(-{r} / {tm});\n")
        pre_vars, pre_spike_code, params = [], None, []
        post_refs = [("tau_m_post", "scalar", _RO), ("tau_syn_post", "scalar", _RO)]
    else:
        tm, ts = "tau_m", "tau_syn"
        factors = ""
        pre_vars = [("fS", "scalar"), ("fM", "scalar")]
        pre_spike_code = f"fS = exp(-{r} / tau_syn);\nfM = exp(-{r} / tau_m);\n"
        params, post_refs = ["tau_m", "tau_syn"], []
    k_of_r = f"({ts} / ({tm} - {ts}) * (fM - fS))"
    back = (f"addToPre(g * (lam_V * fM / {tm} - lam_I / {ts}));\n" if backprop else "")
    if tau_grads:
        k = f"({ts} / ({tm} - {ts}) * (fM - fS))"
        back += (f"        {{\n            const scalar r = {r};\n"
                 f"            const scalar kr = {k};\n"
                 f"            addToPostInput(dKm, g * (-kr / ({tm} - {ts}) + {ts} * r * fM / "
                 f"(({tm} - {ts}) * {tm} * {tm})));\n"
                 f"            addToPostInput(dKs, g * (kr * {tm} / ({ts} * ({tm} - {ts})) - r * fS / "
                 f"({ts} * ({tm} - {ts}))));\n"
                 f"            addToPostInput(dEs, g * fS * r / ({ts} * {ts}));\n        }}\n")
    code = f"""
if (t > 0.5 * dt) {{
{factors}    if (backward == 0) {{
        addToPost(g * fS);
        addToPostInput(Vsyn, g * {k_of_r});
    }}
    else {{
        const scalar lam_V = lamE_V_post;
        const scalar lam_I = lambda_I_post * fS + lam_V * {k_of_r};
        dg += lam_I;
        {back}    }}
}}
"""
    name = ("EvpSynapse" + ("Backprop" if backprop else "") + ("HetPost" if het_post else "")
            + ("TauGrad" if tau_grads else ""))
    return create_weight_update_model(
        name, params=params + ["backward"],
        vars=[("g", "scalar", VarAccess.READ_ONLY), ("dg", "scalar")],
        pre_vars=pre_vars,
        pre_neuron_var_refs=[("phi_pre", "scalar", _RO)],
        post_neuron_var_refs=[("lamE_V_post", "scalar", _RO),
                              ("lambda_I_post", "scalar", _RO)] + post_refs,
        pre_spike_code=pre_spike_code,
        pre_spike_syn_code=code)


def grad_reduce_model():
    """Sum the per-batch-member gradient ``dg`` into ``dg_sum`` and clear ``dg``."""
    return create_custom_update_model(
        "EvpGradReduce",
        vars=[("dg_sum", "scalar", CustomUpdateVarAccess.REDUCE_BATCH_SUM)],
        var_refs=[("dg", "scalar")],
        update_code="dg_sum = dg;\ndg = 0.0;")


def adam_model(lower_bound: bool = False):
    """Adam step on ``g`` from the batch-summed gradient ``dg_sum``.

    grad = dg_sum * grad_scale (1/batch size); m, v are the moment estimates;
    the step is alpha * m * m_scale / (sqrt(v * v_scale) + epsilon) with the
    bias corrections m_scale = 1/(1 - beta1^k), v_scale = 1/(1 - beta2^k).
    ``lower_bound``: afterwards g >= min_value (time constants: MIN_TAU_M/SYN).
    """
    bound = "if (g < min_value) {\n    g = min_value;\n}\n" if lower_bound else ""
    return create_custom_update_model(
        "EvpAdam" + ("Bounded" if lower_bound else ""),
        params=["beta1", "beta2", "epsilon", "alpha", "m_scale", "v_scale", "grad_scale"]
        + (["min_value"] if lower_bound else []),
        vars=[("m", "scalar", CustomUpdateVarAccess.READ_WRITE),
              ("v", "scalar", CustomUpdateVarAccess.READ_WRITE)],
        var_refs=[("g", "scalar"), ("dg_sum", "scalar", _RO)],
        update_code="""
const scalar grad = dg_sum * grad_scale;
m = beta1 * m + (1.0 - beta1) * grad;
v = beta2 * v + (1.0 - beta2) * grad * grad;
g -= alpha * m * m_scale / (sqrt(v * v_scale) + epsilon);
""" + bound)


def softmax_models():
    """Three passes of a softmax over a population's ``score`` -> ``p``, per batch member.

    max (REDUCE_NEURON_MAX), sum of exp(score - max) (REDUCE_NEURON_SUM), then
    p = exp(score - max)/sum: any number of classes, no warp intrinsics.
    """
    smax = create_custom_update_model(
        "EvpSoftmaxMax", vars=[("smax", "scalar", CustomUpdateVarAccess.REDUCE_NEURON_MAX)],
        var_refs=[("score", "scalar", _RO)], update_code="smax = score;")
    ssum = create_custom_update_model(
        "EvpSoftmaxSum", vars=[("ssum", "scalar", CustomUpdateVarAccess.REDUCE_NEURON_SUM)],
        var_refs=[("score", "scalar", _RO), ("smax", "scalar", _RO)],
        update_code="ssum = exp(score - smax);")
    apply = create_custom_update_model(
        "EvpSoftmaxApply",
        var_refs=[("score", "scalar", _RO), ("smax", "scalar", _RO), ("ssum", "scalar", _RO),
                  ("p", "scalar")],
        update_code="p = exp(score - smax) / ssum;")
    return smax, ssum, apply

