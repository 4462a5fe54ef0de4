"""Log set-up for the API server: every line carries the request id; secrets never reach the log."""

from __future__ import annotations

import logging

from kardashev.api.middleware import RequestContextFilter

__all__ = ["LOG_FORMAT", "configure_logging"]

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"


def configure_logging(level: int | str = logging.INFO) -> None:
    """Send ``kardashev.*`` logs to stderr with the request id in each line (idempotent)."""
    logger = logging.getLogger("kardashev")
    logger.setLevel(level)
    if any(getattr(handler, "_kardashev", False) for handler in logger.handlers):
        return
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    handler.addFilter(RequestContextFilter())
    handler._kardashev = True  # type: ignore[attr-defined]
    logger.addHandler(handler)
