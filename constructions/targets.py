"""Target functions: what a network is meant to approximate.

A `Target` wraps a sympy expression in the input variables x1, ..., xd and evaluates it in
numpy (float64), in torch (for gradient-based search of the worst error), and exactly
(rational arithmetic for polynomials with rational coefficients, mpmath otherwise).  It also
gives its gradient and Hessian as expressions, which the sup-error measurement uses to polish
a worst point inside a linear region of a ReLU net.
"""

from __future__ import annotations

import builtins
import functools
import math
import types
from collections.abc import Sequence
from fractions import Fraction
from functools import cached_property

import numpy as np
import sympy as sp

from .exact import to_fraction
from .validation import check_int

__all__ = ["Target", "monomial", "product_target", "square_target"]

# numpy functions that sympy's NumPyPrinter emits for elementwise expressions, and their torch
# counterparts (same semantics: numpy.mod and torch.remainder both take the divisor's sign,
# numpy.sinc and torch.sinc are both the normalised sinc)
_TORCH_SAME = ("arccos", "arccosh", "arcsin", "arcsinh", "arctan", "arctan2", "arctanh", "ceil", "cos", "cosh",
               "exp", "exp2", "expm1", "floor", "hypot", "isinf", "isnan", "log", "log10", "log1p", "log2",
               "logaddexp", "logaddexp2", "sign", "sin", "sinc", "sinh", "sqrt", "tan", "tanh", "maximum",
               "minimum", "logical_not")
_TORCH_RENAMED = {"mod": "remainder", "equal": "eq", "not_equal": "ne", "less": "lt", "less_equal": "le",
                  "greater": "gt", "greater_equal": "ge"}
_CONSTANTS = {"pi": math.pi, "e": math.e, "euler_gamma": float(sp.EulerGamma), "nan": math.nan, "inf": math.inf}


class Target:
    """A function on R^d given by a sympy expression in x1, ..., xd.

    Parameters
    ----------
    expr : sympy expression or str
        In the symbols ``x1 .. xd`` (or ``x`` when d = 1).
    dim : int
        Input dimension d.
    name : str, optional

    Examples
    --------
    >>> t = Target("x1*x2", 2)
    >>> t.numpy(np.array([[2.0, 3.0]])).tolist()
    [6.0]
    >>> t.exact([Fraction(1, 3), Fraction(3, 4)])
    Fraction(1, 4)
    """

    def __init__(self, expr, dim: int, name: str | None = None):
        self.dim = check_int("dim", dim, 1)
        self.symbols = self._symbols(self.dim)
        local = {s.name: s for s in self.symbols}
        if self.dim == 1:
            local["x"] = self.symbols[0]
        expr = sp.sympify(expr, locals=local)
        stray = {s.name for s in expr.free_symbols} - {s.name for s in self.symbols}
        if stray:
            raise ValueError(
                f"expr = {expr} uses {sorted(stray)}: a Target of dim {self.dim} may only use "
                f"{', '.join(s.name for s in self.symbols)}"
            )
        self.expr = expr
        self.name = name or sp.sstr(expr)

    @staticmethod
    def _symbols(dim: int) -> tuple[sp.Symbol, ...]:
        return tuple(sp.Symbol(f"x{i + 1}", real=True) for i in range(dim))

    def __repr__(self) -> str:
        return f"Target({self.name!r}, dim={self.dim})"

    @cached_property
    def is_rational_polynomial(self) -> bool:
        """True when the expression is a polynomial with rational coefficients."""
        if not self.expr.is_polynomial(*self.symbols):
            return False
        poly = sp.Poly(self.expr, *self.symbols)
        return all(c.is_rational for c in poly.coeffs())

    @cached_property
    def _numpy(self):
        return sp.lambdify(self.symbols, self.expr, modules="numpy")

    @cached_property
    def _torch(self):
        from sympy.printing.numpy import NumPyPrinter

        namespace = _torch_namespace()
        # numpy's printer, so that Piecewise, Max, sign, ... print as array functions, not Python
        # conditionals or math.*; the namespace gives those names their torch counterparts
        printer = NumPyPrinter({"fully_qualified_modules": False, "inline": True,
                                "allow_unknown_functions": True, "user_functions": {}})
        fn = sp.lambdify(self.symbols, self.expr, modules=[namespace], printer=printer)
        unknown = sorted(set(fn.__code__.co_names) - set(namespace) - set(dir(builtins)))
        if unknown:
            raise ValueError(f"expr = {self.expr} uses {', '.join(unknown)}, which Target.torch cannot evaluate "
                             "in torch: use elementary functions, Min, Max, Abs, sign, floor, Mod or Piecewise")
        return fn

    @cached_property
    def _mpmath(self):
        return sp.lambdify(self.symbols, self.expr, modules="mpmath")

    def _columns(self, x, dtype_check=True):
        if x.ndim == 1 and self.dim == 1:
            x = x[:, None]
        if x.shape[-1] != self.dim:
            raise ValueError(f"x has shape {tuple(x.shape)}: expected (N, {self.dim})")
        return [x[..., i] for i in range(self.dim)], x.shape[:-1]

    def numpy(self, x) -> np.ndarray:
        """Evaluate in float64 on points of shape (N, d); returns shape (N,)."""
        cols, lead = self._columns(np.asarray(x, dtype=np.float64))
        return np.broadcast_to(np.asarray(self._numpy(*cols), dtype=np.float64), lead).copy()

    def torch(self, x):
        """Evaluate on a torch tensor of shape (N, d) (differentiable); returns shape (N,).

        Supports the functions that `numpy` does (elementary functions, Min, Max, Abs, sign,
        floor, ceiling, Mod, Heaviside, Piecewise, ...) through their torch counterparts.
        """
        import torch

        cols, lead = self._columns(x)
        out = self._torch(*cols)
        if not torch.is_tensor(out):
            out = torch.full(lead, float(out), dtype=x.dtype, device=x.device)
        return out.expand(lead)

    def exact(self, point: Sequence, dps: int = 50):
        """Evaluate at one point exactly: a Fraction for rational polynomials, else mpmath.

        Coordinates may be Fractions, ints or floats of any width (taken at their exact binary
        value).
        """
        coords = [to_fraction(v, f"point[{i}]") for i, v in enumerate(point)]
        if len(coords) != self.dim:
            raise ValueError(f"point has {len(coords)} coordinates: expected {self.dim}")
        if self.is_rational_polynomial:
            value = self.expr.subs({s: sp.Rational(c.numerator, c.denominator)
                                    for s, c in zip(self.symbols, coords)})
            value = sp.Rational(value)
            return Fraction(int(value.p), int(value.q))
        import mpmath

        with mpmath.workdps(dps):
            return self._mpmath(*[mpmath.mpf(c.numerator) / c.denominator for c in coords])

    @cached_property
    def gradient(self) -> tuple[sp.Expr, ...]:
        """The gradient as sympy expressions."""
        return tuple(sp.diff(self.expr, s) for s in self.symbols)

    @cached_property
    def hessian(self) -> sp.Matrix:
        """The Hessian as a sympy matrix."""
        return sp.hessian(self.expr, self.symbols)


def square_target() -> Target:
    """t -> t^2 on R (the target of Yarotsky's square)."""
    return Target("x1**2", 1, name="x^2")


def product_target() -> Target:
    """(x, y) -> x y (the target of the product gate)."""
    return Target("x1*x2", 2, name="xy")


def monomial(exponents: Sequence[int]) -> Target:
    """x1^a1 ... xd^ad.

    >>> monomial([2, 1]).exact([Fraction(1, 2), 3])
    Fraction(3, 4)
    """
    if isinstance(exponents, (str, bytes)) or not isinstance(exponents, (Sequence, np.ndarray)):
        raise ValueError(f"exponents = {exponents!r} is not allowed: give a list of integers >= 0, one per variable")
    exps = [check_int(f"exponents[{i}]", a, 0) for i, a in enumerate(exponents)]
    if not exps:
        raise ValueError(f"exponents = {list(exponents)} is empty: give one integer >= 0 per variable")
    syms = Target._symbols(len(exps))
    expr = sp.Mul(*[s**a for s, a in zip(syms, exps)])
    return Target(expr, len(exps))


class _Reducible:
    """A binary torch function with numpy's ``.reduce`` (NumPyPrinter prints And as logical_and.reduce)."""

    def __init__(self, fn):
        self.fn = fn

    def __call__(self, a, b):
        return self.fn(*_tensors(a, b))

    def reduce(self, args):
        return functools.reduce(self, args)


def _tensors(*args):
    """The arguments as tensors: numbers become 0-d tensors of the first tensor's dtype and device."""
    import torch

    like = next((a for a in args if torch.is_tensor(a)), None)
    dtype = like.dtype if like is not None and like.is_floating_point() else torch.float64
    device = like.device if like is not None else None
    return [a if torch.is_tensor(a) else torch.as_tensor(a, dtype=torch.bool if isinstance(a, bool) else dtype,
                                                         device=device) for a in args]


def _on_tensors(fn):
    """`fn` applied after turning number arguments into tensors (torch functions refuse Python floats)."""
    def wrapped(*args):
        return fn(*_tensors(*args))
    return wrapped


def _select(conditions, values, default=math.nan):
    """numpy.select: the value of the first true condition, else `default`."""
    import torch

    *_, out = _tensors(*conditions, *values, default)
    for cond, value in reversed(list(zip(conditions, values))):
        cond_t, value_t = _tensors(cond, value, out)[:2]
        out = torch.where(cond_t.to(torch.bool), value_t, out)
    return out


def _torch_namespace() -> dict:
    """Names that NumPyPrinter emits for elementwise expressions, bound to torch functions."""
    import torch

    names = {name: _on_tensors(getattr(torch, name)) for name in _TORCH_SAME}
    names.update({name: _on_tensors(getattr(torch, alias)) for name, alias in _TORCH_RENAMED.items()})
    names.update(_CONSTANTS)
    names["logical_and"], names["logical_or"] = _Reducible(torch.logical_and), _Reducible(torch.logical_or)
    names["select"], names["reduce"] = _select, functools.reduce
    names["numpy"] = types.SimpleNamespace(**names)  # for the few names NumPyPrinter prints qualified
    return names
