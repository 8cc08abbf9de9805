"""Target functions: what a network is meant to approximate.

A `Target` wraps a sympy expression in the input variables x1, ..., xd and evaluates it in
numpy (float64), in torch (for gradient-based search of the worst error), and exactly
(rational arithmetic for polynomials with rational coefficients, mpmath otherwise).  It also
gives its gradient and Hessian as expressions, which the sup-error measurement uses to polish
a worst point inside a linear region of a ReLU net.
"""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction
from functools import cached_property

import numpy as np
import sympy as sp

__all__ = ["Target", "monomial", "product_target", "square_target"]

_TORCH_FUNCS = ("sin", "cos", "tan", "exp", "log", "sqrt", "abs", "tanh", "atan2", "sign")


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
        if int(dim) != dim or dim < 1:
            raise ValueError(f"dim = {dim!r} is out of range: dim must be an integer >= 1")
        self.dim = int(dim)
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
        import torch

        mapping = {name: getattr(torch, name) for name in _TORCH_FUNCS}
        mapping["Abs"] = torch.abs
        return sp.lambdify(self.symbols, self.expr, modules=[mapping, "math"])

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
        """Evaluate on a torch tensor of shape (N, d) (differentiable); returns shape (N,)."""
        import torch

        cols, lead = self._columns(x)
        out = self._torch(*cols)
        if not torch.is_tensor(out):
            out = torch.full(lead, float(out), dtype=x.dtype, device=x.device)
        return out.expand(lead)

    def exact(self, point: Sequence, dps: int = 50):
        """Evaluate at one point exactly: a Fraction for rational polynomials, else mpmath.

        Coordinates may be Fractions, ints or floats (taken at their exact dyadic value).
        """
        coords = [Fraction(v) if not isinstance(v, Fraction) else v for v in point]
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
    exps = [int(a) for a in exponents]
    if not exps or any(a < 0 for a in exps):
        raise ValueError(f"exponents = {list(exponents)} must be a non-empty list of integers >= 0")
    syms = Target._symbols(len(exps))
    expr = sp.Mul(*[s**a for s, a in zip(syms, exps)])
    return Target(expr, len(exps))
