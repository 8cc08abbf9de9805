"""The `Bound` type: exponents, evaluation, parameter checking, transformations and printing.

Symbolic results are compared by exact equality of simplified expressions (sympy convention);
numerical evaluation is compared with sympy's own substitution at float64 to 1e-12 relative.
"""

import math
from fractions import Fraction

import numpy as np
import pytest
import sympy as sp
from hypothesis import given
from hypothesis import strategies as st

from relunet.bounds import KINDS, Bound, Domain, minimax_lower_bound, square_error, symbol

n, r, d, C, a, W, L, P = (symbol(s) for s in ("n", "r", "d", "C", "a", "W", "L", "P"))
m = symbol("m", integer=True)


def same(x, y) -> bool:
    """Exact symbolic equality."""
    return sp.simplify(sp.sympify(x) - sp.sympify(y)) == 0


def bound(expr, **kw) -> Bound:
    return Bound(kw.pop("name", "test"), expr, kw.pop("kind", "upper"), "quantity", "derived", **kw)


# -- symbols --------------------------------------------------------------------------------


def test_symbol_is_positive_and_shared():
    assert symbol("n") == symbol("n")
    assert symbol("n").is_positive
    assert symbol("m", integer=True).is_integer
    assert symbol("m", integer=True) != symbol("m")


# -- exponents ------------------------------------------------------------------------------

EXPONENT_CASES = [
    # (expression, variable, exponent, log power)
    (C * n ** (-2 * r / (2 * r + d)) * sp.log(n), "n", -2 * r / (2 * r + d), 1),
    (n**a * sp.log(n) ** 3, "n", a, 3),
    (n ** (-a) * sp.log(n) ** -2, "n", -a, -2),
    (3 * n**2 + n + 7, "n", 2, 0),
    (n**3 - n, "n", 3, 0),
    (sp.Rational(1, 5) * n ** sp.Rational(7, 3) + sp.sqrt(n), "n", sp.Rational(7, 3), 0),
    (W**2 * L * n ** (-a), "n", -a, 0),
    (W**2 * L * n ** (-a), "W", 2, 0),
    (W**2 * L * n ** (-a), "L", 1, 0),
    (P ** (-r / d) * sp.log(P) ** 2, "P", -r / d, 2),
    (sp.sqrt(n) * sp.log(sp.log(n)), "n", sp.Rational(1, 2), 0),
]


@pytest.mark.parametrize(("expr", "var", "expected", "log_power"), EXPONENT_CASES)
def test_exponent_matches_hand_derivation(expr, var, expected, log_power):
    b = bound(expr)
    assert same(b.exponent(var), expected)


@pytest.mark.parametrize(("expr", "var", "expected", "log_power"), EXPONENT_CASES)
def test_log_power_matches_hand_derivation(expr, var, expected, log_power):
    assert same(bound(expr).log_power(var), log_power)


def test_exponent_in_each_variable_of_a_product_of_powers():
    b = bound(n ** (-2 * r / (2 * r + d)) * W ** sp.Rational(3, 2))
    assert same(b.exponent("n"), -2 * r / (2 * r + d))
    assert same(b.exponent("W"), sp.Rational(3, 2))


def test_exponent_is_read_at_infinity_not_at_zero():
    # Near 0 the n**-1 term dominates; at infinity n**2 does.
    assert same(bound(n**2 + 1 / n).exponent("n"), 2)


def test_exponent_of_piecewise_reads_the_branch_for_large_values():
    b = bound(sp.Piecewise((5 * n**2 - 3, n >= 10), (n ** sp.Rational(1, 2), True)))
    assert b.exponent("n") == 2
    assert b.log_power("n") == 0
    k = bound(sp.Piecewise((3 * 2**n, n >= 4), (1, True)))
    assert k.log_slope("n") == 1


def test_exponent_of_unknown_variable_raises():
    with pytest.raises(ValueError, match="parameter = 'x'"):
        bound(n**2).exponent("x")


def test_log_slope_of_square_error():
    b = Bound("sq", 2 ** (-2 * m - 2), "exact", "sup error", "derived")
    assert b.log_slope("m") == -2
    assert b.log_slope("m", base=4) == -1
    assert square_error().log_slope("m") == -2


@pytest.mark.parametrize("base", [1, 1.0, 0, -2, math.inf, math.nan, True, "2"])
def test_log_slope_rejects_bases_that_are_not_a_log_base(base):
    # log_base needs a finite base > 0 other than 1 (log 1 = 0 would divide by zero)
    b = Bound("sq", 2 ** (-2 * m - 2), "exact", "sup error", "derived")
    with pytest.raises(ValueError, match=r"base = .* is out of range"):
        b.log_slope("m", base=base)


def test_minimax_exponent():
    b = minimax_lower_bound()
    rr, dd = b.sym("r"), b.sym("d")  # d is an integer symbol here
    assert same(b.exponent("n"), -2 * rr / (2 * rr + dd))
    assert b.log_power("n") == 0
    assert b.kind == "lower"
    assert b.constants == ("c",)


# -- evaluate -------------------------------------------------------------------------------


def demo_bound() -> Bound:
    return Bound(
        "demo",
        C * n ** (-2 * r / (2 * r + d)) * sp.log(n) + sp.sqrt(n) / (1 + r),
        "upper",
        "excess risk",
        "derived for the tests",
        variables=("n",),
        conditions={
            "n": Domain(lower=1, integer=True),
            "d": Domain(lower=1, upper=20, integer=True),
            "r": Domain(lower=0, lower_closed=False),
        },
        constants=("C",),
    )


def reference(b: Bound, values: dict) -> float:
    # numerical substitution at 30 digits (floats at their exact binary value); a symbolic
    # subs of a float's exact rational into a fractional power is very slow in sympy
    exact = {b.sym(k): sp.Float(v, 30) for k, v in values.items()}
    return float(b.expr.evalf(30, subs=exact))


@given(
    n_=st.integers(1, 10**6),
    d_=st.integers(1, 20),
    r_=st.floats(0.05, 10, allow_nan=False),
    c_=st.floats(1e-3, 1e3, allow_nan=False),
)
def test_evaluate_equals_sympy_substitution(n_, d_, r_, c_):
    b = demo_bound()
    values = {"n": n_, "d": d_, "r": r_, "C": c_}
    got = b.evaluate(**values)
    assert isinstance(got, float)
    assert got == pytest.approx(reference(b, values), rel=1e-12, abs=0)


@given(m_=st.integers(1, 60), big=st.floats(1e-3, 1e3, allow_nan=False))
def test_evaluate_equals_sympy_for_catalogue_shapes(m_, big):
    from relunet.bounds import product_gate_error, product_gate_error_stated

    for b in (product_gate_error(), product_gate_error_stated()):
        values = {"m": m_, "M": big}
        assert b.evaluate(**values) == pytest.approx(reference(b, values), rel=1e-12, abs=0)
    assert square_error().evaluate(m=m_) == 2.0 ** (-2 * m_ - 2)


@pytest.mark.parametrize(
    ("shapes", "expected"),
    [
        (((3,), (), (), ()), (3,)),
        (((3, 1), (4,), (), ()), (3, 4)),
        (((2, 1, 1), (1, 5, 1), (1, 1, 6), ()), (2, 5, 6)),
        (((), (), (), (2, 3)), (2, 3)),
    ],
)
def test_evaluate_broadcasts(shapes, expected):
    b = demo_bound()
    rng = np.random.default_rng(0)
    n_shape, d_shape, r_shape, c_shape = shapes
    values = {
        "n": rng.integers(1, 1000, size=n_shape),
        "d": rng.integers(1, 10, size=d_shape),
        "r": rng.uniform(0.1, 3.0, size=r_shape),
        "C": rng.uniform(0.5, 2.0, size=c_shape),
    }
    out = b.evaluate(**values)
    assert isinstance(out, np.ndarray)
    assert out.shape == expected
    assert out.dtype == np.float64
    full = {k: np.broadcast_to(v, expected) for k, v in values.items()}
    for idx in [(0,) * len(expected), tuple(s - 1 for s in expected)]:
        point = {k: v[idx].item() for k, v in full.items()}
        assert out[idx] == pytest.approx(b.evaluate(**point), rel=1e-14)


def test_evaluate_broadcasts_piecewise_and_max():
    from relunet.bounds import product_gate_size, square_size

    width = square_size()["width"]
    out = width.evaluate(m=np.array([[1, 2, 3]]))
    assert out.shape == (1, 3)
    assert out.tolist() == [[3.0, 4.0, 4.0]]
    max_w = product_gate_size()["max_weight"]
    out = max_w.evaluate(m=np.array([[1], [2]]), M=np.array([0.1, 1.0, 3.0]))
    assert out.shape == (2, 3)
    assert out.tolist() == [[5.0, 2.0, 18.0], [5.0, 4.0, 18.0]]


def test_evaluate_of_constant_expression_broadcasts_to_parameter_shape():
    b = Bound("lin", 0 * n + 5, "size", "q", "derived")
    # sympy folds 0*n away: no parameters, a scalar.
    assert b.parameters == ()
    assert b.evaluate() == 5.0
    b = bound(n / n + r - r + 2 * sp.Max(1, r))
    assert b.evaluate(r=np.array([0.5, 2.0])).tolist() == [3.0, 5.0]


BAD_VALUES = [
    # (parameter, value, text that the message must contain)
    ("n", 0, "n = 0"),
    ("n", 2.5, "n = 2.5"),
    ("n", np.array([3, 4, 0]), "n = 0"),
    ("d", 21, "d = 21"),
    ("d", 1.5, "d = 1.5"),
    ("r", 0.0, "r = 0"),
    ("r", -1.0, "r = -1"),
    ("r", math.inf, "r = inf"),
    ("r", math.nan, "r = nan"),
    ("C", -2.0, "C = -2"),  # no condition given: symbols are positive
    ("C", 0, "C = 0"),
    ("n", "many", "n = 'many'"),
    ("r", [1.0, "x"], "r = [1.0, 'x']"),
    ("r", None, "r = None"),
    ("r", 1 + 2j, "r = (1+2j)"),
    ("r", np.array([1.0, 2.0 + 1.0j]), "r = array"),
]


@pytest.mark.parametrize(("name", "value", "text"), BAD_VALUES)
def test_evaluate_rejects_bad_values_naming_parameter_and_value(name, value, text):
    b = demo_bound()
    values = {"n": 10, "d": 2, "r": 1.0, "C": 1.0}
    values[name] = value
    with pytest.raises(ValueError) as err:
        b.evaluate(**values)
    message = str(err.value)
    assert text in message
    assert f"{name} must be" in message


def test_evaluate_message_gives_the_valid_range():
    with pytest.raises(ValueError, match=r"d must be an integer in \[1, 20\]"):
        demo_bound().evaluate(n=10, d=0, r=1.0, C=1.0)
    with pytest.raises(ValueError, match=r"r must be a number > 0"):
        demo_bound().evaluate(n=10, d=1, r=-1.0, C=1.0)


def test_evaluate_rejects_missing_parameter():
    with pytest.raises(ValueError, match="needs a value for C"):
        demo_bound().evaluate(n=10, d=2, r=1.0)


def test_evaluate_rejects_unknown_parameter():
    with pytest.raises(ValueError, match="parameter = 'eps'.*its parameters are C, d, n, r"):
        demo_bound().evaluate(n=10, d=2, r=1.0, C=1.0, eps=0.1)


def test_evaluate_accepts_exact_numbers():
    b = demo_bound()
    as_float = b.evaluate(n=8, d=2, r=0.5, C=1.0)
    assert b.evaluate(n=8, d=2, r=Fraction(1, 2), C=1) == as_float
    assert b.evaluate(n=8, d=2, r=sp.Rational(1, 2), C=sp.Integer(1)) == as_float


def test_exact_evaluation():
    assert square_error().exact(m=3) == sp.Rational(1, 256)
    b = minimax_lower_bound()
    assert b.exact(n=16, r=1, d=2, c=Fraction(3, 2)) == sp.Rational(3, 8)
    with pytest.raises(ValueError, match="m = -1"):
        square_error().exact(m=-1)


# -- Domain ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("domain", "text"),
    [
        (Domain(), "a number"),
        (Domain(lower=1, integer=True), "an integer >= 1"),
        (Domain(lower=0, lower_closed=False), "a number > 0"),
        (Domain(upper=3, upper_closed=False), "a number < 3"),
        (Domain(lower=0, upper=1, lower_closed=False), "a number in (0, 1]"),
        (Domain(lower=-1.5, upper=2, upper_closed=False, integer=True), "an integer in [-1.5, 2)"),
    ],
)
def test_domain_describe(domain, text):
    assert domain.describe() == text


def test_domain_mask_invalid():
    dom = Domain(lower=0, upper=1, lower_closed=False)
    mask = dom.mask_invalid(np.array([0.0, 0.5, 1.0, 1.5, np.nan, np.inf]))
    assert mask.tolist() == [True, False, False, True, True, True]
    mask = Domain(lower=1, integer=True).mask_invalid(np.array([1.0, 2.0, 2.5, 0.0]))
    assert mask.tolist() == [False, False, True, True]


@pytest.mark.parametrize(("domain", "invalid"), [
    (Domain(lower=0, upper=1), [False, False, False]),
    (Domain(lower=0, upper=1, upper_closed=False), [False, False, True]),
    (Domain(lower=0, upper=1, lower_closed=False), [True, False, False]),
    (Domain(lower=0, upper=1, lower_closed=False, upper_closed=False), [True, False, True]),
])
def test_domain_open_endpoints_are_excluded_and_closed_ones_included(domain, invalid):
    # at 0, 0.5 and 1: an endpoint is valid exactly when its side of the interval is closed
    assert domain.mask_invalid(np.array([0.0, 0.5, 1.0])).tolist() == invalid
    for value, bad in zip((0.0, 0.5, 1.0), invalid):
        if bad:
            with pytest.raises(ValueError, match=f"c = {value:g} is out of range"):
                domain.check("c", value)
        else:
            domain.check("c", value)


def test_domain_check_names_context():
    with pytest.raises(ValueError, match=r"m = 0 is out of range: m must be an integer >= 1 \(ctx\)"):
        Domain(lower=1, integer=True).check("m", 0, context="ctx")
    Domain(lower=1, integer=True).check("m", np.array([1, 2, 3]))  # valid: no error


def test_bad_kind_and_unknown_names_are_rejected():
    with pytest.raises(ValueError, match="kind = 'upperish'"):
        Bound("x", n, "upperish", "q", "s")
    with pytest.raises(ValueError, match="variables: 'W'"):
        Bound("x", n, "upper", "q", "s", variables=("W",))
    with pytest.raises(ValueError, match="conditions: 'W'"):
        Bound("x", n, "upper", "q", "s", conditions={"W": Domain()})
    assert set(KINDS) == {"upper", "lower", "exact", "size"}


# -- subs, solve_for, printing ----------------------------------------------------------------


def test_subs_removes_the_symbol_and_keeps_the_rest():
    b = minimax_lower_bound()
    fixed = b.subs(r=1, d=2)
    assert fixed.parameters == ("c", "n")
    assert same(fixed.expr, b.sym("c") * b.sym("n") ** sp.Rational(-1, 2))
    assert set(fixed.conditions) == {"c", "n"}
    assert fixed.variables == ("n",)
    assert fixed.constants == ("c",)
    assert (fixed.kind, fixed.quantity, fixed.source) == (b.kind, b.quantity, b.source)
    assert same(fixed.exponent("n"), sp.Rational(-1, 2))
    # the new bound evaluates to what the old one did
    assert fixed.evaluate(n=100, c=2.0) == pytest.approx(b.evaluate(n=100, r=1, d=2, c=2.0))
    # fixing the constant drops it from `constants` and the variable from `variables`
    const = fixed.subs(c=3, n=4)
    assert const.constants == () and const.variables == () and const.parameters == ()
    assert const.expr == sp.Rational(3, 2)


def test_subs_float_is_exact_rational():
    fixed = minimax_lower_bound().subs(r=0.5, d=1)
    assert same(fixed.exponent("n"), sp.Rational(-1, 2))


@pytest.mark.parametrize(
    ("values", "text"),
    [({"d": 0}, "d = 0"), ({"d": 1.5}, "d = 1.5"), ({"r": -1}, "r = -1"), ({"n": 0.5}, "n = 0.5")],
)
def test_subs_checks_conditions(values, text):
    with pytest.raises(ValueError, match=text):
        minimax_lower_bound().subs(**values)


def test_subs_unknown_parameter():
    with pytest.raises(ValueError, match="parameter = 'q'"):
        minimax_lower_bound().subs(q=1)


def test_solve_for_square_error():
    b = Bound("sq", 2 ** (-2 * m - 2), "exact", "sup error", "derived")
    assert b.solve_for("m", sp.Rational(1, 64)) == 2
    assert square_error().solve_for("m", sp.Rational(1, 4) ** 7) == 6
    eps, real_m = symbol("eps"), symbol("m")  # real m for a symbolic target
    b = Bound("sq", 2 ** (-2 * real_m - 2), "exact", "sup error", "derived")
    m_of_eps = b.solve_for("m", eps)
    assert same(b.expr.subs(real_m, m_of_eps), eps)


def test_solve_for_inverts_minimax_rate():
    b = minimax_lower_bound()
    eps = symbol("eps")
    n_of_eps = b.solve_for("n", eps)
    assert same(sp.powsimp(b.expr.subs(b.sym("n"), n_of_eps), force=True), eps)
    # numerically: the sample size for excess risk 0.01 at r = 1, d = 2, c = 1 is 10^4
    fixed = b.subs(r=1, d=2, c=1)
    assert fixed.solve_for("n", sp.Rational(1, 100)) == 10**4


def test_solve_for_without_positive_solution():
    with pytest.raises(ValueError, match="no positive solution"):
        bound(n**2).solve_for("n", -1)


def test_latex():
    b = square_error()
    tex = b.latex()
    assert tex == sp.latex(b.expr)
    assert "2^{- 2 m - 2}" in tex
    assert r"\log" in demo_bound().latex()
    assert r"\frac{2 r}{d + 2 r}" in minimax_lower_bound().latex()


def test_str_contains_formula_source_and_conditions():
    b = minimax_lower_bound()
    text = str(b)
    assert sp.sstr(b.expr) in text
    assert b.source in text
    assert b.name in text and b.quantity in text and "(lower)" in text
    assert "n an integer >= 1" in text
    assert "unknown constants: c" in text


def test_booleans_are_not_numbers():
    from relunet.bounds import square_error

    with pytest.raises(ValueError, match="m = True is not a number"):
        square_error().evaluate(m=True)


def test_subs_keeps_floats_as_given():
    from relunet.bounds import minimax_lower_bound

    r = 9.999999999999998  # nsimplify would have made this 10
    b = minimax_lower_bound().subs(r=r)
    assert b.evaluate(n=100, d=1, c=1) == 100 ** (-2 * r / (2 * r + 1))
    assert {abs(float(a)) for a in b.expr.atoms(sp.Float)} == {2 * r}


# -- relations between parameters, solving, Min/Max and float64 overflow (third audit) ----------------

def test_requires_is_checked_in_evaluate_exact_and_subs():
    from relunet.bounds import get_bound

    b = get_bound("catapult.norm.loss_threshold")
    assert b.evaluate(y_sq=1.0, n=1, eta_lam=3.5, k=2) == 32.0
    for eta_lam in (4, 5):  # no threshold exists for eta_lam >= 2k (a finite 32 came back at 5)
        with pytest.raises(ValueError, match=f"eta_lam = {eta_lam}, k = 2 is out of range: .* requires eta_lam"):
            b.evaluate(y_sq=4.0, n=1, eta_lam=eta_lam, k=2)
        with pytest.raises(ValueError, match="requires eta_lam < 2\\*k"):
            b.exact(y_sq=4, n=1, eta_lam=eta_lam, k=2)
    with pytest.raises(ValueError, match="eta_lam = 6"):  # the first offending entry of an array
        b.evaluate(y_sq=1.0, n=1, eta_lam=np.array([1.0, 6.0, 7.0]), k=2)
    fixed = b.subs(k=2)
    assert [sp.sstr(r) for r in fixed.requires] == ["eta_lam < 4"] and "and eta_lam < 4" in str(fixed)
    assert b.subs(k=2, eta_lam=1).requires == ()
    with pytest.raises(ValueError, match="requires eta_lam < 2\\*k"):
        b.subs(k=2, eta_lam=4)


def test_requires_must_relate_parameters_of_the_expression():
    n, m = symbol("n"), symbol("m")
    with pytest.raises(ValueError, match="requires"):
        Bound("demo", n, "upper", "q", "derived", requires=(m < n,))
    with pytest.raises(ValueError, match="requires"):
        Bound("demo", n, "upper", "q", "derived", requires=(n + 1,))


def test_solve_for_an_integer_parameter_gives_the_real_solution():
    from relunet.bounds import get_bound

    # sympy drops solutions it can prove are not integers; m = log(250)/log(4) is the real one
    m = get_bound("approx.square.error").solve_for("m", sp.Rational(1, 1000))
    assert m.equals(sp.log(250) / sp.log(4))
    assert float(get_bound("approx.square.error").solve_for("m", 0.001)) == pytest.approx(3.982892142331, rel=1e-12)
    assert get_bound("approx.product.nonzero").solve_for("m", 100) == sp.Rational(104, 45)
    assert get_bound("dlgn.paths").subs(L=2).solve_for("m", 50) == sp.sqrt(50)
    with pytest.raises(ValueError, match="no positive solution"):  # control: 2^(-2m-2) <= 1/4 for m >= 0
        get_bound("approx.square.error").solve_for("m", 2)


def test_exponent_resolves_min_and_max():
    from relunet.bounds import get_bound

    assert get_bound("approx.product.max_weight").subs(m=2).exponent("M") == 2
    assert get_bound("erm.deepening.tau").subs(d=2, q_inf=0.1).exponent("n") == -1
    assert sp.simplify(get_bound("erm.deepening.tau").exponent("n") + 2 / symbol("d", integer=True)) == 0
    n, q = symbol("n"), symbol("q")
    undecided = Bound("demo", sp.Min(n, q * n), "upper", "q", "derived")  # which term wins depends on q
    with pytest.raises(ValueError, match="sympy cannot take this limit"):
        undecided.exponent("n")


def test_evaluate_redoes_float64_overflow_exactly():
    from relunet.bounds import get_bound

    integral = get_bound("approx.bump.integral")  # (2 tau)^d/(d+1)!: factorial(171) is inf in float64
    for d, tau in ((200, 100), (171, 1), (3, 0.25)):
        exact = float(integral.exact(d=d, tau=Fraction(tau)).evalf(30))
        assert integral.evaluate(d=d, tau=tau) == pytest.approx(exact, rel=1e-12, abs=0)
    assert integral.evaluate(d=10, tau=1e40) == math.inf  # control: 5e395 is beyond float64
    sphere = get_bound("geometry.covering.sphere").evaluate(d=np.array([400, 200, 2]), eta=np.array([0.5, 0.01, 0.1]),
                                                            R=1, C=1)
    assert sphere == pytest.approx([4.42054207e-154, 1.97301966e+293, 400 * math.pi], rel=1e-8, abs=0)
    # underflow too: tau^d d^100 at tau = 0.01, d = 200 is 10^-400 * 200^100 = 2^100 10^-200 in float64 range,
    # though 0.01^200 alone underflows to 0
    tau_, d_ = symbol("tau"), symbol("d")
    tiny = bound(tau_**d_ * d_**100).evaluate(tau=0.01, d=200)
    assert tiny == pytest.approx(float(Fraction(2**100, 10**200)), rel=1e-12, abs=0)
    zeros = get_bound("catapult.norm.loss_threshold").evaluate(y_sq=np.zeros(10**5), n=1, eta_lam=1.0, k=2)
    assert not zeros.any()  # a zero where a parameter is zero is exact and is not redone


def test_exact_decides_a_ceiling_at_the_float_given():
    from relunet.bounds import get_bound

    steps = get_bound("approx.square.steps")
    below = float(np.nextafter(4.0**-10, 0))  # 2^(-2*9-2) = 4^-10 > below: 10 steps are needed
    assert steps.exact(eps=below) == 10 and steps.exact(eps=4.0**-10) == 9
    assert get_bound("geometry.covering.circle").exact(R=1, eta=0.06282151815625658) == 51  # mpmath: 51
