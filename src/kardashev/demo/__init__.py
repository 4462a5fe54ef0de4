"""The main job: a simulated season through the tournament engine, grades, validation and a report."""

from kardashev.demo.book import BookKeeper, FundBook
from kardashev.demo.drilldown import Drilldown, explain_top_model
from kardashev.demo.dynamics import StakeDynamics, apply_payouts, reallocate_stakes, recent_mean_scores
from kardashev.demo.report import ReportData, render_report, write_report
from kardashev.demo.runner import STAKE_RULES, DemoConfig, DemoResult, default_optimizer_config, run_demo
from kardashev.demo.simulation import FundTrack, SeasonSimulator, SimulationConfig, SimulationResult
from kardashev.demo.story import Story, tell_story
from kardashev.demo.summary import print_summary
from kardashev.demo.validation import ValidationResult, marginal_values

__all__ = [
    "STAKE_RULES",
    "BookKeeper",
    "DemoConfig",
    "DemoResult",
    "Drilldown",
    "FundBook",
    "FundTrack",
    "ReportData",
    "SeasonSimulator",
    "SimulationConfig",
    "SimulationResult",
    "StakeDynamics",
    "Story",
    "ValidationResult",
    "apply_payouts",
    "default_optimizer_config",
    "explain_top_model",
    "marginal_values",
    "print_summary",
    "reallocate_stakes",
    "recent_mean_scores",
    "render_report",
    "run_demo",
    "tell_story",
    "write_report",
]
