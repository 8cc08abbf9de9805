"""Measuring networks: sup-norm and L2 errors, and integrals.

The sup error is found, not assumed: a dense grid and random points give candidates, projected
gradient ascent on |net - f| climbs from the worst of them, and for a `ReluNet` the best points
are polished inside their linear region (where the net is an exact affine map, so the error is
a smooth function whose stationary point can be solved for) and evaluated exactly.  This
follows the rule of ``shared/DESIGN.md``: locate the worst point numerically, then evaluate
the error there exactly, since float64 cannot resolve an error far below the output's scale.

References
----------
``shared/DESIGN.md``, "Honesty rules for checks"; ``shared/theory/approximation.md`` §9.
"""

from __future__ import annotations

import itertools
import math
import numbers
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from relunet.constructions.exact import to_fraction
from relunet.constructions.network import ReluNet
from relunet.constructions.targets import Target
from relunet.constructions.validation import check_confidence, check_int, check_seed

__all__ = [
    "IntegralEstimate",
    "L2Error",
    "SupError",
    "integrate_exact",
    "l2_error",
    "monte_carlo_integral",
    "sup_error",
]

_GRID_POINTS = 20_000  # the default grid's size for d >= 3: about this many points
_GRID_MAX_DEFAULT = 30_000  # ... and never more (2^d exceeds it from d = 15: no default grid there)
_GRID_LIMIT = 10_000_000  # grid points allowed at all (the grid is held in memory)


@dataclass(frozen=True)
class SupError:
    """The largest |net - f| found, and where.

    Attributes
    ----------
    value : float
        The largest error found (rounded from `exact_value` when that is available).
    point : numpy.ndarray
        Where it was found.
    exact_value : Fraction or mpmath.mpf or None
        |net - f| at `point` in exact (or 50-digit) arithmetic.
    signed : float
        net - f at `point`.
    found_by : str
        "grid", "random", "ascent" or "polish": which stage found the worst point.
    evaluations : int
        Points at which the error was evaluated.
    """

    value: float
    point: np.ndarray
    exact_value: object
    signed: float
    found_by: str
    evaluations: int


@dataclass(frozen=True)
class L2Error:
    """Monte Carlo L2 error: sqrt(E|net - f|^2) with a confidence interval."""

    value: float
    ci: tuple[float, float]
    mse: float
    mse_ci: tuple[float, float]
    n: int
    confidence: float


@dataclass(frozen=True)
class IntegralEstimate:
    """A Monte Carlo integral with its standard error and a normal confidence interval."""

    value: float
    stderr: float
    ci: tuple[float, float]
    n: int
    confidence: float


def _box(domain, dim: int) -> np.ndarray:
    box = np.asarray(domain, dtype=np.float64)
    if box.shape == (2,):
        box = np.tile(box, (dim, 1))
    if box.shape != (dim, 2) or np.any(~np.isfinite(box)) or np.any(box[:, 1] <= box[:, 0]):
        raise ValueError(
            f"domain = {np.asarray(domain).tolist()} is not a box in R^{dim}: give (lo, hi) "
            f"or {dim} pairs (lo, hi) with lo < hi"
        )
    return box


def _check_target(target) -> None:
    if not (hasattr(target, "dim") and hasattr(target, "numpy")):  # a Target, or one like it (ManifoldTarget)
        raise ValueError(f"target = {target!r} is not allowed: target must be a relunet Target (for example "
                         "square_target() or holder_target(r, d))")


def _check_exact_target(target, exact: bool, polish: bool) -> None:
    """Exact evaluation needs ``target.exact``, polishing its gradient: say so before searching."""
    needs = ["exact"] + (["gradient", "hessian", "symbols"] if polish else [])
    missing = [name for name in needs if not hasattr(target, name)] if exact else []
    if missing:
        raise ValueError(f"target is a {type(target).__name__} without .{missing[0]}: exact = True "
                         f"{'and polish = True need' if polish else 'needs'} a sympy Target; pass exact=False, "
                         "polish=False to measure it in float64")


def _as_model(net):
    """numpy evaluator, torch module, input dim and whether exact evaluation is possible."""
    import torch

    if isinstance(net, ReluNet):
        return net, net.to_module(torch.float64), net.input_dim, True
    if isinstance(net, torch.nn.Module):
        module = net
        param = next(module.parameters(), None)
        dtype = param.dtype if param is not None else torch.float64

        def evaluate(x):
            with torch.no_grad():
                out = module(torch.as_tensor(np.asarray(x), dtype=dtype))
            return out.double().cpu().numpy()

        dim = getattr(module, "input_dim", None)
        if dim is None:
            first = next((m for m in module.modules() if isinstance(m, torch.nn.Linear)), None)
            if first is None:
                raise ValueError(f"net is a {type(net).__name__} without an nn.Linear or an input_dim attribute: "
                                 "cannot tell its input dimension")
            dim = first.in_features
        return evaluate, module, dim, False
    raise ValueError(f"net is a {type(net).__name__}: expected a ReluNet or a torch.nn.Module")


def _errors(evaluate, target: Target, pts: np.ndarray, output: int) -> np.ndarray:
    out = np.asarray(evaluate(pts), dtype=np.float64).reshape(pts.shape[0], -1)
    if isinstance(output, bool) or not isinstance(output, numbers.Integral) or not 0 <= output < out.shape[1]:
        raise ValueError(f"output = {output!r} is out of range: the net has {out.shape[1]} output(s), so output "
                         f"must be an integer in [0, {out.shape[1] - 1}]")
    return out[:, output] - target.numpy(pts)


def _default_grid(dim: int) -> int:
    """Default grid points per axis: 20000^(1/d) rounded, lowered to at most 30000 points; 0 for no grid."""
    if dim <= 2:
        return {1: 1000, 2: 200}[dim]
    per_axis = max(2, round(_GRID_POINTS ** (1 / dim)))
    while per_axis >= 2 and per_axis**dim > _GRID_MAX_DEFAULT:
        per_axis -= 1
    return per_axis if per_axis >= 2 else 0


def _check_grid(grid, dim: int) -> int:
    """The grid points per axis (0: no grid), the default for None; a grid too large to hold raises."""
    if grid is None:
        return _default_grid(dim)
    grid = check_int("grid", grid, 2)
    if grid**dim > _GRID_LIMIT:
        raise ValueError(f"grid = {grid} is out of range: in d = {dim} it gives {grid}^{dim} points, more than "
                         f"{_GRID_LIMIT:,}; give a smaller grid (random points and the ascent search the box too)")
    return grid


def _grid(box: np.ndarray, per_dim: int) -> np.ndarray:
    axes = [np.linspace(lo, hi, per_dim) for lo, hi in box]
    mesh = np.meshgrid(*axes, indexing="ij")
    return np.stack([m.reshape(-1) for m in mesh], axis=1)


def _candidates(box, grid: int, n_random: int, seed: int, candidates, dim: int):
    """Grid and random points of the box (if any) and the caller's candidates, with their stage."""
    parts, stages = [], []
    if box is not None:
        rng = np.random.default_rng(check_seed(seed))
        grid_pts = _grid(box, grid) if grid else np.empty((0, dim))
        rand_pts = box[:, 0] + (box[:, 1] - box[:, 0]) * rng.random((n_random, dim))
        parts += [grid_pts, rand_pts]
        stages += ["grid"] * len(grid_pts) + ["random"] * len(rand_pts)
    if candidates is not None:
        given = np.asarray(candidates, dtype=np.float64)
        if given.ndim != 2 or given.shape[1] != dim or len(given) == 0 or not np.all(np.isfinite(given)):
            raise ValueError(f"candidates has shape {given.shape}: expected finite points (n >= 1, {dim})")
        parts.append(given)
        stages += ["candidates"] * len(given)
    return np.concatenate(parts), np.array(stages)


def _first_step(box, grid: int, pts: np.ndarray, ascent_step) -> float:
    if ascent_step is not None:
        if not (isinstance(ascent_step, (int, float)) and math.isfinite(ascent_step) and ascent_step > 0):
            raise ValueError(f"ascent_step = {ascent_step!r} is out of range: it must be a number > 0")
        return float(ascent_step)
    if box is not None:
        return float(np.min(box[:, 1] - box[:, 0])) / max(grid - 1, 1)  # without a grid: the box's width
    spread = float(np.sqrt(np.mean(np.sum((pts - pts.mean(axis=0)) ** 2, axis=1))))
    return 0.01 * spread if spread > 0 else 1e-3


def _ascent(module, target: Target, starts: np.ndarray, box, steps: int,
            step0: float, output: int, project: Callable | None = None) -> np.ndarray:
    """Projected, backtracking normalized-gradient ascent on |net - f|, one step size per start.

    Steps are mapped back by `project` when given, else clipped to `box` (if any).
    """
    import torch

    if project is not None:
        def back(z):
            return project(z)
    elif box is not None:
        lo, hi = torch.as_tensor(box[:, 0]), torch.as_tensor(box[:, 1])

        def back(z):
            return torch.minimum(torch.maximum(z, lo), hi)
    else:
        def back(z):
            return z
    first = next(module.parameters(), None)
    dtype = first.dtype if first is not None else torch.float64

    def err(z):
        return (module(z.to(dtype)).double()[:, output] - target.torch(z)).abs()

    x = torch.as_tensor(starts, dtype=torch.float64)
    step = torch.full((x.shape[0], 1), step0, dtype=torch.float64)
    for _ in range(steps):
        z = x.clone().requires_grad_(True)
        e = err(z)
        (g,) = torch.autograd.grad(e.sum(), z)
        norm = g.norm(dim=1, keepdim=True)
        direction = torch.where(norm > 0, g / norm.clamp_min(1e-300), torch.zeros_like(g))
        with torch.no_grad():
            proposal = back(x + step * direction)
            better = err(proposal) > e.detach()
            x = torch.where(better[:, None], proposal, x)
            step = torch.where(better[:, None], step * 1.5, step * 0.5)
    return x.detach().numpy()


def _fraction_of(v) -> Fraction:
    """Exact Fraction of a float or an mpmath mpf."""
    if hasattr(v, "man_exp"):
        man, exp = v.man_exp
        return Fraction(int(man)) * (Fraction(2) ** int(exp))
    return to_fraction(v, "point")


def _polish(net: ReluNet, target: Target, point: np.ndarray, box: np.ndarray, output: int):
    """Solve grad f = grad(net) inside the linear region of `point`; None if it leaves it."""
    import sympy as sp

    a, _ = net.local_affine(point)
    slope = [a[output, j] for j in range(net.input_dim)]
    grad = target.gradient
    if all(g.free_symbols == set() for g in grad):
        return None  # f is affine: no interior stationary point to find

    if target.is_rational_polynomial and all(sp.Poly(g, *target.symbols).total_degree() <= 1
                                             for g in grad):
        exact_point = _solve_linear(target, grad, slope)
    else:
        exact_point = _solve_numeric(target, grad, slope, point)
    if exact_point is None:
        return None
    if any(not (box[i, 0] <= float(c) <= box[i, 1]) for i, c in enumerate(exact_point)):
        return None
    a2, c2 = net.local_affine(exact_point)
    a1, c1 = net.local_affine(point)
    if not (np.array_equal(a1[output], a2[output]) and c1[output] == c2[output]):
        return None
    return exact_point


def _solve_linear(target: Target, grad, slope):
    """Exact rational solution of grad f = slope when grad f is affine (f quadratic)."""
    import sympy as sp

    eqs = [g - sp.Rational(s.numerator, s.denominator) for g, s in zip(grad, slope)]
    sols = sp.linsolve(eqs, *target.symbols)
    if not sols:
        return None
    sol = next(iter(sols))
    if any(v.free_symbols for v in sol):
        return None  # a line of stationary points: no isolated maximum to report
    return [Fraction(int(sp.Rational(v).p), int(sp.Rational(v).q)) for v in sol]


def _solve_numeric(target: Target, grad, slope, point):
    """grad f = slope by Newton's method in mpmath at 40 digits, from `point`.

    None where f has kinks (its Hessian holds DiracDelta, as for Abs, Max or sign): there the
    error's maximum sits on a kink or a region's boundary, not at a smooth stationary point.
    """
    import mpmath
    import sympy as sp

    if target.hessian.has(sp.DiracDelta):
        return None
    funcs = sp.lambdify(target.symbols, [g for g in grad], modules="mpmath")
    jac = sp.lambdify(target.symbols, target.hessian, modules="mpmath")
    with mpmath.workdps(40):
        rhs = [mpmath.mpf(s.numerator) / s.denominator for s in slope]

        def system(*z):
            vals = funcs(*z)
            return [v - r for v, r in zip(vals, rhs)]

        try:
            root = mpmath.findroot(system, [mpmath.mpf(float(p)) for p in point],
                                   J=lambda *z: mpmath.matrix(jac(*z)))
        except (ValueError, ZeroDivisionError, TypeError):
            return None
        if isinstance(root, mpmath.matrix):
            coords = [root[i] for i in range(root.rows)]
        else:
            coords = [root]
        return [_fraction_of(mpmath.mpf(c)) for c in coords]


def _exact_error(net: ReluNet, target: Target, point, output: int):
    import mpmath

    coords = [to_fraction(v, "point") for v in point]
    value = net.evaluate_exact([coords])[0, output]
    f = target.exact(coords)
    if isinstance(f, Fraction):
        return value - f
    with mpmath.workdps(50):
        return mpmath.mpf(value.numerator) / value.denominator - f


def sup_error(
    net,
    target: Target,
    domain=None,
    *,
    grid: int | None = None,
    n_random: int = 10_000,
    n_starts: int = 16,
    ascent_steps: int = 100,
    seed: int = 0,
    exact: bool = True,
    polish: bool = True,
    output: int = 0,
    candidates=None,
    project: Callable | None = None,
    ascent_step: float | None = None,
) -> SupError:
    """Find sup_{x in domain} |net(x) - f(x)| by grid, random points, ascent and polishing.

    Parameters
    ----------
    net : ReluNet or torch.nn.Module
        The network; a `ReluNet` also allows exact evaluation and polishing.
    target : Target
        The function approximated (or any object with ``dim``, ``numpy(x)`` and ``torch(x)``,
        such as a ``ManifoldTarget``; ``exact`` and ``polish`` need a `Target`, and a ReluNet
        with another target raises ValueError unless ``exact=False, polish=False``).
    domain : (lo, hi) or sequence of d pairs, optional
        The box searched: its grid and random points are candidates and the ascent stays in
        it.  May be None when `candidates` are given.
    grid : int, optional
        Grid points per dimension, at least 2 (and at most 10^7 points in all).  By default
        1000 for d = 1, 200 for d = 2, and beyond that 20000^(1/d) rounded, lowered until the
        grid has at most 30000 points: 27 per axis in d = 3, 3 in d = 8 and 9, 2 in d = 10 to
        14.  From d = 15 on, where even 2 per axis give more, there is no default grid: the
        random points and the ascent (whose first step is then the box's width) search the
        box.  The default grids avoid dyadic spacing, so the worst points of the dyadic
        constructions are found by the search, not hit by the grid.
    n_random : int
        Uniform random points from ``numpy.random.default_rng(seed)``.
    n_starts : int
        Worst candidates that start a gradient ascent.
    ascent_steps : int
        Iterations of projected, backtracking ascent.
    seed : int
    exact : bool
        Evaluate the error at the best points in exact arithmetic (ReluNet only).
    polish : bool
        Solve for the stationary point of the error in the linear region of the best points
        (with ``exact`` only; sparse and wide nets included, see `ReluNet.local_affine`).
    output : int
        Which output coordinate of the net to compare.
    candidates : array_like of shape (n, d), optional
        Points of the searched set given by the caller (e.g. samples of a tube, where the
        set is not a box); found_by is "candidates" for them.  They are searched as given, also
        where they lie outside `domain`: the set searched is the box and these points.
    project : callable, optional
        torch (n, d) -> (n, d): maps an ascent step back into the searched set (instead of
        clipping to `domain`).
    ascent_step : float, optional
        First step of the ascent; by default the grid spacing of `domain`, or without a domain
        1/100 of the root-mean-square spread of the candidates.

    Returns
    -------
    SupError

    Examples
    --------
    >>> from relunet.constructions import yarotsky_square
    >>> from relunet.constructions.targets import square_target
    >>> r = sup_error(yarotsky_square(3), square_target(), (0, 1), seed=0)
    >>> r.exact_value, r.found_by
    (Fraction(1, 256), 'polish')
    """
    evaluate, module, dim, can_exact = _as_model(net)
    _check_target(target)
    if target.dim != dim:
        raise ValueError(f"target.dim = {target.dim} does not match the net's input dim {dim}")
    if domain is None and candidates is None:
        raise ValueError("domain = None and candidates = None: give a domain box or candidate points")
    box = _box(domain, dim) if domain is not None else None
    grid = _check_grid(grid, dim)
    _check_exact_target(target, exact and can_exact, polish)
    n_random, n_starts = check_int("n_random", n_random, 0), check_int("n_starts", n_starts, 0)
    ascent_steps = check_int("ascent_steps", ascent_steps, 0)
    pts, stage = _candidates(box, int(grid), int(n_random), seed, candidates, dim)
    errs = np.abs(_errors(evaluate, target, pts, output))
    order = np.argsort(-errs, kind="stable")[: max(int(n_starts), 1)]
    cand, cand_stage = pts[order], list(stage[order])
    evaluations = len(pts)
    if n_starts and ascent_steps:
        step0 = _first_step(box, int(grid), pts, ascent_step)
        climbed = _ascent(module, target, cand, box, int(ascent_steps), step0, output, project)
        evaluations += 2 * int(ascent_steps) * len(cand)
        cand = np.concatenate([cand, climbed])
        cand_stage += ["ascent"] * len(climbed)
    cerr = np.abs(_errors(evaluate, target, cand, output))
    best = np.argsort(-cerr, kind="stable")[:4]
    if not (exact and can_exact):
        i = int(best[0])
        signed = float(_errors(evaluate, target, cand[i:i + 1], output)[0])
        return SupError(float(cerr[i]), cand[i], None, signed, cand_stage[i], evaluations)
    points = [list(cand[i]) for i in best]
    stages = [cand_stage[i] for i in best]
    if polish:
        search_box = box if box is not None else np.tile([-np.inf, np.inf], (dim, 1))
        for i in best:
            root = _polish(net, target, cand[i], search_box, output)
            if root is not None:
                points.append(root)
                stages.append("polish")
    exact_errs = [_exact_error(net, target, p, output) for p in points]
    k = max(range(len(points)), key=lambda j: abs(exact_errs[j]))
    value = abs(exact_errs[k])
    point = np.array([float(c) for c in points[k]])
    return SupError(float(value), point, value, float(exact_errs[k]), stages[k],
                    evaluations + len(points))


def l2_error(
    net,
    target: Target,
    domain=None,
    *,
    sampler: Callable[[np.random.Generator, int], np.ndarray] | None = None,
    n: int = 100_000,
    seed: int = 0,
    confidence: float = 0.95,
    output: int = 0,
) -> L2Error:
    """Monte Carlo L2 error sqrt(E|net(X) - f(X)|^2), X uniform on `domain` or from `sampler`.

    The interval for the mean squared error is the normal (CLT) interval; the interval for the
    L2 error is its square root.

    Examples
    --------
    >>> from relunet.constructions import yarotsky_square
    >>> from relunet.constructions.targets import square_target
    >>> r = l2_error(yarotsky_square(2), square_target(), (0, 1), n=20000, seed=1)
    >>> bool(r.ci[0] <= (1 / 480) ** 0.5 * 2**-2 <= r.ci[1])
    True
    """
    from scipy.stats import norm

    evaluate, _, dim, _ = _as_model(net)
    _check_target(target)
    n, confidence = check_int("n", n, 2), check_confidence(confidence)
    rng = np.random.default_rng(check_seed(seed))
    if sampler is None:
        if domain is None:
            raise ValueError("domain = None: give a domain box or a sampler")
        box = _box(domain, dim)
        pts = box[:, 0] + (box[:, 1] - box[:, 0]) * rng.random((int(n), dim))
    else:
        pts = np.asarray(sampler(rng, n), dtype=np.float64)
        if pts.size != n * dim or not np.all(np.isfinite(pts)):
            raise ValueError(f"sampler(rng, {n}) returned {pts.shape} with {int(np.sum(~np.isfinite(pts)))} "
                             f"non-finite entries: it must return {n} finite points, shape ({n}, {dim})")
        pts = pts.reshape(n, dim)
    sq = _errors(evaluate, target, pts, output) ** 2
    mse = float(sq.mean())
    half = float(norm.ppf(0.5 + confidence / 2) * sq.std(ddof=1) / math.sqrt(n))
    lo, hi = max(mse - half, 0.0), mse + half
    return L2Error(math.sqrt(mse), (math.sqrt(lo), math.sqrt(hi)), mse, (lo, hi), int(n), confidence)


def monte_carlo_integral(
    fn: Callable[[np.ndarray], np.ndarray],
    domain,
    dim: int,
    *,
    n: int = 1_000_000,
    seed: int = 0,
    confidence: float = 0.95,
    chunk: int = 1 << 18,
) -> IntegralEstimate:
    """Integral of `fn` over a box by uniform Monte Carlo, with a normal confidence interval.

    Examples
    --------
    >>> r = monte_carlo_integral(lambda x: x[:, 0] ** 2, (0, 1), 1, n=100000, seed=0)
    >>> bool(abs(r.value - 1 / 3) < 4 * r.stderr)
    True
    """
    from scipy.stats import norm

    dim = check_int("dim", dim, 1)
    box = _box(domain, dim)
    n, chunk, confidence = check_int("n", n, 2), check_int("chunk", chunk, 1), check_confidence(confidence)
    rng = np.random.default_rng(check_seed(seed))
    volume = float(np.prod(box[:, 1] - box[:, 0]))
    total = total_sq = 0.0
    done = 0
    while done < n:
        k = min(chunk, int(n) - done)
        pts = box[:, 0] + (box[:, 1] - box[:, 0]) * rng.random((k, dim))
        vals = np.asarray(fn(pts), dtype=np.float64).reshape(k)
        total += float(vals.sum())
        total_sq += float((vals**2).sum())
        done += k
    mean = total / n
    var = max(total_sq / n - mean**2, 0.0) * n / (n - 1)
    stderr = volume * math.sqrt(var / n)
    value = volume * mean
    z = float(norm.ppf(0.5 + confidence / 2))
    return IntegralEstimate(value, stderr, (value - z * stderr, value + z * stderr), int(n), confidence)


def _positive_part_integral(c: Fraction, g: Sequence[Fraction], lo: Sequence[Fraction],
                            hi: Sequence[Fraction], power: int) -> Fraction:
    """Exact integral of max(0, c + g.x)^power over the box prod [lo_k, hi_k]."""
    length = Fraction(1)
    active = []
    for gk, a, b in zip(g, lo, hi):
        if gk == 0:
            length *= b - a
        else:
            active.append((gk, a, b))
    k = len(active)
    if k == 0:
        return length * (max(c, Fraction(0)) ** power)
    denom = Fraction(math.factorial(power + k), math.factorial(power))
    for gk, _, _ in active:
        denom *= gk
    total = Fraction(0)
    for corner in itertools.product((0, 1), repeat=k):
        u = c + sum((gk * (b if e else a) for (gk, a, b), e in zip(active, corner)), Fraction(0))
        sign = -1 if (k - sum(corner)) % 2 else 1
        total += sign * max(u, Fraction(0)) ** (power + k)
    return length * total / denom


def integrate_exact(net: ReluNet, domain, power: int = 1) -> Fraction:
    """Exact integral of net(x)^power over a box, for the nets where this is elementary.

    Supported: depth 1 (power 1), and depth 2 when every first-layer unit reads a single
    coordinate (power 1; power 2 needs a single second-layer unit), which covers the cube
    bump.  The box is cut at the first layer's breakpoints; on each cell the second layer is
    a ReLU of an affine map, whose powers integrate in closed form.

    Examples
    --------
    >>> from relunet.constructions import cube_bump
    >>> integrate_exact(cube_bump([0, 0], 0, 1), [(-1, 1), (-1, 1)])
    Fraction(2, 3)
    """
    if power not in (1, 2):
        raise ValueError(f"power = {power!r} is not allowed: power must be 1 or 2")
    if net.output_dim != 1:
        raise ValueError(f"net.output_dim = {net.output_dim}: integrate_exact needs 1")
    _box(np.asarray(domain, dtype=object).astype(float), net.input_dim)  # validates the shape
    pairs = [domain] * net.input_dim if np.shape(domain) == (2,) else domain  # (lo, hi) for every axis
    box = [(to_fraction(lo, "domain"), to_fraction(hi, "domain")) for lo, hi in pairs]
    lo = [a for a, _ in box]
    hi = [b for _, b in box]
    layers = net.exact_layers()
    if net.depth == 1:
        if power != 1:
            raise ValueError("power = 2 needs a depth-2 net with one second-layer unit")
        (w1, b1), (w2, b2) = layers
        total = b2[0] * math.prod(b - a for a, b in box)
        for j in range(w1.shape[0]):
            total += w2[0, j] * _positive_part_integral(b1[j], list(w1[j]), lo, hi, 1)
        return total
    if net.depth != 2:
        raise ValueError(f"net.depth = {net.depth}: integrate_exact supports depth 1 and 2")
    (w1, b1), (w2, b2), (w3, b3) = layers
    reads = [[k for k in range(net.input_dim) if w1[j, k] != 0] for j in range(w1.shape[0])]
    if any(len(r) > 1 for r in reads):
        raise ValueError("net: every first-layer unit must read a single coordinate")
    if power == 2 and w2.shape[0] != 1:
        raise ValueError("power = 2 needs a single second-layer unit")
    cuts = [{lo[k], hi[k]} for k in range(net.input_dim)]
    for j, r in enumerate(reads):
        if r:
            t = -b1[j] / w1[j, r[0]]
            if lo[r[0]] < t < hi[r[0]]:
                cuts[r[0]].add(t)
    edges = [sorted(c) for c in cuts]
    total = Fraction(0)
    for cell in itertools.product(*[range(len(e) - 1) for e in edges]):
        clo = [edges[k][i] for k, i in enumerate(cell)]
        chi = [edges[k][i + 1] for k, i in enumerate(cell)]
        mid = [(a + b) / 2 for a, b in zip(clo, chi)]
        pre1 = w1.dot(np.array(mid, dtype=object)) + b1
        active = np.array([v > 0 for v in pre1])
        g1 = np.where(active[:, None], w1, Fraction(0))
        c1 = np.where(active, b1, Fraction(0))
        g2, c2 = w2.dot(g1), w2.dot(c1) + b2
        volume = math.prod(b - a for a, b in zip(clo, chi))
        if power == 1:
            total += b3[0] * volume
            for j in range(g2.shape[0]):
                total += w3[0, j] * _positive_part_integral(c2[j], list(g2[j]), clo, chi, 1)
        else:
            w, b = w3[0, 0], b3[0]
            i1 = _positive_part_integral(c2[0], list(g2[0]), clo, chi, 1)
            i2 = _positive_part_integral(c2[0], list(g2[0]), clo, chi, 2)
            total += w * w * i2 + 2 * w * b * i1 + b * b * volume
    return total
