"""Bounds for the ReLU building blocks of approximation theory.

The sizes are those of the realisations in :mod:`relunet.constructions.primitives`
(counted by hand from their weights and checked against the built nets by the claims
``approx.square.size`` and ``approx.product.size``).

References
----------
D. Yarotsky, "Error bounds for approximations with deep ReLU networks", Neural Networks 94
(2017) 103-114, Proposition 2 (the square) and Proposition 3 (the product gate).
``shared/theory/approximation.md`` sections 1 and 2 for the derived forms.
"""

from __future__ import annotations

import sympy as sp
from sympy.codegen.cfunctions import log2

from .core import Bound, Domain, symbol

__all__ = [
    "bump_integral",
    "bump_square_integral",
    "product_gate_error",
    "product_gate_error_stated",
    "product_gate_size",
    "square_error",
    "square_size",
    "square_steps_for_accuracy",
]

YAROTSKY_2017 = "Yarotsky 2017, Neural Networks 94:103-114"

_m = symbol("m", integer=True)
_M = symbol("M")
_STEPS = {"m": Domain(lower=1, integer=True)}
_STEPS_AND_RANGE = {"m": Domain(lower=1, integer=True), "M": Domain(lower=0, lower_closed=False)}


def square_error() -> Bound:
    """Sup error of Yarotsky's m-step square on [0, 1]: exactly 2^(-2m-2).

    f_m is the piecewise-linear interpolant of x^2 at the nodes k/2^m, so the error is the
    interpolation error h^2/4 with h = 2^-m, attained at the midpoints.

    References
    ----------
    Yarotsky 2017, Proposition 2; approximation.md section 2.

    Examples
    --------
    >>> square_error().evaluate(m=3)
    0.00390625
    """
    return Bound(
        name="approx.square.error",
        expr=sp.Integer(2) ** (-2 * _m - 2),
        kind="exact",
        quantity="sup error on [0, 1]",
        source=f"{YAROTSKY_2017}, Prop. 2; exact value derived in approximation.md §2",
        variables=("m",),
        conditions={"m": Domain(lower=0, integer=True)},  # f_0(x) = x, error 1/4; the sizes need m >= 1
        description="sup_{x in [0,1]} |f_m(x) - x^2| of the m-step sawtooth square",
    )


def square_steps_for_accuracy() -> Bound:
    """The number of steps m for sup error at most eps: max(0, ceil(log2(1/eps)/2 - 1)).

    Examples
    --------
    >>> square_steps_for_accuracy().evaluate(eps=1e-4)
    6.0
    """
    eps = symbol("eps")
    # log2 (not log(.)/log(2)) so that float evaluation is exact at eps = 4^-j
    expr = sp.Max(0, sp.ceiling(log2(1 / eps) / 2 - 1))
    return Bound(
        name="approx.square.steps",
        expr=expr,
        kind="size",
        quantity="steps m for sup error <= eps",
        source="derived from approx.square.error (approximation.md §2)",
        variables=(),  # a step count, read as eps -> 0: no rate at eps -> infinity
        conditions={"eps": Domain(lower=0, lower_closed=False)},
    )


def square_size() -> dict[str, Bound]:
    """Depth, width, nonzero and dense parameter counts, and largest |weight| of the m-step square.

    The realisation has hidden widths (3, 4, ..., 4): three tent units and the carried partial
    sum f_k >= 0, the first layer sharing sigma(x) between the tent and the carry.

    Examples
    --------
    >>> {k: b.evaluate(m=5) for k, b in square_size().items()}["nonzero"]
    68.0
    """
    src = "derived for relunet's realisation of Yarotsky 2017, Prop. 2 (approximation.md §2)"
    many = _m >= 2
    return {
        "depth": Bound("approx.square.depth", _m, "size", "hidden layers", src,
                       ("m",), dict(_STEPS)),
        "width": Bound("approx.square.width", sp.Piecewise((4, many), (3, True)), "size",
                       "largest hidden width", src, (), dict(_STEPS)),
        "nonzero": Bound("approx.square.nonzero", 15 * _m - 7, "size",
                         "nonzero weights and biases", src, ("m",), dict(_STEPS)),
        "dense": Bound("approx.square.dense", sp.Piecewise((20 * _m - 13, many), (10, True)),
                       "size", "entries of all weight matrices and bias vectors", src, ("m",),
                       dict(_STEPS)),
        "max_weight": Bound("approx.square.max_weight", sp.Piecewise((4, many), (1, True)),
                            "size", "largest |weight|", src, (), dict(_STEPS)),
    }


def product_gate_error() -> Bound:
    """Sharp sup error of the product gate on [-M, M]^2: M^2 2^(-2m) (attained).

    ×̃(x, y) = 2M^2 [f_m(|x+y|/2M) - f_m(|x|/2M) - f_m(|y|/2M)] satisfies
    -M^2 2^(-2m) <= ×̃ - xy <= 0, with equality at x, y in M (2k-1)/2^m.

    References
    ----------
    Yarotsky 2017, Proposition 3 (stated bound 6 M^2 2^(-2m-2)); the sharp form is derived in
    approximation.md §2.1.

    Examples
    --------
    >>> product_gate_error().evaluate(m=2, M=1)
    0.0625
    """
    return Bound(
        name="approx.product.error",
        expr=_M**2 * sp.Integer(2) ** (-2 * _m),
        kind="upper",
        quantity="sup error on [-M, M]^2",
        source=f"derived in approximation.md §2.1 (sharpens {YAROTSKY_2017}, Prop. 3)",
        variables=("m",),
        conditions=dict(_STEPS_AND_RANGE),
    )


def product_gate_error_stated() -> Bound:
    """The product gate's error bound as Yarotsky states it: 6 M^2 2^(-2m-2).

    Examples
    --------
    >>> product_gate_error_stated().evaluate(m=1, M=1)
    0.375
    """
    return Bound(
        name="approx.product.error_stated",
        expr=6 * _M**2 * sp.Integer(2) ** (-2 * _m - 2),
        kind="upper",
        quantity="sup error on [-M, M]^2",
        source=f"{YAROTSKY_2017}, Prop. 3",
        variables=("m",),
        conditions=dict(_STEPS_AND_RANGE),
    )


def product_gate_size() -> dict[str, Bound]:
    """Size of relunet's product gate with m-step squares on [-M, M]^2.

    One layer of six units computes sigma(±(x+y)), sigma(±x), sigma(±y); three m-step squares
    follow in parallel, their first layers absorbing |.|/(2M).

    Examples
    --------
    >>> product_gate_size()["nonzero"].evaluate(m=3)
    131.0
    """
    src = "derived for relunet's realisation of Yarotsky 2017, Prop. 3 (approximation.md §2.1)"
    many = _m >= 2
    max_w = sp.Max(sp.Piecewise((4, many), (1, True)), 2 * _M**2, 1 / (2 * _M))
    return {
        "depth": Bound("approx.product.depth", _m + 1, "size", "hidden layers", src, ("m",),
                       dict(_STEPS)),
        "width": Bound("approx.product.width", sp.Piecewise((12, many), (9, True)), "size",
                       "largest hidden width", src, (), dict(_STEPS)),
        "nonzero": Bound("approx.product.nonzero", 45 * _m - 4, "size",
                         "nonzero weights and biases", src, ("m",), dict(_STEPS)),
        "dense": Bound("approx.product.dense", sp.Piecewise((156 * _m - 98, many), (91, True)),
                       "size", "entries of all weight matrices and bias vectors", src, ("m",),
                       dict(_STEPS)),
        "max_weight": Bound("approx.product.max_weight", max_w, "size", "largest |weight|", src,
                            (), dict(_STEPS_AND_RANGE)),
    }


_d = symbol("d", integer=True)
_tau = symbol("tau")
_BUMP = {"d": Domain(lower=1, integer=True), "tau": Domain(lower=0, lower_closed=False)}


def bump_integral() -> Bound:
    """Integral over R^d of the cube bump sigma(sum_k h_k(x_k) - (d-1)) with plateau delta = 0.

    The bump is the pyramid sigma(1 - |x - a|_1 / tau); a Dirichlet integral gives
    (2 tau)^d / (d+1)!.

    References
    ----------
    approximation.md §1, item 5 (derived); the bump is the localized device of Chui, Lin and
    Zhou 2018.

    Examples
    --------
    >>> bump_integral().exact(d=2, tau=1)
    2/3
    """
    return Bound("approx.bump.integral", (2 * _tau) ** _d / sp.factorial(_d + 1), "exact",
                 "integral of the cube bump with plateau 0", "derived in approximation.md §1 item 5",
                 ("tau",), dict(_BUMP))


def bump_square_integral() -> Bound:
    """Integral over R^d of the squared cube bump (delta = 0): (2 tau)^d 2 / (d+2)!.

    Examples
    --------
    >>> bump_square_integral().exact(d=1, tau=1)
    2/3
    """
    return Bound("approx.bump.square_integral", 2 * (2 * _tau) ** _d / sp.factorial(_d + 2),
                 "exact", "integral of the squared cube bump with plateau 0",
                 "derived in approximation.md §1 item 5", ("tau",), dict(_BUMP))
