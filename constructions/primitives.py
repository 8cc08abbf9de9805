"""Pure-ReLU building blocks with exact weights.

Every function returns a :class:`~relunet.constructions.network.ReluNet` built from affine
maps and ReLU alone, with rational weights (parameters given as floats are taken at their
exact dyadic value), so sizes are honest and the nets can be evaluated exactly.

References
----------
D. Yarotsky, "Error bounds for approximations with deep ReLU networks", Neural Networks 94
(2017) 103-114: the tent, sawtooth, square (Prop. 2) and product gate (Prop. 3).
C. K. Chui, S.-B. Lin, D.-X. Zhou, "Construction of neural networks for realization of
localized deep learning", Front. Appl. Math. Stat. 4 (2018): the cube bump.
``shared/theory/approximation.md`` sections 1 and 2 for the exact identities.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from fractions import Fraction
from numbers import Rational, Real

import numpy as np

from .exact import to_fraction
from .network import ReluNet, affine_net, compose, identity_net, parallel
from .validation import check_int

__all__ = [
    "absolute_value",
    "clip",
    "cube_bump",
    "hat",
    "max_of",
    "maximum",
    "min_of",
    "minimum",
    "piecewise_linear",
    "product_gate",
    "sawtooth",
    "tent",
    "trapezoid",
    "yarotsky_square",
]

F0, F1, HALF = Fraction(0), Fraction(1), Fraction(1, 2)


def _rational(name: str, value, positive: bool = False, nonnegative: bool = False) -> Fraction:
    """`value` as an exact Fraction: ints and Rationals as they are, floats of any width (NumPy's
    float32 and longdouble included) at the exact binary value they hold."""
    if isinstance(value, bool) or not isinstance(value, Real):
        raise ValueError(f"{name} = {value!r} is not a real number")
    if isinstance(value, (Rational, float, np.floating)):
        if not (isinstance(value, Rational) or np.isfinite(value)):
            raise ValueError(f"{name} = {value} is out of range: {name} must be finite")
        v = to_fraction(value, name)
    elif math.isfinite(value):  # another Real type: through float64
        v = Fraction(float(value))
    else:
        raise ValueError(f"{name} = {value} is out of range: {name} must be finite")
    if positive and v <= 0:
        raise ValueError(f"{name} = {value} is out of range: {name} must be > 0")
    if nonnegative and v < 0:
        raise ValueError(f"{name} = {value} is out of range: {name} must be >= 0")
    return v


def absolute_value() -> ReluNet:
    """|t| = sigma(t) + sigma(-t): 2 units, 1 hidden layer.

    >>> absolute_value()(np.array([-2.5, 0.0, 3.0])).tolist()
    [2.5, 0.0, 3.0]
    """
    return ReluNet([([[1], [-1]], [0, 0]), ([[1, 1]], [0])], name="abs")


def maximum() -> ReluNet:
    """max(a, b) = a + sigma(b - a), a carried as sigma(a) - sigma(-a): 3 units.

    >>> maximum()(np.array([[1.0, -2.0], [-1.0, 4.0]])).ravel().tolist()
    [1.0, 4.0]
    """
    return ReluNet([([[1, 0], [-1, 0], [-1, 1]], [0, 0, 0]), ([[1, -1, 1]], [0])], name="max")


def minimum() -> ReluNet:
    """min(a, b) = a - sigma(a - b), a carried as sigma(a) - sigma(-a): 3 units.

    >>> minimum()(np.array([[1.0, -2.0], [-1.0, 4.0]])).ravel().tolist()
    [-2.0, -1.0]
    """
    return ReluNet([([[1, 0], [-1, 0], [1, -1]], [0, 0, 0]), ([[1, -1, -1]], [0])], name="min")


def _tree(pair: ReluNet, n: int, label: str) -> ReluNet:
    n = check_int("n", n, 1)
    if n == 1:
        return identity_net(1, 0)
    net, width = None, n
    while width > 1:
        blocks = [pair] * (width // 2) + ([identity_net(1, 1)] if width % 2 else [])
        level = parallel(*blocks, shared_input=False)
        net = level if net is None else compose(level, net)
        width = width // 2 + width % 2
    net.name = f"{label}{n}"
    return net


def max_of(n: int) -> ReluNet:
    """Maximum of n inputs by a binary tree of pairwise maxima: ceil(log2 n) hidden layers.

    An odd input at a level is carried by the identity sigma(t) - sigma(-t).

    >>> max_of(5)(np.array([[3.0, -1.0, 7.0, 2.0, 6.5]])).tolist()
    [[7.0]]
    """
    return _tree(maximum(), n, "max")


def min_of(n: int) -> ReluNet:
    """Minimum of n inputs by a binary tree of pairwise minima: ceil(log2 n) hidden layers.

    >>> min_of(3)(np.array([[3.0, -1.0, 7.0]])).tolist()
    [[-1.0]]
    """
    return _tree(minimum(), n, "min")


def clip(bound) -> ReluNet:
    """Clipping to [-M, M]: pi_M(t) = sigma(t + M) - sigma(t - M) - M, 2 units.

    >>> clip(1)(np.array([-3.0, 0.5, 2.0])).tolist()
    [-1.0, 0.5, 1.0]
    """
    m = _rational("bound", bound, positive=True)
    return ReluNet([([[1], [1]], [m, -m]), ([[1, -1]], [-m])], name=f"clip{bound}")


def tent() -> ReluNet:
    """Yarotsky's tent g(x) = 2 sigma(x) - 4 sigma(x - 1/2) + 2 sigma(x - 1): 3 units.

    g = 2x on [0, 1/2], 2(1 - x) on [1/2, 1] and 0 outside [0, 1].

    >>> tent()(np.array([-1.0, 0.25, 0.5, 0.75, 2.0])).tolist()
    [0.0, 0.5, 1.0, 0.5, 0.0]
    """
    return ReluNet([([[1], [1], [1]], [F0, -HALF, -F1]), ([[2, -4, 2]], [0])], name="tent")


def sawtooth(s: int) -> ReluNet:
    """The sawtooth g_s = g ∘ ... ∘ g (s tents): 2^(s-1) teeth, s hidden layers of 3 units.

    >>> sawtooth(2)(np.array([0.125, 0.25, 0.5])).tolist()
    [0.5, 1.0, 0.0]
    """
    s = check_int("s", s, 1)
    net = tent()
    for _ in range(s - 1):
        net = compose(tent(), net)
    net.name = f"sawtooth{s}"
    return net


def yarotsky_square(m: int) -> ReluNet:
    """Yarotsky's square f_m(x) = x - sum_{s=1}^m g_s(x) / 4^s on [0, 1], m hidden layers.

    f_m is the piecewise-linear interpolant of x^2 at the nodes k/2^m, with sup error
    2^(-2m-2) on [0, 1].  Layer k holds the three tent units that turn g_(k-1) into g_k and
    the partial sum f_(k-1) >= 0 carried through a ReLU; layer 1 shares sigma(x) between the
    tent and the carry, so the hidden widths are (3, 4, ..., 4).  ``m = 0`` gives f_0(x) = x.

    References
    ----------
    Yarotsky 2017, Proposition 2; approximation.md §2.  The size is
    :func:`relunet.bounds.square_size`.

    Examples
    --------
    >>> f2 = yarotsky_square(2)
    >>> f2(np.array([0.0, 0.25, 0.375, 1.0])).tolist()
    [0.0, 0.0625, 0.15625, 1.0]
    """
    m = check_int("m", m, 0)
    if m == 0:
        return ReluNet([([[1]], [0])], name="square0")
    tents = [2, -4, 2]
    layers = [([[1], [1], [1]], [F0, -HALF, -F1])]
    for k in range(1, m):
        # Previous layer's units: (a, b, c, carry) with g_k = 2a - 4b + 2c; in layer 1 the
        # carry is a itself (f_0 = x = sigma(x) on [0, 1]).
        scale = Fraction(1, 4**k)
        if k == 1:
            carry_row = [1 - 2 * scale, 4 * scale, -2 * scale]
            tent_rows = [tents] * 3
        else:
            carry_row = [-2 * scale, 4 * scale, -2 * scale, F1]
            tent_rows = [tents + [0]] * 3
        layers.append((tent_rows + [carry_row], [F0, -HALF, -F1, F0]))
    scale = Fraction(1, 4**m)
    out = [1 - 2 * scale, 4 * scale, -2 * scale] if m == 1 else [-2 * scale, 4 * scale, -2 * scale, F1]
    layers.append(([out], [F0]))
    return ReluNet(layers, name=f"square{m}")


def product_gate(m: int, bound=1) -> ReluNet:
    """Yarotsky's product gate on [-M, M]^2 with m-step squares.

    ×̃(x, y) = 2M^2 [f_m(|x+y|/2M) - f_m(|x|/2M) - f_m(|y|/2M)], with
    -M^2 2^(-2m) <= ×̃ - xy <= 0 and exact zeros on the axes.  Depth m + 1.

    Parameters
    ----------
    m : int
        Steps of each square, >= 1.
    bound : rational, default 1
        M, the half-width of the square domain [-M, M]^2.

    References
    ----------
    Yarotsky 2017, Proposition 3; approximation.md §2.1.  The size is
    :func:`relunet.bounds.product_gate_size`.

    Examples
    --------
    >>> g = product_gate(3)
    >>> g(np.array([[0.5, -0.5], [0.0, 0.7]])).ravel().tolist()
    [-0.25, 0.0]
    """
    m = check_int("m", m, 1)
    big = _rational("bound", bound, positive=True)
    absolutes = ReluNet(
        [([[1, 1], [-1, -1], [1, 0], [-1, 0], [0, 1], [0, -1]], [0] * 6),
         ([[1, 1, 0, 0, 0, 0], [0, 0, 1, 1, 0, 0], [0, 0, 0, 0, 1, 1]], [0, 0, 0])],
        name="abs3",
    ).scale(1 / (2 * big))
    squares = parallel(*[yarotsky_square(m)] * 3, shared_input=False)
    combine = affine_net([[2 * big**2, -2 * big**2, -2 * big**2]])
    net = compose(combine, compose(squares, absolutes))
    net.name = f"product{m}[M={bound}]"
    return net


def trapezoid(center, plateau, ramp) -> ReluNet:
    """The trapezoid T_{a,delta,tau}: 1 on [a-delta, a+delta], 0 outside (a-delta-tau, a+delta+tau).

    T = (1/tau)[sigma(t-a+delta+tau) - sigma(t-a+delta) - sigma(t-a-delta) + sigma(t-a-delta-tau)]
    with 4 units; ``plateau = 0`` gives the hat with 3 units.

    >>> trapezoid(0, 1, 1)(np.array([-2.0, -1.5, 0.0, 1.5, 2.0])).tolist()
    [0.0, 0.5, 1.0, 0.5, 0.0]
    """
    a = _rational("center", center)
    delta = _rational("plateau", plateau, nonnegative=True)
    tau = _rational("ramp", ramp, positive=True)
    if delta == 0:
        return hat(center, ramp)
    shifts = [-a + delta + tau, -a + delta, -a - delta, -a - delta - tau]
    w_out = [1 / tau, -1 / tau, -1 / tau, 1 / tau]
    return ReluNet([([[1]] * 4, shifts), ([w_out], [0])], name="trapezoid")


def hat(center, half_width) -> ReluNet:
    """The hat h_{a,tau}(t) = (1/tau)[sigma(t-a+tau) - 2 sigma(t-a) + sigma(t-a-tau)]: 3 units.

    >>> hat(1, 0.5)(np.array([0.5, 0.75, 1.0, 1.6])).tolist()
    [0.0, 0.5, 1.0, 0.0]
    """
    a = _rational("center", center)
    tau = _rational("half_width", half_width, positive=True)
    return ReluNet([([[1]] * 3, [-a + tau, -a, -a - tau]), ([[1 / tau, -2 / tau, 1 / tau]], [0])],
                   name="hat")


def cube_bump(center: Sequence, plateau, ramp) -> ReluNet:
    """The cube bump B(x) = sigma(sum_k T_{a_k,delta,tau}(x_k) - (d - 1)): depth 2.

    B = 1 on the cube prod_k [a_k - delta, a_k + delta], 0 as soon as one coordinate leaves
    its trapezoid's support, and B = sigma(1 - |x - a|_1 / tau) when delta = 0.  It uses
    4d + 1 units (3d + 1 when delta = 0) and no product gates.

    References
    ----------
    Chui, Lin and Zhou 2018; approximation.md §1, item 3.

    Examples
    --------
    >>> b = cube_bump([0.5, 0.5], 0, 0.25)
    >>> b(np.array([[0.5, 0.5], [0.625, 0.5], [0.75, 0.5]])).ravel().tolist()
    [1.0, 0.5, 0.0]
    """
    coords = list(np.atleast_1d(np.asarray(center, dtype=object)))
    if not coords:
        raise ValueError("center = [] is empty: the bump needs at least one coordinate")
    d = len(coords)
    parts = [trapezoid(c, plateau, ramp) for c in coords]
    fold = ReluNet([([[1] * d], [-(d - 1)]), ([[1]], [0])], name="fold")
    net = compose(fold, parallel(*parts, shared_input=False))
    net.name = f"bump{d}"
    return net


def piecewise_linear(knots: Sequence, values: Sequence, outside: str = "extend") -> ReluNet:
    """Exact continuous piecewise-linear interpolation through (knots[i], values[i]).

    f(t) = v_0 + s_0 sigma(t - t_0) + sum_k (s_k - s_(k-1)) sigma(t - t_k): one hidden layer,
    one unit per knot where the slope changes.  Left of t_0 the net is the constant v_0;
    right of the last knot it extends the last slope (``outside="extend"``) or stays constant
    (``outside="constant"``, one more unit).

    Examples
    --------
    >>> f = piecewise_linear([0, 0.5, 1], [0, 0.25, 1])
    >>> f(np.array([0.25, 0.75])).tolist()
    [0.125, 0.625]
    """
    t = [_rational(f"knots[{i}]", v) for i, v in enumerate(knots)]
    v = [_rational(f"values[{i}]", y) for i, y in enumerate(values)]
    if len(t) < 2 or len(t) != len(v):
        raise ValueError(
            f"knots has {len(t)} entries and values {len(v)}: need equal lengths of at least 2"
        )
    for i in range(1, len(t)):
        if t[i] <= t[i - 1]:
            raise ValueError(f"knots[{i}] = {knots[i]} is out of order: knots must increase strictly")
    if outside not in ("extend", "constant"):
        raise ValueError(f"outside = {outside!r} is not allowed: use 'extend' or 'constant'")
    slopes = [(v[i + 1] - v[i]) / (t[i + 1] - t[i]) for i in range(len(t) - 1)]
    changes = [slopes[0]] + [slopes[i] - slopes[i - 1] for i in range(1, len(slopes))]
    where = t[:-1]
    if outside == "constant":
        changes.append(-slopes[-1])
        where = t
    units = [(k, c) for k, c in zip(where, changes) if c != 0]
    if not units:
        return ReluNet([([[0]], [v[0]])], name="constant")
    hidden = ([[1]] * len(units), [-k for k, _ in units])
    return ReluNet([hidden, ([[c for _, c in units]], [v[0]])], name="pwl")
