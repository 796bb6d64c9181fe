"""Variable access flags with PyGeNN 5 names and semantics.

A variable's access is a mode (how code may touch it) combined with its
dimensions (whether it has one value per element and/or per batch member).
"""
from enum import IntFlag


class VarAccessMode(IntFlag):
    """How a snippet may use a variable."""
    READ_WRITE = 1 << 0
    READ_ONLY = 1 << 1
    BROADCAST = 1 << 2
    REDUCE = 1 << 3
    SUM = 1 << 4
    MAX = 1 << 5
    REDUCE_SUM = REDUCE | SUM
    REDUCE_MAX = REDUCE | MAX


class VarAccessDim(IntFlag):
    """Which axes a variable is stored along."""
    ELEMENT = 1 << 6
    BATCH = 1 << 7


_MODE_MASK = 0x3F
_DIM_SHIFT_ELEMENT = VarAccessDim.ELEMENT
_DIM_SHIFT_BATCH = VarAccessDim.BATCH


class VarAccess(IntFlag):
    """Access of model variables: mode plus the dimensions it is stored along."""
    READ_WRITE = VarAccessMode.READ_WRITE | VarAccessDim.ELEMENT | VarAccessDim.BATCH
    READ_ONLY = VarAccessMode.READ_ONLY | VarAccessDim.ELEMENT
    READ_ONLY_DUPLICATE = VarAccessMode.READ_ONLY | VarAccessDim.ELEMENT | VarAccessDim.BATCH
    READ_ONLY_SHARED_NEURON = VarAccessMode.READ_ONLY | VarAccessDim.BATCH


class CustomUpdateVarAccess(IntFlag):
    """Access of custom-update variables; dimensions are relative to the update.

    The ``*_SHARED`` flags drop the batch axis, ``*_SHARED_NEURON`` the
    element axis (read-only, as in GeNN 5.4: a shared value written from every
    element would be a race); ``REDUCE_BATCH_*`` reduce over the batch and
    ``REDUCE_NEURON_*`` over the elements of each batch member.
    """
    READ_WRITE = VarAccessMode.READ_WRITE
    READ_ONLY = VarAccessMode.READ_ONLY
    READ_ONLY_SHARED = VarAccessMode.READ_ONLY | VarAccessDim.BATCH
    READ_ONLY_SHARED_NEURON = VarAccessMode.READ_ONLY | VarAccessDim.ELEMENT
    REDUCE_BATCH_SUM = VarAccessMode.REDUCE_SUM | VarAccessDim.BATCH
    REDUCE_BATCH_MAX = VarAccessMode.REDUCE_MAX | VarAccessDim.BATCH
    REDUCE_NEURON_SUM = VarAccessMode.REDUCE_SUM | VarAccessDim.ELEMENT
    REDUCE_NEURON_MAX = VarAccessMode.REDUCE_MAX | VarAccessDim.ELEMENT


def access_mode(access) -> VarAccessMode:
    """The mode bits of any access flag."""
    return VarAccessMode(int(access) & _MODE_MASK)


def model_var_dims(access) -> VarAccessDim:
    """Dimensions of a model variable (neuron, synapse, current source, ...)."""
    return VarAccessDim(int(access) & (VarAccessDim.ELEMENT | VarAccessDim.BATCH))


def custom_update_var_dims(access, update_dims: VarAccessDim) -> VarAccessDim:
    """Dimensions of a custom-update variable: the update's dims minus the cleared ones.

    For CustomUpdateVarAccess the dim bits name the axes that are *removed*.
    """
    cleared = int(access) & (VarAccessDim.ELEMENT | VarAccessDim.BATCH)
    return VarAccessDim(int(update_dims) & ~cleared)


class SynapseMatrixType:
    """Connectivity storage: a string, as PyGeNN 5 accepts."""
    DENSE = "DENSE"
    SPARSE = "SPARSE"
