"""Measurement: sup error found by search and evaluated exactly, L2 errors, integrals."""

from fractions import Fraction

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from relunet.bounds import bump_integral, bump_square_integral
from relunet.constructions import affine_net, cube_bump, hat, piecewise_linear, product_gate, yarotsky_square
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


# -- audit regressions ------------------------------------------------------------------------------


@pytest.mark.parametrize(("d", "grid_points"), [(3, 27**3), (9, 3**9), (10, 2**10), (14, 2**14), (16, 0), (20, 0)])
def test_default_grid_keeps_to_about_20000_points(d, grid_points):
    # once max(2, round(20000^(1/d))) per axis: 3^10 = 59049 points in d = 10, 2^d from d = 15 on
    # (d = 30 was killed for memory); from d = 15 the random points and the ascent search alone
    found = sup_error(affine_net(np.ones((1, d)) / d), Target("x1", d), [(0, 1)] * d, n_random=10, n_starts=1,
                      ascent_steps=1, exact=False)
    assert found.evaluations == grid_points + 10 + 2


def test_explicit_grid_too_large_to_hold_is_refused():
    with pytest.raises(ValueError, match=r"grid = 3 is out of range: in d = 30 it gives 3\^30 points"):
        sup_error(affine_net(np.ones((1, 30))), Target("x1", 30), [(0, 1)] * 30, grid=3)


def test_search_without_a_grid_still_climbs():
    d = 16
    net = affine_net(np.zeros((1, d)))
    found = sup_error(net, Target("x1*x2", d), [(0, 1)] * d, n_random=200, n_starts=4, ascent_steps=60, exact=False)
    assert found.value > 0.99  # |0 - x1 x2| is largest at x1 = x2 = 1, found by the ascent


TORCH_EXPRESSIONS = ["sign(x1 - 1/2)", "atan(x1)", "cosh(x2)", "Max(x1, 1/2)", "Min(x1, x2, 1/3)",
                     "Piecewise((x1, x1 < 1/2), (1 - x1, True))", "Heaviside(x1 - 1/2)", "floor(3*x1) + ceiling(x2)",
                     "Mod(x1, 1/3) + frac(3*x2)", "sinc(3*x1)", "asin(x1) + acos(x2) + asinh(x1) + atanh(x2/2)",
                     "acosh(1 + x1) + sec(x1) + acot(x2)", "hypot(x1, x2) + atan2(x1, x2) + exp2(x1)",
                     "EulerGamma*x1 + pi*x2 + E", "Abs(x1 - x2)**(3/2) + x1*sin(1/2) + log(1 + x1, 2)", "3",
                     "Piecewise((x1**2, (x1 > 0.2) & (x2 < 0.7) | ~(x1 < 0.1)), (0, True))"]


@pytest.mark.parametrize("expr", TORCH_EXPRESSIONS)
def test_target_torch_agrees_with_numpy(expr):
    # the torch lambdify once printed sign and Piecewise as Python conditionals and atan as math.atan
    target = Target(expr, 2)
    x = torch.rand(50, 2, dtype=torch.float64) * 0.9 + 0.05
    x[0] = torch.tensor([0.5, 0.5], dtype=torch.float64)
    z = x.clone().requires_grad_(True)
    got = target.torch(z)
    assert got.shape == (50,) and got.dtype == torch.float64
    np.testing.assert_allclose(got.detach().numpy(), target.numpy(x.numpy()), rtol=1e-14, atol=1e-15)
    if got.requires_grad:
        (grad,) = torch.autograd.grad(got.sum(), z)
        assert torch.all(torch.isfinite(grad))


def test_target_torch_names_functions_it_cannot_evaluate():
    with pytest.raises(ValueError, match="uses besselj, which Target.torch cannot evaluate"):
        Target("besselj(0, x1)", 1).torch(torch.rand(3, 1, dtype=torch.float64))


@pytest.mark.parametrize("expr", ["atan(x1)", "Max(x1, 1/3)**2", "Abs(x1 - 1/3)"])
def test_sup_error_climbs_on_targets_with_torch_functions_and_kinks(expr):
    # Abs has a DiracDelta in its Hessian: the polish once failed on it with a NameError
    net, target = yarotsky_square(3), Target(expr, 1)
    found = sup_error(net, target, (0, 1), n_random=200, ascent_steps=20)
    assert found.exact_value is not None
    assert float(found.exact_value) == pytest.approx(abs(net(found.point) - target.numpy(found.point))[0], abs=1e-12)


class _FloatOnlyTarget:
    """A target like ManifoldTarget: dim, numpy and torch, no exact evaluation or gradient."""

    dim = 1

    def numpy(self, x):
        return np.asarray(x, dtype=np.float64).reshape(-1)

    def torch(self, x):
        return x.reshape(-1)


def test_sup_error_says_how_to_measure_a_target_without_exact_evaluation():
    net, cands = yarotsky_square(2), np.linspace(0, 1, 9)[:, None]
    with pytest.raises(ValueError, match=r"_FloatOnlyTarget without \.exact: .*pass exact=False, polish=False"):
        sup_error(net, _FloatOnlyTarget(), candidates=cands)
    found = sup_error(net, _FloatOnlyTarget(), candidates=cands, exact=False, polish=False)
    assert found.exact_value is None and found.value > 0


@pytest.mark.parametrize("dtype", [np.float32, np.longdouble])
def test_exact_measurements_take_numpy_float_scalars(dtype):
    lo, hi = dtype("0.1"), dtype("0.7")
    exact_box = (Fraction(*lo.as_integer_ratio()), Fraction(*hi.as_integer_ratio()))
    assert integrate_exact(hat(0.5, 0.25), (lo, hi)) == integrate_exact(hat(0.5, 0.25), exact_box)
    assert product_target().exact(np.array([lo, hi])) == exact_box[0] * exact_box[1]


def test_target_of_dim_one_accepts_the_plain_name_x():
    target = Target("x**2 + 1", 1)
    assert target.numpy(np.array([[2.0], [0.5]])).tolist() == [5.0, 1.25]
    assert target.exact([Fraction(1, 3)]) == Fraction(10, 9)


def test_target_refuses_symbols_beyond_its_dimension():
    with pytest.raises(ValueError, match=r"uses \['x3'\]: a Target of dim 2 may only use x1, x2"):
        Target("x1*x3", 2)
    with pytest.raises(ValueError, match=r"uses \['y'\]"):
        Target("x + y", 1)


def test_exact_evaluation_is_rational_only_for_rational_coefficients():
    import mpmath

    assert Target("x1**2/3 + 1", 1).is_rational_polynomial
    assert not Target("sqrt(2)*x1 + x1**2", 1).is_rational_polynomial
    assert not Target("sin(x1)", 1).is_rational_polynomial
    value = Target("sqrt(2)*x1 + x1**2", 1).exact([Fraction(1, 2)])
    assert isinstance(value, mpmath.mpf)
    with mpmath.workdps(50):
        assert abs(value - (mpmath.sqrt(2) / 2 + mpmath.mpf(1) / 4)) < mpmath.mpf(10) ** -45


def test_target_refuses_points_of_another_dimension():
    target = Target("x1*x2", 2)
    for bad in (np.zeros((3, 3)), np.zeros((3, 1))):
        with pytest.raises(ValueError, match=rf"x has shape \(3, {bad.shape[1]}\): expected \(N, 2\)"):
            target.numpy(bad)
        with pytest.raises(ValueError, match=r"expected \(N, 2\)"):
            target.torch(torch.as_tensor(bad))
    for point in ([1, 2, 3], [1]):
        with pytest.raises(ValueError, match=f"point has {len(point)} coordinates: expected 2"):
            target.exact(point)


def test_non_rational_exact_values_carry_the_requested_digits():
    import mpmath

    value = Target("sin(x1)", 1).exact([1], dps=50)
    with mpmath.workdps(60):
        assert abs(value - mpmath.sin(1)) < mpmath.mpf(10) ** -45


def test_target_gradient_and_hessian_follow_the_symbol_order():
    import sympy as sp

    target = Target("x1**2*x2", 2)
    x1, x2 = target.symbols
    assert target.gradient == (2 * x1 * x2, x1**2)
    assert target.hessian == sp.Matrix([[2 * x2, 2 * x1], [2 * x1, 0]])


def test_target_torch_piecewise_with_non_strict_comparisons():
    # x1 >= 1/2 and x1 <= 1/4 include their boundary points
    target = Target("Piecewise((1, x1 >= 1/2), (-1, x1 <= 1/4), (0, True))", 1)
    x = torch.tensor([[0.5], [0.25], [0.375], [0.75], [0.0]], dtype=torch.float64)
    assert target.torch(x).tolist() == [1.0, -1.0, 0.0, 1.0, -1.0]
    assert target.numpy(x.numpy()).tolist() == [1.0, -1.0, 0.0, 1.0, -1.0]


def test_monomial_exponents_go_to_their_own_variables():
    from relunet.constructions.targets import monomial

    assert monomial([2, 1]).exact([Fraction(1, 2), 3]) == Fraction(3, 4)  # (1/2)^2 * 3
    assert monomial([0, 3]).numpy(np.array([[5.0, 2.0]])).tolist() == [8.0]


def test_domain_of_zero_width_is_refused():
    with pytest.raises(ValueError, match=r"domain = \[0.5, 0.5\] is not a box in R\^1"):
        sup_error(yarotsky_square(2), square_target(), (0.5, 0.5))
    with pytest.raises(ValueError, match="is not a box"):
        monte_carlo_integral(lambda x: x[:, 0], [(0, 1), (2, 2)], 2, n=10)


def test_output_index_must_name_an_existing_output():
    with pytest.raises(ValueError, match=r"output = 1 is out of range: the net has 1 output\(s\)"):
        sup_error(yarotsky_square(2), square_target(), (0, 1), output=1, exact=False)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_random_candidates_come_from_the_seed(seed):
    # a zero net against x(1 - x): the grid {0, 1} has error 0, so the worst candidate is the random
    # point nearest 1/2 among the 5 drawn from default_rng(seed)
    found = sup_error(affine_net([[0]]), Target("x1*(1 - x1)", 1), (0, 1), grid=2, n_random=5, n_starts=0,
                      exact=False, polish=False, seed=seed)
    draws = np.random.default_rng(seed).random(5)
    best = draws[np.argmin(np.abs(draws - 0.5))]
    assert found.found_by == "random" and found.point.tolist() == [best]
    assert found.value == best * (1 - best)


def test_polish_keeps_to_the_domain():
    # |0 - ((x - 2)^2 - 10)| is 10 at its stationary point x = 2, outside [0, 1]; on [0, 1] the
    # largest value is 9, at x = 1
    found = sup_error(affine_net([[0]]), Target("(x1 - 2)**2 - 10", 1), (0, 1), n_random=100, n_starts=2,
                      ascent_steps=5)
    assert found.exact_value == 9 and found.point.tolist() == [1.0]


def test_l2_error_interval_by_hand_for_two_points():
    # errors (0, 1): mse 1/2, sample sd of the squares sqrt(1/2), half-width z_0.975 sqrt(1/2)/sqrt(2) = z/2;
    # the lower end 1/2 - z/2 < 0 is clipped to 0
    z = 1.959963984540054
    r = l2_error(affine_net([[0]]), Target("x1", 1), sampler=lambda rng, n: np.array([[0.0], [1.0]]), n=2)
    assert r.mse == 0.5 and r.value == pytest.approx(np.sqrt(0.5), rel=1e-15)
    assert r.mse_ci[0] == 0.0 and r.mse_ci[1] == pytest.approx(0.5 + z / 2, rel=1e-12)
    assert r.ci == (0.0, pytest.approx(np.sqrt(0.5 + z / 2), rel=1e-12))


def test_monte_carlo_integral_by_hand():
    # the constant 1 over [0, 2] x [0, 3] is the volume 6, with no spread, in blocks of 4 out of 10
    r = monte_carlo_integral(lambda x: np.ones(len(x)), [(0, 2), (0, 3)], 2, n=10, chunk=4)
    assert r.value == 6.0 and r.stderr == 0.0 and r.n == 10
    # values (0, 2): mean 1, sample variance 2, standard error sqrt(2 / 2) = 1
    r = monte_carlo_integral(lambda x: 2.0 * (np.arange(len(x)) % 2), (0, 1), 1, n=2)
    assert r.value == 1.0 and r.stderr == 1.0
    assert r.ci == (pytest.approx(1 - 1.959963984540054, rel=1e-12), pytest.approx(1 + 1.959963984540054, rel=1e-12))


def test_integrate_exact_by_hand_with_output_bias_and_dead_units():
    from relunet.constructions.network import ReluNet

    one = np.array([[1]], dtype=object)
    # depth 1: σ(0 x - 1) = 0 and σ(x): the integral over [0, 1] is 1/2
    dead = ReluNet([(np.array([[0], [1]], dtype=object), np.array([-1, 0], dtype=object)),
                    (np.array([[1, 1]], dtype=object), np.array([0], dtype=object))])
    assert integrate_exact(dead, [(0, 1)]) == Fraction(1, 2)
    # depth 2: σ(σ(x)) + 1 = x + 1 on [0, 1]: integral 3/2, integral of the square 7/3
    shifted = ReluNet([(one, np.array([0], dtype=object)), (one, np.array([0], dtype=object)),
                       (one, np.array([1], dtype=object))])
    assert integrate_exact(shifted, [(0, 1)], 1) == Fraction(3, 2)
    assert integrate_exact(shifted, [(0, 1)], 2) == Fraction(7, 3)


def test_sup_error_ranks_by_magnitude_when_the_net_lies_below():
    # 0 - x^2 on [0, 1]: the worst error is -1 at x = 1, larger in magnitude than the stationary point's 0
    found = sup_error(affine_net([[0]]), square_target(), (0, 1), n_random=100, n_starts=2, ascent_steps=5)
    assert found.exact_value == 1 and found.signed == -1.0 and found.point.tolist() == [1.0]
