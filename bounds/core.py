"""The `Bound` type: a sympy expression that says what a theorem predicts.

A bound is an expression in named positive symbols together with what it means: its kind
(upper, lower, exact, size), the quantity it bounds, the asymptotic variables, the source,
the allowed range of every parameter and the unknown constants that stand in for constants a
paper does not give.  It can be evaluated on numpy arrays, differentiated on a log-log scale
(`exponent`), inverted (`solve_for`) and printed (`latex`, `str`).
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, field
from fractions import Fraction
from functools import cached_property

import numpy as np
import sympy as sp

__all__ = ["KINDS", "Bound", "Domain", "symbol"]

KINDS = ("upper", "lower", "exact", "size")
EXACT_RECOMPUTE_LIMIT = 10_000


def symbol(name: str, integer: bool = False) -> sp.Symbol:
    """Return the positive sympy symbol used for parameter `name` throughout relunet.

    All bounds create their symbols through this function so that the same name always
    gives the same (equal) symbol.

    >>> symbol("n") == symbol("n")
    True
    >>> symbol("m", integer=True).is_integer
    True
    """
    if integer:
        return sp.Symbol(name, positive=True, integer=True)
    return sp.Symbol(name, positive=True)


@dataclass(frozen=True)
class Domain:
    """The allowed range of one parameter: an interval, optionally restricted to integers.

    Examples
    --------
    >>> Domain(lower=1, integer=True).describe()
    'an integer >= 1'
    >>> Domain(lower=0, upper=1, lower_closed=False).describe()
    'a number in (0, 1]'
    """

    lower: float = -math.inf
    upper: float = math.inf
    lower_closed: bool = True
    upper_closed: bool = True
    integer: bool = False

    def describe(self) -> str:
        """Say in words what the domain allows."""
        noun = "an integer" if self.integer else "a number"
        lo, hi = self.lower, self.upper
        if math.isinf(lo) and math.isinf(hi):
            return noun
        if math.isinf(hi):
            return f"{noun} {'>=' if self.lower_closed else '>'} {_fmt(lo)}"
        if math.isinf(lo):
            return f"{noun} {'<=' if self.upper_closed else '<'} {_fmt(hi)}"
        left = "[" if self.lower_closed else "("
        right = "]" if self.upper_closed else ")"
        return f"{noun} in {left}{_fmt(lo)}, {_fmt(hi)}{right}"

    def mask_invalid(self, values: np.ndarray) -> np.ndarray:
        """Boolean mask of the entries of `values` that lie outside the domain."""
        v = np.asarray(values, dtype=float)
        bad = ~np.isfinite(v) | np.isnan(v)
        bad |= (v < self.lower) if self.lower_closed else (v <= self.lower)
        bad |= (v > self.upper) if self.upper_closed else (v >= self.upper)
        if self.integer:
            with np.errstate(invalid="ignore"):
                bad |= v != np.round(v)
        return bad

    def check(self, name: str, values, context: str = "") -> None:
        """Raise ValueError naming `name`, the first offending value and the domain."""
        arr = np.asarray(values)
        # complex values and None would otherwise be cast silently (to their real part, nan)
        not_real = np.iscomplexobj(arr) or arr.dtype == bool or (
            arr.dtype == object and any(v is None or isinstance(v, bool) for v in arr.reshape(-1)))
        if not_real or arr.dtype == object or not np.issubdtype(arr.dtype, np.number):
            try:
                if not_real:
                    raise TypeError
                arr = arr.astype(float)
            except (TypeError, ValueError):
                raise ValueError(
                    f"{name} = {values!r} is not a number: {name} must be {self.describe()}"
                    + (f" ({context})" if context else "")
                ) from None
        bad = self.mask_invalid(arr)
        if np.any(bad):
            first = arr.reshape(-1)[np.argmax(bad.reshape(-1))]
            raise ValueError(
                f"{name} = {_fmt(first)} is out of range: {name} must be {self.describe()}"
                + (f" ({context})" if context else "")
            )


def _sympify_value(v, name: str = "value"):
    """Exact for ints and Fractions; floats stay floats (no rounding to nearby rationals)."""
    if np.ndim(v) != 0:
        raise ValueError(f"{name} = {v!r} is an array: exact values and subs take one number per parameter "
                         "(evaluate takes arrays)")
    if isinstance(v, Fraction):
        return sp.Rational(v.numerator, v.denominator)
    if isinstance(v, float):
        return sp.Float(v)
    return sp.sympify(v)


def _fmt(value) -> str:
    value = float(value)
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(value)


@dataclass(frozen=True)
class Bound:
    """What a theorem predicts, as a sympy expression with its meaning attached.

    Parameters
    ----------
    name : str
        Dotted identifier, e.g. ``"approx.square.error"``.
    expr : sympy.Expr
        The expression, in positive symbols made by :func:`symbol`.
    kind : {"upper", "lower", "exact", "size"}
        Whether `expr` bounds the quantity from above or below, equals it, or counts a size.
    quantity : str
        What is bounded, in words ("sup error", "excess risk", "nonzero weights").
    source : str
        Paper and theorem or equation, or ``"derived"`` with the reference page.
    variables : tuple of str
        The asymptotic variable(s): those in which rates are read.
    conditions : dict of str to Domain
        The allowed range of each parameter; evaluating outside it raises ValueError.
    constants : tuple of str
        Symbols that stand for constants a paper does not give (``C``).
    description : str
        One sentence for people (printed as the bound's note).
    requires : tuple of sympy relationals
        Conditions that tie parameters together (``eta_lam < 2*k``), checked like `conditions`.

    Examples
    --------
    >>> n, r, d, C = (symbol(s) for s in "nrdC")
    >>> b = Bound("demo", C * n ** (-2 * r / (2 * r + d)) * sp.log(n), "upper", "excess risk",
    ...           "derived", variables=("n",), constants=("C",))
    >>> b.exponent("n")
    -2*r/(d + 2*r)
    >>> b.log_power("n")
    1
    """

    name: str
    expr: sp.Expr
    kind: str
    quantity: str
    source: str
    variables: tuple[str, ...] = ()
    conditions: dict[str, Domain] = field(default_factory=dict)
    constants: tuple[str, ...] = ()
    description: str = ""
    requires: tuple = ()

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"kind = {self.kind!r} is not allowed: kind must be one of {KINDS}")
        expr = sp.sympify(self.expr)
        object.__setattr__(self, "expr", expr)
        names = {s.name for s in expr.free_symbols}
        for v in self.variables:
            if v not in names:
                raise ValueError(f"variables: {v!r} does not occur in {expr}")
        for c in self.conditions:
            if c not in names:
                raise ValueError(f"conditions: {c!r} does not occur in {expr}")
        requires = tuple(sp.sympify(r) for r in self.requires)
        for r in requires:
            if not isinstance(r, sp.core.relational.Relational) or not {s.name for s in r.free_symbols} <= names:
                raise ValueError(f"requires: {r!r} must be a relation between parameters of {expr}")
        object.__setattr__(self, "requires", requires)

    # -- introspection ---------------------------------------------------------------
    @cached_property
    def parameters(self) -> tuple[str, ...]:
        """Names of the free symbols, sorted."""
        return tuple(sorted(s.name for s in self.expr.free_symbols))

    def sym(self, name: str) -> sp.Symbol:
        """The symbol of parameter `name` as it occurs in the expression."""
        for s in self.expr.free_symbols:
            if s.name == name:
                return s
        raise ValueError(
            f"parameter = {name!r} does not occur in bound {self.name}: "
            f"its parameters are {', '.join(self.parameters) or 'none'}"
        )

    def __str__(self) -> str:
        lines = [f"{self.name}: {self.quantity} ({self.kind})", f"  {sp.sstr(self.expr)}"]
        if self.conditions:
            conds = "; ".join(f"{k} {d.describe()}" for k, d in sorted(self.conditions.items()))
            lines.append(f"  where {conds}")
        if self.requires:
            lines.append(f"  and {' and '.join(sp.sstr(r) for r in self.requires)}")
        if self.constants:
            lines.append(f"  unknown constants: {', '.join(self.constants)}")
        lines.append(f"  source: {self.source}")
        if self.description:
            lines.append(f"  note: {self.description}")
        return "\n".join(lines)

    def latex(self) -> str:
        """LaTeX of the expression."""
        return sp.latex(self.expr)

    # -- rates -----------------------------------------------------------------------
    def _eventually(self, x: sp.Symbol) -> sp.Expr:
        """The expression for large x: a Piecewise becomes its branch that holds as x → ∞, and a
        Min or Max of positive terms the term that eventually dominates (where sympy can tell)."""

        def branch(pw):
            for e, c in pw.args:
                held = c if c is sp.true else c.subs(x, sp.oo)
                if held is sp.true:
                    return e
                if held is not sp.false:
                    return pw
            return pw

        def dominant(node):
            largest = isinstance(node, sp.Max)
            for a in node.args:
                try:
                    ratios = [sp.limit(b / a, x, sp.oo) for b in node.args if b is not a]
                except NotImplementedError:
                    return node
                if all(sp.sympify(r <= 1 if largest else r >= 1) is sp.true for r in ratios):
                    return a
            return node

        expr = self.expr.replace(lambda e: isinstance(e, sp.Piecewise), branch)
        return expr.replace(lambda e: isinstance(e, (sp.Min, sp.Max)) and e.has(x), dominant)

    def _log_derivative(self, var: str) -> sp.Expr:
        x = self.sym(var)
        logf = sp.expand_log(sp.log(self._eventually(x)), force=True)
        return sp.simplify(x * sp.diff(logf, x))

    def exponent(self, var: str) -> sp.Expr:
        """The power-law exponent in `var`: lim_{var→∞} d log f / d log var, exactly.

        Computed as a sympy limit at +∞ (never `Order` at its default point 0), so
        logarithmic factors do not change it.
        """
        x = self.sym(var)
        try:
            return sp.simplify(sp.limit(self._log_derivative(var), x, sp.oo))
        except NotImplementedError:  # sympy's Gruntz algorithm gives up (sums over d, ceilings, ...)
            others = [v for v in self.parameters if v != var]
            hint = (f"; fixing the other parameters first may help, e.g. .subs({others[0]}=2).exponent({var!r})"
                    if others else " (a ceiling, Min, Max or Piecewise in it)")
            raise ValueError(f"exponent({var!r}) of {self.name}: sympy cannot take this limit symbolically"
                             + hint) from None

    def log_power(self, var: str) -> sp.Expr:
        """The power b of log(var) in f ≍ var^a (log var)^b, from lim (dlog f/dlog var − a)·log var."""
        x = self.sym(var)
        a = self.exponent(var)
        return sp.simplify(sp.limit((self._log_derivative(var) - a) * sp.log(x), x, sp.oo))

    def log_slope(self, var: str, base: int = 2) -> sp.Expr:
        """The slope of log_base f against var itself (for rates exponential in `var`).

        >>> m = symbol("m", integer=True)
        >>> Bound("sq", 2 ** (-2 * m - 2), "exact", "sup error", "derived").log_slope("m")
        -2
        """
        if isinstance(base, bool) or not isinstance(base, numbers.Real) or not (math.isfinite(base) and base > 0) \
                or base == 1:
            raise ValueError(f"base = {base!r} is out of range: base must be a finite number > 0 other than 1")
        x = self.sym(var)
        logf = sp.expand_log(sp.log(self._eventually(x)), force=True) / sp.log(base)
        return sp.simplify(sp.limit(sp.diff(logf, x), x, sp.oo))

    # -- transformations ---------------------------------------------------------------
    def subs(self, **values) -> Bound:
        """A new Bound with some parameters fixed; the values are checked against the conditions."""
        for k, v in values.items():
            self.sym(k)
            if k in self.conditions:
                self.conditions[k].check(k, v, context=self.name)
        mapping = {self.sym(k): _sympify_value(v, k) for k, v in values.items()}
        expr = self.expr.subs(mapping)
        names = {s.name for s in sp.sympify(expr).free_symbols}
        requires = []
        for r in self.requires:
            held = r.subs(mapping)
            if held is sp.false:
                self._violated(r, values)
            if held is not sp.true:
                requires.append(held)
        return Bound(
            name=self.name,
            expr=expr,
            kind=self.kind,
            quantity=self.quantity,
            source=self.source,
            variables=tuple(v for v in self.variables if v in names),
            conditions={k: d for k, d in self.conditions.items() if k in names},
            constants=tuple(c for c in self.constants if c in names),
            description=self.description,
            requires=tuple(requires),
        )

    def solve_for(self, var: str, target) -> sp.Expr:
        """Solve expr = target for `var`; return the unique positive real solution.

        >>> m = symbol("m")
        >>> Bound("sq", 2 ** (-2 * m - 2), "exact", "sup error", "derived").solve_for("m", sp.Rational(1, 64))
        2
        """
        x = self.sym(var)
        target = sp.sympify(target)
        # An integer parameter is solved for as a positive real: sympy would otherwise drop every
        # solution it can prove is not an integer (m = log(250)/log(4) for the square at 1e-3).
        real = sp.Symbol(f"{var}_real", positive=True)
        sols = [s.subs(real, x) for s in sp.solve(sp.Eq(self.expr.subs(x, real), target), real)]
        sols = [s for s in sols if s.is_real is not False and s.is_positive is not False]
        if not sols:
            raise ValueError(f"{self.name}: no positive solution of {self.expr} = {target} for {var}")
        if len(sols) > 1 and sum(bool(s.is_positive) for s in sols) == 1:
            sols = [s for s in sols if s.is_positive]  # the others are not real in general
        if len(sols) > 1:
            raise ValueError(f"{self.name}: several solutions for {var}: {sols}")
        return sp.simplify(sols[0])

    # -- numerical evaluation -------------------------------------------------------------
    @cached_property
    def _function(self):
        args = [self.sym(p) for p in self.parameters]
        return sp.lambdify(args, self.expr, modules=["scipy", "numpy"])

    def check_parameters(self, values: dict) -> None:
        """Raise ValueError for a missing, unknown or out-of-range parameter."""
        unknown = sorted(set(values) - set(self.parameters))
        if unknown:
            raise ValueError(
                f"parameter = {unknown[0]!r} is not a parameter of {self.name}: "
                f"its parameters are {', '.join(self.parameters) or 'none'}"
            )
        missing = [p for p in self.parameters if p not in values]
        if missing:
            raise ValueError(f"{self.name} needs a value for {', '.join(missing)}")
        for k, v in values.items():
            if k in self.conditions:
                self.conditions[k].check(k, v, context=self.name)
            else:
                Domain(lower=0, lower_closed=False).check(k, v, context=f"{self.name}: symbols are positive")
        for r in self.requires:
            names = sorted(s.name for s in r.free_symbols)
            try:
                arrays = np.broadcast_arrays(*(np.asarray(values[n], dtype=np.float64) for n in names))
            except ValueError:  # evaluate reports arrays that do not broadcast
                continue
            held = np.broadcast_to(sp.lambdify([self.sym(n) for n in names], r, modules="numpy")(*arrays),
                                   arrays[0].shape).reshape(-1)
            if not held.all():
                first = int(np.argmin(held))
                self._violated(r, {n: a.reshape(-1)[first] for n, a in zip(names, arrays)})

    def _violated(self, relation, values: dict):
        shown = ", ".join(f"{k} = {_fmt(v)}" for k, v in sorted(values.items())
                          if k in {s.name for s in relation.free_symbols})
        raise ValueError(f"{shown} is out of range: {self.name} requires {sp.sstr(relation)}"
                         + (f" ({self.description})" if self.description else ""))

    def evaluate(self, **values):
        """Evaluate on numbers or numpy arrays (broadcast), in float64.

        Entries that overflow in float64 on the way (factorials, Gamma functions) are redone
        exactly.  A ceiling or floor is taken in float64, so within a few ulps of a jump the
        result may be one off; :meth:`exact` decides such a value exactly.

        >>> m = symbol("m", integer=True)
        >>> b = Bound("sq", 2 ** (-2 * m - 2), "exact", "sup error", "derived",
        ...           conditions={"m": Domain(lower=1, integer=True)})
        >>> b.evaluate(m=np.array([1, 2, 3])).tolist()
        [0.0625, 0.015625, 0.00390625]
        """
        self.check_parameters(values)
        arrays = [np.asarray(values[p], dtype=np.float64) for p in self.parameters]
        try:
            shape = np.broadcast_shapes(*(a.shape for a in arrays)) if arrays else ()
        except ValueError:
            shapes = ", ".join(f"{p} {a.shape}" for p, a in zip(self.parameters, arrays))
            raise ValueError(f"the parameter arrays do not broadcast together: {shapes}") from None
        with np.errstate(all="ignore"):
            out = self._function(*arrays)
        out = np.array(np.broadcast_to(np.asarray(out, dtype=np.float64), shape))  # a writable copy
        # A 0 is suspect only where no parameter is 0 (symbols are positive or, where allowed, 0)
        unsure = ~np.isfinite(out) | ((out == 0) & np.all([a != 0 for a in np.broadcast_arrays(out, *arrays)[1:]],
                                                            axis=0))
        if unsure.any():
            self._recompute_exactly(out, unsure, arrays)
        return out if out.ndim else float(out)

    def _recompute_exactly(self, out: np.ndarray, unsure: np.ndarray, arrays: list[np.ndarray]) -> None:
        """Redo entries that are nan, ±inf or 0 in float64 with exact arithmetic, in place.

        Factorials and Gamma functions overflow in float64 (factorial(171) = inf) although the
        bound itself is representable (inf/inf = nan, 1/inf = 0): such an entry takes the exact
        value rounded to float64, which is inf or 0 only when the true value is out of range.
        """
        where = np.flatnonzero(unsure)
        if where.size > EXACT_RECOMPUTE_LIMIT:
            raise ValueError(f"{self.name}: {where.size} values overflow or underflow float64 arithmetic "
                             f"(at most {EXACT_RECOMPUTE_LIMIT} are recomputed exactly): use exact() per value")
        full = [np.broadcast_to(a, out.shape).reshape(-1) for a in arrays]
        symbols = [self.sym(p) for p in self.parameters]
        flat = out.reshape(-1)
        for i in where:
            value = self.expr.subs({s: sp.Rational(float(a[i])) for s, a in zip(symbols, full)}).evalf(30)
            try:
                flat[i] = float(value)
            except TypeError:  # zoo or nan: the bound is undefined there
                flat[i] = np.nan

    def exact(self, **values) -> sp.Expr:
        """Evaluate exactly (sympy), e.g. with Fraction or int inputs.

        A float stays a 15-digit sympy Float, except in a bound with a ceiling or floor: there it
        is taken as the exact binary number it is, so that the jump is decided exactly.
        """
        self.check_parameters(values)
        jumps = self.expr.has(sp.ceiling, sp.floor)
        mapping = {self.sym(k): sp.Rational(v) if jumps and isinstance(v, float) else _sympify_value(v, k)
                   for k, v in values.items()}
        return sp.simplify(self.expr.subs(mapping))
