"""Bad arguments to the public API of relunet.verify and relunet.bounds: one clear ValueError
naming the parameter, never a hang, a deep numpy/sympy error or a garbage result."""

import numpy as np
import pytest

from relunet.bounds.catalogue import get_bound
from relunet.bounds.catapult import uv_iterate
from relunet.bounds.dlgn import relu_regions_serra
from relunet.constructions import cube_bump, yarotsky_square
from relunet.constructions.catapult_data import image_two_class
from relunet.constructions.manifolds import Circle
from relunet.constructions.targets import Target, monomial, square_target
from relunet.verify import ResultsStore, check, l2_error, monte_carlo_integral
from relunet.verify.measure import integrate_exact
from relunet.verify.store import StoreError


@pytest.mark.parametrize("kwargs, fragment", [
    ({"chunk": 0}, "chunk = 0"),  # once an endless loop
    ({"chunk": -5}, "chunk = -5"),
    ({"confidence": 2}, "confidence = 2"),
    ({"n": float("nan")}, "n = nan"),
    ({"dim": 0}, "dim = 0"),
])
def test_monte_carlo_integral_arguments(kwargs, fragment):
    args = {"n": 1000, "dim": 1, **kwargs}
    with pytest.raises(ValueError, match=fragment):
        monte_carlo_integral(lambda x: x[:, 0], (0, 1), **args)


def test_l2_error_rejects_non_finite_samples_and_bad_confidence():
    f = yarotsky_square(2)
    with pytest.raises(ValueError, match="100 non-finite entries"):
        l2_error(f, square_target(), sampler=lambda rng, n: np.full((n, 1), np.nan), n=100)
    with pytest.raises(ValueError, match="confidence = '0.9'"):
        l2_error(f, square_target(), (0, 1), confidence="0.9")


def test_integrate_exact_takes_the_lo_hi_shorthand():
    bump = cube_bump([0, 0], 0, 1)
    assert integrate_exact(bump, (-1, 1)) == integrate_exact(bump, [(-1, 1), (-1, 1)])


def test_store_paths_and_keys(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for path in (None, 3, "", "  "):
        with pytest.raises(StoreError, match="is not a path"):
            ResultsStore(path)
    assert list(tmp_path.iterdir()) == []  # no file called "None" or "3"
    with ResultsStore(tmp_path / "s.sqlite") as store:
        verdict = check("approx.square.size", m=1)[0]
        with pytest.raises(StoreError, match="key = None"):
            store.put(None, verdict)
    # reading back: a mistyped name is an error, not a new empty store
    with pytest.raises(StoreError, match="typo.sqlite' does not exist"):
        ResultsStore(tmp_path / "typo.sqlite", create=False)
    assert not (tmp_path / "typo.sqlite").exists()
    with ResultsStore(tmp_path / "s.sqlite", create=False) as store:
        assert store.count() == 0


@pytest.mark.parametrize("lr", ["0.1", True, [0.1, "a"], None])
def test_trainer_rates_that_are_not_numbers_name_themselves(lr):
    from relunet.constructions.models import StackedMLP
    from relunet.constructions.training import BatchedTrainer

    with pytest.raises(ValueError, match=r"^lr = .* is not a number: give a finite number > 0"):
        BatchedTrainer(StackedMLP(2, 4, 1), lr=lr, steps=5)


def test_lookups_with_a_non_string_name():
    with pytest.raises(ValueError, match="claim = None is unknown"):
        check(None)
    with pytest.raises(ValueError, match="bound = None is unknown"):
        get_bound(None)


def test_bound_api_arguments():
    with pytest.raises(ValueError, match=r"sympy cannot take this limit.*\.subs\(d=2\)"):
        get_bound("dlgn.cells.affine").exponent("N")
    assert get_bound("dlgn.cells.affine").subs(d=2).exponent("N") == 2
    with pytest.raises(ValueError, match="m = array"):
        get_bound("approx.square.error").exact(m=np.array([1, 2]))
    with pytest.raises(ValueError, match="M = array"):
        get_bound("approx.product.error").subs(M=np.array([1.0, 2.0]))
    with pytest.raises(ValueError, match=r"do not broadcast together: M \(2,\), m \(3,\)"):
        get_bound("approx.product.error").evaluate(m=np.array([1, 2, 3]), M=np.array([1.0, 2.0]))
    values = get_bound("approx.square.error").evaluate(m=np.array([1, 2, 3]))
    values *= 2  # a writable array
    assert values.tolist() == [0.125, 0.03125, 0.0078125]


def test_other_arguments():
    with pytest.raises(ValueError, match=r"lam0 = -1.0 is out of range"):
        uv_iterate(1.0, -1.0, 1.0, 100, 5)
    with pytest.raises(ValueError, match=r"widths = \[2.5, 4\]"):
        relu_regions_serra([2.5, 4], 2)
    with pytest.raises(ValueError, match="10 NaN or inf"):
        Circle(10).project(np.full((1, 10), np.nan))
    with pytest.raises(ValueError, match="no image has label 11"):
        image_two_class("digits", classes=(0, 11))


@pytest.mark.parametrize(("exponents", "fragment"), [
    ([1.5], r"exponents\[0\] = 1.5 is not an integer: exponents\[0\] must be an integer >= 0"),  # once x1
    ([2, 0.5], r"exponents\[1\] = 0.5"),  # once x1**2
    ([-1], r"exponents\[0\] = -1"),
    ([], "exponents = \\[\\] is empty"),
    (3, "exponents = 3 is not allowed"),
])
def test_monomial_refuses_exponents_that_are_not_counts(exponents, fragment):
    with pytest.raises(ValueError, match=fragment):
        monomial(exponents)


def test_monomial_takes_integral_numbers():
    assert monomial([np.int64(2), 1.0]).expr == Target("x1**2*x2", 2).expr
