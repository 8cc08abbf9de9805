"""Measurement: sup error found by search and evaluated exactly, L2 errors, integrals."""

from fractions import Fraction

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from relunet.bounds import bump_integral, bump_square_integral
from relunet.constructions import cube_bump, piecewise_linear, product_gate, yarotsky_square
from relunet.constructions.targets import Target, product_target, square_target
from relunet.verify.measure import integrate_exact, l2_error, monte_carlo_integral, sup_error


@pytest.mark.parametrize("m", [1, 5, 12, 20])
def test_square_sup_error_found_exactly(m):
    found = sup_error(yarotsky_square(m), square_target(), (0, 1), seed=m)
    assert found.exact_value == Fraction(1, 2 ** (2 * m + 2))
    # The default grid is not dyadic, so the exact maximum comes from the search.
    assert found.found_by == "polish"
    assert found.signed > 0  # f_m >= x^2


def test_without_polish_the_float_search_is_close_but_not_exact():
    found = sup_error(yarotsky_square(10), square_target(), (0, 1), polish=False)
    exact = 2.0**-22
    assert found.value <= exact and found.value > exact * (1 - 1e-4)


def test_product_gate_error_found_and_torch_modules_accepted():
    gate = product_gate(3, 1)
    found = sup_error(gate, product_target(), (-1, 1))
    # The maximum sits on a vertex of the gate's linear regions (a kink), so the ascent gets
    # within rounding of it rather than onto it; exactly evaluated, it never exceeds 1/64.
    assert Fraction(1, 64) * (1 - Fraction(1, 10**12)) < found.exact_value <= Fraction(1, 64)
    assert found.signed < 0
    module_found = sup_error(gate.to_module(), product_target(), (-1, 1), exact=False)
    assert module_found.exact_value is None
    assert module_found.value == pytest.approx(1 / 64, rel=1e-12)


@given(st.integers(1, 40))
def test_shallow_nets_respect_depth_separation(k):
    # approximation.md §7 / check A8: K units give sup error >= 1/(8 (K+1)^2); here a
    # K-piece interpolant (about K units), whose exact error is 1/(4 K^2).
    knots = [Fraction(i, k) for i in range(k + 1)]
    net = piecewise_linear(knots, [t * t for t in knots])
    found = sup_error(net, square_target(), (0, 1), n_random=500, ascent_steps=40)
    units = net.size().widths[0]
    assert found.value >= 1 / (8 * (units + 1) ** 2)
    assert found.exact_value == Fraction(1, 4 * k * k)


def test_sup_error_bad_input():
    net = yarotsky_square(2)
    with pytest.raises(ValueError, match="domain"):
        sup_error(net, square_target(), (1, 0))
    with pytest.raises(ValueError, match="target.dim"):
        sup_error(net, product_target(), (0, 1))
    with pytest.raises(ValueError, match="grid"):
        sup_error(net, square_target(), (0, 1), grid=1)
    with pytest.raises(ValueError, match="net"):
        sup_error(lambda x: x, square_target(), (0, 1))


def test_non_polynomial_target_uses_high_precision():
    import mpmath

    target = Target("sin(x1)", 1)
    knots = [Fraction(i, 8) for i in range(9)]
    net = piecewise_linear(knots, [Fraction(float(np.sin(float(t)))) for t in knots])
    found = sup_error(net, target, (0, 1))
    assert isinstance(found.exact_value, mpmath.mpf)
    assert 1e-4 < found.value < 2e-3


def test_l2_error_interval_covers_the_exact_value():
    # f_m - x^2 = s (h - s) on each piece: the L2 error is h^2 / sqrt(30), h = 2^-m.
    m = 3
    exact = 2.0 ** (-2 * m) / np.sqrt(30)
    covered = 0
    for seed in range(40):
        r = l2_error(yarotsky_square(m), square_target(), (0, 1), n=4000, seed=seed)
        covered += r.ci[0] <= exact <= r.ci[1]
    # 95% intervals: 40 seeded draws cover the truth at least 33 times unless the interval is
    # wrong (binomial(40, 0.95) puts < 0.3% below 34).
    assert covered >= 34


def test_l2_error_with_sampler_and_bad_input():
    r = l2_error(yarotsky_square(2), square_target(), sampler=lambda rng, n: rng.random(n), n=1000)
    assert r.n == 1000 and r.value > 0
    with pytest.raises(ValueError, match="n = 1"):
        l2_error(yarotsky_square(2), square_target(), (0, 1), n=1)
    with pytest.raises(ValueError, match="domain"):
        l2_error(yarotsky_square(2), square_target())


@pytest.mark.parametrize("d", [1, 2, 3, 4])
def test_integrate_exact_matches_bump_formulas(d):
    tau = Fraction(3, 8)
    net = cube_bump([Fraction(1, 3)] * d, 0, tau)
    box = [(Fraction(1, 3) - tau, Fraction(1, 3) + tau)] * d
    assert integrate_exact(net, box, 1) == Fraction(str(bump_integral().exact(d=d, tau=tau)))
    assert integrate_exact(net, box, 2) == Fraction(str(bump_square_integral().exact(d=d, tau=tau)))


def test_integrate_exact_depth_one_and_errors():
    net = piecewise_linear([0, Fraction(1, 2), 1], [0, 1, 0])
    assert integrate_exact(net, [(0, 1)]) == Fraction(1, 2)
    with pytest.raises(ValueError, match="power"):
        integrate_exact(net, [(0, 1)], 3)
    with pytest.raises(ValueError, match="depth"):
        integrate_exact(yarotsky_square(3), [(0, 1)])


def test_monte_carlo_integral_is_seeded():
    a = monte_carlo_integral(lambda x: np.exp(x[:, 0]), (0, 1), 1, n=50_000, seed=3)
    b = monte_carlo_integral(lambda x: np.exp(x[:, 0]), (0, 1), 1, n=50_000, seed=3)
    assert a == b
    assert abs(a.value - (np.e - 1)) < 4 * a.stderr


def test_ascent_handles_a_float32_module():
    module = yarotsky_square(4).to_module(torch.float32)
    found = sup_error(module, square_target(), (0, 1), exact=False)
    # float32 rounds outputs near 1 at about 6e-8 per operation: allow 1e-3 relative on 1e-3.
    assert found.value == pytest.approx(2.0**-10, rel=1e-3)
