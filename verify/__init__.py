"""relunet.verify: measure networks, fit rates, check claims, store and report verdicts."""

# The names below are loaded on first use (PEP 562), so that `relunet.verify.cli` can set its
# environment (OMP_WAIT_POLICY) and catch Ctrl-C before torch and sympy are imported.
import importlib

_HOME = {
    **dict.fromkeys(("STATUSES", "Claim", "Control", "Outcome", "Param", "RunContext", "Verdict",
                     "all_claims", "get_claim", "register", "select_claims"), "claim"),
    **dict.fromkeys(("LogLogFit", "bootstrap_slope", "fit_loglog"), "fitting"),
    **dict.fromkeys(("integrate_exact", "l2_error", "monte_carlo_integral", "sup_error"), "measure"),
    "ResultsStore": "store",
    "check": "testing",
}


def __getattr__(name):
    if name not in _HOME:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{_HOME[name]}", __name__), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(_HOME))


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
