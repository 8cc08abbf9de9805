"""Sawtooth, Yarotsky's square and the product gate (approximation.md §2; checks A5, A6, A7, A12).

Errors far below the output scale are checked exactly in rational arithmetic; float64 checks use
the slacks of the theory page (2.3e-16 for f_m >= x^2, 1e-14 M^2 for the product gate).
"""

from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, target
from hypothesis import strategies as st

from relunet.bounds import product_gate_size, square_size
from relunet.constructions import product_gate, sawtooth, tent, yarotsky_square


def exact1(net, ts):
    return [v[0] for v in net.evaluate_exact([[Fraction(t)] for t in ts])]


def tent_exact(t):
    if t <= 0 or t >= 1:
        return Fraction(0)
    return 2 * t if t <= Fraction(1, 2) else 2 * (1 - t)


def frac(t: Fraction) -> Fraction:
    return t - (t.numerator // t.denominator)


# -- sawtooth -------------------------------------------------------------------------------------


@given(st.integers(1, 10), st.floats(0, 1, width=64))
def test_sawtooth_closed_form(s, x):
    g_s = sawtooth(s)
    fx = Fraction(x)
    assert exact1(g_s, [fx])[0] == tent_exact(frac(2 ** (s - 1) * fx))


@given(st.integers(1, 8), st.floats(0, 1, width=64))
def test_sawtooth_is_iterated_tent_in_float(s, x):
    value = np.array([x])
    for _ in range(s):
        value = tent()(value)
    got = sawtooth(s)(np.array([x]))
    # each tent at most doubles the error: 2^s rounding units
    assert abs(got[0] - value[0]) <= 2.0**s * 4 * 2.0**-53


@pytest.mark.parametrize("s", range(1, 9))
def test_sawtooth_values_at_dyadic_points(s):
    ks = range(0, 2**s + 1)
    values = exact1(sawtooth(s), [Fraction(k, 2**s) for k in ks])
    assert values == [Fraction(k % 2) for k in ks]
    # and in float64 these dyadic points are exact as well
    x = np.array([k / 2**s for k in ks])
    assert sawtooth(s)(x).tolist() == [float(k % 2) for k in ks]


@pytest.mark.parametrize("s", range(1, 7))
def test_sawtooth_has_2_to_the_s_linear_pieces(s):
    net = sawtooth(s)
    step = Fraction(1, 2 ** (s + 2))  # four grid cells per piece
    cells = [step * (j + Fraction(1, 2)) for j in range(2 ** (s + 2))]  # cell midpoints in (0,1)
    slopes = [net.local_affine([c])[0][0, 0] for c in cells]
    assert {abs(v) for v in slopes} == {Fraction(2**s)}
    changes = [j for j in range(1, len(slopes)) if slopes[j] != slopes[j - 1]]
    assert len(changes) + 1 == 2**s
    # the 2^s - 1 interior breakpoints are exactly at k / 2^s
    assert [j * step for j in changes] == [Fraction(k, 2**s) for k in range(1, 2**s)]
    assert (net.depth, net.widths) == (s, (3,) * s)


# -- Yarotsky's square ------------------------------------------------------------------------------


@pytest.mark.parametrize("m", range(1, 13))
def test_square_exact_at_nodes_and_midpoints(m):
    net = yarotsky_square(m)
    h = Fraction(1, 2**m)
    if m <= 8:
        ks = list(range(0, 2**m + 1))
    else:  # a fixed sample of nodes, with both ends
        rng = np.random.default_rng(m)
        ks = sorted({0, 1, 2**m - 1, 2**m, *rng.integers(0, 2**m, 120).tolist()})
    nodes = [k * h for k in ks]
    assert exact1(net, nodes) == [t * t for t in nodes]
    mids = [(2 * k + 1) * h / 2 for k in ks if k < 2**m]
    errors = {v - t * t for v, t in zip(exact1(net, mids), mids, strict=True)}
    assert errors == {Fraction(1, 2 ** (2 * m + 2))}


@pytest.mark.parametrize("m", range(1, 7))
def test_square_is_the_interpolant_piece_by_piece(m):
    # on [k h, (k+1) h] f_m is the chord of x^2: slope (2k+1) h and intercept -k(k+1) h^2
    net = yarotsky_square(m)
    h = Fraction(1, 2**m)
    for k in range(2**m):
        a, c = net.local_affine([(2 * k + 1) * h / 2])
        assert (a[0, 0], c[0]) == ((2 * k + 1) * h, -k * (k + 1) * h * h)


@given(st.integers(1, 14), st.floats(0, 1, width=64))
def test_square_error_in_rationals(m, x):
    fx = Fraction(x)
    err = exact1(yarotsky_square(m), [fx])[0] - fx * fx
    assert 0 <= err <= Fraction(1, 2 ** (2 * m + 2))


@given(st.integers(1, 20), st.floats(0, 1, width=64))
def test_square_float64_above_x_squared(m, x):
    got = yarotsky_square(m)(np.array([x]))[0]
    assert got >= x * x - 2.3e-16
    assert abs(got - x * x) <= 2.0 ** (-2 * m - 2) + 1e-14


def test_square_zero_steps_is_identity():
    net = yarotsky_square(0)
    assert net.depth == 0
    assert net(np.array([0.25, 1.0])).tolist() == [0.25, 1.0]


# -- product gate -----------------------------------------------------------------------------------

BOUNDS = [1, 2, 3, Fraction(1, 2), Fraction(5, 3), 0.75]


@given(st.integers(1, 12), st.sampled_from(BOUNDS), st.floats(-1, 1, width=64),
       st.floats(-1, 1, width=64))
def test_product_gate_error_bound(m, bound, s, t):
    net = product_gate(m, bound)
    big = float(bound)
    x, y = s * big, t * big
    if abs(x) > big or abs(y) > big:  # s * M can round past M
        x, y = np.clip([x, y], -big, big)
    err = net(np.array([[x, y]]))[0, 0] - x * y
    derived = big**2 * 2.0 ** (-2 * m)
    target(abs(err) / derived, label="|error| / (M^2 2^-2m)")
    target(err / big**2, label="error above xy")
    assert abs(err) <= derived + 1e-14 * big**2
    assert err <= 1e-14 * big**2
    # and the derived bound is within Yarotsky's stated bound 6 M^2 2^(-2m-2)
    assert derived <= 6 * big**2 * 2.0 ** (-2 * m - 2)


@given(st.integers(1, 10), st.sampled_from(BOUNDS), st.floats(-1, 1, width=64),
       st.floats(-1, 1, width=64))
def test_product_gate_error_in_rationals(m, bound, s, t):
    net = product_gate(m, bound)
    big = Fraction(bound)
    x, y = Fraction(s) * big, Fraction(t) * big
    err = net.evaluate_exact([[x, y]])[0, 0] - x * y
    assert -big * big / 4**m <= err <= 0


@given(st.integers(1, 10), st.sampled_from(BOUNDS), st.floats(-1, 1, width=64))
def test_product_gate_exact_zeros_on_the_axes(m, bound, s):
    net = product_gate(m, bound)
    x = Fraction(s) * Fraction(bound)
    values = net.evaluate_exact([[x, 0], [0, x], [0, 0]])
    assert [v[0] for v in values] == [0, 0, 0]


@given(st.integers(1, 10), st.sampled_from(BOUNDS), st.floats(-1, 1, width=64),
       st.floats(-1, 1, width=64))
def test_product_gate_symmetry(m, bound, s, t):
    net = product_gate(m, bound)
    x, y = Fraction(s) * Fraction(bound), Fraction(t) * Fraction(bound)
    a, b = net.evaluate_exact([[x, y], [y, x]])
    assert a[0] == b[0]
    # and -x -y gives the same product as x y (|.| only enters)
    assert net.evaluate_exact([[-x, -y]])[0, 0] == a[0]


@pytest.mark.parametrize("m", range(1, 9))
@pytest.mark.parametrize("bound", [1, 3, Fraction(1, 2), Fraction(5, 3)])
def test_product_gate_attains_the_derived_bound(m, bound):
    net = product_gate(m, bound)
    big = Fraction(bound)
    # x, y = M (2k - 1) / 2^m with |x|, |y| <= M: k from -(2^(m-1) - 1) to 2^(m-1)
    ks = sorted({-(2 ** (m - 1)) + 1, 0, 1, 2 ** (m - 1)})
    pts = [(big * (2 * k - 1) / 2**m, big * (2 * j - 1) / 2**m) for k in ks for j in ks]
    values = net.evaluate_exact(pts)
    errors = {v[0] - x * y for v, (x, y) in zip(values, pts, strict=True)}
    assert errors == {-big * big / 4**m}


# -- sizes (A12) ------------------------------------------------------------------------------------


def assert_size_matches(size, formulas, **params):
    assert size.depth == int(formulas["depth"].evaluate(**params))
    assert size.width == int(formulas["width"].evaluate(**params))
    assert size.nonzero == int(formulas["nonzero"].evaluate(**params))
    assert size.dense == int(formulas["dense"].evaluate(**params))
    assert size.max_abs_weight == formulas["max_weight"].evaluate(**params)
    for key in ("depth", "width", "nonzero", "dense"):
        assert formulas[key].evaluate(**params) == int(formulas[key].evaluate(**params))


@pytest.mark.parametrize("m", range(1, 16))
def test_square_size_matches_formula(m):
    net = yarotsky_square(m)
    size = net.size()
    assert_size_matches(size, square_size(), m=m)
    assert size.widths == (3,) + (4,) * (m - 1)
    assert size.other_operations == ()
    assert net.has_rational_weights


@pytest.mark.parametrize("m", range(1, 16))
def test_product_gate_size_matches_formula(m):
    formulas = product_gate_size()
    for bound in (1, 2, Fraction(1, 2), Fraction(1, 8), 3):
        net = product_gate(m, bound)
        size = net.size()
        params = {"m": m}
        assert size.depth == int(formulas["depth"].evaluate(**params)) == m + 1
        assert size.width == int(formulas["width"].evaluate(**params))
        assert size.nonzero == int(formulas["nonzero"].evaluate(**params))
        assert size.dense == int(formulas["dense"].evaluate(**params))
        assert size.max_abs_weight == formulas["max_weight"].evaluate(m=m, M=float(bound))
        assert (size.input_dim, size.output_dim) == (2, 1)
        assert net.has_rational_weights
