"""The ReluNet calculus: composition, parallel stacking, linear combination, scaling, deepening.

Each operation is checked on random nets with small dyadic weights, in float64 to 1e-12
relative (with an absolute floor scaled by the magnitude of the computation) and exactly in
rational arithmetic through `evaluate_exact`.  Sizes follow approximation.md §0.
"""

from fractions import Fraction

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from relunet.constructions import (
    NetSize,
    ReluNet,
    affine_net,
    compose,
    deepen,
    identity_net,
    linear_combination,
    parallel,
    tent,
    yarotsky_square,
)

# -- local strategies ----------------------------------------------------------------------------

DYADIC = st.builds(Fraction, st.integers(-12, 12), st.sampled_from([1, 2, 4]))


@st.composite
def relu_nets(draw, input_dim=None, output_dim=None, max_depth=3, max_width=4, floats=None):
    """A ReluNet with weights k/4, |k| <= 12; stored as Fractions or (sometimes) float arrays."""
    n_in = input_dim if input_dim is not None else draw(st.integers(1, 3))
    n_out = output_dim if output_dim is not None else draw(st.integers(1, 3))
    depth = draw(st.integers(0, max_depth))
    dims = [n_in, *[draw(st.integers(1, max_width)) for _ in range(depth)], n_out]
    as_float = draw(st.booleans()) if floats is None else floats
    layers = []
    for fan_in, fan_out in zip(dims[:-1], dims[1:], strict=True):
        w = [[draw(DYADIC) for _ in range(fan_in)] for _ in range(fan_out)]
        b = [draw(DYADIC) for _ in range(fan_out)]
        if as_float:
            w, b = np.array(w, dtype=float), np.array(b, dtype=float)
        layers.append((w, b))
    return ReluNet(layers)


def points(dim, max_n=6):
    """Float64 points of shape (N, dim): generic values and dyadic ones."""
    return st.integers(1, max_n).flatmap(
        lambda n: hnp.arrays(
            np.float64, (n, dim),
            elements=st.one_of(st.floats(-8, 8, allow_nan=False, width=64),
                               st.integers(-32, 32).map(lambda k: k / 8)),
        )
    )


def magnitude(net: ReluNet, x: np.ndarray) -> np.ndarray:
    """|W_L|...|W_1||x| + ... : the scale of the rounding error of the forward pass at x."""
    h = np.abs(np.asarray(x, dtype=float))
    for w, b in zip(net.weights, net.biases, strict=True):
        h = h @ np.abs(w).T + np.abs(b)
    return h


TINY = 1e-300  # below this, float64 values are near the subnormal range: no relative accuracy


def assert_close(got, want, scale):
    """float64 identity: 1e-12 relative, with an absolute floor 1e-12 * scale."""
    got, want = np.asarray(got, dtype=float), np.asarray(want, dtype=float)
    assert got.shape == want.shape
    bad = np.abs(got - want) > 1e-12 * (np.abs(want) + scale) + TINY
    assert not np.any(bad), (got[bad], want[bad])


def exact(net: ReluNet, x) -> np.ndarray:
    return net.evaluate_exact(x)


def as_fraction_array(x) -> np.ndarray:
    arr = np.asarray(x, dtype=object)
    return np.vectorize(Fraction, otypes=[object])(arr)


def same_exact(a, b) -> bool:
    return np.asarray(a).shape == np.asarray(b).shape and np.asarray(a).tolist() == np.asarray(
        b).tolist()


@st.composite
def composable(draw):
    inner = draw(relu_nets())
    outer = draw(relu_nets(input_dim=inner.output_dim))
    x = draw(points(inner.input_dim))
    return outer, inner, x


# -- composition ---------------------------------------------------------------------------------


@given(composable())
def test_compose_is_function_composition(case):
    outer, inner, x = case
    net = compose(outer, inner)
    mid = inner(x)
    assert_close(net(x), outer(mid), magnitude(outer, magnitude(inner, x)))
    assert same_exact(exact(net, x), exact(outer, exact(inner, x)))
    assert net.has_rational_weights == (outer.has_rational_weights and inner.has_rational_weights)
    assert same_exact(exact(outer.compose(inner), x), exact(net, x))


@given(composable())
def test_compose_sizes(case):
    outer, inner, _ = case
    net = compose(outer, inner)
    assert net.depth == outer.depth + inner.depth
    assert net.widths == inner.widths + outer.widths
    assert (net.input_dim, net.output_dim) == (inner.input_dim, outer.output_dim)


def test_compose_rejects_mismatched_dims():
    with pytest.raises(ValueError, match=r"outer\.input_dim = 2 does not match inner\.output_dim = 3"):
        compose(affine_net([[1, 1]]), affine_net([[1], [1], [1]]))


# -- parallel ------------------------------------------------------------------------------------


@st.composite
def shared_pair(draw):
    f = draw(relu_nets())
    g = draw(relu_nets(input_dim=f.input_dim))
    return f, g, draw(points(f.input_dim))


@given(shared_pair())
def test_parallel_shared_input_concatenates(case):
    f, g, x = case
    net = parallel(f, g)
    want = np.concatenate([f(x), g(x)], axis=-1)
    scale = np.concatenate([magnitude(f, x), magnitude(g, x)], axis=-1)
    assert_close(net(x), want, 2 * scale)
    assert same_exact(exact(net, x), np.concatenate([exact(f, x), exact(g, x)], axis=-1))
    assert (net.input_dim, net.output_dim) == (f.input_dim, f.output_dim + g.output_dim)


@given(st.data())
def test_parallel_separate_inputs(data):
    f, g = data.draw(relu_nets()), data.draw(relu_nets())
    n = data.draw(st.integers(1, 4))
    x1 = data.draw(hnp.arrays(np.float64, (n, f.input_dim), elements=st.floats(-8, 8)))
    x2 = data.draw(hnp.arrays(np.float64, (n, g.input_dim), elements=st.floats(-8, 8)))
    net = parallel(f, g, shared_input=False)
    x = np.concatenate([x1, x2], axis=-1)
    assert net.input_dim == f.input_dim + g.input_dim
    want = np.concatenate([f(x1), g(x2)], axis=-1)
    scale = np.concatenate([magnitude(f, x1), magnitude(g, x2)], axis=-1)
    assert_close(net(x), want, 2 * scale)
    assert same_exact(exact(net, x), np.concatenate([exact(f, x1), exact(g, x2)], axis=-1))


@given(st.data(), st.booleans())
def test_parallel_sizes(data, shared):
    f = data.draw(relu_nets())
    g = data.draw(relu_nets(input_dim=f.input_dim if shared else None))
    h = data.draw(relu_nets(input_dim=f.input_dim if shared else None))
    net = parallel(f, g, h, shared_input=shared)
    depth = max(f.depth, g.depth, h.depth)
    parts = [deepen(p, depth) for p in (f, g, h)]
    assert net.depth == depth
    assert net.widths == tuple(sum(ws) for ws in zip(*(p.widths for p in parts), strict=True))
    assert net.size().nonzero == sum(p.size().nonzero for p in parts)
    assert net.output_dim == f.output_dim + g.output_dim + h.output_dim


def test_parallel_pads_the_shorter_net_with_identity_layers():
    shallow = affine_net([[2]])
    deep = compose(ReluNet([([[1]], [0]), ([[1]], [0])]), ReluNet([([[1]], [0]), ([[1]], [0])]))
    net = parallel(shallow, deep)
    assert net.depth == 2
    # the affine map is deepened: x -> sigma(2x) - sigma(-2x) -> carried again: widths 2 + 1
    assert net.widths == (3, 3)
    x = np.array([[-1.5], [2.0]])
    assert net(x).tolist() == [[-3.0, 0.0], [4.0, 2.0]]


def test_parallel_bad_input():
    with pytest.raises(ValueError, match="nets"):
        parallel()
    with pytest.raises(ValueError, match=r"input dims \[1, 2\] differ"):
        parallel(affine_net([[1]]), affine_net([[1, 1]]))
    # without a shared input, different input dims are fine
    assert parallel(affine_net([[1]]), affine_net([[1, 1]]), shared_input=False).input_dim == 3


# -- linear combinations and scaling ---------------------------------------------------------------


@st.composite
def same_shape_pair(draw):
    f = draw(relu_nets())
    g = draw(relu_nets(input_dim=f.input_dim, output_dim=f.output_dim))
    return f, g, draw(points(f.input_dim))


@given(same_shape_pair(), DYADIC, DYADIC)
def test_linear_combination(case, a, b):
    f, g, x = case
    net = linear_combination([a, b], [f, g])
    want = float(a) * f(x) + float(b) * g(x)
    scale = abs(float(a)) * magnitude(f, x) + abs(float(b)) * magnitude(g, x)
    assert_close(net(x), want, 2 * scale)
    assert same_exact(exact(net, x), a * exact(f, x) + b * exact(g, x))
    assert net.has_rational_weights == (f.has_rational_weights and g.has_rational_weights)
    # float coefficients give a float net with the same values
    fl = linear_combination([float(a), float(b)], [f, g])
    assert not fl.has_rational_weights
    assert_close(fl(x), want, 2 * scale)
    # one float coefficient is enough to make the result a float net
    assert not linear_combination([float(a), b], [f, g]).has_rational_weights


def test_linear_combination_with_one_float_coefficient_is_a_float64_net():
    # exactness needs every coefficient rational: with 0.1 among them the combined weight is the
    # float64 value 0.1 * fl(1/3) + 1, not the exact Fraction(0.1) / 3 + 1
    net = linear_combination([0.1, 1], [affine_net([[Fraction(1, 3)]]), affine_net([[1]])])
    assert not net.has_rational_weights
    weight = Fraction(0.1 * (1 / 3) + 1.0)
    assert weight != Fraction(0.1) / 3 + 1
    assert net.evaluate_exact([[3]])[0, 0] == 3 * weight


@given(same_shape_pair())
def test_operator_sugar(case):
    f, g, x = case
    assert same_exact(exact(f + g, x), exact(f, x) + exact(g, x))
    assert same_exact(exact(f - g, x), exact(f, x) - exact(g, x))
    assert same_exact(exact(-f, x), -exact(f, x))
    assert same_exact(exact(3 * f, x), 3 * exact(f, x))
    assert same_exact(exact(f * Fraction(1, 4), x), exact(f, x) / 4)
    if f.has_rational_weights:  # a float net times 1/3 rounds its weights
        assert same_exact(exact(f * Fraction(1, 3), x), exact(f, x) / 3)


@given(relu_nets().flatmap(lambda f: st.tuples(st.just(f), points(f.input_dim))),
       st.one_of(DYADIC, st.just(0.0), st.floats(1e-100, 100), st.floats(-100, -1e-100)))
def test_scale(case, c):
    f, x = case
    net = f.scale(c)
    assert_close(net(x), float(c) * f(x), abs(float(c)) * magnitude(f, x))
    assert net.has_rational_weights == (f.has_rational_weights and isinstance(c, Fraction))
    if isinstance(c, Fraction):  # dyadic c times dyadic weights is exact even in float64
        assert same_exact(exact(net, x), c * exact(f, x))
    assert net.widths == f.widths


def test_linear_combination_bad_input():
    f = affine_net([[1]])
    with pytest.raises(ValueError, match="coefficients has 1 entries and nets 2"):
        linear_combination([1], [f, f])
    with pytest.raises(ValueError, match="coefficients has 0 entries and nets 0"):
        linear_combination([], [])
    with pytest.raises(ValueError, match=r"output dims \[1, 2\] differ"):
        linear_combination([1, 1], [f, affine_net([[1], [1]])])


# -- deepening and the identity ---------------------------------------------------------------------


@given(relu_nets().flatmap(lambda f: st.tuples(st.just(f), points(f.input_dim))),
       st.integers(0, 3))
def test_deepen_keeps_the_function(case, extra):
    f, x = case
    net = deepen(f, f.depth + extra)
    assert net.depth == f.depth + extra
    assert net.widths == f.widths + (2 * f.output_dim,) * extra
    assert_close(net(x), f(x), magnitude(f, x))
    assert same_exact(exact(net, x), exact(f, x))
    if extra == 0:
        assert net is f
    elif f.depth > 0:
        # W h + b with h >= 0 splits into W+ h and W- h, carried as they are: 2 k weights per added layer
        assert net.size().nonzero == f.size().nonzero + 2 * f.output_dim * extra


def test_deepen_rejects_smaller_depth():
    f = ReluNet([([[1]], [0]), ([[1]], [0]), ([[1]], [0])])
    with pytest.raises(ValueError, match="depth = 1 is out of range"):
        deepen(f, 1)
    for bad in (2.5, float("inf"), None, "3"):
        with pytest.raises(ValueError, match="depth = "):
            deepen(f, bad)


@given(st.integers(1, 4), st.integers(0, 4), st.data())
def test_identity_net(dim, depth, data):
    net = identity_net(dim, depth)
    x = data.draw(points(dim))
    assert net(x).tolist() == x.tolist()  # sigma(t) - sigma(-t) is exact in float64
    assert same_exact(exact(net, x), as_fraction_array(x))
    assert net.depth == depth
    assert net.widths == (2 * dim,) * depth
    assert net.has_rational_weights
    size = net.size()
    # first layer [I; -I] and output [I, -I]: 2 dim each; each layer between carries sigma(x), sigma(-x) >= 0
    # by the identity: 2 dim
    assert size.nonzero == (2 * dim * (depth + 1) if depth else dim)
    assert size.max_abs_weight == 1.0


@pytest.mark.parametrize(("dim", "depth"), [(0, 1), (1.5, 1), (None, 1), (1, -1), (1, 0.5),
                                            (1, float("inf"))])
def test_identity_net_bad_input(dim, depth):
    name = "dim" if dim in (0, 1.5, None) else "depth"
    with pytest.raises(ValueError, match=f"{name} = "):
        identity_net(dim, depth)


# -- ReluNet itself ---------------------------------------------------------------------------------


def test_size_reports_counts():
    net = ReluNet([([[1, 0], [Fraction(-5, 2), 3]], [0, 1]), ([[0, 2]], [Fraction(1, 2)])])
    size = net.size()
    assert isinstance(size, NetSize)
    assert (size.depth, size.widths, size.width) == (1, (2,), 2)
    assert size.nonzero == 3 + 1 + 1 + 1
    assert size.dense == 4 + 2 + 2 + 1
    assert size.max_abs_weight == 3.0
    assert (size.input_dim, size.output_dim) == (2, 1)
    assert size.other_operations == ()
    d = size.as_dict()
    assert d["nonzero"] == 6 and d["widths"] == [2] and d["width"] == 2


def test_size_max_abs_weight_includes_the_biases():
    # the largest |entry| counts biases as well as weights, whatever their sign
    assert ReluNet([([[1]], [5]), ([[1]], [0])]).size().max_abs_weight == 5.0
    assert ReluNet([([[1], [Fraction(-1, 2)]], [0, 2]), ([[1, 1]], [-7])]).size().max_abs_weight == 7.0


def test_affine_net_and_evaluation_shapes():
    net = affine_net([[1, 2]], [3])
    assert net.depth == 0 and net.widths == () and net.size().width == 0
    assert net(np.array([[1.0, 1.0]])).tolist() == [[6.0]]
    # batched leading dimensions are kept
    assert net(np.ones((2, 3, 2))).shape == (2, 3, 1)
    # a 1-D array is a batch of scalars for a 1-input net
    one = ReluNet([([[1], [-1]], [0, 0]), ([[1, 1]], [0])])
    assert one(np.array([-1.5, 2.0])).shape == (2,)
    assert one(np.array([[-1.5], [2.0]])).shape == (2, 1)


def test_rational_and_float_weights():
    rational = ReluNet([([[Fraction(1, 3)]], [1])])
    assert rational.has_rational_weights
    assert rational.evaluate_exact([[Fraction(3)]])[0, 0] == Fraction(2)
    floats = ReluNet([(np.array([[0.1]]), np.array([1.0]))])
    assert not floats.has_rational_weights
    # exact evaluation uses the float's exact binary value
    assert floats.evaluate_exact([[Fraction(1)]])[0, 0] == Fraction(0.1) + 1
    mixed = ReluNet([([[1]], [0]), (np.array([[0.5]]), np.array([0.0]))])
    assert not mixed.has_rational_weights


@given(relu_nets().flatmap(lambda f: st.tuples(st.just(f), points(f.input_dim, max_n=3))))
def test_evaluate_exact_agrees_with_float_and_mpmath(case):
    f, x = case
    ex = exact(f, x)
    assert_close(f(x), np.vectorize(float)(ex), magnitude(f, x))
    mp = f.evaluate_exact(x, arithmetic="mpmath", dps=40)
    diff = np.vectorize(lambda a, b: abs(float(a - a.context.mpf(b.numerator) / b.denominator)))(
        mp, ex)
    assert np.all(diff <= 1e-30 * (1 + magnitude(f, x)))


@given(relu_nets(floats=False).flatmap(
    lambda f: st.tuples(st.just(f), st.lists(DYADIC, min_size=f.input_dim,
                                             max_size=f.input_dim))))
def test_local_affine_reproduces_the_net_at_its_point(case):
    f, p = case
    a, c = f.local_affine(p)
    assert a.shape == (f.output_dim, f.input_dim) and c.shape == (f.output_dim,)
    assert same_exact(a.dot(np.array(p, dtype=object)) + c, exact(f, [p])[0])


def test_activation_pattern():
    net = ReluNet([([[1], [-1]], [0, 0]), ([[1, 1]], [0])])
    pattern = net.activation_pattern(np.array([-2.0, 3.0, 0.0]))
    assert len(pattern) == 1
    assert pattern[0].tolist() == [[False, True], [True, False], [False, False]]


def test_local_affine_at_a_kink_takes_the_inactive_side():
    # a unit with pre-activation exactly 0 is inactive (as activation_pattern says), so it adds nothing
    relu = ReluNet([([[1]], [0]), ([[1]], [0])])
    assert relu.activation_pattern([0.0])[0].tolist() == [[False]]
    a, c = relu.local_affine([0])
    assert a.tolist() == [[0]] and c.tolist() == [0]
    # 2 relu(x1 - x2) + 1 at (1/3, 1/3): the map is the constant 1
    net = ReluNet([([[1, -1]], [0]), ([[2]], [1])])
    a, c = net.local_affine([Fraction(1, 3), Fraction(1, 3)])
    assert a.tolist() == [[0, 0]] and c.tolist() == [1]


BAD_LAYERS = [
    ([], "layers = \\[\\] is empty"),
    ([([[1, 2]], [0, 0])], r"layers\[0\]: W has shape \(1, 2\) and b has shape \(2,\)"),
    ([([[[1]]], [0])], r"layers\[0\]: W has shape \(1, 1, 1\)"),
    ([([[1]], [[0]])], r"layers\[0\]: W has shape \(1, 1\) and b has shape \(1, 1\)"),
    ([([[1], [1]], [0, 0]), ([[1, 1, 1]], [0])], r"layers\[1\]: W expects 3 inputs but layer 0"),
    ([([[np.inf]], [0])], r"layers\[0\]: weights must be finite"),
    ([([[1.0]], [np.nan])], r"layers\[0\]: weights must be finite"),
    ([([[1]],)], r"layers\[0\] = \(\[\[1\]\],\) is not allowed: each layer must be a pair \(W, b\)"),
    (5, "layers = 5 is not allowed: layers must be a list of"),
    ([([["a"]], [0])], r"layers\[0\]: W = \[\['a'\]\] is not allowed: W and b must be arrays of real numbers"),
    ([([[1]], [1 + 2j])], r"layers\[0\]: b = \[\(1\+2j\)\] is not allowed"),
]


@pytest.mark.parametrize(("layers", "text"), BAD_LAYERS)
def test_relunet_rejects_bad_layers(layers, text):
    with pytest.raises(ValueError, match=text):
        ReluNet(layers)


def test_evaluation_rejects_bad_points():
    net = affine_net([[1, 2]])
    with pytest.raises(ValueError, match=r"x has shape \(3, 3\): expected \(\.\.\., 2\)"):
        net(np.ones((3, 3)))
    with pytest.raises(ValueError, match=r"x has shape \(\)"):
        net(1.0)
    with pytest.raises(ValueError, match=r"x has shape"):
        net.evaluate_exact([[1, 2, 3]])
    with pytest.raises(ValueError, match="arithmetic = 'float'"):
        net.evaluate_exact([[1, 2]], arithmetic="float")
    with pytest.raises(ValueError, match="point has 3 coordinates: expected 2"):
        net.local_affine([1, 2, 3])
    with pytest.raises(ValueError, match=r"x has shape"):
        net.activation_pattern(np.ones((2, 5)))


# -- audit regressions: coefficients, overflow, operands, scalar and NumPy-scalar inputs ----------


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf, np.float32("nan"), "a", None, True])
def test_linear_combination_rejects_coefficients_that_are_not_finite_numbers(bad):
    # a NaN coefficient once built a net whose output was NaN (and whose max_abs_weight skipped it)
    with pytest.raises(ValueError, match=r"coefficients\[0\] = .* must be a finite number"):
        linear_combination([bad, 1], [yarotsky_square(3), affine_net([[1]])])


@pytest.mark.parametrize("build", [
    lambda: tent().scale(1e308),  # finite c; the float path once gave inf weights and NaN outputs
    lambda: tent().scale(10**400),  # the exact path: too large to round to float64
    lambda: affine_net(np.array([[4.0]])).scale(1e308),
    lambda: affine_net(np.array([[4.0]])).scale(10**400),
    lambda: compose(affine_net(np.array([[1e200]])), affine_net(np.array([[1e200]]))),
    lambda: linear_combination([1e308, 1e308], [affine_net(np.array([[1.0]]))] * 2),
    lambda: 1e308 * parallel(tent(), affine_net(np.array([[4.0]]))),
])
def test_float64_overflow_raises_on_both_paths(build):
    with pytest.raises(ValueError, match="exceeds float64's range"):
        build()


def test_calculus_operands_must_be_nets():
    f = yarotsky_square(2)
    for op in (lambda: f + 1, lambda: 1 + f, lambda: f - 0.5):
        with pytest.raises(TypeError, match="unsupported operand"):
            op()
    with pytest.raises(TypeError, match=r"nets\[1\] is a int: expected a ReluNet"):
        linear_combination([1, 2], [f, 3])
    with pytest.raises(TypeError, match="inner is a str: expected a ReluNet"):
        compose(f, "g")
    with pytest.raises(TypeError, match=r"nets\[0\] is a NoneType"):
        parallel(None, f)
    with pytest.raises(TypeError, match="coefficients = 2 is not allowed: coefficients must be a sequence"):
        linear_combination(2, [f])
    assert (f + f)(0.5) == 2 * f(0.5)


def test_a_single_number_is_a_point_when_input_dim_is_1():
    f = yarotsky_square(3)
    assert f(0.5).shape == () and f(0.5) == f(np.array([0.5]))[0]
    assert f(np.float32(0.25)) == f(np.array([[0.25]]))[0, 0]
    both = parallel(f, f.scale(2))
    assert both(0.5).shape == (2,) and both(0.5).tolist() == both(np.array([[0.5]]))[0].tolist()
    assert [p.tolist() for p in f.activation_pattern(0.5)] == [p.tolist() for p in f.activation_pattern([0.5])]
    with pytest.raises(ValueError, match="x = 'a' is not allowed: x must be an array of real numbers"):
        f("a")


def test_torch_tensors_are_read_as_values():
    f = yarotsky_square(3)
    x = torch.tensor([0.5, 0.3], dtype=torch.float64, requires_grad=True)
    assert f(x).tolist() == f(np.array([0.5, 0.3])).tolist()
    assert f.evaluate_exact(x).tolist() == f.evaluate_exact([0.5, 0.3]).tolist()
    assert f.local_affine(x[:1])[0].tolist() == f.local_affine([0.5])[0].tolist()


def _exact(v) -> Fraction:
    return Fraction(*v.as_integer_ratio())


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.longdouble])
def test_exact_entry_points_take_numpy_float_scalars_at_their_exact_value(dtype):
    f, v = yarotsky_square(3), dtype("0.1")  # a string: longdouble keeps more than float64's 0.1
    want = f.evaluate_exact([[_exact(v)]])
    assert f.evaluate_exact([[v]]).tolist() == want.tolist()
    assert f.evaluate_exact(v).tolist() == want.tolist()
    assert f.evaluate_exact(np.array([[v]])).tolist() == want.tolist()
    assert f.evaluate_exact([[v]], arithmetic="mpmath", dps=60)[0, 0] == f.evaluate_exact(
        [[_exact(v)]], arithmetic="mpmath", dps=60)[0, 0]
    gate = parallel(f, affine_net([[3]]))
    got = gate.local_affine([v])
    assert [a.tolist() for a in got] == [a.tolist() for a in gate.local_affine([_exact(v)])]
    assert gate.local_affine(np.array([v]))[1].tolist() == got[1].tolist()


def test_exact_entry_points_reject_non_finite_points():
    f = yarotsky_square(3)
    with pytest.raises(ValueError, match=r"point\[0\] = nan is not allowed"):
        f.local_affine([np.nan])
    with pytest.raises(ValueError, match=r"point\[0\] = '0.5' is not allowed"):
        f.local_affine(["0.5"])  # Fraction would parse the string
    with pytest.raises(ValueError, match=r"x has entries that are not finite real numbers \(np.float32\(inf\)\)"):
        f.evaluate_exact([[np.float32("inf")]])
