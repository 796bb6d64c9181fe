"""GeNN-compatible engine: model definitions -> generated C++/OpenMP -> compiled -> loaded.

Follows the public API of PyGeNN 5 for the subset that EventProp training
needs, so ``import genn_eventprop.engine as pygenn`` runs PyGeNN 5 scripts.
"""
from .access import (CustomUpdateVarAccess, SynapseMatrixType, VarAccess, VarAccessDim,
                     VarAccessMode)
from .errors import BuildError, GeNNError, ModelDefinitionError, SnippetError, StateError
from .genn_model import GeNNModel
from .models import (create_current_source_model, create_custom_update_model, create_egp_ref,
                     create_neuron_model, create_out_post_var_ref, create_postsynaptic_model,
                     create_psm_var_ref, create_sparse_connect_init_snippet,
                     create_var_init_snippet, create_var_ref, create_weight_update_model,
                     create_wu_post_var_ref, create_wu_pre_var_ref, create_wu_var_ref, init_postsynaptic,
                     init_sparse_connectivity, init_var, init_weight_update)
from . import builtins

__all__ = [
    "GeNNModel", "VarAccess", "VarAccessMode", "VarAccessDim", "CustomUpdateVarAccess",
    "SynapseMatrixType", "create_neuron_model", "create_weight_update_model",
    "create_postsynaptic_model", "create_current_source_model", "create_custom_update_model",
    "create_var_init_snippet", "create_sparse_connect_init_snippet", "init_var",
    "init_weight_update", "init_postsynaptic", "init_sparse_connectivity", "create_var_ref",
    "create_wu_var_ref", "create_egp_ref", "create_psm_var_ref", "create_wu_pre_var_ref",
    "create_wu_post_var_ref", "create_out_post_var_ref", "GeNNError", "SnippetError",
    "ModelDefinitionError", "BuildError", "StateError", "builtins",
]
