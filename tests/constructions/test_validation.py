"""Bad arguments get one ValueError naming the parameter, its value and what is allowed; NumPy
scalars count as the numbers they hold."""

from fractions import Fraction

import numpy as np
import pytest
import torch

from relunet.constructions import product_gate, yarotsky_square
from relunet.constructions.deepening import deepen_interpolant
from relunet.constructions.estimators import mlp_estimator, partition_estimator, truncate
from relunet.constructions.models import StackedMLP
from relunet.constructions.regression import RegressionProblem, holder_target
from relunet.constructions.training import BatchedTrainer
from relunet.constructions.validation import check_int, check_positive, check_real, check_seed
from relunet.verify.measure import l2_error, sup_error


@pytest.mark.parametrize("value, expected", [(3, 3), (np.int64(3), 3), (3.0, 3), (np.float32(2.0), 2)])
def test_check_int_accepts_integral_numbers(value, expected):
    out = check_int("m", value, 1)
    assert out == expected and type(out) is int


@pytest.mark.parametrize("value", [True, 2.5, float("nan"), float("inf"), "3", None])
def test_check_int_rejects_what_is_not_an_integer(value):
    with pytest.raises(ValueError, match=r"^m = .* is not an integer: m must be an integer in \[1, 10\]$"):
        check_int("m", value, 1, 10)


@pytest.mark.parametrize("value", [0, 11, np.int64(-3), 12.0])
def test_check_int_rejects_integers_out_of_range(value):
    with pytest.raises(ValueError, match=r"^m = .* is out of range: m must be an integer in \[1, 10\]$"):
        check_int("m", value, 1, 10)


def test_check_real_bounds_and_messages():
    assert check_real("sigma", np.float32(0.5), 0) == 0.5
    assert check_real("beta", float("inf"), 0, low_open=True, finite=False) == float("inf")
    assert check_positive("tau", Fraction(1, 4)) == 0.25
    for value in (0, -1, float("nan"), float("inf"), "a", True):
        with pytest.raises(ValueError, match=r"^tau = .* is out of range: tau must be a finite number > 0$"):
            check_positive("tau", value)
    with pytest.raises(ValueError, match=r"must be a finite number >= 0 and < 1$"):
        check_real("a", 1.0, 0, 1, high_open=True)


def test_check_seed():
    assert check_seed(np.int64(5)) == 5 and check_seed([3, 1]) == [3, 1]
    for bad in (-1, 2**63, 1.5, "a", [], [1, -2]):
        with pytest.raises(ValueError, match="seed"):
            check_seed(bad)


X = np.random.default_rng(0).random((40, 2))
Y = X.sum(axis=1)


@pytest.mark.parametrize("kwargs, fragment", [
    ({"r": 1, "bound": -1}, "bound = -1"),
    ({"r": 1, "bound": 0}, "bound = 0"),
    ({"r": 0}, "r = 0"),
    ({"r": -1}, "r = -1"),
    ({"r": float("nan")}, "r = nan"),
    ({"r": 1, "cells": 0}, "cells = 0"),
])
def test_partition_estimator_rejects_nonsense(kwargs, fragment):
    with pytest.raises(ValueError, match=fragment):
        partition_estimator(X, Y, **kwargs)


def test_numpy_scalars_are_numbers():
    f0 = partition_estimator(X, Y, r=np.float32(1.0), bound=np.int64(2))
    assert f0.name == "partition[3^2]"
    assert RegressionProblem(holder_target(1, 1), sigma=np.float32(0.25)).sigma == 0.25
    assert product_gate(3, bound=np.float32(0.5)).input_dim == 2
    with pytest.raises(ValueError, match="bound = None"):
        truncate(f0, None)


def test_regression_problem_arguments():
    with pytest.raises(ValueError, match="target = 'foo'"):
        RegressionProblem("foo")
    prob = RegressionProblem(holder_target(1, 1))
    with pytest.raises(ValueError, match="n = nan"):
        prob.sample(float("nan"), seed=0)
    with pytest.raises(ValueError, match="seed = -1"):
        prob.sample(5, seed=-1)
    with pytest.raises(ValueError, match="density_amplitude = 'a'"):
        RegressionProblem(holder_target(1, 1), density_amplitude="a")
    with pytest.raises(ValueError, match="beta_outer"):
        from relunet.constructions.regression import composite_target
        composite_target(0, 2)


def test_exact_evaluation_arguments():
    f = yarotsky_square(3)
    assert f.evaluate_exact(Fraction(1, 2))[0, 0] == Fraction(1, 4)  # a scalar for a 1-input net
    with pytest.raises(ValueError, match="not finite"):
        f.evaluate_exact([[float("nan")]])
    with pytest.raises(ValueError, match="dps = -1"):
        f.evaluate_exact([[0.3]], "mpmath", dps=-1)


def test_net_arithmetic_arguments():
    f = yarotsky_square(2)
    with pytest.raises(ValueError, match="c = nan"):
        f.scale(float("nan"))
    with pytest.raises(TypeError, match="product_gate"):
        f * f
    assert (f * np.float64(0.5)).name == "0.5*square2"
    with pytest.raises(ValueError, match="float64's range"):
        product_gate(2, bound=1e300)  # weights ~ M^2 overflow


def test_deepening_arguments():
    with pytest.raises(ValueError, match="base = 'foo'"):
        deepen_interpolant("foo", X, Y)
    f0 = partition_estimator(X, Y, r=1)
    bad = Y.copy()
    bad[3] = np.nan
    with pytest.raises(ValueError, match="NaN or inf"):
        deepen_interpolant(f0, X, bad)
    with pytest.raises(ValueError, match="tau = 0"):
        deepen_interpolant(f0, X, Y, tau=0)


def test_measure_arguments():
    from relunet.constructions.targets import square_target

    f = yarotsky_square(2)
    with pytest.raises(ValueError, match="target = 'x'"):
        sup_error(f, "x", (0, 1))
    with pytest.raises(ValueError, match=r"output = 3 is out of range: the net has 1 output"):
        sup_error(f, square_target(), (0, 1), output=3)
    with pytest.raises(ValueError, match="output = -1"):
        l2_error(f, square_target(), (0, 1), output=-1)
    with pytest.raises(ValueError, match="seed = -1"):
        l2_error(f, square_target(), (0, 1), seed=-1)


def test_trainer_and_mlp_arguments():
    mlp = StackedMLP(1, 4, 1)
    for name, value in (("lr", "a"), ("lr", 0), ("lr", [0.1, float("nan")]), ("loss_scale", -1)):
        with pytest.raises(ValueError, match=f"{name} = "):
            BatchedTrainer(mlp, **{name: value})
    x = torch.zeros(1, 3, 1, dtype=torch.float64)
    y = torch.tensor([[[0.0], [float("nan")], [1.0]]], dtype=torch.float64)
    with pytest.raises(ValueError, match="y has NaN"):
        BatchedTrainer(mlp, steps=2, progress=False).fit(x, y, seeds=[0])
    xs = np.linspace(0, 1, 8)[:, None]
    for kwargs, fragment in (({"r": 0}, "r = 0"), ({"r": 1, "steps": 0}, "steps = 0"),
                             ({"r": 1, "lr": -1}, "lr = -1"), ({"r": 1, "seed": -3}, "seed = -3")):
        with pytest.raises(ValueError, match=fragment):
            mlp_estimator(xs, xs[:, 0], **kwargs)
