"""HTTP API of a Kardashev tournament (FastAPI): accounts, API keys, uploads, stakes, scores.

Build the application with :func:`create_app` and serve it with ``kardashev serve``.
"""

from __future__ import annotations

from kardashev.api.app import create_app
from kardashev.api.settings import Settings

__all__ = ["Settings", "create_app"]
