"""Kardashev: an open-source engine for crowdsourced hedge funds.

Layers (a lower layer never imports a higher one)::

    data → scoring → metamodel → portfolio → contribution → tournament → store → api / cli / demo
"""

from __future__ import annotations

from kardashev import errors

__version__ = "0.1.0"

__all__ = ["__version__", "errors"]
