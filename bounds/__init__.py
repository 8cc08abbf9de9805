"""relunet.bounds: what theory predicts, as sympy expressions (no torch here)."""

from .approximation import (
    bump_integral,
    bump_square_integral,
    product_gate_error,
    product_gate_error_stated,
    product_gate_size,
    square_error,
    square_size,
    square_steps_for_accuracy,
)
from .catalogue import CATALOGUE, bound_names, get_bound
from .core import KINDS, Bound, Domain, symbol
from .generalization import minimax_lower_bound

__all__ = [
    "CATALOGUE",
    "KINDS",
    "Bound",
    "Domain",
    "bound_names",
    "bump_integral",
    "bump_square_integral",
    "get_bound",
    "minimax_lower_bound",
    "product_gate_error",
    "product_gate_error_stated",
    "product_gate_size",
    "square_error",
    "square_size",
    "square_steps_for_accuracy",
    "symbol",
]
