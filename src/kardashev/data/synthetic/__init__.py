"""Synthetic market and crowd with planted, known truth (see :mod:`.market` and :mod:`.crowd`)."""

from kardashev.data.synthetic.crowd import ARCHETYPES, Crowd, CrowdConfig, generate_crowd
from kardashev.data.synthetic.export import DatasetFiles, write_dataset
from kardashev.data.synthetic.market import (
    AlphaSource,
    EraData,
    EraTruth,
    MarketConfig,
    SyntheticMarket,
    era_label,
    generate_market,
)
from kardashev.data.synthetic.round_files import RoundFiles, write_round_files

__all__ = [
    "ARCHETYPES",
    "AlphaSource",
    "Crowd",
    "CrowdConfig",
    "DatasetFiles",
    "EraData",
    "EraTruth",
    "MarketConfig",
    "RoundFiles",
    "SyntheticMarket",
    "era_label",
    "generate_crowd",
    "generate_market",
    "write_dataset",
    "write_round_files",
]
