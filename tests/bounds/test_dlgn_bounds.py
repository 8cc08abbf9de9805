"""DLGN bounds: every entry of BOUNDS behaves like a catalogue entry, and the counts take their known values.

References: dlgn.md §3 (paths), §7 (soft-to-hard, β -> 0), §8 (Zaslavsky, Cover, 1 + lines + points,
ReLU region bounds).
"""

import math
from fractions import Fraction
from itertools import product

import numpy as np
import pytest
import sympy as sp
from hypothesis import given
from hypothesis import strategies as st

from relunet.bounds import KINDS, Bound, Domain
from relunet.bounds.dlgn import (
    BOUNDS,
    arrangement_cells_affine,
    arrangement_cells_central,
    beta_zero_error,
    binomsum,
    path_count,
    path_count_value_x,
    relu_regions,
    relu_regions_serra,
    soft_to_hard,
    window_cells,
)

NAMES = sorted(BOUNDS)


def _valid_point(b: Bound) -> dict:
    out = {}
    for p in b.parameters:
        dom = b.conditions.get(p, Domain(lower=0, lower_closed=False))
        lo = dom.lower if math.isfinite(dom.lower) else 0.0
        out[p] = math.floor(lo) + 2 if dom.integer else lo + 0.75
    if b.requires:  # dlgn.cells.window: at most C(lines, 2) crossings
        out["lines"] = 3
    return out


@pytest.mark.parametrize("name", NAMES)
def test_entry_builds_evaluates_and_broadcasts(name):
    b = BOUNDS[name]()
    assert isinstance(b, Bound) and b.name == name and b.kind in KINDS
    assert b.source.strip() and b.quantity.strip()
    point = _valid_point(b)
    value = b.evaluate(**point)
    assert isinstance(value, float) and math.isfinite(value)
    assert value == pytest.approx(float(b.exact(**{k: Fraction(v) for k, v in point.items()})), rel=1e-12)
    first = b.parameters[0]
    out = b.evaluate(**{**point, first: np.full((2, 1), point[first])})
    assert np.shape(out) == (2, 1) and np.all(out == value)


@pytest.mark.parametrize("name", NAMES)
def test_entry_integer_symbols_have_integer_domains_and_reject_bad_values(name):
    b = BOUNDS[name]()
    point = _valid_point(b)
    for p in b.parameters:
        if b.sym(p).is_integer:
            assert p in b.conditions and b.conditions[p].integer, p
    for p, dom in b.conditions.items():
        with pytest.raises(ValueError, match=f"{p} = "):
            b.evaluate(**{**point, p: dom.lower - 1})


@pytest.mark.parametrize("name", [n for n in NAMES if BOUNDS[n]().variables])
def test_entry_rates_are_computable(name):
    b = BOUNDS[name]()
    for var in b.variables:
        slope, exponent = b.log_slope(var), b.exponent(var)
        assert slope.is_real and (slope == 0 or exponent in (sp.oo, -sp.oo))


def test_binomsum_is_the_partial_binomial_sum():
    for n, d in product(range(0, 12), range(0, 14)):
        want = sum(math.comb(n, k) for k in range(d + 1))
        assert binomsum(n, d) == want
        assert binomsum._imp_(float(n), float(d)) == want
    arr = binomsum._imp_(np.array([[5.0], [6.0]]), np.array([1.0, 2.0, 3.0]))
    assert arr.tolist() == [[6, 16, 26], [7, 22, 42]]


def test_arrangement_counts_take_their_classical_values():
    aff, cen = arrangement_cells_affine(), arrangement_cells_central()
    for n in range(1, 30):
        assert aff.exact(N=n, d=1) == n + 1
        assert aff.exact(N=n, d=2) == 1 + n + n * (n - 1) // 2  # lines in general position
        assert cen.exact(N=n, d=2) == 2 * n  # lines through the origin
        assert aff.exact(N=n, d=n) == 2**n
        assert cen.exact(N=n, d=n) == 2**n
    # Cover: C(N, d) = 2 sum_{k<d} C(N-1, k); N hyperplanes through 0 in R^3
    assert cen.exact(N=4, d=3) == 14
    assert aff.evaluate(N=np.arange(1, 6), d=2).tolist() == [2, 4, 7, 11, 16]


def test_path_counts_and_their_exponent():
    assert path_count().exact(m=10, L=4) == 10**4
    assert path_count_value_x().exact(d=3, m=5, L=3) == 375
    assert path_count().exponent("m") == path_count().sym("L")
    assert path_count_value_x().log_slope("m") == 0


def test_window_cells_is_one_plus_lines_plus_points():
    assert window_cells().exact(lines=0, points=0) == 1
    assert window_cells().exact(lines=10, points=45) == 56


@given(st.integers(1, 6), st.floats(0.01, 100), st.floats(0, 3), st.floats(0, 10))
def test_soft_to_hard_bound_matches_its_formula(L, beta, delta, s):
    got = soft_to_hard().evaluate(L=L, beta=beta, delta=delta, S=s)
    assert got == pytest.approx(L * math.exp(-beta * delta) * s, rel=1e-12, abs=1e-300)


def test_soft_to_hard_rate_and_beta_zero_exponent():
    b = soft_to_hard()
    assert b.exponent("beta") == -sp.oo
    assert sp.simplify(b.log_slope("beta") + b.sym("delta") / sp.log(2)) == 0
    assert beta_zero_error().exponent("beta") == 1
    assert beta_zero_error().evaluate(L=2, beta=0.01, eta_max=3, S=4) == pytest.approx(0.06, rel=1e-12)


def _serra_brute(widths, d):
    """The J-sum of Serra et al. written directly from its definition."""
    total = 0
    for js in product(*[range(w + 1) for w in widths]):
        ok = all(js[l] <= min([d] + [widths[i] - js[i] for i in range(l)] + [widths[l]]) for l in range(len(widths)))
        if ok:
            total += math.prod(math.comb(w, j) for w, j in zip(widths, js))
    return total


@pytest.mark.parametrize(("widths", "d"), [([3], 2), ([3, 3], 2), ([4, 2, 5], 3), ([2, 2, 2, 2], 2), ([5, 5], 5)])
def test_relu_bounds(widths, d):
    serra = relu_regions_serra(widths, d)
    assert serra == _serra_brute(widths, d)
    if len(set(widths)) == 1:
        product_bound = int(relu_regions().exact(m=widths[0], d=d, L=len(widths)))
        assert serra <= product_bound
    # one layer: the bound is the arrangement count of its m hyperplanes
    assert relu_regions_serra([widths[0]], d) == int(arrangement_cells_affine().exact(N=widths[0], d=d))


def test_relu_regions_serra_rejects_bad_input():
    with pytest.raises(ValueError, match="widths = "):
        relu_regions_serra([], 2)
    with pytest.raises(ValueError, match="d = 0"):
        relu_regions_serra([2], 0)


def test_latex_prints_the_sum():
    assert r"\sum_{k=0}^{d}" in arrangement_cells_affine().latex()
    assert r"\left(" in relu_regions().latex()
