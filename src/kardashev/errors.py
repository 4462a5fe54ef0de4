"""Domain exceptions: the one place every Kardashev error comes from.

Every exception carries a short machine-readable ``code`` (stable across
versions, used by the HTTP API and the CLI) and a human message that names what
is wrong. User input is never checked with ``assert``: it raises one of these.

The hierarchy::

    KardashevError
    ├── InvalidInputError (also a ValueError)      bad data or arguments from a user
    │   ├── AlignmentError                          ids of inputs do not line up
    │   ├── DataFormatError                         a file or table has the wrong shape
    │   ├── SubmissionError                         a submission breaks a tournament rule
    │   └── ConfigError                             an invalid configuration
    ├── OptimizationError                           the portfolio optimizer could not answer
    │   ├── InfeasibleError                         the constraints admit no portfolio
    │   └── SolverError                             the solver failed or did not converge
    ├── NotFoundError                               an account, model, round … does not exist
    ├── ConflictError                               it exists already / concurrent change
    ├── StateError                                  wrong lifecycle state (round closed …)
    ├── InsufficientBalanceError                    a balance would go negative
    ├── AuthenticationError                         missing or wrong credentials
    ├── PermissionDeniedError                       credentials lack the right
    ├── PayloadTooLargeError                        an upload is over the size limit
    └── RateLimitError                              too many requests: retry later
"""

from __future__ import annotations

__all__ = [
    "AlignmentError",
    "AuthenticationError",
    "BusyError",
    "ConfigError",
    "ConflictError",
    "DataFormatError",
    "InfeasibleError",
    "InsufficientBalanceError",
    "InvalidInputError",
    "KardashevError",
    "NotFoundError",
    "OptimizationError",
    "PayloadTooLargeError",
    "PermissionDeniedError",
    "RateLimitError",
    "SolverError",
    "StateError",
    "SubmissionError",
    "examples",
]


class KardashevError(Exception):
    """Base class of every Kardashev error.

    Parameters
    ----------
    message
        What is wrong, in words a user understands (name the column, id, model …).
    code
        Optional machine-readable code overriding the class default, e.g.
        ``"duplicate_ids"`` for a :class:`SubmissionError`.
    """

    default_code = "error"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code or self.default_code

    def __str__(self) -> str:
        return self.message


class InvalidInputError(KardashevError, ValueError):
    """Bad data or arguments supplied by a user."""

    default_code = "invalid_input"


class AlignmentError(InvalidInputError):
    """Inputs cannot be aligned on their ids (e.g. more than 20% of ids lost)."""

    default_code = "alignment"


class DataFormatError(InvalidInputError):
    """A file or table is malformed: missing column, NaN ids, duplicates, wrong dtype."""

    default_code = "data_format"


class SubmissionError(InvalidInputError):
    """A submission breaks a tournament rule; ``code`` names the rule."""

    default_code = "invalid_submission"


class ConfigError(InvalidInputError):
    """An invalid configuration value."""

    default_code = "invalid_config"


class OptimizationError(KardashevError):
    """The portfolio optimizer could not produce a portfolio."""

    default_code = "optimization_failed"


class InfeasibleError(OptimizationError):
    """The constraints admit no portfolio."""

    default_code = "infeasible"


class SolverError(OptimizationError):
    """The solver failed or did not converge to the requested accuracy."""

    default_code = "solver_failed"


class NotFoundError(KardashevError):
    """A requested object does not exist."""

    default_code = "not_found"


class ConflictError(KardashevError):
    """The object exists already, or a concurrent change won."""

    default_code = "conflict"


class BusyError(KardashevError):
    """The database (or a round being processed) is busy: nothing was done; retry after a moment.

    ``retry_after`` is the suggested wait in seconds (the API sends it as ``Retry-After``).
    """

    default_code = "busy"
    retry_after = 5


class StateError(KardashevError):
    """The operation is not allowed in the current lifecycle state."""

    default_code = "invalid_state"


class InsufficientBalanceError(KardashevError):
    """A balance would become negative."""

    default_code = "insufficient_balance"


class AuthenticationError(KardashevError):
    """Credentials are missing or wrong."""

    default_code = "unauthenticated"


class PermissionDeniedError(KardashevError):
    """Credentials are valid but do not grant this operation."""

    default_code = "forbidden"


class PayloadTooLargeError(InvalidInputError):
    """An upload is larger than the configured limit."""

    default_code = "payload_too_large"


class RateLimitError(KardashevError):
    """Too many requests from one API key or address: retry after the ``Retry-After`` delay."""

    default_code = "too_many_requests"


def examples(items: object, *, limit: int = 5) -> str:
    """Up to ``limit`` items of a collection for a one-line message: ``'a', 'b', 'c' (+47 more)``.

    Error messages name what is wrong without listing a whole file's columns.
    """
    values = list(items)  # type: ignore[call-overload]
    shown = ", ".join(repr(str(v)) for v in values[:limit])
    return shown + (f" (+{len(values) - limit} more)" if len(values) > limit else "")
