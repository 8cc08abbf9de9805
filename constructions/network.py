"""The `ReluNet` type: an exact ReLU network and its calculus.

A `ReluNet` is a list of affine layers (W, b) with ReLU between them and a linear output.
Weights are stored in float64; a net built from rational weights (ints, `Fraction`s) also
keeps them exactly, so it can be evaluated in rational arithmetic.  A net built from floats
is exact too: every float64 is a dyadic rational, and exact evaluation uses that value.

The calculus (composition, parallel stacking, linear combination, scaling and deepening by
identity padding) builds new nets from old ones without any operation other than affine maps
and ReLU, so the sizes it reports are honest.

References
----------
P. Petersen, F. Voigtlaender, "Optimal approximation of piecewise smooth functions using deep
ReLU neural networks", Neural Networks 108 (2018), Section 2 (network calculus).
``shared/theory/approximation.md`` section 0 (size accounting).
"""

from __future__ import annotations

import functools
import numbers
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from numbers import Rational

import numpy as np
import scipy.sparse as sparse

from .exact import to_fraction
from .validation import check_int, check_real

__all__ = [
    "NetSize",
    "ReluNet",
    "affine_net",
    "compose",
    "deepen",
    "identity_net",
    "linear_combination",
    "parallel",
]

_CHUNK = 1 << 13  # rows per block; larger blocks fall out of cache (see benchmarks/)
_DENSE_EXACT_LIMIT = 4_000_000  # weight entries above which exact_layers() refuses to densify
_OVERFLOW = ("a weight or bias exceeds float64's range (about 1.8e308): the construction's parameters "
             "(a bound, a scale) are too large for a float64 network")


@dataclass(frozen=True)
class NetSize:
    """Size of a network, read from its weights.

    Attributes
    ----------
    depth : int
        Number of hidden (ReLU) layers.
    widths : tuple of int
        Hidden widths, first to last.
    nonzero : int
        Nonzero weights plus nonzero biases (P).
    dense : int
        All entries of all weight matrices and bias vectors (P_dense).
    max_abs_weight : float
        Largest |entry| over all weights and biases.
    input_dim, output_dim : int
    other_operations : tuple of str
        Operations other than affine maps and ReLU (always empty for a `ReluNet`).
    """

    depth: int
    widths: tuple[int, ...]
    nonzero: int
    dense: int
    max_abs_weight: float
    input_dim: int
    output_dim: int
    other_operations: tuple[str, ...] = ()

    @property
    def width(self) -> int:
        """Largest hidden width (0 for an affine map)."""
        return max(self.widths, default=0)

    def as_dict(self) -> dict:
        return {
            "depth": self.depth,
            "width": self.width,
            "widths": list(self.widths),
            "nonzero": self.nonzero,
            "dense": self.dense,
            "max_abs_weight": self.max_abs_weight,
            "input_dim": self.input_dim,
            "output_dim": self.output_dim,
            "other_operations": list(self.other_operations),
        }


def _is_rational_array(a) -> bool:
    arr = np.asarray(a, dtype=object)
    return all(isinstance(v, (int, Rational)) and not isinstance(v, bool) for v in arr.flat)


def _as_array(a) -> np.ndarray:
    """Lists and integer arrays become object arrays (so ints stay exact); float arrays stay."""
    if isinstance(a, np.ndarray) and a.dtype.kind == "f":
        return a
    if isinstance(a, np.ndarray) and a.dtype.kind in "iu":
        return a.astype(object)
    return np.asarray(a, dtype=object)


def _to_exact(a) -> np.ndarray:
    """Object array of Fractions; floats convert to their exact dyadic value."""
    arr = np.asarray(a, dtype=object)
    out = np.empty(arr.shape, dtype=object)
    for idx, v in np.ndenumerate(arr):
        out[idx] = v if isinstance(v, Fraction) else to_fraction(v, "a weight")
    return out


def _to_float(a):
    """float64 copy: a contiguous ndarray, or a CSR matrix for sparse input."""
    if sparse.issparse(a):
        return sparse.csr_matrix(a, dtype=np.float64)
    arr = np.asarray(a)
    if arr.dtype == object:
        try:
            arr = np.vectorize(float, otypes=[np.float64])(arr) if arr.size else arr.astype(float)
        except OverflowError:
            raise ValueError(_OVERFLOW) from None
    return np.ascontiguousarray(arr, dtype=np.float64)


def _check_finite(weights: Sequence, biases: Sequence) -> None:
    """Raise the overflow error when a float64 weight or bias is inf or NaN.

    The calculus checks its coefficients, so a non-finite entry in a built net can only come
    from float64 overflow of finite parts (inf, or inf - inf).
    """
    for w, b in zip(weights, biases):
        if not (np.all(np.isfinite(w.data if sparse.issparse(w) else w)) and np.all(np.isfinite(b))):
            raise ValueError(_OVERFLOW)


def _holds_reals(arr) -> bool:
    """True for sparse, boolean, integer and float arrays and object arrays of real numbers."""
    if sparse.issparse(arr) or arr.dtype.kind in "biuf":
        return True
    return arr.dtype == object and all(isinstance(v, numbers.Real) for v in arr.flat)


def _layer_pair(i: int, layer) -> tuple:
    """layers[i] as a pair (W, b) of arrays of real numbers (W may be a scipy.sparse matrix)."""
    if not (isinstance(layer, (tuple, list)) and len(layer) == 2):
        raise ValueError(f"layers[{i}] = {_short(layer)} is not allowed: each layer must be a pair (W, b)")
    w, b = layer
    w_obj = w if sparse.issparse(w) else np.atleast_2d(_as_array(w))
    b_obj = np.atleast_1d(_as_array(b))
    for label, arr in (("W", w_obj), ("b", b_obj)):
        if not _holds_reals(arr):
            raise ValueError(f"layers[{i}]: {label} = {_short(arr.tolist())} is not allowed: W and b must be "
                             "arrays of real numbers")
    return w_obj, b_obj


def _detached(x):
    """A torch tensor's values (detached, on the CPU); anything else as it is."""
    if type(x).__module__.startswith("torch") and hasattr(x, "detach"):
        return x.detach().cpu()
    return x


def _entries(x) -> np.ndarray:
    """`x` as an array whose entries keep their exact value.

    Python ints and Fractions stay objects; NumPy float arrays stay as they are, since
    ``astype(object)`` would round longdouble entries to Python floats.
    """
    x = _detached(x)
    if isinstance(x, (np.ndarray, np.generic)) and x.dtype.kind == "f":
        return np.asarray(x)
    return np.asarray(x, dtype=object)


def _short(value) -> str:
    """repr(value), cut to 60 characters for error messages."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _builds_net(fn):
    """Run a calculus operation without numpy's overflow warnings: `_from_parts` raises for them."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        with np.errstate(over="ignore", invalid="ignore"):
            return fn(*args, **kwargs)
    return wrapper


class ReluNet:
    """An exact ReLU network: affine layers with ReLU between them and a linear output.

    Parameters
    ----------
    layers : sequence of (W, b)
        W has shape (out, in), b shape (out,).  There are ``len(layers) - 1`` hidden layers.
        Entries that are ints or `Fraction`s are kept exactly as well.
    name : str, optional
        What the net computes, for printing.

    Examples
    --------
    >>> from fractions import Fraction
    >>> absval = ReluNet([([[1], [-1]], [0, 0]), ([[1, 1]], [0])], name="|t|")
    >>> absval(np.array([-1.5, 2.0])).tolist()
    [1.5, 2.0]
    >>> absval.evaluate_exact([[Fraction(-1, 3)]])[0, 0]
    Fraction(1, 3)
    >>> absval.size().nonzero
    4
    """

    def __init__(self, layers: Sequence[tuple], name: str | None = None):
        if not isinstance(layers, Sequence) or isinstance(layers, str):
            raise ValueError(f"layers = {_short(layers)} is not allowed: layers must be a list of (W, b) pairs")
        if len(layers) == 0:
            raise ValueError("layers = [] is empty: a ReluNet needs at least one affine layer")
        weights, biases, exact = [], [], []
        keep_exact = True
        for i, layer in enumerate(layers):
            w_obj, b_obj = _layer_pair(i, layer)
            if w_obj.ndim != 2 or b_obj.ndim != 1 or b_obj.shape[0] != w_obj.shape[0]:
                raise ValueError(
                    f"layers[{i}]: W has shape {w_obj.shape} and b has shape {b_obj.shape}; "
                    "W must be (out, in) and b (out,)"
                )
            if i > 0 and w_obj.shape[1] != weights[-1].shape[0]:
                raise ValueError(
                    f"layers[{i}]: W expects {w_obj.shape[1]} inputs but layer {i - 1} "
                    f"has {weights[-1].shape[0]} outputs"
                )
            fw, fb = _to_float(w_obj), _to_float(b_obj)
            if not (np.all(np.isfinite(fw.data if sparse.issparse(fw) else fw)) and np.all(np.isfinite(fb))):
                raise ValueError(f"layers[{i}]: weights must be finite")
            weights.append(fw)
            biases.append(fb)
            if (keep_exact and not sparse.issparse(w_obj) and w_obj.dtype == object
                    and _is_rational_array(w_obj) and _is_rational_array(b_obj)):
                exact.append((_to_exact(w_obj), _to_exact(b_obj)))
            else:
                keep_exact = False
        self.weights: tuple = tuple(weights)
        self.biases: tuple[np.ndarray, ...] = tuple(biases)
        self._exact = tuple(exact) if keep_exact else None
        self._exact_rows = None  # set by from_exact: exact weights kept beside rounded floats
        self.name = name or "ReluNet"

    # -- construction helpers -------------------------------------------------------------
    @classmethod
    def _from_parts(cls, parts: list[tuple], exact: bool, name: str) -> ReluNet:
        """Build from (W, b) parts that are Fraction object arrays when `exact`, else floats.

        Raises ValueError when a float64 weight overflows (the parts are checked to be finite).
        """
        net = cls.__new__(cls)
        net.weights = tuple(_to_float(w) for w, _ in parts)
        net.biases = tuple(_to_float(b) for _, b in parts)
        _check_finite(net.weights, net.biases)
        net._exact = tuple((np.asarray(w, dtype=object), np.asarray(b, dtype=object))
                           for w, b in parts) if exact else None
        net._exact_rows = None
        net.name = name
        return net

    def _parts(self, exact: bool) -> list[tuple]:
        if exact:
            return [(w.copy(), b.copy()) for w, b in self.exact_layers()]
        return [(w.copy(), b.copy()) for w, b in zip(self.weights, self.biases)]

    @property
    def has_rational_weights(self) -> bool:
        """True when the net was built from ints and Fractions (exact rational weights)."""
        return self._exact is not None

    def exact_layers(self) -> tuple[tuple[np.ndarray, np.ndarray], ...]:
        """The layers as object arrays of Fractions (the exact value of float weights otherwise)."""
        if self._exact is not None:
            return self._exact
        entries = sum(w.shape[0] * w.shape[1] for w in self.weights)
        rows = self._exact_rows
        if entries > _DENSE_EXACT_LIMIT:
            raise ValueError(
                f"this net has {entries} weight entries, too many for dense exact layers "
                f"(limit {_DENSE_EXACT_LIMIT}): use evaluate_exact, which evaluates only the units it needs"
            )
        if rows is not None:
            return tuple((w if isinstance(w, np.ndarray) else w.to_dense(), b) for w, b in rows)
        return tuple((_to_exact(_dense(w)), _to_exact(b)) for w, b in zip(self.weights, self.biases))

    def exact_rows(self):
        """Exact layers for row access: dense Fraction arrays or ExactSparse, or None (use the floats)."""
        return self._exact_rows if self._exact_rows is not None else self._exact

    @classmethod
    def from_exact(cls, layers: Sequence[tuple], name: str = "ReluNet") -> ReluNet:
        """A net whose exact weights are given as ExactSparse matrices (or dense Fraction arrays).

        The float64 weights are the exact ones rounded to nearest; `evaluate_exact` uses the
        exact ones.  The network calculus (compose, parallel, ...) works on the floats only.
        """
        from .exact import ExactSparse

        floats, rows = [], []
        for i, (w, b) in enumerate(layers):
            bq = np.empty(len(b), dtype=object)
            bq[:] = [v if isinstance(v, Fraction) else Fraction(v) for v in b]
            if isinstance(w, ExactSparse):
                wf = w.to_float()
            else:
                w = _to_exact(np.atleast_2d(np.asarray(w, dtype=object)))
                wf = _to_float(w)
            floats.append((wf, np.array([float(v) for v in bq], dtype=np.float64)))
            rows.append((w, bq))
            if i > 0 and w.shape[1] != rows[i - 1][0].shape[0]:
                raise ValueError(f"layers[{i}]: W expects {w.shape[1]} inputs but layer {i - 1} "
                                 f"has {rows[i - 1][0].shape[0]} outputs")
        net = cls(floats, name=name)
        net._exact_rows = tuple(rows)
        return net

    @property
    def is_sparse(self) -> bool:
        """True when some weight matrix is stored as a scipy.sparse CSR matrix."""
        return any(sparse.issparse(w) for w in self.weights)

    # -- shape and size -------------------------------------------------------------------
    @property
    def input_dim(self) -> int:
        return self.weights[0].shape[1]

    @property
    def output_dim(self) -> int:
        return self.weights[-1].shape[0]

    @property
    def depth(self) -> int:
        """Number of hidden (ReLU) layers."""
        return len(self.weights) - 1

    @property
    def widths(self) -> tuple[int, ...]:
        return tuple(w.shape[0] for w in self.weights[:-1])

    def size(self) -> NetSize:
        """Depth, widths, nonzero and dense parameter counts and largest |weight|."""
        nonzero = sum(_nnz(w) + int(np.count_nonzero(b)) for w, b in zip(self.weights, self.biases))
        dense = sum(w.shape[0] * w.shape[1] + b.size for w, b in zip(self.weights, self.biases))
        max_abs = max(max(_max_abs(w), float(np.max(np.abs(b), initial=0.0)))
                      for w, b in zip(self.weights, self.biases))
        return NetSize(self.depth, self.widths, nonzero, dense, max_abs,
                       self.input_dim, self.output_dim)

    def __repr__(self) -> str:
        widths = "-".join(str(w) for w in (self.input_dim, *self.widths, self.output_dim))
        return f"ReluNet({self.name!r}, widths {widths})"

    # -- evaluation -------------------------------------------------------------------------
    def _as_points(self, x) -> tuple[np.ndarray, bool]:
        """Points as a float64 array (..., input_dim), and whether the input axis was added."""
        try:
            raw = np.asarray(_detached(x))
            arr = raw.astype(np.float64) if raw.dtype.kind in "biufO" and _holds_reals(raw) else None
        except (TypeError, ValueError):
            arr = None
        if arr is None:
            raise ValueError(f"x = {_short(x)} is not allowed: x must be an array of real numbers")
        flat = arr.ndim <= 1 and self.input_dim == 1
        if flat:
            arr = arr[..., None]
        if arr.ndim == 0 or arr.shape[-1] != self.input_dim:
            raise ValueError(
                f"x has shape {np.shape(x)}: expected (..., {self.input_dim})"
                + (" or (N,)" if self.input_dim == 1 else "")
            )
        return arr, flat

    def __call__(self, x) -> np.ndarray:
        """Evaluate in float64 on points of shape (..., input_dim) -> (..., output_dim).

        When input_dim is 1, a 1-D array of N points or a single number is accepted as well:
        the result then has shape (N, output_dim) or (output_dim,), with the output axis
        dropped when output_dim is 1 too (shape (N,) or a 0-d array).  Torch tensors are read
        as values (detached); use `to_module` for a differentiable net.
        """
        arr, flat = self._as_points(x)
        lead = arr.shape[:-1]
        pts = arr.reshape(-1, self.input_dim)
        out = np.empty((pts.shape[0], self.output_dim), dtype=np.float64)
        chunk = self._chunk()
        columns = [b[:, None] for b in self.biases]
        for start in range(0, pts.shape[0], chunk):
            h = np.ascontiguousarray(pts[start:start + chunk].T)  # units first: W h, no transposes
            for w, b in zip(self.weights[:-1], columns[:-1]):
                h = w @ h
                h += b
                np.maximum(h, 0.0, out=h)
            out[start:start + chunk] = (self.weights[-1] @ h + columns[-1]).T
        out = out.reshape(*lead, self.output_dim)
        if flat and self.output_dim == 1:
            return out[..., 0]
        return out

    def _chunk(self) -> int:
        """Rows per block: _CHUNK, fewer for wide nets so a block stays about 32 MB."""
        widest = max(w.shape[0] for w in self.weights)
        return max(1, min(_CHUNK, (1 << 22) // max(widest, 1)))

    def evaluate_exact(self, x, arithmetic: str = "rational", dps: int = 50) -> np.ndarray:
        """Evaluate exactly, in rational arithmetic or with mpmath at `dps` digits.

        Parameters
        ----------
        x : array_like of shape (N, input_dim)
            Points (one point of shape (input_dim,); when input_dim is 1 also N numbers of
            shape (N,), or a single number).  Floats of any width (NumPy's float32 and
            longdouble included) are taken at their exact binary value, ints and Fractions
            as they are; torch tensors are read as values.
        arithmetic : {"rational", "mpmath"}
        dps : int
            Decimal digits for ``arithmetic="mpmath"``.

        Returns
        -------
        numpy.ndarray of object, shape (N, output_dim)
            Fractions, or mpmath ``mpf`` numbers.

        Notes
        -----
        Large or sparse nets are evaluated unit by unit where needed: a float64 pass with a
        rigorous rounding-error bound per unit (Higham, "Accuracy and Stability of Numerical
        Algorithms", 2002, §3.1: |fl(w·h + b) − (w·h + b)| <= γ_m (|w|·|h| + |b|), γ_m =
        m u/(1 − m u)) certifies which hidden units are exactly inactive, and only the
        others, back from the outputs, are evaluated exactly.  The result is the same as the
        full exact evaluation (tested), at a cost that follows the active units.
        """
        pts = self._exact_points(x)
        if arithmetic == "mpmath":
            check_int("dps", dps, 1)
        if arithmetic == "rational" and self._row_wise:
            from .exact import evaluate_filtered

            return evaluate_filtered(self, pts)
        if arithmetic == "rational":
            convert = None  # the points are Fractions already
            layers = self.exact_layers()
            zero = Fraction(0)
        elif arithmetic == "mpmath":
            import mpmath

            ctx = mpmath.mp.clone()
            ctx.dps = dps

            def convert(v):
                return ctx.mpf(v.numerator) / v.denominator if isinstance(v, Fraction) else ctx.mpf(v)

            layers = [(np.vectorize(convert, otypes=[object])(w), np.vectorize(convert, otypes=[object])(b))
                      for w, b in self.exact_layers()]
            zero = ctx.mpf(0)
        else:
            raise ValueError(f"arithmetic = {arithmetic!r} is not allowed: use 'rational' or 'mpmath'")
        h = pts if convert is None else np.vectorize(convert, otypes=[object])(pts)
        for w, b in layers[:-1]:
            h = h.dot(w.T) + b
            h = np.where(h > 0, h, zero)
        w, b = layers[-1]
        return h.dot(w.T) + b

    @property
    def _row_wise(self) -> bool:
        """Whether exact work goes unit by unit (sparse, wide or exact-sparse nets), not densified."""
        return self.is_sparse or max(self.widths, default=0) > 256 or self._exact_rows is not None

    def _exact_points(self, x) -> np.ndarray:
        """Points as an (N, input_dim) object array of Fractions (the exact value of each entry)."""
        pts = _entries(x)
        if pts.ndim == 0 and self.input_dim == 1:
            pts = pts.reshape(1, 1)
        if pts.ndim == 1:
            pts = pts[:, None] if self.input_dim == 1 else pts[None, :]
        if pts.ndim != 2 or pts.shape[-1] != self.input_dim:
            raise ValueError(f"x has shape {pts.shape}: expected (N, {self.input_dim})")
        out = np.empty(pts.shape, dtype=object)
        try:
            for idx, v in np.ndenumerate(pts):
                out[idx] = to_fraction(v)
        except ValueError:
            raise ValueError(f"x has entries that are not finite real numbers ({_short(v)}): exact evaluation "
                             "needs finite floats (of any width), ints or Fractions") from None
        return out

    def activation_pattern(self, x) -> list[np.ndarray]:
        """Which hidden units are active (pre-activation > 0) at each point, layer by layer."""
        arr, _ = self._as_points(x)
        pts = arr.reshape(-1, self.input_dim)
        pattern, h = [], pts
        for w, b in zip(self.weights[:-1], self.biases[:-1]):
            pre = _affine(h, w, b)
            pattern.append(pre > 0)
            h = np.maximum(pre, 0.0)
        return pattern

    def local_affine(self, point) -> tuple[np.ndarray, np.ndarray]:
        """The exact affine map A x + c that the net equals on the linear region of `point`.

        The region is fixed by the activation pattern at `point`, decided in exact
        arithmetic.  Returns object arrays of Fractions: A of shape (output_dim, input_dim)
        and c of shape (output_dim,).

        Coordinates may be ints, Fractions or floats of any width (taken at their exact value).
        Sparse and wide nets are handled unit by unit (only the units the outputs depend on
        and that are not certified inactive are decided exactly), so no layer is densified.
        """
        coords = _entries(point).reshape(-1)
        if coords.shape[0] != self.input_dim:
            raise ValueError(f"point has {coords.shape[0]} coordinates: expected {self.input_dim}")
        p = np.empty(self.input_dim, dtype=object)
        p[:] = [to_fraction(v, f"point[{i}]") for i, v in enumerate(coords)]
        if self._row_wise:
            from .exact import local_affine_filtered

            return local_affine_filtered(self, list(p))
        a = np.eye(self.input_dim, dtype=int).astype(object) * Fraction(1)
        c = np.zeros(self.input_dim, dtype=object) * Fraction(1)
        h = p
        layers = self.exact_layers()
        for w, b in layers[:-1]:
            pre = w.dot(h) + b
            active = np.array([v > 0 for v in pre], dtype=bool)
            a = w.dot(a)
            c = w.dot(c) + b
            a[~active] = Fraction(0)
            c[~active] = Fraction(0)
            h = np.where(active, pre, Fraction(0))
        w, b = layers[-1]
        return w.dot(a), w.dot(c) + b

    # -- torch --------------------------------------------------------------------------
    def to_module(self, dtype=None, device="cpu"):
        """A trainable ``torch.nn.Sequential`` of Linear and ReLU layers with these weights.

        Sparse layers become :class:`~relunet.constructions.sparse_linear.SparseLinear`
        modules, trainable on their nonzero pattern.

        Parameters
        ----------
        dtype : torch.dtype, optional
            Defaults to ``torch.float64`` (no silent down-casting).
        device : str or torch.device
        """
        import torch

        from .sparse_linear import SparseLinear

        dtype = torch.float64 if dtype is None else dtype
        mods: list = []
        for i, (w, b) in enumerate(zip(self.weights, self.biases)):
            if sparse.issparse(w):
                mods.append(SparseLinear(w, b, dtype=dtype, device=device))
            else:
                lin = torch.nn.Linear(w.shape[1], w.shape[0], dtype=dtype, device=device)
                with torch.no_grad():
                    lin.weight.copy_(torch.as_tensor(w, dtype=dtype))
                    lin.bias.copy_(torch.as_tensor(b, dtype=dtype))
                mods.append(lin)
            if i < self.depth:
                mods.append(torch.nn.ReLU())
        return torch.nn.Sequential(*mods)

    @classmethod
    def from_module(cls, module, name: str | None = None) -> ReluNet:
        """Read a ReluNet back from a Sequential of Linear (or SparseLinear) and ReLU layers (float64).

        A single Linear (or SparseLinear) module is read as a net without hidden layers.
        """
        import torch

        from .sparse_linear import SparseLinear

        if isinstance(module, (torch.nn.Linear, SparseLinear)):
            module = [module]
        elif not isinstance(module, Iterable):
            raise ValueError(f"module is a {type(module).__name__}: expected a torch.nn.Sequential of Linear "
                             "and ReLU layers, or a single Linear")
        layers, expect_linear = [], True
        for i, mod in enumerate(module):
            if isinstance(mod, SparseLinear) and expect_linear:
                layers.append(mod.to_scipy())
                expect_linear = False
            elif isinstance(mod, torch.nn.Linear) and expect_linear:
                w = mod.weight.detach().cpu().to(torch.float64).numpy()
                b = (mod.bias.detach().cpu().to(torch.float64).numpy() if mod.bias is not None
                     else np.zeros(w.shape[0]))
                layers.append((w, b))
                expect_linear = False
            elif isinstance(mod, torch.nn.ReLU) and not expect_linear:
                expect_linear = True
            else:
                raise ValueError(
                    f"module[{i}] is {type(mod).__name__}: expected Linear and ReLU alternating, "
                    "starting and ending with Linear"
                )
        if not layers:
            raise ValueError("module has no layers: a ReluNet needs at least one Linear layer")
        if expect_linear:
            raise ValueError("module ends with ReLU: the output layer must be Linear")
        return cls(layers, name=name)

    # -- operator sugar ---------------------------------------------------------------------
    def __add__(self, other: ReluNet) -> ReluNet:
        """f + g for nets of equal input and output dimension (see :func:`linear_combination`)."""
        if not isinstance(other, ReluNet):
            return NotImplemented  # Python raises "unsupported operand type(s) for +"
        return linear_combination([1, 1], [self, other])

    def __sub__(self, other: ReluNet) -> ReluNet:
        """f - g for nets of equal input and output dimension (see :func:`linear_combination`)."""
        if not isinstance(other, ReluNet):
            return NotImplemented
        return linear_combination([1, -1], [self, other])

    def __neg__(self) -> ReluNet:
        return self.scale(-1)

    def __mul__(self, c) -> ReluNet:
        if isinstance(c, ReluNet):
            raise TypeError("a ReluNet times a ReluNet is not a ReluNet operation: multiply outputs with "
                            "product_gate(m, bound) composed onto parallel(f, g)")
        return self.scale(c)

    __rmul__ = __mul__

    @_builds_net
    def scale(self, c) -> ReluNet:
        """The net c * f (the output layer is multiplied by c).

        Raises ValueError for c that is not a finite real number, and when a scaled weight
        exceeds float64's range.
        """
        exact = self.has_rational_weights and _is_rational(c)
        cc = _coefficient("c", c, exact)
        parts = self._parts(exact)
        w, b = parts[-1]
        parts[-1] = (w * cc, b * cc)
        return ReluNet._from_parts(parts, exact, f"{c}*{self.name}")

    def compose(self, inner: ReluNet) -> ReluNet:
        """self ∘ inner; see :func:`compose`."""
        return compose(self, inner)


# -- the calculus -------------------------------------------------------------------------------


def _is_count(value, minimum: int) -> bool:
    """True when `value` is an integer >= minimum (False, not an exception, for non-numbers)."""
    try:
        return not isinstance(value, bool) and int(value) == value and value >= minimum
    except (TypeError, ValueError, OverflowError):
        return False


def _as_list(name: str, values) -> list:
    """`values` as a list, or a TypeError naming the parameter when it is not a sequence."""
    if isinstance(values, (str, bytes)) or not isinstance(values, Iterable):
        raise TypeError(f"{name} = {_short(values)} is not allowed: {name} must be a sequence")
    return list(values)


def _is_rational(c) -> bool:
    """True for ints, Fractions and NumPy integers (not booleans): coefficients kept exact."""
    return isinstance(c, Rational) and not isinstance(c, bool)


def _coefficient(name: str, c, exact: bool):
    """A coefficient as a Fraction (`exact`) or a float, if it is a finite real number.

    Ints and Fractions of any size are allowed; a float path that cannot hold one raises.
    """
    if not _is_rational(c):
        check_real(name, c)
    if exact:
        return to_fraction(c, name)
    try:
        return float(c)
    except OverflowError:
        raise ValueError(f"{name} = {_short(c)} is out of range: it exceeds float64's range (about 1.8e308)") from None


def _check_net(name: str, net) -> None:
    """TypeError unless `net` is a ReluNet."""
    if not isinstance(net, ReluNet):
        raise TypeError(f"{name} is a {type(net).__name__}: expected a ReluNet")


def _check_nets(name: str, nets: Sequence) -> None:
    """TypeError unless every entry of `nets` is a ReluNet."""
    for i, net in enumerate(nets):
        _check_net(f"{name}[{i}]", net)


def _all_exact(nets: Iterable[ReluNet]) -> bool:
    return all(n.has_rational_weights for n in nets)


def _zeros(shape, exact: bool):
    if exact:
        out = np.empty(shape, dtype=object)
        out.fill(Fraction(0))
        return out
    return np.zeros(shape)


def _eye(n: int, exact: bool):
    out = _zeros((n, n), exact)
    for i in range(n):
        out[i, i] = Fraction(1) if exact else 1.0
    return out


def _dense(w) -> np.ndarray:
    return w.toarray() if sparse.issparse(w) else w


def _nnz(w) -> int:
    return int(w.count_nonzero()) if sparse.issparse(w) else int(np.count_nonzero(w))


def _max_abs(w) -> float:
    if sparse.issparse(w):
        return float(np.max(np.abs(w.data), initial=0.0))
    return float(np.max(np.abs(w), initial=0.0))


def _affine(h: np.ndarray, w, b: np.ndarray) -> np.ndarray:
    """h W^T + b for points h of shape (N, in), W dense or CSR."""
    out = (w @ h.T).T if sparse.issparse(w) else h @ w.T
    out = np.ascontiguousarray(out)
    out += b
    return out


def _matmul(a, b):
    """a @ b, sparse (CSR) when either factor is sparse."""
    if sparse.issparse(a) or sparse.issparse(b):
        return sparse.csr_matrix(sparse.csr_matrix(a) @ sparse.csr_matrix(b))
    return a.dot(b)


def _matvec(a, v: np.ndarray) -> np.ndarray:
    return np.asarray(a @ v).reshape(-1) if sparse.issparse(a) else a.dot(v)


def _vstack(blocks: list, exact: bool):
    if any(sparse.issparse(b) for b in blocks):
        return sparse.vstack([sparse.csr_matrix(b) for b in blocks], format="csr")
    return np.vstack(blocks)


def _block_diag(blocks: list, exact: bool):
    if any(sparse.issparse(b) for b in blocks):
        return sparse.block_diag([sparse.csr_matrix(b) for b in blocks], format="csr")
    rows = sum(b.shape[0] for b in blocks)
    cols = sum(b.shape[1] for b in blocks)
    out = _zeros((rows, cols), exact)
    r = c = 0
    for blk in blocks:
        out[r:r + blk.shape[0], c:c + blk.shape[1]] = blk
        r += blk.shape[0]
        c += blk.shape[1]
    return out


def affine_net(weight, bias=None, name: str = "affine") -> ReluNet:
    """A net with no hidden layer: x -> W x + b.

    >>> affine_net([[1, 2]], [3])(np.array([[1.0, 1.0]])).tolist()
    [[6.0]]
    """
    w = np.atleast_2d(np.asarray(weight, dtype=object))
    b = np.zeros(w.shape[0], dtype=int).astype(object) if bias is None else bias
    return ReluNet([(w, b)], name=name)


def identity_net(dim: int, depth: int) -> ReluNet:
    """The identity on R^dim with `depth` hidden layers, via x = sigma(x) - sigma(-x).

    Each hidden layer has 2*dim units; the layers after the first carry sigma(x) and sigma(-x),
    which are >= 0, by the identity matrix (2*dim weights each).  ``depth = 0`` gives the affine
    identity.

    >>> identity_net(2, 3)(np.array([[-1.5, 2.0]])).tolist()
    [[-1.5, 2.0]]
    """
    if not _is_count(dim, 1):
        raise ValueError(f"dim = {dim} is out of range: dim must be an integer >= 1")
    if not _is_count(depth, 0):
        raise ValueError(f"depth = {depth} is out of range: depth must be an integer >= 0")
    eye = _eye(dim, True)
    if depth == 0:
        return ReluNet._from_parts([(eye, _zeros(dim, True))], True, f"id{dim}")
    split = np.vstack([eye, -eye])
    join = np.hstack([eye, -eye])
    parts = [(split, _zeros(2 * dim, True))]
    for _ in range(depth - 1):
        parts.append((_eye(2 * dim, True), _zeros(2 * dim, True)))
    parts.append((join, _zeros(dim, True)))
    return ReluNet._from_parts(parts, True, f"id{dim}^{depth}")


@_builds_net
def compose(outer: ReluNet, inner: ReluNet) -> ReluNet:
    """The composition outer ∘ inner.

    The last affine map of `inner` merges into the first of `outer`, so the depth is
    ``outer.depth + inner.depth`` and the hidden widths are inner's followed by outer's.

    >>> from relunet.constructions.primitives import absolute_value
    >>> neg = affine_net([[-1]])
    >>> compose(absolute_value(), neg)(np.array([-2.0, 3.0])).tolist()
    [2.0, 3.0]
    """
    _check_net("outer", outer)
    _check_net("inner", inner)
    if outer.input_dim != inner.output_dim:
        raise ValueError(
            f"outer.input_dim = {outer.input_dim} does not match inner.output_dim = "
            f"{inner.output_dim}: compose needs them equal"
        )
    exact = _all_exact([outer, inner])
    a, b = inner._parts(exact), outer._parts(exact)
    w_in, b_in = a[-1]
    w_out, b_out = b[0]
    merged = (_matmul(w_out, w_in), _matvec(w_out, b_in) + b_out)
    return ReluNet._from_parts(a[:-1] + [merged] + b[1:], exact, f"{outer.name}∘{inner.name}")


def deepen(net: ReluNet, depth: int) -> ReluNet:
    """Pad `net` with identity layers on its output until it has `depth` hidden layers.

    Each added layer has 2 * output_dim units.  The output W h + b of a net with a hidden layer
    has h >= 0, so it splits as W+ h - W- h with both parts >= 0 (W+ = max(W, 0), W- = max(-W, 0)):
    the first added layer computes them (nnz(W) weights, no bias), later ones carry them by the
    identity (2 * output_dim weights) and the output is their difference plus b.  Padding by k
    layers thus adds 2 * output_dim * k nonzero parameters, the Σc⁺B, Σc⁻B carry of
    erm_deepening.md §5.3.  An affine net (no hidden layer) is padded by x = sigma(x) - sigma(-x).
    """
    _check_net("net", net)
    if not _is_count(depth, net.depth):
        raise ValueError(
            f"depth = {depth} is out of range: depth must be an integer >= net.depth = {net.depth}"
        )
    if depth == net.depth:
        return net
    if net.depth == 0:
        return compose(identity_net(net.output_dim, depth - net.depth), net)
    exact = net.has_rational_weights
    parts = net._parts(exact)
    w, b = parts[-1]
    k = net.output_dim
    split = _vstack([_positive_part(w, exact), _positive_part(-w, exact)], exact)
    parts[-1] = (split, _zeros(2 * k, exact))
    parts += [(_eye(2 * k, exact), _zeros(2 * k, exact)) for _ in range(depth - net.depth - 1)]
    eye = _eye(k, exact)
    parts.append((np.hstack([eye, -eye]), b))
    return ReluNet._from_parts(parts, exact, f"{net.name}↑{depth}")


def _positive_part(w, exact: bool):
    """max(w, 0) entrywise, keeping w's kind (CSR, Fraction objects or floats)."""
    if sparse.issparse(w):
        return sparse.csr_matrix(w).maximum(0)
    if exact:
        return np.array([[v if v > 0 else Fraction(0) for v in row] for row in w], dtype=object).reshape(w.shape)
    return np.maximum(w, 0.0)


@_builds_net
def parallel(*nets: ReluNet, shared_input: bool = True) -> ReluNet:
    """Stack nets side by side: x -> (f_1(x), ..., f_k(x)).

    Shorter nets are padded with identity layers (:func:`deepen`) to the largest depth; the
    hidden widths then add layer by layer and so do the nonzero counts.  With
    ``shared_input=False`` the inputs are concatenated instead: (x_1, ..., x_k) -> (f_i(x_i)).

    >>> from relunet.constructions.primitives import absolute_value
    >>> parallel(absolute_value(), affine_net([[2]]))(np.array([[-3.0]])).tolist()
    [[3.0, -6.0]]
    """
    if not nets:
        raise ValueError("nets = () is empty: parallel needs at least one net")
    _check_nets("nets", nets)
    if shared_input and len({n.input_dim for n in nets}) > 1:
        dims = [n.input_dim for n in nets]
        raise ValueError(f"input dims {dims} differ: parallel with shared_input needs equal ones")
    depth = max(n.depth for n in nets)
    padded = [deepen(n, depth) for n in nets]
    exact = _all_exact(padded)
    parts = [p._parts(exact) for p in padded]
    layers = []
    for i in range(depth + 1):
        ws = [pt[i][0] for pt in parts]
        bs = np.concatenate([pt[i][1] for pt in parts])
        w = _vstack(ws, exact) if (i == 0 and shared_input) else _block_diag(ws, exact)
        layers.append((w, bs))
    name = "(" + ", ".join(n.name for n in nets) + ")"
    return ReluNet._from_parts(layers, exact, name)


@_builds_net
def linear_combination(coefficients: Sequence, nets: Sequence[ReluNet]) -> ReluNet:
    """x -> sum_i c_i f_i(x) for nets of equal input and output dimension.

    The coefficients must be finite real numbers; with ints and Fractions on nets with rational
    weights the result is exact too.  Raises ValueError when a combined weight exceeds
    float64's range.

    >>> from relunet.constructions.primitives import absolute_value
    >>> f = linear_combination([2, -1], [absolute_value(), affine_net([[1]])])
    >>> f(np.array([-1.0, 3.0])).tolist()
    [3.0, 3.0]
    """
    coefficients, nets = _as_list("coefficients", coefficients), _as_list("nets", nets)
    if len(coefficients) != len(nets) or not nets:
        raise ValueError(
            f"coefficients has {len(coefficients)} entries and nets {len(nets)}: "
            "they must match and be non-empty"
        )
    _check_nets("nets", nets)
    outs = {n.output_dim for n in nets}
    if len(outs) > 1:
        raise ValueError(f"output dims {sorted(outs)} differ: a linear combination needs equal ones")
    for i, c in enumerate(coefficients):
        _coefficient(f"coefficients[{i}]", c, False)
    stacked = parallel(*nets)
    exact = stacked.has_rational_weights and all(_is_rational(c) for c in coefficients)
    k = nets[0].output_dim
    coeffs = [_coefficient(f"coefficients[{i}]", c, exact) for i, c in enumerate(coefficients)]
    combine = np.hstack([_eye(k, exact) * c for c in coeffs])
    parts = stacked._parts(exact)
    w, b = parts[-1]
    parts[-1] = (_matmul(combine, w), combine.dot(b))
    name = " + ".join(f"{c}*{n.name}" for c, n in zip(coefficients, nets))
    return ReluNet._from_parts(parts, exact, name)
