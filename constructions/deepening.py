"""The deepening construction: an interpolating global minimum of ERM built on a base estimator.

Given a ReLU net f0 and distinct samples (x_i, y_i), F = f0 + Σ_i c_i B_{i,τ} with residuals
c_i = y_i - f0(x_i) and cube bumps B_{i,τ}(x) = σ(Σ_k h_{x_ik,τ}(x_k) - (d - 1)) (hats, plateau
0) of half-width τ <= q∞/2, q∞ the ℓ∞ separation of the inputs.  F interpolates the data exactly,
equals f0 off the bumps, and has extra L2 error Σ c_i² ∫ B_i² dρ_X.  Two realisations compute
the same function:

- wide: f0 and the bump sum side by side (depth max(L0, 2); 3dn first-layer units, sparse);
- deep: after f0, one two-layer block per sample, carrying x and the running output u as
  σ(u), σ(−u) (depth L0 + 2n at width max(W0 + d, 4d + 2)): over-parameterized by depth.

References
----------
Lin, Wang and Zhou, "Generalization performance of empirical risk minimization on
over-parameterized deep ReLU nets", IEEE TIT 71(3) 2025 (arXiv:2111.14039), the deepening
scheme (its exact form [recalled]); ``shared/theory/erm_deepening.md`` §4-§5 (the lemma and the
realisations, derived).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
import scipy.sparse as sparse
from scipy.spatial import cKDTree

from .exact import ExactSparse
from .network import ReluNet, linear_combination
from .validation import check_int, check_real

__all__ = ["Interpolant", "bump_sum", "bump_values", "choose_tau", "deep_realisation", "deepen_interpolant",
           "exact_sum", "separation"]


def _csr_data(w) -> np.ndarray:
    return w.data if sparse.issparse(w) else np.asarray(w).reshape(-1)


def separation(x) -> float:
    """q∞ = min_{i != j} |x_i - x_j|_∞, by a KD-tree (0 when two inputs coincide).

    >>> separation(np.array([[0.0, 0.0], [0.5, 0.25], [0.1, 0.9]]))
    0.5
    """
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2 or len(x) < 2:
        raise ValueError(f"x has shape {x.shape}: need (n, d) with n >= 2")
    dist, _ = cKDTree(x).query(x, k=2, p=np.inf)
    return float(dist[:, 1].min())


def choose_tau(q_inf: float, n: int, d: int, shrink: bool = True) -> float:
    """τ = min(q∞/2, n^(-2/d)/2) rounded down to a power of two (so the slopes 1/τ are exact).

    With ``shrink=False`` only q∞/2 is used (still rounded down to a power of two).  q∞ must be
    a finite number > 0 (distinct inputs), n and d integers >= 1.

    References
    ----------
    erm_deepening.md §4 (the lemma's τ <= q∞/2 and τ ≍ n^(-2/d)).

    >>> choose_tau(0.3, 100, 2)
    0.00390625
    """
    try:
        q_inf = check_real("q_inf", q_inf, 0, low_open=True)
    except ValueError as err:
        raise ValueError(f"{err} (the inputs must be distinct)") from None
    n, d = check_int("n", n, 1), check_int("d", d, 1)
    t = q_inf / 2 if not shrink else min(q_inf / 2, 0.5 * n ** (-2.0 / d))
    return 2.0 ** math.floor(math.log2(t))


def _distinct(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    """Drop exact duplicate samples; raise if one input carries two different labels."""
    keys, first, inverse = np.unique(x, axis=0, return_index=True, return_inverse=True)
    inverse = inverse.reshape(-1)
    if len(keys) == len(x):
        return x, y, 0
    for group in range(len(keys)):
        labels = y[inverse == group]
        if np.any(labels != labels[0]):
            where = x[inverse == group][0].tolist()
            raise ValueError(
                f"x contains the input {where} twice with labels {labels.tolist()}: no function interpolates "
                "these data, so ERM has no perfect global minimum"
            )
    keep = np.sort(first)
    return x[keep], y[keep], len(x) - len(keep)


def bump_sum(centres, coefficients, tau: float, exact: bool = True) -> ReluNet:
    """S(x) = Σ_i c_i σ(Σ_k h_{x_ik,τ}(x_k) - (d-1)) as a sparse depth-2 ReluNet.

    First layer: per bump and coordinate the hat units σ(t - a + τ), σ(t - a), σ(t - a - τ)
    (weights 1, so the slopes ±1/τ, -2/τ sit in the second layer, as check C9 wants).

    >>> s = bump_sum(np.array([[0.25], [0.75]]), np.array([1.0, -2.0]), 0.125)
    >>> s(np.array([[0.25], [0.3125], [0.75], [0.5]])).ravel().tolist()
    [1.0, 0.5, -2.0, 0.0]
    """
    centres = np.asarray(centres, dtype=np.float64)
    n, d = centres.shape
    coefs = [c if isinstance(c, Fraction) else Fraction(float(c))
             for c in np.asarray(coefficients, dtype=object).reshape(-1)]
    if len(coefs) != n:
        raise ValueError(f"coefficients has {len(coefs)} entries for {n} centres")
    check_real("tau", tau, 0, low_open=True)  # a Fraction stays exact
    units = 3 * d * n
    rows = np.arange(units)
    if not exact:
        return _bump_sum_float(centres, np.array([float(c) for c in coefs]), float(tau))
    t = Fraction(tau)
    w1 = ExactSparse.from_coo(rows, np.tile(np.repeat(np.arange(d), 3), n), [1] * units, (units, d))
    b1 = []
    for a in centres.reshape(-1):  # bump-major, then coordinate; exact: -a ± tau with a the float's value
        q = Fraction(float(a))
        b1 += [-q + t, -q, -q - t]
    w2 = ExactSparse.from_coo(np.repeat(np.arange(n), 3 * d), rows, [1 / t, -2 / t, 1 / t] * (d * n), (n, units))
    b2 = [Fraction(-(d - 1))] * n
    w3 = ExactSparse.from_coo(np.zeros(n, dtype=np.int64), np.arange(n), coefs, (1, n))
    return ReluNet.from_exact([(w1, b1), (w2, b2), (w3, [Fraction(0)])], name=f"bumps[{n}]")


def _bump_sum_float(centres: np.ndarray, c: np.ndarray, tau: float) -> ReluNet:
    """The same net with float64 weights only (fast to build; exact up to the rounding of -a ± tau)."""
    n, d = centres.shape
    units = 3 * d * n
    rows = np.arange(units)
    w1 = sparse.csr_matrix((np.ones(units), (rows, np.tile(np.repeat(np.arange(d), 3), n))), shape=(units, d))
    a = centres.reshape(-1)
    b1 = np.stack([-a + tau, -a, -a - tau], axis=1).reshape(-1)
    v2 = np.tile(np.array([1.0, -2.0, 1.0]) / tau, d * n)
    w2 = sparse.csr_matrix((v2, (np.repeat(np.arange(n), 3 * d), rows)), shape=(n, units))
    w3 = sparse.csr_matrix(c.reshape(1, -1))
    return ReluNet([(w1, b1), (w2, np.full(n, -(d - 1.0))), (w3, np.zeros(1))], name=f"bumps[{n}]")


def bump_values(centres, coefficients, tau: float, x) -> np.ndarray:
    """Σ_i c_i σ(1 - |x - x_i|_1 / τ) at points x (N, d), summing the bumps within τ in ℓ∞.

    This is the closed form of the cube bump with plateau 0 (approximation.md §1 item 4); with
    overlapping supports (τ > q∞/2) every bump that reaches x is summed.

    >>> float(bump_values(np.array([[0.5]]), np.array([2.0]), 0.25, np.array([[0.625]]))[0])
    1.0
    """
    centres = np.asarray(centres, dtype=np.float64)
    x = np.asarray(x, dtype=np.float64)
    c = np.asarray(coefficients, dtype=np.float64).reshape(-1)
    out = np.zeros(len(x))
    if len(x) == 0:
        return out
    tree = cKDTree(centres)
    start, rows = 0, 4096
    while start < len(x):  # row blocks, so that wide overlapping bumps do not exhaust memory
        block = x[start:start + rows]
        hits = tree.query_ball_point(block, r=tau, p=np.inf, return_sorted=False)
        counts = np.fromiter((len(h) for h in hits), dtype=np.int64, count=len(hits))
        total = int(counts.sum())
        if total:
            bumps = np.fromiter((j for h in hits for j in h), dtype=np.int64, count=total)
            points = np.repeat(np.arange(len(block)), counts)
            dist = np.abs(centres[bumps] - block[points]).sum(axis=1)
            np.add.at(out, start + points, c[bumps] * np.maximum(1.0 - dist / tau, 0.0))
        # aim at about 2e7 (point, bump) pairs per block
        rows = int(min(max(256, 2e7 / max(total / len(block), 1.0)), 65536))
        start += len(block)
    return out


def _exact_layers_of(net: ReluNet) -> list[tuple[ExactSparse, list[Fraction]]]:
    """A net's layers as ExactSparse matrices and Fraction biases (floats taken exactly)."""
    rows = net.exact_rows()
    out = []
    for i, (w, b) in enumerate(zip(net.weights, net.biases)):
        if rows is not None and isinstance(rows[i][0], ExactSparse):
            out.append((rows[i][0], list(rows[i][1])))
            continue
        if rows is not None:
            wq, bq = rows[i]
            r, c = np.nonzero(np.vectorize(lambda v: v != 0, otypes=[bool])(wq))
            vals, bias = [wq[a, b_] for a, b_ in zip(r, c)], list(bq)
        else:
            coo = sparse.coo_matrix(w)
            r, c, vals = coo.row, coo.col, [Fraction(float(v)) for v in coo.data]
            bias = [Fraction(float(v)) for v in b]
        out.append((ExactSparse.from_coo(r, c, vals, w.shape), bias))
    return out


def _pad_exact(layers: list, extra: int) -> list:
    """Carry a scalar output w·h + b through `extra` more hidden layers, exactly, as network.deepen does.

    h >= 0 is a ReLU layer, so w·h = w⁺·h - w⁻·h with both parts >= 0: they are computed by one
    layer, carried by the identity and subtracted at the output, where b is added (the Σc⁺B, Σc⁻B
    carry of erm_deepening.md §5.3): 2 nonzero parameters per added layer.
    """
    if extra == 0:
        return layers
    w, b = layers[-1]
    cols, vals = w.row(0)
    rows = [0 if v > 0 else 1 for v in vals]
    split = ExactSparse.from_coo([r for r, v in zip(rows, vals) if v != 0], [c for c, v in zip(cols, vals) if v != 0],
                                 [abs(v) for v in vals if v != 0], (2, w.shape[1]))
    out = layers[:-1] + [(split, [Fraction(0)] * 2)]
    carry = ExactSparse.from_coo([0, 1], [0, 1], [1, 1], (2, 2))
    out += [(carry, [Fraction(0)] * 2) for _ in range(extra - 1)]
    return out + [(ExactSparse.from_coo([0, 0], [0, 1], [1, -1], (1, 2)), [b[0]])]


def exact_sum(f: ReluNet, g: ReluNet, name: str) -> ReluNet:
    """f + g side by side, in exact arithmetic (the shallower one carried by identity layers)."""
    if f.input_dim != g.input_dim or f.output_dim != 1 or g.output_dim != 1:
        raise ValueError("exact_sum needs two scalar nets on the same inputs")
    depth = max(f.depth, g.depth)
    a = _pad_exact(_exact_layers_of(f), depth - f.depth)
    b = _pad_exact(_exact_layers_of(g), depth - g.depth)
    layers = [(ExactSparse.vstack([a[0][0], b[0][0]]), a[0][1] + b[0][1])]
    layers += [(ExactSparse.block_diag([a[i][0], b[i][0]]), a[i][1] + b[i][1]) for i in range(1, depth)]
    layers.append((ExactSparse.hstack([a[depth][0], b[depth][0]]), [a[depth][1][0] + b[depth][1][0]]))
    return ReluNet.from_exact(layers, name=name)


@dataclass
class Interpolant:
    """The result of :func:`deepen_interpolant`.

    Attributes
    ----------
    wide : ReluNet
        F = f0 + S, the wide realisation.
    base : ReluNet
        f0.
    bumps : ReluNet
        S.
    centres : (n, d) array, the distinct training inputs.
    labels : (n,) array.
    coefficients : (n,) array, c_i = y_i - f0(x_i) rounded to float64.
    tau, q_inf : float
    dropped_duplicates : int
        Exact duplicate samples removed before building.
    exact_coefficients : list of Fraction
        c_i exactly (the weights of the exact net).
    """

    wide: ReluNet
    base: ReluNet
    bumps: ReluNet
    centres: np.ndarray
    labels: np.ndarray
    coefficients: np.ndarray
    tau: float
    q_inf: float
    dropped_duplicates: int = 0
    exact_coefficients: list | None = None

    def deep(self) -> ReluNet:
        """The deep realisation of the same function on [0, ∞)^d (one two-layer block per sample).

        It carries x as σ(x), so it equals F only where x >= 0: raises ValueError when a training
        input has a negative coordinate (:func:`deep_realisation`).
        """
        return deep_realisation(self.base, self.centres, self.coefficients, self.tau)

    def rounding_envelope(self) -> float:
        """u (1/τ) Σ|c_i| + the same for f0: the float64 envelope of interpolation residuals.

        erm_deepening.md §5.2 and check C4 give u (1/τ) Σ|c_i| for the bump sum; when f0 is a
        bump sum too (the partition estimator, whose ramps are far steeper than 1/τ in high d),
        its own envelope u (largest second-layer slope) Σ|output weights| is added.
        """
        u = 2.0**-53
        env = u * float(np.abs(self.coefficients).sum()) / self.tau
        if self.base.depth == 2:
            slope = float(np.max(np.abs(_csr_data(self.base.weights[1])), initial=0.0))
            env += u * slope * float(np.abs(_csr_data(self.base.weights[2])).sum())
        return env

    def bump_values(self, x) -> np.ndarray:
        """S(x) = Σ_i c_i B_{i,τ}(x) from the closed form, summing only bumps within τ (KD-tree).

        The same function as ``self.bumps`` (the network), at a cost that does not grow with the
        number of bumps; the claims check the two agree on a sample before using it.
        """
        return bump_values(self.centres, self.coefficients, self.tau, x)

    def __call__(self, x) -> np.ndarray:
        """F(x) = f0(x) + S(x) at points x (N, d), shape (N,), with S from :meth:`bump_values` (fast;
        equal to ``self.wide``).  For d = 1, x may be 1-D (N,), as for a ReluNet."""
        d = self.centres.shape[1]
        arr = np.asarray(x, dtype=np.float64)
        if arr.ndim == 1 and d == 1:
            arr = arr[:, None]
        if arr.ndim != 2 or arr.shape[1] != d:
            raise ValueError(f"x has shape {np.shape(x)}: expected (N, {d})" + (" or (N,)" if d == 1 else ""))
        return self.base(arr).reshape(-1) + self.bump_values(arr)

    def exact_residuals(self) -> list[Fraction]:
        """F(x_i) - y_i for every sample, in exact rational arithmetic."""
        values = self.wide.evaluate_exact(self.centres)[:, 0]
        return [v - Fraction(float(y)) for v, y in zip(values, self.labels)]


def deepen_interpolant(base: ReluNet, x, y, tau: float | None = None, shrink: bool = True,
                       exact: bool = True) -> Interpolant:
    """Build F = f0 + Σ c_i B_{i,τ} interpolating (x_i, y_i).

    Parameters
    ----------
    base : ReluNet
        f0 on [0, 1]^d, scalar output.
    x : (n, d) inputs, n >= 1, in [0, 1]^d (the setting of the lemma); exact duplicates with equal
        labels are merged, duplicates with different labels raise ValueError (no interpolant
        exists).  The wide realisation and F(x) interpolate any finite inputs; the deep one
        (:meth:`Interpolant.deep`) needs x in [0, ∞)^d and raises ValueError otherwise.
    y : (n,) labels.
    tau : float, optional
        Bump half-width; by default :func:`choose_tau` (τ <= q∞/2, so the bumps are disjoint).
        A larger τ (a negative control) gives overlapping bumps that do not interpolate.
    shrink : bool
        Whether the default τ also shrinks like n^(-2/d)/2 (the lemma's choice).
    exact : bool
        Keep exact rational weights (c_i = y_i - f0(x_i) computed exactly), so that F(x_i) = y_i
        holds exactly in rational arithmetic.  False builds float64 weights only: much faster
        for large n, with F(x_i) = y_i up to float rounding.

    Examples
    --------
    >>> from relunet.constructions.estimators import partition_estimator
    >>> xs = np.array([[0.1], [0.4], [0.8]]); ys = np.array([1.0, -1.0, 2.0])
    >>> F = deepen_interpolant(partition_estimator(xs, ys, r=1, cells=2), xs, ys)
    >>> F.exact_residuals()
    [Fraction(0, 1), Fraction(0, 1), Fraction(0, 1)]
    """
    if not isinstance(base, ReluNet):
        raise ValueError(f"base = {base!r} is not allowed: base must be a ReluNet (the estimator f0)")
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64).reshape(-1)
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(y))):
        raise ValueError("x or y has NaN or inf entries: the samples must be finite")
    if x.ndim != 2 or x.shape[1] != base.input_dim or len(x) != len(y) or len(x) == 0:
        raise ValueError(f"x has shape {x.shape} and y {y.shape}: need (n, {base.input_dim}) and (n,) with n >= 1")
    if base.output_dim != 1:
        raise ValueError(f"base.output_dim = {base.output_dim}: f0 must have a scalar output")
    x, y, dropped = _distinct(x, y)
    n, d = x.shape
    q_inf = separation(x) if n > 1 else 1.0
    if tau is None:
        tau = choose_tau(q_inf, n, d, shrink)
    else:
        check_real("tau", tau, 0, low_open=True)  # a Fraction stays exact
    name = f"F = {base.name} + bumps[{n}]"
    if not exact:
        c = y - base(x).reshape(-1)
        bumps = bump_sum(x, c, tau, exact=False)
        wide = linear_combination([1, 1], [base, bumps])
        wide.name = name
        return Interpolant(wide, base, bumps, x, y, c, float(tau), q_inf, dropped, None)
    base_at_x = base.evaluate_exact(x)[:, 0]
    exact_c = [Fraction(float(v)) - f for v, f in zip(y, base_at_x)]  # c_i = y_i - f0(x_i), exactly
    bumps = bump_sum(x, exact_c, tau)
    wide = exact_sum(base, bumps, name)
    c = np.array([float(v) for v in exact_c])
    return Interpolant(wide, base, bumps, x, y, c, float(tau), q_inf, dropped, exact_c)


def _carry_base(base: ReluNet, d: int) -> list[tuple]:
    """f0's hidden layers with d extra units carrying x = σ(x) (inputs in [0, 1]^d)."""
    layers = []
    for i, (w, b) in enumerate(zip(base.weights[:-1], base.biases[:-1])):
        carry = sparse.identity(d, format="csr")
        if i == 0:
            w_new = sparse.vstack([sparse.csr_matrix(w), carry], format="csr")
        else:
            w_new = sparse.block_diag([sparse.csr_matrix(w), carry], format="csr")
        layers.append((w_new, np.concatenate([b, np.zeros(d)])))
    return layers


def _check_centres(centres, dim: int) -> np.ndarray:
    """Centres (n, dim), n >= 1, finite and in [0, ∞)^d: the domain on which σ(x) carries x."""
    centres = np.asarray(centres, dtype=np.float64)
    if centres.ndim != 2 or centres.shape[1] != dim or len(centres) == 0:
        raise ValueError(f"x (the centres) has shape {centres.shape}: expected (n, {dim}) with n >= 1")
    if not np.all(np.isfinite(centres)) or np.any(centres < 0):
        low = float(np.min(centres)) if np.all(np.isfinite(centres)) else float("nan")
        raise ValueError(f"x (the centres) has a coordinate {low!r} outside [0, inf): the deep realisation carries "
                         "x as relu(x), so the inputs must lie in [0, inf)^d ([0, 1]^d for deepen_interpolant); "
                         "rescale them, or use the wide realisation")
    return centres


def deep_realisation(base: ReluNet, centres, coefficients, tau: float) -> ReluNet:
    """The deep realisation: f0 (with x carried), then for each sample a block of two layers.

    Layer A of block i: 3d hat units of bump i, d carries of x, σ(u_i), σ(-u_i) where
    u_i = u_(i-1) + c_(i-1) B_(i-1) (u_1 = f0(x)); layer B: B_i, the carries of x, σ(u_i),
    σ(-u_i).  The output is σ(u_n) - σ(-u_n) + c_n B_n.  x is carried as σ(x), so the net equals
    f0 + Σ c_i B_i on [0, ∞)^d only: the centres (the training inputs x) must lie there, else
    ValueError (a centre with a negative coordinate would be missed).  Its dense parameter count
    is :func:`relunet.bounds.interpolation.deep_realisation_dense`.

    References
    ----------
    erm_deepening.md §5 (the deep realisation).

    >>> from relunet.constructions.estimators import partition_estimator
    >>> xs = np.array([[0.1], [0.4], [0.8]]); ys = np.array([1.0, -1.0, 2.0])
    >>> F = deepen_interpolant(partition_estimator(xs, ys, r=1, cells=2), xs, ys)
    >>> deep = F.deep()
    >>> deep.depth, bool(np.abs(deep(xs).ravel() - ys).max() < 1e-12)
    (8, True)
    """
    centres = _check_centres(centres, base.input_dim)
    c = np.asarray(coefficients, dtype=np.float64).reshape(-1)
    n, d = centres.shape
    if len(c) != n:
        raise ValueError(f"coefficients has {len(c)} entries for {n} centres")
    if base.depth < 1:
        raise ValueError("base.depth = 0: the deep realisation needs an f0 with at least one hidden layer")
    layers = _carry_base(base, d)
    w_last = base.weights[-2].shape[0] if base.depth >= 1 else 0
    w_out, b_out = base.weights[-1], base.biases[-1]
    w_out = w_out.toarray() if sparse.issparse(w_out) else np.asarray(w_out)
    hat = np.array([1.0, -2.0, 1.0]) / tau
    width_a, width_b = 4 * d + 2, d + 3
    for i in range(n):
        a = centres[i]
        prev = w_last + d if i == 0 else width_b
        wa = np.zeros((width_a, prev))
        ba = np.zeros(width_a)
        x_cols = np.arange(w_last, w_last + d) if i == 0 else np.arange(1, 1 + d)
        for k in range(d):
            wa[3 * k:3 * k + 3, x_cols[k]] = 1.0
            ba[3 * k:3 * k + 3] = [-a[k] + tau, -a[k], -a[k] - tau]
        wa[3 * d + np.arange(d), x_cols] = 1.0
        if i == 0:  # u_1 = f0(x), read off f0's last hidden layer
            wa[4 * d, :w_last] = w_out[0]
            wa[4 * d + 1, :w_last] = -w_out[0]
            ba[4 * d], ba[4 * d + 1] = b_out[0], -b_out[0]
        else:  # u_i = σ(u) - σ(-u) + c_(i-1) B_(i-1)
            wa[4 * d, [0, d + 1, d + 2]] = [c[i - 1], 1.0, -1.0]
            wa[4 * d + 1, [0, d + 1, d + 2]] = [-c[i - 1], -1.0, 1.0]
        wb = np.zeros((width_b, width_a))
        for k in range(d):
            wb[0, 3 * k:3 * k + 3] = hat
        wb[1 + np.arange(d), 3 * d + np.arange(d)] = 1.0
        wb[d + 1, 4 * d] = 1.0
        wb[d + 2, 4 * d + 1] = 1.0
        bb = np.zeros(width_b)
        bb[0] = -(d - 1.0)
        layers += [(wa, ba), (wb, bb)]
    out = np.zeros((1, width_b))
    out[0, [0, d + 1, d + 2]] = [c[-1], 1.0, -1.0]
    layers.append((out, np.zeros(1)))
    return ReluNet(layers, name=f"deep F[{n}]")
