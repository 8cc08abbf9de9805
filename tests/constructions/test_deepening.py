"""The deepening construction: exact interpolation, locality, both realisations, duplicates."""

from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from relunet.bounds import interpolation as ib
from relunet.constructions.deepening import (
    bump_sum,
    bump_values,
    choose_tau,
    deepen_interpolant,
    separation,
)
from relunet.constructions.estimators import partition_estimator
from relunet.constructions.regression import RegressionProblem, holder_target


def _data(d, n, seed, sigma=0.1):
    prob = RegressionProblem(holder_target(1, d), sigma=sigma)
    return prob, *prob.sample(n, seed)


@settings(max_examples=12)
@given(d=st.integers(1, 4), n=st.integers(2, 60), seed=st.integers(0, 10**6))
def test_exact_interpolation_and_locality(d, n, seed):
    prob, x, y = _data(d, n, seed)
    f0 = partition_estimator(x, y, 1, bound=3.0)
    F = deepen_interpolant(f0, x, y)
    assert all(r == 0 for r in F.exact_residuals())
    assert np.abs(F.wide(x).ravel() - F.labels).max() <= F.rounding_envelope()
    # locality: off the bumps F is f0
    z = np.random.default_rng(seed).random((300, d))
    far = np.min(np.max(np.abs(z[:, None, :] - F.centres[None]), axis=2), axis=1) >= F.tau
    assert np.abs(F.wide(z[far]) - f0(z[far])).max(initial=0.0) <= F.rounding_envelope()
    # the closed-form evaluator is the network
    np.testing.assert_allclose(F(z), F.wide(z).ravel(), rtol=0, atol=1e-12)


def test_deep_realisation_computes_the_same_function_with_the_formula_size():
    prob, x, y = _data(2, 40, 3)
    f0 = partition_estimator(x, y, 1)
    F = deepen_interpolant(f0, x, y)
    deep = F.deep()
    z = np.random.default_rng(0).random((200, 2))
    np.testing.assert_allclose(deep(z), F.wide(z), rtol=0, atol=1e-10)
    np.testing.assert_allclose(deep(x).ravel(), y, rtol=0, atol=1e-10)
    d0 = sum((w.shape[0] + 2) * (w.shape[1] + (2 if i else 0)) + w.shape[0] + 2 for i, w in enumerate(f0.weights[:-1]))
    assert deep.size().dense == ib.deep_realisation_dense().evaluate(D0=d0, W_last=f0.widths[-1], n=40, d=2)
    assert deep.depth == f0.depth + 2 * 40
    assert max(deep.widths) == max(f0.widths[0] + 2, f0.widths[1] + 2, 4 * 2 + 2)


@pytest.mark.parametrize("d", [1, 2, 5])
def test_wide_size_formula_and_largest_weight(d):
    prob, x, y = _data(d, 150, d)
    f0 = partition_estimator(x, y, 1)
    F = deepen_interpolant(f0, x, y, exact=False)
    # exact zeros drop out of the count: c_i = 0 (a sample alone in its cell) and zero biases
    zeros = int(np.sum(F.coefficients == 0)) + int(np.sum(F.bumps.biases[0] == 0))
    assert F.bumps.size().nonzero == ib.bump_sum_nonzero().evaluate(n=150, d=d) - zeros
    assert F.wide.size().nonzero == f0.size().nonzero + F.bumps.size().nonzero
    assert F.bumps.size().max_abs_weight == ib.wide_max_weight().evaluate(tau=F.tau)
    assert F.wide.size().nonzero >= 150


def test_separation_and_tau():
    x = np.array([[0.0, 0.0], [0.25, 0.5], [0.3, 0.9]])
    assert separation(x) == 0.4
    tau = choose_tau(0.4, 3, 2)
    assert tau <= 0.2 and tau <= 0.5 * 3 ** (-1.0) and tau == 2.0 ** np.floor(np.log2(tau))
    with pytest.raises(ValueError, match="q_inf"):
        choose_tau(0.0, 3, 2)


def test_duplicates():
    x = np.array([[0.1], [0.5], [0.1]])
    f0 = partition_estimator(x, np.array([1.0, 2.0, 1.0]), 1, cells=2)
    F = deepen_interpolant(f0, x, np.array([1.0, 2.0, 1.0]))
    assert F.dropped_duplicates == 1 and len(F.centres) == 2
    with pytest.raises(ValueError, match="no perfect global minimum"):
        deepen_interpolant(f0, x, np.array([1.0, 2.0, 3.0]))


def test_overlapping_bumps_do_not_interpolate():
    prob, x, y = _data(1, 30, 5)
    f0 = partition_estimator(x, y, 1)
    wide_tau = 4 * separation(x)
    G = deepen_interpolant(f0, x, y, tau=wide_tau, exact=False)
    assert np.abs(G(x) - y).max() > 1e-3


def test_bump_sum_exact_and_float_agree():
    rng = np.random.default_rng(1)
    c = rng.random((20, 3))
    coef = rng.normal(size=20)
    a = bump_sum(c, [Fraction(float(v)) for v in coef], 2.0**-6)
    b = bump_sum(c, coef, 2.0**-6, exact=False)
    z = rng.random((50, 3))
    np.testing.assert_allclose(a(z), b(z), rtol=0, atol=1e-12)
    np.testing.assert_allclose(b(z).ravel(), bump_values(c, coef, 2.0**-6, z), rtol=0, atol=1e-12)
    with pytest.raises(ValueError, match="tau"):
        bump_sum(c, coef, 0.0)
    with pytest.raises(ValueError, match="coefficients"):
        bump_sum(c, coef[:3], 0.1)


def test_bump_values_in_row_blocks_equal_the_dense_sum():
    rng = np.random.default_rng(7)
    centres, coef = rng.random((300, 2)), rng.normal(size=300)
    x = rng.random((9000, 2))  # more rows than one block, with wide overlapping bumps
    tau = 0.3
    dist = np.abs(x[:, None, :] - centres[None]).sum(-1)
    inside = np.abs(x[:, None, :] - centres[None]).max(-1) <= tau
    dense = (coef[None] * np.where(inside, np.maximum(1 - dist / tau, 0), 0)).sum(1)
    np.testing.assert_allclose(bump_values(centres, coef, tau, x), dense, rtol=1e-12, atol=1e-12)


def test_deep_realisation_refuses_inputs_outside_the_nonnegative_orthant():
    """Audit W4: with inputs in [-1, 2], F.deep() missed the labels by 0.55 although F.wide interpolates."""
    prob, x, y = _data(1, 50, 0)
    f0 = partition_estimator(x, y, 1)
    F = deepen_interpolant(f0, 3 * x - 1, y, exact=False)
    assert np.abs(F.wide(3 * x - 1)[:, 0] - y).max() <= F.rounding_envelope()
    with pytest.raises(ValueError, match=r"x \(the centres\) has a coordinate -0.99.* outside \[0, inf\)"):
        F.deep()
    # inputs in [0, 3]: x is carried exactly as σ(x), so the deep net is F there
    G = deepen_interpolant(f0, 3 * x, y, exact=False)
    z = np.concatenate([3 * x, np.linspace(0, 3, 301)[:, None]])
    np.testing.assert_allclose(G.deep()(z)[:, 0], G.wide(z)[:, 0], rtol=0, atol=1e-12)


def test_no_samples_and_bad_tau_arguments_are_named():
    """Audit U5: n = 0 and choose_tau(d = 0 or n = 0) gave ZeroDivisionError, choose_tau(inf) OverflowError."""
    prob, x, y = _data(1, 20, 1)
    f0 = partition_estimator(x, y, 1)
    with pytest.raises(ValueError, match=r"x has shape \(0, 1\) and y \(0,\): need \(n, 1\) and \(n,\) with n >= 1"):
        deepen_interpolant(f0, x[:0], y[:0])
    for args, word in (((0.1, 10, 0), "d = 0 is out of range"), ((0.1, 0, 2), "n = 0 is out of range"),
                       ((np.inf, 10, 2), r"q_inf = inf is out of range: .*\(the inputs must be distinct\)"),
                       ((np.nan, 10, 2), "q_inf = nan"), ((0.0, 10, 2), "q_inf = 0.0")):
        with pytest.raises(ValueError, match=word):
            choose_tau(*args, shrink=False)
    assert choose_tau(np.float64(0.3), np.int64(100), np.int64(2)) == choose_tau(0.3, 100, 2)
    with pytest.raises(ValueError, match="tau = inf is out of range"):  # was a raw OverflowError from Fraction
        bump_sum(x, y, np.inf)


def test_interpolant_takes_1d_inputs_when_d_is_1():
    """Audit U5: F(x) with x of shape (n,) gave a scipy KD-tree error."""
    prob, x, y = _data(1, 30, 2)
    F = deepen_interpolant(partition_estimator(x, y, 1), x, y, exact=False)
    np.testing.assert_array_equal(F(x[:, 0]), F(x))
    assert F(x[:, 0]).shape == (30,)
    with pytest.raises(ValueError, match=r"x has shape \(30, 2\): expected \(N, 1\) or \(N,\)"):
        F(np.zeros((30, 2)))


@pytest.mark.parametrize("depth", [1, 2, 3, 5])
@pytest.mark.parametrize("exact", [True, False])
def test_wide_size_for_a_base_of_any_depth(depth, exact):
    """F = f0 + S has P0 + n(9d + 2) + 2|L0 - 2| nonzero parameters (erm.deepening.wide_nonzero): the
    shallower part is carried by 2 parameters per added layer, and F still interpolates exactly."""
    from relunet.bounds.interpolation import wide_nonzero
    from relunet.constructions.network import ReluNet, deepen

    rng = np.random.default_rng(depth)
    x, y = rng.random((20, 2)), rng.normal(size=20)
    if depth == 1:  # one hidden layer of 3 units with dyadic weights
        hidden = (rng.integers(-4, 5, (3, 2)) / 4, rng.integers(-4, 5, 3) / 4)
        f0 = ReluNet([hidden, (np.array([[1.0, -0.5, 0.25]]), [0.5])])
    else:
        f0 = deepen(partition_estimator(x, y, r=1, cells=3), depth)
    F = deepen_interpolant(f0, x, y, exact=exact)
    zeros = int(np.sum(F.coefficients == 0)) + int(np.sum(np.isin(F.centres, [0.0, F.tau])))
    want = wide_nonzero().evaluate(P0=f0.size().nonzero, n=20, d=2, L0=depth) - zeros
    assert F.wide.depth == max(depth, 2) and F.wide.size().nonzero == want
    if exact:
        assert all(r == 0 for r in F.exact_residuals())
    z = rng.random((300, 2))
    np.testing.assert_allclose(F.wide(z).ravel(), F.base(z).ravel() + F.bumps(z).ravel(), rtol=0, atol=1e-13)


def test_choose_tau_by_hand():
    # shrink: min(q/2, n^(-2/d)/2) rounded down to a power of two; 0.5 * 100^-1 = 0.005 -> 2^-8
    assert choose_tau(0.3, 100, 2) == 2.0**-8
    assert choose_tau(1.0, 4, 1) == 2.0**-5  # 0.5 * 4^-2 = 1/32, already a power of two
    # without shrinking only q/2 counts: 0.15 -> 2^-3, and 1/2 stays 1/2
    assert choose_tau(0.3, 100, 2, shrink=False) == 2.0**-3
    assert choose_tau(1.0, 100, 2, shrink=False) == 0.5


def _zero_net(depth):
    from relunet.constructions.network import ReluNet

    return ReluNet([(np.zeros((1, 1)), np.zeros(1))] * depth + [(np.zeros((1, 1)), np.zeros(1))])


def test_rounding_envelope_by_hand():
    # u (1/τ) Σ|c_i|, plus u (largest second-layer slope) Σ|output weights| for a depth-2 base
    from relunet.constructions.network import ReluNet

    x, y = np.array([[0.25], [0.75]]), np.array([1.0, -2.0])
    F = deepen_interpolant(_zero_net(1), x, y)  # q = 1/2, τ = min(1/4, 1/8) = 1/8, c = y
    assert F.tau == 0.125
    assert F.rounding_envelope() == 2.0**-53 * 3 / 0.125
    base = ReluNet([([[1.0]], [0.0]), ([[4.0]], [0.0]), ([[0.5]], [0.0])])  # f0(x) = 2x on x >= 0
    G = deepen_interpolant(base, x, y)  # c = (1 - 0.5, -2 - 1.5)
    np.testing.assert_array_equal(G.coefficients, [0.5, -3.5])
    assert G.rounding_envelope() == 2.0**-53 * (4.0 / 0.125 + 4.0 * 0.5)


def test_single_sample_uses_separation_one():
    # one sample: q is taken as 1, so τ = min(1/2, 1^(-2)/2) = 1/2 and the bump reaches x ± 1/2
    F = deepen_interpolant(_zero_net(1), np.array([[0.5]]), np.array([1.0]))
    assert F.q_inf == 1.0 and F.tau == 0.5
    np.testing.assert_allclose(F(np.array([[0.5], [0.75], [1.0]])), [1.0, 0.5, 0.0], rtol=0, atol=1e-15)
    assert F.exact_residuals() == [0]


def test_deep_realisation_accepts_centres_on_the_boundary_zero():
    # x = 0 lies in [0, ∞)^d, where σ(x) = x carries it exactly
    x, y = np.array([[0.0], [0.5]]), np.array([2.0, -1.0])
    F = deepen_interpolant(_zero_net(1), x, y)
    np.testing.assert_allclose(F.deep()(x).ravel(), y, rtol=0, atol=1e-12)


def test_non_finite_samples_are_refused():
    f0 = _zero_net(1)
    for x, y in ((np.array([[0.25], [np.nan]]), np.array([1.0, 2.0])),
                 (np.array([[0.25], [0.75]]), np.array([1.0, np.inf]))):
        with pytest.raises(ValueError, match="NaN or inf entries: the samples must be finite"):
            deepen_interpolant(f0, x, y)


def test_duplicate_input_with_a_smaller_second_label_is_refused():
    x = np.array([[0.5], [0.25], [0.5]])
    with pytest.raises(ValueError, match=r"input \[0.5\] twice with labels \[2.0, 1.0\]"):
        deepen_interpolant(_zero_net(1), x, np.array([2.0, 0.0, 1.0]))


def test_exact_sum_needs_two_scalar_nets_on_the_same_inputs():
    from relunet.constructions.deepening import exact_sum
    from relunet.constructions.network import ReluNet

    scalar = _zero_net(1)
    two_outputs = ReluNet([(np.ones((1, 1)), np.zeros(1)), (np.ones((2, 1)), np.zeros(2))])
    two_inputs = ReluNet([(np.ones((1, 2)), np.zeros(1)), (np.ones((1, 1)), np.zeros(1))])
    for f, g in ((scalar, two_outputs), (two_outputs, scalar), (scalar, two_inputs)):
        with pytest.raises(ValueError, match="two scalar nets on the same inputs"):
            exact_sum(f, g, "sum")
    # the sum itself: σ(x) + 0 = x on x >= 0
    total = exact_sum(ReluNet([(np.ones((1, 1)), np.zeros(1)), (np.ones((1, 1)), np.zeros(1))]), scalar, "sum")
    np.testing.assert_array_equal(total(np.array([[0.5], [2.0]])).ravel(), [0.5, 2.0])


def test_deep_realisation_needs_one_coefficient_per_centre():
    from relunet.constructions.deepening import deep_realisation

    centres = np.array([[0.25], [0.75]])
    for coefficients in ([1.0, 2.0, 3.0], [1.0]):
        with pytest.raises(ValueError, match=f"coefficients has {len(coefficients)} entries for 2 centres"):
            deep_realisation(_zero_net(1), centres, coefficients, 0.125)
