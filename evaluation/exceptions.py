"""Exception and warning classes of the package."""

from __future__ import annotations


class DataError(ValueError):
    """Input data that break the schema; the message names file, column and rows."""


class NotEstimableError(RuntimeError):
    """An analysis that cannot be run on the data given (reason in the message)."""


class EvaluationWarning(UserWarning):
    """Base class of the package's warnings."""


class IgnoredArgumentWarning(EvaluationWarning):
    """An argument was set that the chosen method does not use."""


class MatchingWarning(EvaluationWarning):
    """Matching carried on, but something the user should know happened."""


class ModelWarning(EvaluationWarning):
    """An outcome model carried on with a caveat (separation, few clusters, ...)."""


class PlanError(ValueError):
    """An analysis plan that cannot be followed; the message names file, key and allowed values."""


class SchedulerError(ValueError):
    """A Dask scheduler address that is malformed or cannot be reached (``SCHEDULER=``)."""
