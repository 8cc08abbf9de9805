"""relunet.verify: measure networks, fit rates, check claims, store and report verdicts."""

from .claim import (
    STATUSES,
    Claim,
    Control,
    Outcome,
    Param,
    RunContext,
    Verdict,
    all_claims,
    get_claim,
    register,
    select_claims,
)
from .fitting import LogLogFit, bootstrap_slope, fit_loglog
from .measure import integrate_exact, l2_error, monte_carlo_integral, sup_error
from .store import ResultsStore
from .testing import check

__all__ = [
    "STATUSES",
    "Claim",
    "Control",
    "LogLogFit",
    "Outcome",
    "Param",
    "ResultsStore",
    "RunContext",
    "Verdict",
    "all_claims",
    "bootstrap_slope",
    "check",
    "fit_loglog",
    "get_claim",
    "integrate_exact",
    "l2_error",
    "monte_carlo_integral",
    "register",
    "select_claims",
    "sup_error",
]
