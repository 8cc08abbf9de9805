"""Hypothesis strategies for property tests of ReLU-network theory in a user's own suite.

Examples
--------
>>> from hypothesis import given, settings
>>> from relunet.verify.strategies import relu_nets
>>> @settings(deadline=None, max_examples=20)
... @given(relu_nets(input_dim=2))
... def test_to_module_agrees(net):
...     import numpy as np, torch
...     x = np.ones((3, 2))
...     out = net.to_module()(torch.as_tensor(x)).detach().numpy()
...     assert np.allclose(out, net(x), rtol=1e-12, atol=1e-12)
>>> test_to_module_agrees()
"""

from __future__ import annotations

from fractions import Fraction

import sympy as sp
from hypothesis import strategies as st

from relunet.constructions.network import ReluNet
from relunet.constructions.targets import Target

__all__ = [
    "bump_parameters",
    "dyadic",
    "points",
    "polynomial_targets",
    "product_gate_parameters",
    "relu_nets",
    "square_steps",
    "trapezoid_parameters",
]


def dyadic(max_abs: int = 4, denominator_log2: int = 4) -> st.SearchStrategy[Fraction]:
    """Dyadic rationals k / 2^j with |value| <= max_abs and j <= denominator_log2.

    Dyadic weights keep float64 evaluation exact for small nets, so float and rational
    evaluation can be compared for equality.
    """
    den = 2**denominator_log2
    return st.integers(-max_abs * den, max_abs * den).map(lambda k: Fraction(k, den))


@st.composite
def relu_nets(draw, input_dim=None, output_dim=None, max_depth: int = 3, max_width: int = 5,
              weights: st.SearchStrategy | None = None) -> ReluNet:
    """Random ReluNets with rational (by default dyadic) weights.

    Parameters
    ----------
    input_dim, output_dim : int or strategy, optional
        Fixed dimensions or strategies for them (default 1 to 3).
    max_depth : int
        Hidden layers from 0 to max_depth.
    max_width : int
        Hidden widths from 1 to max_width.
    weights : strategy, optional
        Strategy for each weight and bias (default :func:`dyadic`).
    """
    def dim(v):
        if v is None:
            return draw(st.integers(1, 3))
        return draw(v) if isinstance(v, st.SearchStrategy) else int(v)

    d_in, d_out = dim(input_dim), dim(output_dim)
    depth = draw(st.integers(0, max_depth))
    widths = [d_in] + [draw(st.integers(1, max_width)) for _ in range(depth)] + [d_out]
    w = weights if weights is not None else dyadic()
    layers = []
    for fan_in, fan_out in zip(widths[:-1], widths[1:]):
        mat = [[draw(w) for _ in range(fan_in)] for _ in range(fan_out)]
        bias = [draw(w) for _ in range(fan_out)]
        layers.append((mat, bias))
    return ReluNet(layers, name="random")


def points(dim: int, low: float = -2.0, high: float = 2.0, n: int = 8) -> st.SearchStrategy:
    """Lists of n points in [low, high]^dim (float64, finite)."""
    coord = st.floats(low, high, allow_nan=False, allow_infinity=False, width=64)
    return st.lists(st.lists(coord, min_size=dim, max_size=dim), min_size=n, max_size=n)


def square_steps(max_m: int = 16) -> st.SearchStrategy[int]:
    """Steps m of Yarotsky's square."""
    return st.integers(1, max_m)


def product_gate_parameters(max_m: int = 10) -> st.SearchStrategy[tuple[int, Fraction]]:
    """(m, M) for the product gate: m steps and a dyadic half-width M in [1/8, 8]."""
    return st.tuples(st.integers(1, max_m), st.integers(1, 64).map(lambda k: Fraction(k, 8)))


def trapezoid_parameters() -> st.SearchStrategy[tuple[Fraction, Fraction, Fraction]]:
    """(center a, plateau delta >= 0, ramp tau > 0) as dyadic rationals."""
    return st.tuples(dyadic(4, 4), dyadic(2, 4).map(abs),
                     st.integers(1, 64).map(lambda k: Fraction(k, 16)))


@st.composite
def bump_parameters(draw, max_dim: int = 5):
    """(center, plateau, ramp) for a cube bump in dimension 1..max_dim."""
    d = draw(st.integers(1, max_dim))
    center = [draw(dyadic(2, 4)) for _ in range(d)]
    _, plateau, ramp = draw(trapezoid_parameters())
    return center, plateau, ramp


@st.composite
def polynomial_targets(draw, dim: int = 1, max_degree: int = 3, max_terms: int = 4) -> Target:
    """Polynomial targets with small rational coefficients in x1..x_dim."""
    syms = Target._symbols(dim)
    n_terms = draw(st.integers(1, max_terms))
    expr = sp.Integer(0)
    for _ in range(n_terms):
        coef = draw(dyadic(2, 2))
        exps = [draw(st.integers(0, max_degree)) for _ in range(dim)]
        expr += sp.Rational(coef.numerator, coef.denominator) * sp.Mul(
            *[s**e for s, e in zip(syms, exps)])
    return Target(expr, dim)
