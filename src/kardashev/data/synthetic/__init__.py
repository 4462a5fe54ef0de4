"""Synthetic market and crowd with planted, known truth (see :mod:`.market` and :mod:`.crowd`)."""

from kardashev.data.synthetic.market import (
    AlphaSource,
    EraData,
    EraTruth,
    MarketConfig,
    SyntheticMarket,
    era_label,
    generate_market,
)

__all__ = [
    "AlphaSource",
    "EraData",
    "EraTruth",
    "MarketConfig",
    "SyntheticMarket",
    "era_label",
    "generate_market",
]
