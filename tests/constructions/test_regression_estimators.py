"""Regression problems and base estimators."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from relunet.constructions.estimators import (
    cells_per_axis,
    mlp_estimator,
    partition_estimator,
    partition_expected_risk,
    partition_sample_risk,
    truncate,
    whole_cell_size,
)
from relunet.constructions.network import ReluNet
from relunet.constructions.regression import (
    RegressionProblem,
    composite_target,
    holder_target,
    radial_target,
    smooth_target,
)


def test_samples_are_seeded_and_densities_bounded():
    prob = RegressionProblem(holder_target(0.5, 2), sigma=0.2, density="cosine", density_amplitude=0.5)
    a = prob.sample(500, 3)
    b = prob.sample(500, 3)
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])
    assert np.all((a[0] >= 0) & (a[0] <= 1))
    assert np.all(prob.density_at(a[0]) <= prob.p_max)
    noise = a[1] - prob.target.numpy(a[0])
    assert abs(noise.std() - 0.2) < 0.03
    bounded = RegressionProblem(holder_target(1, 1), noise="bounded", sigma=0.1)
    x, y = bounded.sample(2000, 0)
    assert np.abs(y - bounded.target.numpy(x)).max() <= 0.1 * np.sqrt(3) + 1e-12


def test_targets():
    x = np.array([[0.5, 0.5], [1.0, 0.0]])
    assert holder_target(1, 2).numpy(x).tolist() == [0.0, 1.0]
    assert np.allclose(smooth_target(2).numpy(x), [1.0, 0.0])
    assert radial_target(1, 2).numpy(x).shape == (2,)
    assert composite_target(1, 2).numpy(x).shape == (2,)
    with pytest.raises(ValueError, match="r = 3"):
        holder_target(3, 1)


def test_partition_estimator_is_the_histogram_on_cell_interiors():
    rng = np.random.default_rng(0)
    x = rng.random((400, 2))
    y = rng.normal(size=400)
    f0 = partition_estimator(x, y, 1, cells=4)
    centres = (np.stack(np.meshgrid(np.arange(4), np.arange(4), indexing="ij"), -1).reshape(-1, 2) + 0.5) / 4
    idx = np.minimum((x * 4).astype(int), 3)
    expect = [y[(idx[:, 0] == i) & (idx[:, 1] == j)].mean() for i, j in (centres * 4 - 0.5).astype(int)]
    np.testing.assert_allclose(f0(centres).ravel(), expect, rtol=1e-12, atol=1e-12)
    assert f0.depth == 2 and f0.is_sparse
    bounded = partition_estimator(x, 10 * y, 1, cells=4, bound=1.0)
    assert np.abs(bounded(rng.random((500, 2)))).max() <= 1.0 + 1e-12
    assert cells_per_axis(1000, 1, 1) == 10


@given(st.integers(1, 10**6), st.sampled_from([0.25, 0.5, 1.0, 1.5]), st.integers(1, 8))
def test_whole_cell_size_gives_exactly_its_cells(n, r, d):
    power = 2 * r + d
    m = whole_cell_size(n, r, d)
    k = max(1, round(n ** (1 / power)))
    assert cells_per_axis(m, r, d) == k
    assert m <= k**power + 1e-6 and m > (k - 0.5) ** power - 1  # the nearest whole-cell size, floored


@given(st.integers(1, 10**6), st.sampled_from([0.25, 0.5, 1.0, 1.5]), st.integers(1, 8))
def test_whole_cell_size_even_gives_an_even_cell_count(n, r, d):
    m = whole_cell_size(n, r, d, even=True)
    k = cells_per_axis(m, r, d)
    assert k % 2 == 0 and k >= 2
    assert abs(k - n ** (1 / (2 * r + d))) <= 1 + 1e-9 or k == 2  # the nearest even count


@pytest.mark.parametrize("d", [1, 2, 3])
def test_partition_cells_form_a_partition_of_unity(d):
    """With every cell holding label 1, f0 = 1 off the corners where two ramps cross.

    In d = 1 there are no corners: f0 = 1 everywhere, also inside the ramps.  The tolerance is
    the rounding of the ramps, u (1/τ_h)(|x| + 1) per unit (approximation.md §1, item 7).
    """
    cells = 4
    x = (np.stack(np.meshgrid(*[np.arange(cells)] * d, indexing="ij"), -1).reshape(-1, d) + 0.5) / cells
    f0 = partition_estimator(x, np.ones(len(x)), 1, cells=cells)
    tau = 2.0 ** np.floor(np.log2(1 / (cells * len(x))))
    rng = np.random.default_rng(d)
    z = rng.random((4000, d))
    in_ramp = (z >= 1 / cells) & (np.mod(z * cells, 1.0) < tau * cells)
    corner = in_ramp.sum(axis=1) >= 2
    # and points inside the ramps [a_j, a_j + τ] of axis 0, the other coordinates off the ramps
    strip = z[:500].copy()
    strip[:, 0] = rng.integers(1, cells, 500) / cells + rng.random(500) * tau
    strip[:, 1:] = (rng.integers(0, cells, (500, d - 1)) + 0.5) / cells
    tol = 2.0**-53 / tau * 2 * 8
    np.testing.assert_allclose(f0(np.vstack([z[~corner], strip, [[0.0] * d], [[1.0] * d]])).ravel(), 1.0,
                               atol=tol, rtol=0)
    # at the corners the bumps' weights still lie in [0, 1], so clipping the means bounds f0
    both = np.full((500, d), 0.5 / cells)
    both[:, : min(d, 2)] = rng.integers(1, cells, (500, min(d, 2))) / cells + rng.random((500, min(d, 2))) * tau
    values = f0(np.vstack([z[corner], both])).ravel()
    assert np.all((values >= -tol) & (values <= 1 + tol))


def test_partition_expected_risk_matches_monte_carlo_and_tends_to_the_rate():
    """The exact finite-sample risk against 60 seeds of the network's Monte Carlo risk (within 3 SE),
    and its slope at 200..400 cells per axis against -2r/(2r+d)."""
    d, n, cells, sigma = 2, 256, 4, 0.1
    prob = RegressionProblem(holder_target(1, d), sigma=sigma)
    risks = [prob.excess_risk(partition_estimator(*prob.sample(n, s), 1, cells=cells), n_test=20000, seed=s).value
             for s in range(60)]
    exact = partition_expected_risk(n, cells, 1.0, d, sigma)
    assert abs(np.mean(risks) - exact) <= 3 * np.std(risks, ddof=1) / np.sqrt(len(risks))
    # a bend at small n: over k = 3..6 the slope is steeper than the limit (the 1 + k^d/n factor)
    for d in (1, 2, 3):
        ks = np.arange(200, 401, 50)
        ns = ks.astype(float) ** (2 + d)
        slope = np.polyfit(np.log(ns), np.log([partition_expected_risk(m, k, 1.0, d, sigma) for m, k in zip(ns, ks)]),
                           1)[0]
        assert abs(slope + 2 / (2 + d)) < 1e-4
    odd, even = (partition_expected_risk(k**3, k, 1.0, 1, 0.0) * k**2 for k in (5, 6))
    assert odd < even  # the kink at 1/2 inside the middle slab of an odd grid lowers its bias


def test_partition_sample_risk_is_the_integral_and_averages_to_the_expected_risk():
    """One sample: against Monte Carlo integration of the plain histogram (within 4 SE).  Many
    samples: their mean against partition_expected_risk (within 4 SE; 400 seeds, d = 2)."""
    d, n, cells, sigma = 2, 300, 4, 0.1
    prob = RegressionProblem(holder_target(1, d), sigma=sigma)
    x, y = prob.sample(n, 5)
    flat = np.ravel_multi_index(np.minimum((x * cells).astype(int), cells - 1).T, (cells,) * d)
    means = np.bincount(flat, weights=y, minlength=cells**d) / np.maximum(np.bincount(flat, minlength=cells**d), 1)

    def histogram(z):
        return means[np.ravel_multi_index(np.minimum((z * cells).astype(int), cells - 1).T, (cells,) * d)]

    mc = prob.excess_risk(histogram, n_test=400_000, seed=1)
    assert abs(partition_sample_risk(x, y, cells, 1.0) - mc.value) <= 4 * mc.stderr
    risks = [partition_sample_risk(*prob.sample(n, s), cells, 1.0) for s in range(400)]
    se = np.std(risks, ddof=1) / np.sqrt(len(risks))
    assert abs(np.mean(risks) - partition_expected_risk(n, cells, 1.0, d, sigma)) <= 4 * se
    # control: against the formula for one cell more per axis the same mean misses by more than 4 SE
    assert abs(np.mean(risks) - partition_expected_risk(n, cells + 1, 1.0, d, sigma)) > 4 * se
    with pytest.raises(ValueError, match="cells = 0 is out of range"):
        partition_sample_risk(x, y, 0, 1.0)


def test_partition_rate_slope_is_close_to_theory():
    prob = RegressionProblem(holder_target(1, 1), sigma=0.1)
    ns = [2**8, 2**10, 2**12, 2**14]
    risks = [np.mean([prob.excess_risk(partition_estimator(*prob.sample(n, s), 1), n_test=20000, seed=s).value
                      for s in range(3)]) for n in ns]
    slope = np.polyfit(np.log(ns), np.log(risks), 1)[0]
    assert -0.8 < slope < -0.5  # theory -2/3; the erm.deepening.rate claim fits it with CIs


def test_mlp_estimator_and_truncation():
    x = np.linspace(0, 1, 64)[:, None]
    y = np.abs(x[:, 0] - 0.5)
    f0 = mlp_estimator(x, y, 1, steps=300, lr=3e-2, bound=0.3)
    assert isinstance(f0, ReluNet)
    assert np.abs(f0(x)).max() <= 0.3 + 1e-12
    t = truncate(ReluNet([([[2.0]], [0.0])]), 1.0)
    assert t(np.array([[-3.0], [0.25], [3.0]])).ravel().tolist() == [-1.0, 0.5, 1.0]
    with pytest.raises(ValueError, match=r"x has 1 entries outside \[0, 1\] \(for example 1.5\)"):
        partition_estimator(np.array([[1.5]]), np.array([1.0]), 1)


@pytest.mark.parametrize(("args", "word"), [
    ((1000, 2.5, 1.0, 1, 0.1), "cells = 2.5 is not an integer"),  # k = int(2.5) slabs with p = 2.5^-d
    ((1000, 10, 1.0, 1, -1.0), "sigma = -1.0 is out of range"),
    ((1000, 10, 0.0, 1, 0.1), "r = 0.0 is out of range"),
    ((1000, 0, 1.0, 1, 0.1), "cells = 0 is out of range"),  # ZeroDivisionError
    ((1000, 10, 1.0, 0, 0.1), "d = 0 is out of range"),  # math domain error
    ((0, 10, 1.0, 1, 0.1), "n = 0 is out of range"),
    ((1000, 10, np.nan, 1, 0.1), "r = nan is out of range"),
])
def test_partition_expected_risk_names_bad_arguments(args, word):
    """Audit W7: partition_expected_risk validated nothing."""
    with pytest.raises(ValueError, match=word):
        partition_expected_risk(*args)


def test_partition_expected_risk_takes_numpy_scalars_and_float_sample_sizes():
    value = partition_expected_risk(1000, 10, 1.0, 1, 0.1)
    assert partition_expected_risk(np.int64(1000), np.int64(10), np.float32(1.0), np.int64(1), 0.1) == value
    big = np.floor(300.0**4)  # the rate sweeps' n = k^(2r+d), a float
    assert partition_expected_risk(big, 300, 1.0, 2, 0.1) == partition_expected_risk(int(big), 300, 1.0, 2, 0.1)


def test_excess_risk_sample_does_not_depend_on_chunk():
    """Audit M1: with the cosine density the rejection sampling ran per chunk, so chunk changed the test
    sample (0.39845, 0.39795, 0.39760 for chunk = 20000, 4096, 1000)."""
    prob = RegressionProblem(holder_target(1, 2), density="cosine")
    seen = {}
    values = {}
    for chunk in (20000, 1 << 14, 4096, 1000, 7):
        batches = []

        def zero(x, batches=batches):
            batches.append(x.copy())
            return np.zeros(len(x))

        values[chunk] = prob.excess_risk(zero, n_test=20000, seed=0, chunk=chunk).value
        seen[chunk] = np.concatenate(batches)
        assert max(len(b) for b in batches) == min(chunk, 20000)
    for chunk in values:
        np.testing.assert_array_equal(seen[chunk], seen[1 << 14])
        assert values[chunk] == pytest.approx(values[1 << 14], rel=1e-13)  # only the order of the sums differs
    # the default chunk gives the values it gave before, for both densities (recorded before the change)
    assert values[1 << 14] == 0.39821849706894724
    uniform = RegressionProblem(holder_target(1, 2))
    for chunk in (1 << 14, 4096, 1000):
        assert uniform.excess_risk(lambda x: np.zeros(len(x)), n_test=20000, seed=0, chunk=chunk).value \
            == 0.2885875139711346


def test_partition_expected_risk_by_hand_for_one_sample():
    # n = 1, sigma = 0: risk = P(N>=1) V + E[1/N; N>=1] V + P(N=0) E f², with V = d h²/12 the mean
    # cell variance of f = Σ|x_k - 1/2| and E f² = d/12 + d(d-1)/16
    # k = 2, d = 1: V = 1/48, P(N=1) = 1/2, E f² = 1/12
    assert partition_expected_risk(1, 2, 1.0, 1, 0.0) == pytest.approx(1 / 16, rel=1e-12)
    # k = 2, d = 2: V = 1/24, P(N=1) = 1/4, E f² = 1/6 + 2/16 = 7/24
    assert partition_expected_risk(1, 2, 1.0, 2, 0.0) == pytest.approx(23 / 96, rel=1e-12)
    # k = 4, d = 2 (cell probability 1/16): V = 2/192, P(N=1) = 1/16
    assert partition_expected_risk(1, 4, 1.0, 2, 0.0) == pytest.approx(211 / 768, rel=1e-12)


def test_partition_expected_risk_noise_term_is_sigma2_times_the_inverse_moment():
    # the noise enters only through E[1/N; N >= 1] σ², N ~ Bin(n, k^-d): here summed over all N
    from scipy import stats

    for n, k, d in ((1000, 10, 1), (200, 3, 2), (50, 4, 2)):
        counts = np.arange(1, n + 1)
        inverse = float(np.sum(stats.binom(n, float(k) ** -d).pmf(counts) / counts))
        diff = partition_expected_risk(n, k, 1.0, d, 0.5) - partition_expected_risk(n, k, 1.0, d, 0.0)
        assert diff == pytest.approx(0.25 * inverse, rel=1e-9)


def test_inputs_on_the_upper_edge_fall_in_the_last_cell():
    # x = 1 belongs to the last cell [1 - h, 1], not to a cell beyond it
    x, y = np.array([[0.25], [1.0]]), np.array([0.25, 0.25])
    assert partition_sample_risk(x, y, 2, 1.0) == pytest.approx(0.5**2 / 12, rel=1e-12)  # only the bias h²/12
    # n = 4, two cells: ramps of width τ = 1/8, so f0 is the cell mean at 1/4, 3/4 and 1
    f0 = partition_estimator(np.array([[0.1], [0.2], [0.3], [1.0]]), np.array([0.0, 0.0, 0.0, 3.0]), 1, cells=2)
    np.testing.assert_allclose(f0(np.array([[0.25], [0.75], [1.0]])).ravel(), [0.0, 3.0, 3.0], rtol=0, atol=1e-12)


def test_partition_sample_risk_clips_the_cell_means():
    # cell means (5, 1/4) clipped to (1, 1/4); both slabs of |t - 1/2| have mean 1/4 and variance 1/48
    x, y = np.array([[0.25], [0.75]]), np.array([5.0, 0.25])
    assert partition_sample_risk(x, y, 2, 1.0, bound=1.0) == pytest.approx(0.75**2 / 2 + 1 / 48, rel=1e-12)
    assert partition_sample_risk(x, y, 2, 1.0) == pytest.approx(4.75**2 / 2 + 1 / 48, rel=1e-12)


def test_partition_ramp_width_is_the_power_of_two_below_h_over_n():
    # τ_h = 2^floor(log2(h/n)): h/n = 1/10000 gives 2^-14, so the largest weight (the slope 1/τ_h) is 2^14
    x = np.random.default_rng(4).random((1000, 1))
    f0 = partition_estimator(x, np.ones(1000), 1, cells=10)
    assert f0.size().max_abs_weight == 2.0**14


def test_mlp_estimator_width_follows_the_rate_theory_and_the_seed():
    # width = max(4, round(sqrt(n^(d/(2r+d))))): n = 64 gives sqrt(4) -> 4, n = 15625 gives sqrt(25) = 5
    small = mlp_estimator(np.linspace(0, 1, 64)[:, None], np.zeros(64), 1, steps=1)
    assert list(small.widths) == [4, 4]
    big = mlp_estimator(np.linspace(0, 1, 15625)[:, None], np.zeros(15625), 1, steps=1)
    assert list(big.widths) == [5, 5]
    # the seed sets the initialisation: equal seeds give equal nets, different seeds different ones
    x = np.linspace(0, 1, 64)[:, None]
    a, b, c = (mlp_estimator(x, np.zeros(64), 1, steps=1, seed=s) for s in (3, 3, 4))
    assert all(np.array_equal(u, v) for u, v in zip(a.weights, b.weights))
    assert not np.array_equal(a.weights[0], c.weights[0])


@pytest.mark.parametrize(("parameterization", "value"), [("ntk", 6.0), ("standard", 36.0)])
def test_mlp_to_relunet_folds_the_ntk_scaling_into_the_weights(parameterization, value):
    # all weights 1, input (1, 1, 1, 1), one hidden layer of 9 units: the standard net gives 9 * 4 = 36;
    # the NTK one scales each layer's input by 1/sqrt(fan_in): 9 * (4 / 2) / 3 = 6
    import torch

    from relunet.constructions.estimators import mlp_to_relunet
    from relunet.constructions.models import StackedMLP

    model = StackedMLP(4, 9, 1, parameterization=parameterization)
    assert model.layer_sizes == [(4, 9), (9, 1)]
    params = {"w0": torch.ones(1, 9, 4, dtype=torch.float64), "b0": torch.zeros(1, 9, dtype=torch.float64),
              "w1": torch.ones(1, 1, 9, dtype=torch.float64), "b1": torch.zeros(1, 1, dtype=torch.float64)}
    net = mlp_to_relunet(model, params, 0)
    assert net(np.ones((1, 4))).ravel().tolist() == [value]
    assert model.forward(params, torch.ones(1, 4, dtype=torch.float64)).item() == value


def test_bounded_noise_is_uniform_with_variance_sigma2():
    # uniform on [-sqrt(3) σ, sqrt(3) σ] has standard deviation σ
    prob = RegressionProblem(holder_target(1, 1), noise="bounded", sigma=0.1)
    noise = prob.noise_draw(200_000, np.random.default_rng(0))
    assert abs(noise.std() - 0.1) < 1e-3
    assert 0.1 * np.sqrt(3) * 0.999 < np.abs(noise).max() <= 0.1 * np.sqrt(3)


def test_excess_risk_standard_error_by_hand():
    prob = RegressionProblem(holder_target(1, 2))
    # a constant error 1: risk 1 with no spread
    r = prob.excess_risk(lambda x: prob.target.numpy(x) + 1.0, n_test=1000, seed=0)
    assert r.value == 1.0 and r.stderr == 0.0 and r.n_test == 1000
    # squared errors in {0, 1}: the mean p and the standard error sqrt(p (1 - p) / n)
    r = prob.excess_risk(lambda x: prob.target.numpy(x) + (x[:, 0] < 0.5), n_test=1000, seed=0)
    assert 0.4 < r.value < 0.6
    assert r.stderr == pytest.approx(np.sqrt(r.value * (1 - r.value) / 1000), rel=1e-9)


def test_samples_and_test_points_depend_on_the_seed():
    prob = RegressionProblem(holder_target(1, 2), sigma=0.1)
    assert not np.array_equal(prob.sample(50, 1)[0], prob.sample(50, 2)[0])
    zero = lambda x: np.zeros(len(x))  # noqa: E731
    assert prob.excess_risk(zero, n_test=500, seed=1).value != prob.excess_risk(zero, n_test=500, seed=2).value
    assert prob.excess_risk(zero, n_test=500, seed=1) == prob.excess_risk(zero, n_test=500, seed=1)


def test_radial_and_composite_targets_by_hand():
    # radial: | |x - c|^2 - d/12 |^r with c the centre of the cube
    assert radial_target(1, 1).numpy(np.array([[0.5], [1.0]])) == pytest.approx([1 / 12, 1 / 4 - 1 / 12], rel=1e-14)
    assert radial_target(1, 2).numpy(np.array([[0.0, 0.0]])) == pytest.approx([0.5 - 2 / 12], rel=1e-14)
    # composite: |mean_k sin(π x_k / 2)^2 - 1/2|^b; sin(π/4)^2 = 1/2 and sin(π/2)^2 = 1
    values = composite_target(1, 2).numpy(np.array([[1.0, 1.0], [0.5, 0.5], [1.0, 0.0]]))
    assert values == pytest.approx([0.5, 0.0, 0.0], abs=1e-15)


def test_cosine_density_amplitude_must_stay_below_one():
    # with a = 1 the density (1 + cos)^d vanishes on a set and has no positive lower bound
    with pytest.raises(ValueError, match="density_amplitude = 1.0 is out of range"):
        RegressionProblem(holder_target(1, 1), density="cosine", density_amplitude=1.0)
