"""Catapult bounds: thresholds, the uv recurrences, the weight-norm identity, the windows, conversions.

References: catapult.md §2 (conventions, conversions), §4 (uv recurrences and thresholds), §5 (norm identity),
§6 (bound table), §8 (width scaling).
"""

import math
from fractions import Fraction

import numpy as np
import pytest
import sympy as sp
from hypothesis import given
from hypothesis import strategies as st

from relunet.bounds import catapult as cb
from relunet.bounds.core import Bound, Domain

NAMES = sorted(cb.BOUNDS)


def _valid_point(b: Bound) -> dict:
    point = {}
    for p in b.parameters:
        dom = b.conditions.get(p, Domain(lower=0, lower_closed=False))
        lo = dom.lower if math.isfinite(dom.lower) else 0.0
        value = math.floor(lo) + 2 if dom.integer else lo + 0.75
        if value > dom.upper or (value == dom.upper and not dom.upper_closed):
            value = math.ceil(lo) if dom.integer else (lo + dom.upper) / 2
        point[p] = value
    return point


@pytest.mark.parametrize("name", NAMES)
def test_every_bound_builds_evaluates_and_checks_its_domain(name):
    b = cb.BOUNDS[name]()
    assert b.name == name and b.source.strip() and b.quantity.strip()
    point = _valid_point(b)
    value = b.evaluate(**point)
    assert math.isfinite(value)
    exact = b.exact(**{k: Fraction(v) for k, v in point.items()})
    assert value == pytest.approx(float(exact), rel=1e-12)
    for p, dom in b.conditions.items():
        bad = dom.lower - 1 if math.isfinite(dom.lower) else math.inf
        with pytest.raises(ValueError, match=f"{p} = "):
            b.evaluate(**{**point, p: bad})
    for p in b.parameters:
        if b.sym(p).is_integer:
            assert b.conditions[p].integer


def test_critical_learning_rates():
    assert cb.critical_learning_rate().evaluate(lam0=4.0) == 0.5
    assert cb.uv_max_learning_rate().evaluate(lam0=4.0) == 1.0
    assert cb.in_c_units(cb.uv_max_learning_rate()).evaluate() == 4.0
    assert cb.in_c_units(cb.relu_upper()).evaluate() == 4.0


def test_uv_recurrence_is_derived_from_gd_on_the_weights():
    derived, stated = cb.derive_uv_recurrence(), cb.uv_recurrence()
    for key in ("f", "lam"):
        assert sp.simplify(derived[key] - stated[key]) == 0


def test_uv_fixed_points_are_fixed_and_sit_on_the_edge():
    s = cb.UV_SYMBOLS
    rec = {k: v.subs({s["x"]: 1, s["y"]: 0}) for k, v in cb.uv_recurrence().items()}
    points = cb.uv_fixed_points()
    assert len(points) == 3
    for p in points:
        values = {s["f"]: p["f"], s["lam"]: p.get("lam", s["lam"])}
        assert sp.simplify(rec["f"].subs(values) - values[s["f"]]) == 0
        assert sp.simplify(rec["lam"].subs(values) - values[s["lam"]]) == 0
        if "lam" in p:
            assert sp.simplify(s["eta"] * p["lam"] - 4) == 0  # the non-trivial ones are at c = 4
    assert cb.uv_fixed_points(y_zero=False) == [{"f": s["y"]}]


def test_uv_recurrence_matches_gd_on_explicit_vectors():
    """A numpy GD step on (u, v) moves (f, λ) exactly as the lambdified recurrence says."""
    rng = np.random.default_rng(0)
    for m, x, y, eta in ((7, 1.0, 0.0, 0.3), (50, 1.7, -0.4, 0.05), (400, 0.6, 2.0, 0.9)):
        u, v = rng.standard_normal(m), rng.standard_normal(m)
        f = x * u @ v / math.sqrt(m)
        lam = x**2 * (u @ u + v @ v) / m
        eps = f - y
        u1 = u - eta * eps * x * v / math.sqrt(m)
        v1 = v - eta * eps * x * u / math.sqrt(m)
        f_it, lam_it = cb.uv_iterate(f, lam, eta, m, steps=1, x=x, y=y)
        assert f_it[1] == pytest.approx(x * u1 @ v1 / math.sqrt(m), rel=1e-12)
        assert lam_it[1] == pytest.approx(x**2 * (u1 @ u1 + v1 @ v1) / m, rel=1e-12)


def test_uv_thresholds_are_derived_in_sympy():
    th = cb.uv_thresholds()
    lam = cb.UV_SYMBOLS["lam"]
    assert th == {"eta_crit": 2 / lam, "eta_max": 4 / lam}
    # sign(Δλ) = sign(ηλ − 4) for y = 0 and f ≠ 0 (catapult.md §4)
    rec = cb.uv_recurrence()
    s = cb.UV_SYMBOLS
    delta = sp.factor(rec["lam"].subs({s["y"]: 0, s["x"]: 1}) - s["lam"])
    assert sp.simplify(delta - s["eta"] * s["f"] ** 2 * (s["eta"] * s["lam"] - 4) / s["m"]) == 0


def test_uv_iterate_phases_at_width_ten_thousand():
    """Lazy below 2, catapult (spike, then η λ_∞ < 2) in (2, 4), divergence above 4 (catapult.md §4)."""
    cs = np.array([0.5, 1.5, 2.5, 3.0, 3.5, 3.99, 4.01, 4.5])
    f, lam = cb.uv_iterate(f0=1.0, lam0=2.0, eta=cs / 2.0, m=1e4, steps=400)
    eta_lam = cs / 2.0 * lam[-1]
    final = np.abs(f[-1])
    assert np.all(final[:6] < 1e-10)
    assert np.all(~np.isfinite(final[6:]) | (final[6:] > 1e3))
    assert np.all(eta_lam[2:6] < 2) and np.all(np.abs(f[:, 2:6]).max(axis=0) > 10)
    assert np.allclose(eta_lam[:2], cs[:2], rtol=1e-3)


def test_uv_iterate_rejects_bad_input():
    with pytest.raises(ValueError, match="steps = -1"):
        cb.uv_iterate(1.0, 2.0, 0.1, 10.0, steps=-1)
    with pytest.raises(ValueError, match="eta = 0.0"):
        cb.uv_iterate(1.0, 2.0, [0.1, 0.0], 10.0, steps=1)
    with pytest.raises(ValueError, match="m = -3.0"):
        cb.uv_iterate(1.0, 2.0, 0.1, -3.0, steps=1)


def test_norm_identity_from_a_symbolic_gd_step():
    """One GD step of a 2-homogeneous (and a 3-homogeneous) polynomial model, expanded exactly."""
    t1, t2, t3, eta = sp.symbols("t1 t2 t3 eta", real=True)
    xs, ys = [sp.Rational(1, 2), sp.Integer(-2), sp.Integer(3)], [sp.Integer(1), sp.Rational(-1, 3), sp.Integer(0)]
    theta = [t1, t2, t3]
    for k, model in ((2, lambda x: t1 * t2 * x + t3**2 * x**2 - t1 * t3), (3, lambda x: t1 * t2 * t3 * x + t3**3)):
        n = len(xs)
        loss = sum((model(x) - y) ** 2 for x, y in zip(xs, ys)) / (2 * n)
        grad = [sp.diff(loss, t) for t in theta]
        new = [t - eta * g for t, g in zip(theta, grad)]
        delta = sum(v**2 for v in new) - sum(t**2 for t in theta)
        sum_ef = sum((model(x) - y) * model(x) for x, y in zip(xs, ys))
        grad_sq = sum(g**2 for g in grad)
        b = cb.norm_identity()
        rhs = b.expr.subs({b.sym("eta"): eta, b.sym("n"): n, b.sym("k"): k, b.sym("sum_ef"): sum_ef,
                           b.sym("grad_sq"): grad_sq}).subs(b.sym("eta"), eta)
        rhs = rhs.subs(sp.Symbol("eta", positive=True), eta)
        assert sp.expand(delta - rhs) == 0


def test_norm_upper_y0_is_the_identity_at_the_largest_gradient():
    """With y = 0: Σεf = 2nL and |∇L|² ≤ 2λL turn the identity into 2ηL(ηλ − 2k)."""
    ident, upper = cb.norm_identity(), cb.norm_upper_y0()
    eta, n, k, L, lam = (upper.sym(s) if s in upper.parameters else ident.sym(s) for s in ("eta", "n", "k", "L", "lam"))
    at_bound = ident.expr.subs({ident.sym("sum_ef"): 2 * n * L, ident.sym("grad_sq"): 2 * lam * L})
    assert sp.simplify(at_bound - upper.expr) == 0


def test_loss_threshold_solves_the_sign_condition():
    """|ε|(ηλ − 2k) + 2k|y| < 0  ⇔  L = |ε|²/2n > 2k²|y|²/(n(2k − ηλ)²), for ηλ < 2k."""
    e, yn, s, k, n = sp.symbols("e yn s k n", positive=True)
    edge = sp.solve(sp.Eq(e * (s - 2 * k) + 2 * k * yn, 0), e)[0]
    b = cb.norm_decrease_loss_threshold()
    want = b.expr.subs({b.sym("y_sq"): yn**2, b.sym("eta_lam"): s, b.sym("k"): k, b.sym("n"): n})
    assert sp.simplify(edge**2 / (2 * n) - want) == 0
    # the constant is sharp: the uv model, one sample, ε anti-parallel to y (catapult.md §5)
    assert b.evaluate(y_sq=1.0, n=1, k=2, eta_lam=3.0) == 8.0


@given(st.floats(0.05, 3.9), st.floats(-3, 3), st.integers(1, 5), st.integers(0, 10**6))
def test_norm_decreases_above_the_loss_threshold_uv(eta_lam, y, m_exp, seed):
    """uv model, one sample: at any state with ηλ < 4 and L above the threshold, one GD step lowers |θ|²."""
    rng = np.random.default_rng(seed)
    m = 10**m_exp
    u, v = rng.standard_normal(m), rng.standard_normal(m)
    lam = (u @ u + v @ v) / m
    eta = eta_lam / lam
    f = u @ v / math.sqrt(m)
    threshold = cb.norm_decrease_loss_threshold().evaluate(y_sq=y**2, n=1, k=2, eta_lam=eta_lam)
    if 0.5 * (f - y) ** 2 <= threshold:
        return
    eps = f - y
    u1, v1 = u - eta * eps * v / math.sqrt(m), v - eta * eps * u / math.sqrt(m)
    assert u1 @ u1 + v1 @ v1 < u @ u + v @ v


def _gd_losses(J, y, eta, alpha, steps=200):
    theta = np.zeros(J.shape[1])
    out = []
    for _ in range(steps):
        r = J @ theta - y
        out.append(alpha * r @ r)
        theta = theta - eta * 2 * alpha * J.T @ r
    return np.array(out)


@pytest.mark.parametrize("loss", cb.LOSS_NORMALIZATIONS)
def test_conversions_give_the_stability_edge_of_each_normalisation(loss):
    """GD on α Σ|Jθ − y|² for a linear model converges just below η_crit and blows up just above."""
    rng = np.random.default_rng(1)
    n, k, p = 6, 2, 20
    J = rng.standard_normal((n * k, p))
    y = rng.standard_normal(n * k)
    theta_top = float(np.linalg.eigvalsh(J @ J.T)[-1])
    bound = cb.critical_learning_rate_for(loss)
    eta_crit = bound.evaluate(**{key: val for key, val in {"theta_top": theta_top, "n": n, "k": k}.items()
                                 if key in bound.parameters})
    alpha = float(cb.loss_normalization_factor(loss).subs({sp.Symbol("n", positive=True, integer=True): n,
                                                          sp.Symbol("k", positive=True, integer=True): k}))
    below = _gd_losses(J, y, 0.97 * eta_crit, alpha)
    above = _gd_losses(J, y, 1.03 * eta_crit, alpha)
    assert below[-1] < below[0] and above[-1] > 1e3 * above[0]


def test_learning_rate_conversion_gives_identical_trajectories():
    rng = np.random.default_rng(2)
    n, k = 5, 1
    J, y = rng.standard_normal((n, 8)), rng.standard_normal(n)
    eta = 0.01
    for target in ("mean", "half_sum", "sum"):
        conv = cb.learning_rate_conversion("half_mean", target)
        eta_t = conv.evaluate(**{p: v for p, v in {"eta": eta, "n": n, "k": k}.items() if p in conv.parameters})
        a_s = 1 / (2 * n * k)
        a_t = float(cb.loss_normalization_factor(target).subs({sp.Symbol("n", positive=True, integer=True): n,
                                                               sp.Symbol("k", positive=True, integer=True): k}))
        np.testing.assert_allclose(_gd_losses(J, y, eta, a_s) / a_s, _gd_losses(J, y, eta_t, a_t) / a_t, rtol=1e-10)


def test_bad_normalisation_names_raise():
    with pytest.raises(ValueError, match="loss = 'median'"):
        cb.loss_normalization_factor("median")
    with pytest.raises(ValueError, match="model = 'cnn'"):
        cb.lazy_drift("cnn")


def test_width_scaling_rates():
    b = cb.peak_time()
    m = b.sym("m")
    assert sp.simplify(m * sp.diff(b.expr, m) - 1 / (2 * sp.log(b.sym("c") - 1))) == 0
    assert b.exponent("m") == 0 and b.log_power("m") == 1
    assert cb.peak_loss().exponent("m") == 1
    assert cb.lazy_drift("uv").exponent("m") == -1
    assert cb.lazy_drift("net").exponent("m") == sp.Rational(-1, 2)
    assert cb.peak_time().evaluate(m=1e4, c=3.0, C=0.0) == pytest.approx(math.log(1e4) / (2 * math.log(2)))
    assert cb.peak_time_from_f0().evaluate(m=1e4, f0_sq=1e4, c=3.0, C=0.0) == pytest.approx(0.0, abs=1e-15)
    with pytest.raises(ValueError, match="c = 2"):
        cb.peak_time().evaluate(m=100, c=2.0, C=0.0)


def test_window_bounds_in_the_figure_settings():
    """Leaky ReLU, d = 1, x = 1: c_upper = 2 λ0/(|θ0|²/P) ≈ 2(1 + a²); the uv edge is 4 (catapult.md §6)."""
    for a in (0.5, 0.75, 1.0):
        lam0 = 1 + a**2
        c_up = cb.in_c_units(cb.leaky_relu_upper()).evaluate(norm_per_param=1.0, data_top=1.0, lam0=lam0)
        assert c_up == pytest.approx(2 * (1 + a**2))
    # pure quadratic, one sample: (154) and (138) coincide (ψ_eff² = ψ², Ω = ζ²ψ²)
    q154 = cb.quadratic_residual_upper().evaluate(zeta=0.1, theta_sq=100.0, psi_eff_sq=4.0)
    q138 = cb.quadratic_omega_upper().evaluate(theta_sq=100.0, omega_top=0.01 * 4.0)
    assert q154 == pytest.approx(q138, rel=1e-14)
    # a linear part with φ_eff ⟂ θ_f only adds 2|φ_eff|² to the denominator
    lin = cb.quadratic_linear_upper().evaluate(phi_eff_sq=0.5, zeta=0.1, theta_sq=100.0, psi_eff_sq=4.0, overlap_sq=0.0)
    assert 1 / lin == pytest.approx(1 / q154 + 2 * 0.5 / 4)
