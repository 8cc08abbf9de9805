"""The named bounds that `relunet bound NAME` evaluates.

Each entry maps a dotted name to a function that builds the `Bound`.  Later topics add their
bounds by extending :data:`CATALOGUE` in their own module and listing that module here.
"""

from __future__ import annotations

from collections.abc import Callable

from . import approximation, catapult, dlgn, generalization, interpolation, intrinsic
from .core import Bound

# Topic modules that define BOUNDS: dict[name, factory]; each is merged into the catalogue.
TOPIC_MODULES = (interpolation, catapult, dlgn, intrinsic)

__all__ = ["CATALOGUE", "bound_names", "get_bound"]


def _entries() -> dict[str, Callable[[], Bound]]:
    entries: dict[str, Callable[[], Bound]] = {
        "approx.square.error": approximation.square_error,
        "approx.square.steps": approximation.square_steps_for_accuracy,
        "approx.product.error": approximation.product_gate_error,
        "approx.product.error_stated": approximation.product_gate_error_stated,
        "approx.bump.integral": approximation.bump_integral,
        "approx.bump.square_integral": approximation.bump_square_integral,
        "stat.minimax.holder": generalization.minimax_lower_bound,
        "erm.rate.holder": generalization.holder_regression_rate,
        "erm.rate.radial": generalization.radial_regression_rate,
        "stat.rate.kohler_langer": generalization.kohler_langer_rate,
        "stat.rate.composite": lambda: generalization.composite_rate([1, 2], [3, 1]),  # an example class
    }
    for name, bound in generalization.kohler_langer_sizes().items():
        entries[bound.name] = lambda name=name: generalization.kohler_langer_sizes()[name]
    for module in TOPIC_MODULES:
        for name, factory in module.BOUNDS.items():
            if name in entries:
                raise ValueError(f"bound name {name!r} is defined twice")
            entries[name] = factory
    for family in (approximation.square_size, approximation.product_gate_size):
        for key in family():
            entries[family()[key].name] = lambda family=family, key=key: family()[key]
    return entries


CATALOGUE: dict[str, Callable[[], Bound]] = _entries()


def bound_names() -> list[str]:
    """All catalogue names, sorted."""
    return sorted(CATALOGUE)


def get_bound(name: str) -> Bound:
    """Build the bound called `name`; ValueError names the close matches when it is unknown.

    >>> get_bound("approx.square.error").evaluate(m=1)
    0.0625
    """
    if name not in CATALOGUE:
        import difflib

        close = difflib.get_close_matches(name, CATALOGUE, n=3) if isinstance(name, str) else []
        hint = f"; did you mean {', '.join(close)}?" if close else "; `relunet bound` with no name lists them"
        raise ValueError(f"bound = {name!r} is unknown{hint}")
    return CATALOGUE[name]()
