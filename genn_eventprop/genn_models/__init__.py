"""EventProp models for the engine: neurons, synapses, losses, optimiser, softmax.

The maths is defined in ``docs/eventprop.md``; ``snippets`` holds each piece
of physics once and the model factories compose them.
"""
from .losses import LOSSES, Loss, get_loss
from .neurons import alif_model, input_model, li_output_model, lif_model, lif_output_model
from .synapses import adam_model, grad_reduce_model, softmax_models, synapse_model

__all__ = ["LOSSES", "Loss", "get_loss", "input_model", "li_output_model", "lif_model",
           "lif_output_model", "alif_model", "adam_model", "grad_reduce_model", "softmax_models",
           "synapse_model"]
