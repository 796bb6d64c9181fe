"""genn_eventprop: EventProp training of spiking neural networks on generated C++ kernels."""

__version__ = "0.1.0"
