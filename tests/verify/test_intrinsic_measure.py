"""sup_error on sets that are not boxes (candidates + project), and the intrinsic-dimension estimators."""

import sys

import numpy as np
import pytest
import torch

from relunet.constructions import affine_net
from relunet.constructions.manifolds import Circle, ManifoldTarget
from relunet.constructions.targets import Target
from relunet.verify.claims.intrinsic import (
    data_dimension,
    egop_spectrum,
    mle_dimension,
    tube_sup_error,
    twonn_dimension,
)
from relunet.verify.measure import sup_error


def test_candidates_replace_the_box_and_the_ascent_respects_project():
    """|0 - x1| on the unit disc: the sup is 1 at (±1, 0); candidates avoid it, the ascent finds it."""
    zero = affine_net([[0, 0]])
    target = Target("x1", 2)
    rng = np.random.default_rng(0)
    angles = rng.uniform(0.3, 1.2, 200)
    cands = 0.5 * np.stack([np.cos(angles), np.sin(angles)], axis=1)

    def to_disc(z):
        return z / torch.clamp(z.norm(dim=1, keepdim=True), min=1.0)

    found = sup_error(zero, target, candidates=cands, project=to_disc, exact=False, polish=False,
                      ascent_steps=200)
    assert found.value == pytest.approx(1.0, abs=1e-6)
    assert np.linalg.norm(found.point) <= 1 + 1e-12
    plain = sup_error(zero, target, candidates=cands, ascent_steps=0, exact=False, polish=False)
    assert plain.found_by == "candidates" and plain.value < 0.5


def test_domain_and_candidates_together_and_bad_input():
    zero = affine_net([[0]])
    target = Target("x1", 1)
    both = sup_error(zero, target, (0, 1), candidates=np.array([[3.0]]), ascent_steps=0, exact=False)
    assert both.value == 3.0 and both.found_by == "candidates"
    with pytest.raises(ValueError, match="domain = None and candidates = None"):
        sup_error(zero, target)
    with pytest.raises(ValueError, match="candidates"):
        sup_error(zero, target, candidates=np.zeros((3, 2)))
    with pytest.raises(ValueError, match="ascent_step"):
        sup_error(zero, target, candidates=np.zeros((3, 1)), ascent_step=-1.0)


def test_tube_sup_error_stays_in_the_tube():
    m = Circle(5, seed=0)
    f = ManifoldTarget(m, m.kink_function(1.0))
    zero = affine_net(np.zeros((1, 5)))
    found = tube_sup_error(zero, f, m, 0.5, 200, seed=1, ascent_steps=30)
    assert m.distance(found.point[None])[0] <= 0.5 + 1e-12
    assert found.value == pytest.approx(1.0, abs=1e-3)  # |sin θ| reaches 1


def test_own_estimators_on_known_dimensions():
    rng = np.random.default_rng(0)
    for dim in (1, 2, 4):
        x = np.zeros((3000, 8))
        x[:, :dim] = rng.random((3000, dim))
        assert twonn_dimension(x) == pytest.approx(dim, rel=0.15)
        assert mle_dimension(x, 20) == pytest.approx(dim, rel=0.15)


def test_data_dimension_falls_back_without_scikit_dimension(monkeypatch):
    x = Circle(6, seed=0).sample(1500, seed=1)
    monkeypatch.setitem(sys.modules, "skdim", None)  # import skdim now raises ImportError
    value, name = data_dimension(x, 20)
    assert name == "MLE(k=20)" and value == pytest.approx(1.0, abs=0.15)
    value, name = data_dimension(x)
    assert name == "TwoNN" and value == pytest.approx(1.0, abs=0.15)


def test_data_dimension_with_scikit_dimension_when_installed():
    pytest.importorskip("skdim")
    x = Circle(6, seed=0).sample(1500, seed=1)
    value, name = data_dimension(x)
    assert name.startswith("skdim") and value == pytest.approx(1.0, abs=0.15)


def test_egop_of_a_function_of_the_projection_has_one_direction():
    m = Circle(5, seed=2)
    f = ManifoldTarget(m, m.kink_function(1.0))

    class Wrapped(torch.nn.Module):
        def forward(self, x):
            return f.torch(x)

    foot = m.embed(np.array([[0.7]]))[0]
    eig, grads, _ = egop_spectrum(Wrapped(), foot, 0.05, 300, seed=3)
    assert eig[1] / eig[0] < 1e-3
    top = np.linalg.eigh(grads.T @ grads)[1][:, -1]
    assert abs(top @ m.tangent_basis(foot[None])[0][:, 0]) > 0.99


class _NoLinear(torch.nn.Module):
    """x -> |x_0| without parameters: the input dimension must come from `input_dim`."""

    def forward(self, x):
        return x[:, :1].abs()


def test_modules_without_linear_layers_need_an_input_dim():
    target = Target("Abs(x1)", 2)
    net = _NoLinear()
    pts = np.random.default_rng(0).random((50, 2))
    with pytest.raises(ValueError, match="input_dim"):
        sup_error(net, target, candidates=pts, exact=False, polish=False)
    net.input_dim = 2
    found = sup_error(net, target, candidates=pts, exact=False, polish=False, ascent_steps=3)
    assert found.value == 0.0
