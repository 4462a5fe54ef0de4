"""Data layer: synthetic market and crowd, Numerai file formats, obfuscation.

The lowest layer of Kardashev: it imports nothing from the package except :mod:`kardashev.errors`.
"""

from kardashev.data.synthetic import EraData, MarketConfig, SyntheticMarket, generate_market

__all__ = ["EraData", "MarketConfig", "SyntheticMarket", "generate_market"]
