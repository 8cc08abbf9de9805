"""Exact identities of the ReLU building blocks (approximation.md §1; checks A1, A2).

Every identity is checked exactly in rational arithmetic and in float64: 1e-12 relative, with
the absolute tolerance of §1 item 7, 4u(|t| + |a| + delta + tau)/tau, where the exact value is 0
or tau is small (u is the unit roundoff).
"""

import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from relunet.constructions import (
    absolute_value,
    clip,
    cube_bump,
    hat,
    max_of,
    maximum,
    min_of,
    minimum,
    piecewise_linear,
    product_gate,
    sawtooth,
    tent,
    trapezoid,
    yarotsky_square,
)

U = 2.0**-53  # unit roundoff of float64


def relu(t):
    return max(t, 0 * t)


def exact1(net, ts):
    """Exact values of a 1-input, 1-output net at the exact values of `ts`."""
    return [v[0] for v in net.evaluate_exact([[Fraction(t)] for t in ts])]


def assert_float_close(got, want, atol):
    got, want = np.asarray(got, dtype=float), np.asarray(want, dtype=float)
    assert np.all(np.abs(got - want) <= 1e-12 * np.abs(want) + atol), (got, want)


# -- closed forms in Fractions ----------------------------------------------------------------


def trap_exact(t, a, delta, tau):
    """T_{a,delta,tau}(t) = clip(min(t - (a-delta-tau), (a+delta+tau) - t)/tau, 0, 1)."""
    return min(Fraction(1), relu(min(t - (a - delta - tau), (a + delta + tau) - t) / tau))


def tent_exact(t):
    if t <= 0 or t >= 1:
        return Fraction(0)
    return 2 * t if t <= Fraction(1, 2) else 2 * (1 - t)


floats = st.floats(-16, 16, allow_nan=False, width=64)
centers = st.floats(-4, 4, allow_nan=False, width=64)
ramps = st.floats(1e-3, 4, allow_nan=False, width=64)
plateaus = st.one_of(st.just(0.0), st.floats(0, 2, allow_nan=False, width=64))


# -- |t|, max, min, clip --------------------------------------------------------------------------


@given(hnp.arrays(np.float64, st.integers(1, 20), elements=st.floats(-1e6, 1e6, width=64)))
def test_absolute_value(t):
    net = absolute_value()
    assert net(t).tolist() == np.abs(t).tolist()  # sigma(t) + sigma(-t): one term is 0
    assert exact1(net, t) == [abs(Fraction(v)) for v in t]
    assert (net.depth, net.widths) == (1, (2,))


@given(st.lists(st.floats(-1e3, 1e3, width=64), min_size=2, max_size=2), st.booleans())
def test_max_and_min_of_two(ab, use_max):
    net, ref = (maximum(), max) if use_max else (minimum(), min)
    x = np.array([ab])
    scale = abs(ab[0]) + abs(ab[1])
    assert_float_close(net(x)[0, 0], ref(ab), 4 * U * scale)
    assert net.evaluate_exact([[Fraction(v) for v in ab]])[0, 0] == ref(Fraction(v) for v in ab)
    assert (net.depth, net.widths) == (1, (3,))


@given(st.integers(1, 9), st.data(), st.booleans())
def test_max_of_and_min_of(n, data, use_max):
    net = max_of(n) if use_max else min_of(n)
    ref = np.max if use_max else np.min
    x = data.draw(hnp.arrays(np.float64, (data.draw(st.integers(1, 5)), n),
                             elements=st.floats(-1e3, 1e3, width=64)))
    got = net(x)
    assert got.shape == (x.shape[0], 1)
    scale = np.max(np.abs(x), axis=1, keepdims=True)
    assert_float_close(got, ref(x, axis=1, keepdims=True), 1e-12 * scale)
    exact = net.evaluate_exact(x)
    assert [v[0] for v in exact] == [(max if use_max else min)(Fraction(v) for v in row)
                                     for row in x]
    assert net.depth == math.ceil(math.log2(n))
    assert net.input_dim == n and net.output_dim == 1


def test_max_of_uses_every_input():
    # each coordinate in turn is the unique maximum
    for n in range(1, 10):
        x = -np.ones((n, n)) + 3 * np.eye(n)
        assert max_of(n)(x).ravel().tolist() == [2.0] * n
        assert min_of(n)(-x).ravel().tolist() == [-2.0] * n


@given(floats, st.one_of(st.integers(1, 10), st.floats(1e-3, 10, width=64)))
def test_clip(t, bound):
    net = clip(bound)
    assert_float_close(net(np.array([t]))[0], np.clip(t, -bound, bound),
                       4 * U * (abs(t) + bound))
    big = Fraction(bound)
    assert exact1(net, [t])[0] == max(-big, min(big, Fraction(t)))
    assert (net.depth, net.widths) == (1, (2,))


# -- tent, hat, trapezoid ---------------------------------------------------------------------------


@given(st.floats(-2, 3, allow_nan=False, width=64))
def test_tent_closed_form_and_symmetry(t):
    g = tent()
    value = exact1(g, [t])[0]
    assert value == tent_exact(Fraction(t))
    # g(t) = g(1 - t), exactly in rationals
    assert g.evaluate_exact([[1 - Fraction(t)]])[0, 0] == value
    assert_float_close(g(np.array([t]))[0], float(value), 4 * U * (abs(t) + 1))
    if t <= 0 or t >= 1:
        assert value == 0
    else:
        assert 0 < value <= 1


def test_tent_values_at_dyadic_points_are_exact_in_float():
    t = np.arange(-8, 17) / 8
    assert tent()(t).tolist() == [float(tent_exact(Fraction(v))) for v in t]
    assert tent()(t).tolist() == tent()(1 - t).tolist()


@given(floats, centers, plateaus, ramps)
def test_trapezoid_closed_form(t, a, delta, tau):
    net = trapezoid(a, delta, tau)
    fa, fd, ft = Fraction(a), Fraction(delta), Fraction(tau)
    value = exact1(net, [t])[0]
    assert value == trap_exact(Fraction(t), fa, fd, ft)
    atol = 4 * U * (abs(t) + abs(a) + delta + tau) / tau
    assert_float_close(net(np.array([t]))[0], float(value), atol)
    assert net.widths == ((3,) if delta == 0 else (4,))


@given(centers, plateaus, ramps, st.floats(0, 1, width=64))
def test_trapezoid_plateau_support_and_ramps(a, delta, tau, s):
    net = trapezoid(a, delta, tau)
    fa, fd, ft, fs = Fraction(a), Fraction(delta), Fraction(tau), Fraction(s)
    # plateau: 1 on [a - delta, a + delta]
    on = fa - fd + 2 * fd * fs
    # support: 0 outside (a - delta - tau, a + delta + tau)
    left, right = fa - fd - ft - fs * 5, fa + fd + ft + fs * 5
    # ramps: linear with slope +-1/tau
    ramp = fa - fd - ft + ft * fs
    values = exact1(net, [on, left, right, ramp])
    assert values[:3] == [1, 0, 0]
    assert values[3] == fs
    a_left, _ = net.local_affine([fa - fd - ft / 2])
    a_right, _ = net.local_affine([fa + fd + ft / 2])
    assert (a_left[0, 0], a_right[0, 0]) == (1 / ft, -1 / ft)
    # the same in float64, with the tolerance of §1 item 7
    pts = np.array([float(on), float(left), float(right)])
    atol = 4 * U * (np.abs(pts) + abs(a) + delta + tau) / tau
    assert np.all(np.abs(net(pts) - [1, 0, 0]) <= atol)


@given(centers, plateaus, ramps, floats, floats)
def test_trapezoid_is_lipschitz_one_over_tau(a, delta, tau, s, t):
    net = trapezoid(a, delta, tau)
    vs, vt = exact1(net, [s, t])
    assert abs(vs - vt) <= abs(Fraction(s) - Fraction(t)) / Fraction(tau)
    assert 0 <= vs <= 1


@given(floats, centers, ramps)
def test_hat_is_the_trapezoid_without_plateau(t, a, tau):
    h = hat(a, tau)
    value = exact1(h, [t])[0]
    assert value == relu(1 - abs(Fraction(t) - Fraction(a)) / Fraction(tau))
    assert value == exact1(trapezoid(a, 0, tau), [t])[0]
    atol = 4 * U * (abs(t) + abs(a) + tau) / tau
    assert_float_close(h(np.array([t]))[0], float(value), atol)
    assert (h.depth, h.widths) == (1, (3,))
    assert exact1(h, [a])[0] == 1


def test_yarotsky_psi_is_trapezoid_0_1_1():
    psi = trapezoid(0, 1, 1)
    t = np.array([-3, -2, -1.5, -1, 0, 1, 1.5, 2, 3])
    assert psi(t).tolist() == [0, 0, 0.5, 1, 1, 1, 0.5, 0, 0]


# -- cube bump --------------------------------------------------------------------------------------


@st.composite
def bumps(draw):
    d = draw(st.integers(1, 5))
    a = [draw(centers) for _ in range(d)]
    delta, tau = draw(plateaus), draw(ramps)
    reach = delta + tau
    offsets = draw(hnp.arrays(np.float64, (draw(st.integers(1, 4)), d),
                              elements=st.floats(-1.5, 1.5, width=64)))
    x = np.asarray(a) + offsets * reach
    return d, a, delta, tau, x


@given(bumps())
def test_cube_bump_range_and_trapezoid_bound(case):
    d, a, delta, tau, x = case
    net = cube_bump(a, delta, tau)
    values = [v[0] for v in net.evaluate_exact(x)]
    fa, fd, ft = [Fraction(c) for c in a], Fraction(delta), Fraction(tau)
    for row, b in zip(x, values, strict=True):
        traps = [trap_exact(Fraction(xk), ak, fd, ft) for xk, ak in zip(row, fa, strict=True)]
        assert 0 <= b <= 1
        assert b <= min(traps)
        assert b == relu(sum(traps) - (d - 1))
        if delta == 0:
            l1 = sum(abs(Fraction(xk) - ak) for xk, ak in zip(row, fa, strict=True))
            assert b == relu(1 - l1 / ft)
    # float64, with the §1 item 7 tolerance summed over the d coordinates
    atol = 4 * U * d * (np.max(np.abs(x)) + max(abs(c) for c in a) + delta + tau) / tau + 4 * U * d
    got = net(x).ravel()
    assert np.all(np.abs(got - np.array([float(v) for v in values])) <= atol)
    assert np.all(got >= -atol) and np.all(got <= 1 + atol)


@given(st.integers(1, 5), plateaus, ramps, st.data())
def test_cube_bump_plateau_and_support(d, delta, tau, data):
    assume(delta > 0)
    a = [data.draw(centers) for _ in range(d)]
    net = cube_bump(a, delta, tau)
    fa, fd, ft = [Fraction(c) for c in a], Fraction(delta), Fraction(tau)
    s = [Fraction(data.draw(st.floats(-1, 1, width=64))) for _ in range(d)]
    inside = [ak + sk * fd for ak, sk in zip(fa, s, strict=True)]
    assert net.evaluate_exact([inside])[0, 0] == 1
    # one coordinate leaves its support: the bump is 0 whatever the others are
    k = data.draw(st.integers(0, d - 1))
    outside = list(inside)
    outside[k] = fa[k] + (fd + ft) * (1 + abs(s[k])) * (1 if s[k] >= 0 else -1)
    assert net.evaluate_exact([outside])[0, 0] == 0


@pytest.mark.parametrize("d", [1, 2, 3, 4, 5])
def test_cube_bump_size(d):
    for delta, units in ((Fraction(1, 4), 4 * d + 1), (0, 3 * d + 1)):
        net = cube_bump([Fraction(1, 2)] * d, delta, Fraction(1, 8))
        assert net.depth == 2
        assert sum(net.widths) == units
        assert net.widths == (units - 1, 1)
        assert (net.input_dim, net.output_dim) == (d, 1)


# -- piecewise-linear interpolation -----------------------------------------------------------------


@st.composite
def pwl_data(draw):
    k = draw(st.integers(2, 7))
    knots = sorted(draw(st.sets(st.integers(-40, 40), min_size=k, max_size=k)))
    denom = draw(st.sampled_from([1, 3, 4, 7]))
    knots = [Fraction(t, denom) for t in knots]
    values = [Fraction(draw(st.integers(-30, 30)), draw(st.sampled_from([1, 2, 5])))
              for _ in range(k)]
    return knots, values


@given(pwl_data(), st.sampled_from(["extend", "constant"]))
def test_piecewise_linear_interpolates_exactly(data, outside):
    knots, values = data
    net = piecewise_linear(knots, values, outside=outside)
    assert exact1(net, knots) == values
    mids = [(s + t) / 2 for s, t in zip(knots[:-1], knots[1:], strict=True)]
    want = [(u + v) / 2 for u, v in zip(values[:-1], values[1:], strict=True)]
    assert exact1(net, mids) == want
    # linear between knots: at 1/3 of each interval as well
    thirds = [s + (t - s) / 3 for s, t in zip(knots[:-1], knots[1:], strict=True)]
    want = [u + (v - u) / 3 for u, v in zip(values[:-1], values[1:], strict=True)]
    assert exact1(net, thirds) == want
    # left of the first knot: constant
    assert exact1(net, [knots[0] - 1, knots[0] - 100]) == [values[0]] * 2
    slope = (values[-1] - values[-2]) / (knots[-1] - knots[-2])
    right = exact1(net, [knots[-1] + 1, knots[-1] + 100])
    if outside == "constant":
        assert right == [values[-1]] * 2
    else:
        assert right == [values[-1] + slope, values[-1] + 100 * slope]
    # float64 at the knots
    pts = np.array([float(t) for t in knots])
    scale = sum(abs(float(v)) for v in values) + np.abs(pts) * max(
        abs(float((v - u) / (t - s))) for s, t, u, v in
        zip(knots[:-1], knots[1:], values[:-1], values[1:], strict=True))
    assert_float_close(net(pts), [float(v) for v in values], 16 * U * (scale + 1))
    assert net.depth <= 1


def test_piecewise_linear_one_unit_per_slope_change():
    net = piecewise_linear([0, 1, 2, 3], [0, 1, 2, 0])  # slopes 1, 1, -2: two changes
    assert net.widths == (2,)
    net = piecewise_linear([0, 1, 2, 3], [0, 1, 2, 0], outside="constant")
    assert net.widths == (3,)
    const = piecewise_linear([0, 1], [5, 5])
    assert const.depth == 0 and const(np.array([-3.0, 7.0])).tolist() == [5.0, 5.0]


# -- bad input ------------------------------------------------------------------------------------

BAD = [
    (lambda: product_gate(0), "m = 0"),
    (lambda: product_gate(-2), "m = -2"),
    (lambda: product_gate(1.5), "m = 1.5"),
    (lambda: product_gate(2, -1), "bound = -1"),
    (lambda: product_gate(2, 0), "bound = 0"),
    (lambda: product_gate(2, float("inf")), "bound = inf"),
    (lambda: product_gate(2, "x"), "bound = 'x'"),
    (lambda: yarotsky_square(-1), "m = -1"),
    (lambda: yarotsky_square(2.5), "m = 2.5"),
    (lambda: yarotsky_square(None), "m = None"),
    (lambda: sawtooth(0), "s = 0"),
    (lambda: sawtooth(1.5), "s = 1.5"),
    (lambda: sawtooth("a"), "s = 'a'"),
    (lambda: sawtooth(float("inf")), "s = inf"),
    (lambda: sawtooth(float("nan")), "s = nan"),
    (lambda: sawtooth(True), "s = True"),
    (lambda: max_of(0), "n = 0"),
    (lambda: min_of(2.5), "n = 2.5"),
    (lambda: clip(0), "bound = 0"),
    (lambda: clip(-1), "bound = -1"),
    (lambda: trapezoid(0, 1, -1), "ramp = -1"),
    (lambda: trapezoid(0, 1, 0), "ramp = 0"),
    (lambda: trapezoid(0, -1, 1), "plateau = -1"),
    (lambda: trapezoid(None, 1, 1), "center = None"),
    (lambda: trapezoid(float("nan"), 1, 1), "center = nan"),
    (lambda: hat(0, 0), "half_width = 0"),
    (lambda: hat("a", 1), "center = 'a'"),
    (lambda: hat(np.longdouble("inf"), 1), "center = inf is out of range: center must be finite"),
    (lambda: hat(10**400, 1), "exceeds float64's range"),  # once an OverflowError from float()
    (lambda: cube_bump([], 0, 1), "center = "),
    (lambda: cube_bump([0, 1], 0, -1), "ramp = -1"),
    (lambda: cube_bump([0, 1], -0.5, 1), "plateau = -0.5"),
    (lambda: piecewise_linear([0, 0], [1, 2]), r"knots\[1\] = 0 is out of order"),
    (lambda: piecewise_linear([0, 2, 1], [1, 2, 3]), r"knots\[2\] = 1 is out of order"),
    (lambda: piecewise_linear([0, "a"], [1, 2]), r"knots\[1\] = 'a'"),
    (lambda: piecewise_linear([0, float("inf")], [1, 2]), r"knots\[1\] = inf"),
    (lambda: piecewise_linear([0, 1], [1, None]), r"values\[1\] = None"),
    (lambda: piecewise_linear([0, 1], [1]), "knots has 2 entries and values 1"),
    (lambda: piecewise_linear([0], [1]), "knots has 1 entries"),
    (lambda: piecewise_linear([0, 1], [1, 2], outside="zero"), "outside = 'zero'"),
]


@pytest.mark.parametrize(("make", "text"), BAD, ids=[t for _, t in BAD])
def test_bad_parameters_raise_value_error_naming_them(make, text):
    with pytest.raises(ValueError, match=text):
        make()


@pytest.mark.parametrize("dtype", [np.float32, np.longdouble])
def test_numpy_float_parameters_are_taken_at_their_exact_value(dtype):
    # longdouble parameters were once rounded to float64 first
    a, tau = dtype("0.1"), dtype("0.25")
    exact_a = Fraction(*a.as_integer_ratio())
    (_, biases), _ = hat(a, tau).exact_layers()
    assert biases.tolist() == [-exact_a + Fraction(1, 4), -exact_a, -exact_a - Fraction(1, 4)]
