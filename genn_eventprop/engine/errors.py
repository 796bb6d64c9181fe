"""Exceptions of the engine; each message names the model or population and the fix."""


class GeNNError(Exception):
    """Base class of engine errors."""


class SnippetError(GeNNError, ValueError):
    """A code snippet uses a name it may not use."""


class ModelDefinitionError(GeNNError, ValueError):
    """A population or model was declared with missing or unknown names or bad values."""


class BuildError(GeNNError, RuntimeError):
    """Generated code failed to compile, or no compiler was found."""


class StateError(GeNNError, RuntimeError):
    """A method was called in the wrong phase (e.g. step_time before load)."""
