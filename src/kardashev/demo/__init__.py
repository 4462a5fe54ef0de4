"""The main job: a simulated season through the tournament engine, grades, validation and a report."""

from kardashev.demo.dynamics import StakeDynamics, apply_payouts, reallocate_stakes, recent_mean_scores
from kardashev.demo.report import ReportData, render_report, write_report
from kardashev.demo.runner import STAKE_RULES, DemoConfig, DemoResult, default_optimizer_config, run_demo
from kardashev.demo.simulation import FundTrack, SeasonSimulator, SimulationConfig, SimulationResult
from kardashev.demo.summary import print_summary
from kardashev.demo.validation import ValidationResult, marginal_values

__all__ = [
    "STAKE_RULES",
    "DemoConfig",
    "DemoResult",
    "FundTrack",
    "ReportData",
    "SeasonSimulator",
    "SimulationConfig",
    "SimulationResult",
    "StakeDynamics",
    "ValidationResult",
    "apply_payouts",
    "default_optimizer_config",
    "marginal_values",
    "print_summary",
    "reallocate_stakes",
    "recent_mean_scores",
    "render_report",
    "run_demo",
    "write_report",
]
