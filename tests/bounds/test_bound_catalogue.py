"""The named bounds: every catalogue entry, and the values the approximation bounds must take.

References: approximation.md §1 item 5 (bump integrals), §2 (square error 2^(-2m-2), steps for
accuracy eps), §2.1 (product gate: derived M^2 2^(-2m) <= stated 6 M^2 2^(-2m-2)), §7 (minimax).
"""

import math
import subprocess
import sys
from fractions import Fraction

import numpy as np
import pytest
import sympy as sp
from hypothesis import given
from hypothesis import strategies as st

from relunet.bounds import (
    CATALOGUE,
    KINDS,
    Bound,
    Domain,
    bound_names,
    bump_integral,
    bump_square_integral,
    get_bound,
    minimax_lower_bound,
    product_gate_error,
    product_gate_error_stated,
    product_gate_size,
    square_error,
    square_size,
    square_steps_for_accuracy,
    symbol,
)

NAMES = sorted(CATALOGUE)


def valid_value(domain: Domain):
    """A value well inside `domain`."""
    lo = domain.lower if math.isfinite(domain.lower) else 0.0
    value = math.floor(lo) + 2 if domain.integer else lo + 0.75
    if value > domain.upper or (value == domain.upper and not domain.upper_closed):
        value = math.ceil(lo) if domain.integer else (lo + domain.upper) / 2
    return value


# where the generic point breaks a relation between parameters (Bound.requires)
REQUIRES_POINT = {"geometry.covering.torus": {"R": 3.0}, "dlgn.cells.window": {"lines": 3},
                  "catapult.uv.peak_time_f0": {"m": 4.0}}


def valid_point(b: Bound) -> dict:
    point = {p: valid_value(b.conditions.get(p, Domain(lower=0, lower_closed=False)))
             for p in b.parameters}
    point.update(REQUIRES_POINT.get(b.name, {}))
    assert all(bool(r.subs({b.sym(k): v for k, v in point.items()})) for r in b.requires), b.name
    return point


def test_catalogue_is_not_empty_and_names_are_sorted():
    assert len(CATALOGUE) >= 7
    assert bound_names() == NAMES
    for expected in ("approx.square.error", "approx.product.error", "stat.minimax.holder",
                     "approx.square.nonzero", "approx.product.max_weight"):
        assert expected in CATALOGUE


@pytest.mark.parametrize("name", NAMES)
def test_catalogue_entry_builds_and_evaluates(name):
    b = get_bound(name)
    assert isinstance(b, Bound)
    assert b.name == name
    assert b.kind in KINDS
    assert b.source.strip()
    assert b.quantity.strip()
    assert set(b.variables) <= set(b.parameters)
    assert set(b.conditions) <= set(b.parameters)
    assert set(b.constants) <= set(b.parameters)
    point = valid_point(b)
    value = b.evaluate(**point)
    assert isinstance(value, float)
    assert math.isfinite(value)
    exact = {k: Fraction(v) for k, v in point.items()}
    assert value == pytest.approx(float(b.exact(**exact)), rel=1e-12)
    # arrays of valid points broadcast
    arrays = {k: np.full((2, 1), v) if i == 0 else v for i, (k, v) in enumerate(point.items())}
    out = b.evaluate(**arrays)
    assert np.shape(out) == ((2, 1) if point else ())
    assert np.all(out == value)


@pytest.mark.parametrize("name", NAMES)
def test_catalogue_integer_symbols_have_integer_domains(name):
    b = get_bound(name)
    for p in b.parameters:
        if b.sym(p).is_integer:
            assert p in b.conditions and b.conditions[p].integer, p


@pytest.mark.parametrize("name", NAMES)
def test_catalogue_entry_rejects_out_of_domain_values(name):
    b = get_bound(name)
    point = valid_point(b)
    for p, dom in b.conditions.items():
        bad = dom.lower - 1 if math.isfinite(dom.lower) else dom.upper + 1
        with pytest.raises(ValueError, match=f"{p} = "):
            b.evaluate(**{**point, p: bad})


def _rate_cases():
    for name in NAMES:
        for var in get_bound(name).variables:
            yield pytest.param(name, var, id=f"{name}-{var}")


@pytest.mark.parametrize(("name", "var"), list(_rate_cases()))
def test_catalogue_rates_are_computable(name, var):
    b = get_bound(name)
    slope = b.log_slope(var)
    exponent = b.exponent(var)
    assert slope.is_real and not slope.has(sp.nan)
    # a bound exponential in var has exponent +-oo; a power law has log-slope 0
    assert slope == 0 or exponent in (sp.oo, -sp.oo)


@pytest.mark.parametrize(
    ("name", "var", "exponent"),
    [("approx.square.depth", "m", 1), ("approx.square.nonzero", "m", 1),
     ("approx.square.dense", "m", 1), ("approx.product.dense", "m", 1),
     ("approx.product.nonzero", "m", 1), ("approx.bump.integral", "tau", "d"),
     ("approx.square.error", "m", -sp.oo)],
)
def test_catalogue_exponents(name, var, exponent):
    b = get_bound(name)
    want = b.sym(exponent) if isinstance(exponent, str) else exponent
    assert b.exponent(var) == want


def test_get_bound_unknown_name_suggests_close_matches():
    with pytest.raises(ValueError, match=r"bound = 'approx\.square\.eror' is unknown; did you mean "
                                         r"approx\.square\.error"):
        get_bound("approx.square.eror")


def test_get_bound_unknown_name_without_close_match():
    with pytest.raises(ValueError, match=r"bound = 'zzz' is unknown"):
        get_bound("zzz")


def test_get_bound_builds_fresh_objects():
    assert get_bound("approx.square.nonzero") == square_size()["nonzero"]
    assert get_bound("approx.product.dense") == product_gate_size()["dense"]


# -- values of the approximation bounds --------------------------------------------------------


def test_minimax_exponent_is_exact():
    b = get_bound("stat.minimax.holder")
    r, d = b.sym("r"), b.sym("d")
    assert sp.simplify(b.exponent("n") - (-2 * r / (2 * r + d))) == 0
    assert b.log_power("n") == 0
    assert b.kind == "lower"
    assert b.evaluate(n=10**4, r=1, d=2, c=1) == pytest.approx(0.01, rel=1e-14)
    # r = d/2 gives the parametric-looking rate n^(-1/2)
    assert b.subs(r=1, d=2).exponent("n") == sp.Rational(-1, 2)
    assert minimax_lower_bound() == b


def test_square_error_values():
    b = square_error()
    m = b.sym("m")
    assert sp.simplify(b.expr - sp.Integer(2) ** (-2 * m - 2)) == 0
    ms = np.arange(1, 61)
    assert b.evaluate(m=ms).tolist() == [2.0 ** (-2 * k - 2) for k in ms]
    for k in range(1, 13):
        assert b.exact(m=k) == sp.Rational(1, 2 ** (2 * k + 2))
    assert b.kind == "exact"
    assert b.log_slope("m") == -2 and b.log_slope("m", 4) == -1
    for base in (0, 1, -2, "a"):
        with pytest.raises(ValueError, match="base = .* other than 1"):
            b.log_slope("m", base)
    assert b.evaluate(m=0) == 0.25  # f_0(x) = x, the m that approx.square.steps gives for eps >= 1/4
    with pytest.raises(ValueError, match="m = -1 is out of range"):
        b.evaluate(m=-1)
    with pytest.raises(ValueError, match="m = 0 is out of range"):
        square_size()["nonzero"].evaluate(m=0)  # 15m - 7 needs m >= 1


def minimal_steps(eps: Fraction) -> int:
    """The least m >= 0 with 2^(-2m-2) <= eps, by exact search."""
    m = 0
    while Fraction(1, 2 ** (2 * m + 2)) > eps:
        m += 1
    return m


@given(st.floats(min_value=1e-300, max_value=10.0, allow_nan=False, allow_infinity=False))
def test_square_steps_is_the_least_sufficient_m(eps):
    got = square_steps_for_accuracy().evaluate(eps=eps)
    assert got == minimal_steps(Fraction(eps))


def test_square_steps_exact_at_powers_of_two():
    # eps = 4^-j needs exactly m = j - 1: float rounding of log(1/eps)/log(2) must not add one
    ks = np.arange(1, 1000)
    got = square_steps_for_accuracy().evaluate(eps=2.0 ** -ks.astype(float))
    want = [minimal_steps(Fraction(1, 2 ** int(k))) for k in ks]
    assert got.tolist() == want
    assert square_steps_for_accuracy().exact(eps=Fraction(1, 1024)) == 4
    assert square_steps_for_accuracy().exact(eps=Fraction(1, 1000)) == 4


def test_product_gate_error_values():
    b = product_gate_error()
    assert b.evaluate(m=2, M=1) == 1 / 16
    assert b.evaluate(m=3, M=2) == 4 / 64
    assert b.exact(m=5, M=Fraction(1, 3)) == sp.Rational(1, 9 * 4**5)
    stated = product_gate_error_stated()
    assert stated.evaluate(m=1, M=1) == 6 / 16


def test_product_gate_derived_bound_is_below_stated_symbolically():
    derived, stated = product_gate_error(), product_gate_error_stated()
    m, big = derived.sym("m"), derived.sym("M")
    assert stated.sym("m") == m and stated.sym("M") == big
    ratio = sp.simplify(stated.expr / derived.expr)
    assert ratio == sp.Rational(3, 2)
    assert sp.simplify(stated.expr - derived.expr - derived.expr / 2) == 0
    assert derived.log_slope("m") == stated.log_slope("m") == -2


@given(m=st.integers(1, 200), big=st.floats(1e-6, 1e6, allow_nan=False))
def test_product_gate_derived_bound_is_below_stated_numerically(m, big):
    derived = product_gate_error().evaluate(m=m, M=big)
    stated = product_gate_error_stated().evaluate(m=m, M=big)
    assert 0 < derived <= stated
    assert stated == pytest.approx(1.5 * derived, rel=1e-14)


@pytest.mark.parametrize(
    ("d", "integral", "square"),
    [(1, Fraction(1, 2), Fraction(1, 3)), (2, Fraction(1, 6), Fraction(1, 12)),
     (3, Fraction(1, 24), Fraction(1, 60)), (4, Fraction(1, 120), Fraction(1, 360))],
)
def test_bump_integrals_normalised(d, integral, square):
    for tau in (Fraction(1), Fraction(1, 4), Fraction(3)):
        scale = (2 * tau) ** d
        assert bump_integral().exact(d=d, tau=tau) == sp.Rational(integral * scale)
        assert bump_square_integral().exact(d=d, tau=tau) == sp.Rational(square * scale)


@pytest.mark.parametrize("d", [1, 2])
def test_bump_integrals_against_sympy_integration(d):
    # B = sigma(1 - |x|_1 / tau): 2^d times the integral over the simplex in the positive orthant
    tau = symbol("tau")
    xs = sp.symbols(f"x0:{d}", nonnegative=True)
    results = []
    for power in (1, 2):
        value = (1 - sum(xs) / tau) ** power
        for i in reversed(range(d)):  # x_i from 0 to tau - x_0 - ... - x_(i-1)
            value = sp.integrate(value, (xs[i], 0, tau - sum(xs[:i])))
        results.append(2**d * value)
    bi, bs = bump_integral(), bump_square_integral()
    assert sp.simplify(results[0] - bi.expr.subs(bi.sym("d"), d)) == 0
    assert sp.simplify(results[1] - bs.expr.subs(bs.sym("d"), d)) == 0


def test_size_bounds_hand_counted_for_one_step():
    # m = 1: W1 (3x1), b1 = (0, -1/2, -1), W2 = (1/2, 1, -1/2), b2 = 0
    sizes = {k: b.evaluate(m=1) for k, b in square_size().items()}
    assert sizes == {"depth": 1, "width": 3, "nonzero": 8, "dense": 10, "max_weight": 1}
    sizes = {k: b.evaluate(m=3) for k, b in square_size().items()}
    assert sizes == {"depth": 3, "width": 4, "nonzero": 38, "dense": 47, "max_weight": 4}
    gate = product_gate_size()
    assert gate["depth"].evaluate(m=4) == 5
    assert gate["max_weight"].evaluate(m=1, M=1) == 2
    assert gate["max_weight"].evaluate(m=3, M=0.125) == 4
    assert gate["max_weight"].evaluate(m=3, M=0.0625) == 8


def test_bounds_never_import_torch():
    code = ("import sys, relunet.bounds, relunet.bounds.catalogue; "
            "relunet.bounds.get_bound('approx.square.error').evaluate(m=2); "
            "bad = sorted(k for k in sys.modules if k.split('.')[0] in "
            "('torch', 'relunet') and k != 'relunet' and not k.startswith('relunet.bounds')); "
            "assert not bad, bad")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("name, values, fragment", [
    ("catapult.uv.peak_time", {"m": 1e4, "c": 4.0, "C": 0.0}, "c = 4 is out of range: c must be a number in \\(2, 4"),
    ("catapult.uv.peak_time_f0", {"m": 1.0, "f0_sq": 100.0, "c": 3.0, "C": 0.0}, "requires f0_sq <= m"),
    ("geometry.covering.torus", {"R": 0.5, "r": 1.0, "C": 1.0, "eta": 0.1}, "requires r < R"),
    ("dlgn.cells.window", {"lines": 0, "points": 5}, "at most C\\(lines, 2\\)"),
    ("erm.deepening.max_weight", {"tau": 0.75}, "tau = 0.75 is out of range"),
    ("erm.deepening.inverse_tau", {"n": 10, "p_max": 0.5, "d": 1, "delta": 0.1}, "p_max = 0.5 is out of range"),
])
def test_entries_refuse_values_outside_their_theorem(name, values, fragment):
    # each of these returned a number before (a peak time for a diverging run, a negative time,
    # a torus with R <= r, more crossings than pairs of lines, ...)
    with pytest.raises(ValueError, match=fragment):
        get_bound(name).evaluate(**values)


def test_square_steps_feed_back_into_the_square_error():
    steps = get_bound("approx.square.steps").evaluate(eps=0.3)
    assert steps == 0 and get_bound("approx.square.error").evaluate(m=steps) == 0.25


def test_printed_entries_say_what_they_are_for():
    assert "note: for the class betas=[1, 2], dims=[3, 1]" in str(get_bound("stat.rate.composite"))
    assert "plateau 0" in get_bound("approx.bump.integral").quantity
    assert "f0 of depth L0" in get_bound("erm.deepening.wide_nonzero").quantity
    assert "DeVore" in get_bound("intrinsic.approx.ambient_error").source
    assert "lower bound" in get_bound("intrinsic.approx.ambient_error").source


# -- values of the interpolation (deepening) bounds --------------------------------------------


def test_deepening_extra_term_is_the_bump_square_integral_times_the_residuals():
    # ||Σ c_i B_i||² = p Σ c_i² ∫ B² with ∫ B² = (2τ)^d 2/(d+2)!
    extra = get_bound("erm.deepening.extra_term")
    assert extra.exact(p_max=1, tau=Fraction(1, 4), d=1, sum_c2=3) == sp.Rational(1, 2)  # (1/2) (2/6) 3
    for d in (1, 2, 3, 4):
        tau = Fraction(1, 8)
        assert extra.exact(p_max=2, tau=tau, d=d, sum_c2=5) == 10 * bump_square_integral().exact(d=d, tau=tau)


def test_deepening_tau_choice_and_rate_by_hand():
    tau = get_bound("erm.deepening.tau")
    assert tau.evaluate(q_inf=0.004, n=100, d=2) == 0.002  # q/2 < n^(-2/d)/2 = 0.005
    assert tau.evaluate(q_inf=1.0, n=100, d=2) == 0.005
    # the rate is the extra term at Σc² = 4 M² n and τ = n^(-2/d)/2, so (2τ)^d = n^-2
    rate, extra = get_bound("erm.deepening.extra_rate"), get_bound("erm.deepening.extra_term")
    for d, n in ((1, 16), (2, 9), (3, 8)):
        t = sp.Rational(1, 2) * sp.Integer(n) ** sp.Rational(-2, d)
        want = extra.exact(p_max=2, tau=t, d=d, sum_c2=4 * Fraction(9, 4) * n)
        assert rate.exact(M=Fraction(3, 2), p_max=2, d=d, n=n) == want


def test_deepening_inverse_tau_union_bound_by_hand():
    inv = get_bound("erm.deepening.inverse_tau")
    assert inv.evaluate(n=2, p_max=1, d=1, delta=0.25) == 16.0  # 4 (2 * 1 / 0.5)
    assert inv.evaluate(n=3, p_max=1, d=2, delta=0.5) == pytest.approx(4 * 6**0.5, rel=1e-14)
    with pytest.raises(ValueError, match="n = 1 is out of range"):  # one sample has no separation
        inv.evaluate(n=1, p_max=1, d=1, delta=0.25)


def test_deepening_deep_realisation_sizes_by_hand():
    # one block per sample, two layers each, after the L0 layers of f0
    assert get_bound("erm.deepening.deep_depth").evaluate(L0=2, n=1000) == 2002
    assert get_bound("erm.deepening.deep_depth").evaluate(L0=1, n=1) == 3
    # a block in d = 1: layer A 6 x 4 + 6, layer B 4 x 6 + 4
    assert get_bound("erm.deepening.deep_block_dense").evaluate(d=1) == 58


def test_product_gate_width_and_dense_count_by_hand():
    # 2 -> 6 units, then three m-step squares side by side (widths 3, then 4 from the second layer on),
    # then the output: m = 1 has 18 + (6*9 + 9) + (9 + 1) = 91 entries, m = 2 has 18 + 63 + (9*12 + 12) + 13 = 214
    gate = product_gate_size()
    assert gate["width"].evaluate(m=1) == 9 and gate["width"].evaluate(m=2) == 12
    assert gate["dense"].evaluate(m=1) == 91 and gate["dense"].evaluate(m=2) == 214
    assert product_gate_error().kind == "upper" and product_gate_error_stated().kind == "upper"
