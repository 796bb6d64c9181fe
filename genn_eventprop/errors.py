"""Errors a user can fix (bad parameters, missing files, existing results).

The command line prints these as one paragraph and exits with status 2;
anything else is a bug and keeps its traceback.
"""


class UserError(Exception):
    """A problem with what the user asked for; the message says what and how to fix it."""


class CheckpointError(UserError, FileNotFoundError):
    """LOAD_LAST/LOAD_BEST name a checkpoint that does not exist."""


class OutputExistsError(UserError, FileExistsError):
    """A run would overwrite the results of another run."""


class NothingToTestError(UserError):
    """``test`` was asked for without a trained network."""
