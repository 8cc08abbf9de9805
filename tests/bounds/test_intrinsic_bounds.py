"""Bounds of the intrinsic-dimension topic: exact exponents, geometry constants, covering numbers."""

import math

import numpy as np
import pytest
import sympy as sp

from relunet.bounds import intrinsic as bi
from relunet.bounds.core import Bound, symbol

d, alpha, big_d = symbol("d", integer=True), symbol("alpha"), symbol("D", integer=True)


def test_every_entry_builds_with_its_name():
    for name, factory in bi.BOUNDS.items():
        bound = factory()
        assert isinstance(bound, Bound)
        assert bound.name == name


@pytest.mark.parametrize(("factory", "var", "expected"), [
    (bi.approx_error, "S", -alpha / d),
    (bi.erm_risk, "n", -2 * alpha / (2 * alpha + d)),
    (bi.erm_size, "n", d / (2 * alpha + d)),
    (bi.approx_size_ambient, "D", sp.Integer(1)),
    (bi.ambient_approx_error, "S", -alpha / big_d),
    (bi.ambient_risk, "n", -2 * alpha / (2 * alpha + big_d)),
])
def test_exponents_are_exact(factory, var, expected):
    assert sp.simplify(factory().exponent(var) - expected) == 0


def test_log_factors_do_not_change_exponents():
    assert sp.simplify(bi.approx_error().log_power("S") - alpha / d) == 0
    assert bi.erm_risk().log_power("n") == symbol("k")


def test_slope_table_of_the_theory_page():
    """intrinsic_dimension.md §8: (d, α) -> (-α/d, -2α/(2α+d))."""
    table = {(1, 1): (-1, sp.Rational(-2, 3)), (1, 2): (-2, sp.Rational(-4, 5)), (2, 1): (sp.Rational(-1, 2),
             sp.Rational(-1, 2)), (3, 2): (sp.Rational(-2, 3), sp.Rational(-4, 7))}
    for (dd, aa), (approx, risk) in table.items():
        assert bi.approx_error().subs(d=dd, alpha=aa).exponent("S") == approx
        assert bi.erm_risk().subs(d=dd, alpha=aa).exponent("n") == risk


def test_small_scale_exponents():
    assert sp.simplify(bi.small_scale_exponent(bi.approx_size(), "eps") + d / alpha) == 0
    assert bi.small_scale_exponent(bi.covering_torus(), "eta") == -2
    assert bi.small_scale_exponent(bi.covering_sphere().subs(d=3), "eta") == -3


def test_implied_dimension_inverts_the_exponents():
    for dd in (1, 2, 3, 7):
        for aa in (0.5, 1.0, 2.0):
            assert bi.implied_dimension(-aa / dd, aa) == pytest.approx(dd, rel=1e-12)
            assert bi.implied_dimension(-2 * aa / (2 * aa + dd), aa, "risk") == pytest.approx(dd, rel=1e-12)


@pytest.mark.parametrize(("kwargs", "word"), [({"slope": 0.5, "alpha": 1.0}, "slope"),
                                              ({"slope": -0.5, "alpha": 0.0}, "alpha"),
                                              ({"slope": -1.5, "alpha": 1.0, "kind": "risk"}, "slope"),
                                              ({"slope": -0.5, "alpha": 1.0, "kind": "other"}, "kind")])
def test_implied_dimension_rejects_bad_input(kwargs, word):
    with pytest.raises(ValueError, match=word):
        bi.implied_dimension(**kwargs)


def test_geometry_constants():
    assert bi.projection_lipschitz().exact(q=sp.Rational(1, 2)) == 2
    assert bi.localisation_distortion().exact(q=sp.Rational(1, 3)) == 2
    interval = bi.localisation_interval()
    assert (interval["lower"].exact(q=sp.Rational(1, 4)), interval["upper"].exact(q=sp.Rational(1, 4))) == (
        sp.Rational(3, 4), sp.Rational(5, 4))
    assert bi.linearisation_error().exact(q=sp.Rational(1, 2), r=sp.Rational(1, 10), tau=1) == sp.Rational(11, 200)
    assert bi.federer_reach_inequality().exact(h=2, tau=1) == 2


def test_q_must_be_below_one():
    with pytest.raises(ValueError, match=r"q = 1 is out of range"):
        bi.projection_lipschitz().evaluate(q=1.0)
    with pytest.raises(ValueError, match="q"):
        bi.localisation_distortion().evaluate(q=-0.1)


def test_circle_covering_number_is_exact():
    """N arcs of half-angle 2 asin(η/2R) cover the circle iff N >= π/(2 asin(η/2R))."""
    for radius, eta in ((1.0, 0.1), (2.0, 0.37), (0.5, 0.01), (1.0, 3.0)):
        n = int(bi.covering_circle().evaluate(R=radius, eta=eta))
        half = 2 * math.asin(min(1.0, eta / (2 * radius)))
        assert n * 2 * half >= 2 * math.pi - 1e-12
        assert (n - 1) * 2 * half < 2 * math.pi or n == 1


def test_projection_net_bound_grows_with_q():
    bound = bi.projection_net_error()
    values = [bound.evaluate(L=1, r=0.05, kappa=1, q=q, alpha=1, e=0) for q in (0, 0.5, 0.9)]
    assert values == sorted(values)
    assert values[0] == pytest.approx(0.05 * math.sqrt(2), rel=1e-12)


def test_evaluate_broadcasts():
    out = bi.erm_risk().evaluate(n=np.array([100, 10_000]), alpha=1, d=1, C=1, k=0)
    np.testing.assert_allclose(out, [100 ** (-2 / 3), 10_000 ** (-2 / 3)], rtol=1e-12)
