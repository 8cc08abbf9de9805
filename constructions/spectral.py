"""Spectra of stacked models: the NTK, its top eigenvalues and the loss Hessian, for K models at once.

Everything here works on a :class:`~relunet.constructions.models.StackedModel` (K independent
models of one architecture whose parameters are a dict of stacked (K, ...) tensors) and returns
one result per model.

Conventions (``shared/theory/catapult.md`` §2):

* Scalar output f, n samples, Jacobian J (n × P) with J_ap = ∂f(x_a)/∂θ_p, and the **normalized
  NTK** H = J Jᵀ / n.  Its top eigenvalue λ_max(H) sets the critical learning rate 2/λ_max of
  full-batch GD on the loss L = (1/2n) Σ_a ε_a² (½ × PyTorch's mean-reduced MSE).
* **Several outputs.** With ``output_dim = o > 1`` the outputs are flattened into the sample
  axis, sample-major: row a·o + i of J is ∂f_i(x_a)/∂θ.  H is then (n o) × (n o) and is
  normalised by n·o, i.e. H = J Jᵀ / (n o); the matching loss is L = (1/(2 n o)) Σ_a |f(x_a) − y_a|²
  (again ½ × the mean-reduced MSE over all n·o entries), and c = η λ_max(H) keeps its meaning
  (catapult.md §2, "k outputs").  For o = 1 this is the plain convention above.
* **Masks.** ``mask`` (K, n) bool marks the valid samples of each model; model k uses only its
  n_k valid samples.  Invalid samples contribute nothing: their rows and columns of H are zero,
  H is normalised by n_k·o, and their inputs (and targets) are never used, so they may hold
  anything, NaN included.
* **Parameter order.** A parameter vector of one model is the concatenation of its tensors in
  the order of the keys of ``params`` (for :meth:`StackedModel.init`: the order of
  :meth:`StackedModel.parameter_shapes`, e.g. w0, b0, w1, b1, ...), each flattened row-major
  (:func:`flatten_params`).  This is the column order of :func:`jacobian`.

Matrix-free products use ``torch.func``: Jᵀv is a VJP, and J u is the VJP of that (linear) VJP,
the "double-backward trick", which reuses one recorded graph for every product (on CPU it was about
3× faster than ``torch.func.jvp``, which re-runs the forward pass each time; on torch 2.13 forward-mode
AD also emits a DeprecationWarning from ``torch.jit.script`` on first use, and ``torch.func.linearize``
a UserWarning, both errors under the test suite's warning filter).  Loss-Hessian products
are reverse-over-reverse (Pearlmutter).  No function here returns an autograd graph: parameters
are detached first.

References
----------
A. Jacot, F. Gabriel, C. Hongler, "Neural Tangent Kernel: convergence and generalization in
neural networks", NeurIPS 2018.
A. Lewkowycz, Y. Bahri, E. Dyer, J. Sohl-Dickstein, G. Gur-Ari, "The large learning rate phase
of deep learning: the catapult mechanism", arXiv:2003.02218 (the uv model, η_crit = 2/λ0).
D. Meltzer, J. Liu, "Catapult Dynamics and Phase Transitions in Quadratic Nets",
arXiv:2301.07737 (two-layer homogeneous nets).
J. Cohen, S. Kaur, Y. Li, J. Z. Kolter, A. Talwalkar, "Gradient Descent on Neural Networks
Typically Occurs at the Edge of Stability", ICLR 2021 (sharpness by Lanczos on Hessian-vector
products).
B. A. Pearlmutter, "Fast exact multiplication by the Hessian", Neural Computation 6 (1994).
C. Lanczos, "An iteration method for the solution of the eigenvalue problem of linear
differential and integral operators", J. Res. Nat. Bur. Standards 45 (1950); G. H. Golub,
C. F. Van Loan, "Matrix Computations", 4th ed., §10.1 (Lanczos with full reorthogonalisation).
``shared/theory/catapult.md`` §2 (conventions and the Hessian link), §3.1 (uv model), §3.3
(two-layer NTK closed form), §11 (computing λ0).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable

import torch

from .models import StackedModel
from .validation import check_int

__all__ = [
    "default_tol",
    "flatten_params",
    "jacobian",
    "loss_hessian_matvec",
    "ntk_dense",
    "ntk_matvec",
    "top_hessian_eigenvalue",
    "top_ntk_eigenvalues",
    "two_layer_ntk",
    "unflatten_params",
    "uv_ntk",
]

METHODS = ("lanczos", "power")
WHICH = ("largest", "smallest", "magnitude")
LOSSES = ("mse",)

#: Default Krylov dimension (Lanczos) and iteration count (power / subspace iteration).
DEFAULT_LANCZOS_ITERS = 200
DEFAULT_POWER_ITERS = 1000

# A Lanczos residual below this fraction of the running norm estimate (or 100 eps, if larger) is an
# invariant subspace.
_BREAKDOWN = 1e-12
# Lanczos never declares convergence below this Krylov dimension (or the operator's dimension, if
# smaller): the residual test certifies that a Ritz pair is an eigenpair, not that it is the extreme
# one, and an extreme eigenvector with a small component in the start vector appears only later.
_MIN_KRYLOV = 30


# ---------------------------------------------------------------------------------------------
# validation helpers


def _check_params(params) -> tuple[int, torch.dtype, torch.device]:
    if not isinstance(params, dict) or not params:
        raise ValueError(f"params = {type(params).__name__} is not allowed: params must be a non-empty dict "
                         "of stacked (K, ...) tensors")
    K = None
    for name, p in params.items():
        if not isinstance(p, torch.Tensor) or p.ndim < 1:
            raise ValueError(f"params[{name!r}] is not allowed: every parameter must be a tensor of shape (K, ...)")
        if not p.is_floating_point():
            raise ValueError(f"params[{name!r}].dtype = {p.dtype} is not allowed: parameters must be floating point")
        if K is None:
            K, dtype, device = p.shape[0], p.dtype, p.device
        elif p.shape[0] != K:
            raise ValueError(f"params[{name!r}].shape = {tuple(p.shape)} does not match: every parameter must have "
                             f"the same leading (model) dimension K = {K}")
        elif p.dtype != dtype:
            raise ValueError(f"params[{name!r}].dtype = {p.dtype} does not match: every parameter must have "
                             f"dtype {dtype}")
    if K < 1:
        raise ValueError("params has K = 0 models: need at least one")
    return K, dtype, device


def _check_model_params(model: StackedModel, params) -> tuple[int, torch.dtype, torch.device]:
    K, dtype, device = _check_params(params)
    try:
        shapes = model.parameter_shapes()
    except NotImplementedError:
        return K, dtype, device
    if set(shapes) != set(params):
        raise ValueError(f"params has keys {sorted(params)}, which do not match the model: {model!r} has parameters "
                         f"{sorted(shapes)}")
    for name, shape in shapes.items():
        if tuple(params[name].shape[1:]) != tuple(shape):
            raise ValueError(f"params[{name!r}].shape = {tuple(params[name].shape)} does not match the model: "
                             f"expected (K, {', '.join(map(str, shape))})")
    return K, dtype, device


def _check_x(model: StackedModel, x, K: int, dtype: torch.dtype) -> int:
    if not isinstance(x, torch.Tensor) or x.ndim != 3:
        shape = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
        raise ValueError(f"x.shape = {shape} is not allowed: x must be a tensor of shape (K, n, input_dim)")
    d = getattr(model, "input_dim", x.shape[2])
    if x.shape[0] != K or x.shape[2] != d or x.shape[1] < 1:
        raise ValueError(f"x.shape = {tuple(x.shape)} does not match: expected (K, n, input_dim) = ({K}, n >= 1, {d})")
    if x.dtype != dtype:
        raise ValueError(f"x.dtype = {x.dtype} does not match the parameters' dtype {dtype}: convert x explicitly")
    return x.shape[1]


def _check_mask(mask, K: int, n: int, device) -> torch.Tensor:
    if mask is None:
        return torch.ones(K, n, dtype=torch.bool, device=device)
    if not isinstance(mask, torch.Tensor) or mask.dtype != torch.bool:
        raise ValueError(f"mask = {type(mask).__name__} is not allowed: mask must be a bool tensor of shape ({K}, {n})")
    if tuple(mask.shape) != (K, n):
        raise ValueError(f"mask.shape = {tuple(mask.shape)} does not match: expected (K, n) = ({K}, {n})")
    counts = mask.sum(1)
    if bool((counts == 0).any()):
        empty = torch.nonzero(counts == 0).flatten().tolist()
        raise ValueError(f"mask has no valid sample for model(s) {empty}: every model needs at least one")
    return mask.to(device)


def _check_choice(name: str, value, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise ValueError(f"{name} = {value!r} is not allowed: use one of {allowed}")


def _check_tol(tol, dtype: torch.dtype) -> float:
    if tol is None:
        return default_tol(dtype)
    if isinstance(tol, bool) or not isinstance(tol, (int, float)) or not (0 < tol < 1):
        raise ValueError(f"tol = {tol!r} is out of range: tol must be a number in (0, 1) or None")
    return float(tol)


def default_tol(dtype: torch.dtype) -> float:
    """The default residual tolerance of the eigensolvers: max(1e-8, √eps / 2) for ``dtype``.

    1e-8 in float64, about 1.7e-4 in float32 (a Ritz residual cannot fall far below eps · |H|).
    The eigenvalue error is about tol² · λ_max² / gap.

    Examples
    --------
    >>> default_tol(torch.float64)
    1e-08
    >>> round(default_tol(torch.float32), 6)
    0.000173
    """
    return max(1e-8, 0.5 * math.sqrt(torch.finfo(dtype).eps))


def _generator(seed) -> torch.Generator:
    if isinstance(seed, torch.Generator):
        return seed
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed = {seed!r} is not allowed: seed must be an integer >= 0 or a torch.Generator")
    return torch.Generator().manual_seed(seed)


def _detach(params: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    return {name: p.detach() for name, p in params.items()}


def _zero_invalid(t: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """t (K, n, ...) with the entries of invalid samples replaced by 0 (NaN-safe)."""
    m = mask.reshape(mask.shape + (1,) * (t.ndim - 2))
    return torch.where(m, t, torch.zeros((), dtype=t.dtype, device=t.device))


# ---------------------------------------------------------------------------------------------
# parameter vectors


def flatten_params(params: dict[str, torch.Tensor]) -> torch.Tensor:
    """Concatenate stacked parameters into one (K, P) tensor.

    Parameters
    ----------
    params : dict of str to Tensor
        Stacked parameters, each (K, ...).

    Returns
    -------
    Tensor of shape (K, P)
        Row k is model k's parameter vector: the tensors in the order of ``params``' keys, each
        flattened row-major.  This is the column order of :func:`jacobian`.

    References
    ----------
    ``shared/theory/catapult.md`` §2 (θ ∈ ℝ^P).

    Examples
    --------
    >>> from relunet.constructions.models import StackedMLP
    >>> mlp = StackedMLP(2, 3, 1)
    >>> params = mlp.init(seeds=[0, 1])
    >>> flatten_params(params).shape  # w0 (3×2) + b0 (3) + w1 (1×3) + b1 (1)
    torch.Size([2, 13])
    """
    K, _, _ = _check_params(params)
    return torch.cat([p.reshape(K, -1) for p in params.values()], dim=1)


def unflatten_params(flat: torch.Tensor, like: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Inverse of :func:`flatten_params`: split a (K, P) tensor into tensors shaped like ``like``.

    Parameters
    ----------
    flat : Tensor of shape (K, P)
    like : dict of str to Tensor
        Stacked parameters giving names, order and shapes.

    Returns
    -------
    dict of str to Tensor

    References
    ----------
    ``shared/theory/catapult.md`` §2.

    Examples
    --------
    >>> from relunet.constructions.models import StackedMLP
    >>> params = StackedMLP(2, 3, 1).init(seeds=[0])
    >>> back = unflatten_params(flatten_params(params), params)
    >>> all(torch.equal(back[k], params[k]) for k in params)
    True
    """
    K, _, _ = _check_params(like)
    sizes = [math.prod(p.shape[1:]) for p in like.values()]
    if not isinstance(flat, torch.Tensor) or tuple(flat.shape) != (K, sum(sizes)):
        shape = tuple(flat.shape) if isinstance(flat, torch.Tensor) else type(flat).__name__
        raise ValueError(f"flat.shape = {shape} does not match: expected (K, P) = ({K}, {sum(sizes)})")
    pieces = torch.split(flat, sizes, dim=1)
    return {name: piece.reshape(p.shape) for (name, p), piece in zip(like.items(), pieces)}


def _check_like(name: str, v, params: dict[str, torch.Tensor]) -> None:
    if not isinstance(v, dict) or set(v) != set(params):
        keys = sorted(v) if isinstance(v, dict) else type(v).__name__
        raise ValueError(f"{name} has keys {keys}, which do not match params' keys {sorted(params)}")
    for key, p in params.items():
        t = v[key]
        if not isinstance(t, torch.Tensor) or t.shape != p.shape:
            shape = tuple(t.shape) if isinstance(t, torch.Tensor) else type(t).__name__
            raise ValueError(f"{name}[{key!r}].shape = {shape} does not match params[{key!r}].shape = "
                             f"{tuple(p.shape)}")
        if t.dtype != p.dtype:
            raise ValueError(f"{name}[{key!r}].dtype = {t.dtype} does not match the parameters' dtype {p.dtype}")


# ---------------------------------------------------------------------------------------------
# linear operators


class _NTKOperator:
    """v ↦ H v for K models, from one recorded VJP graph (Jᵀv by VJP, J u by VJP of the VJP)."""

    def __init__(self, model: StackedModel, params, x, mask):
        K, dtype, _ = _check_model_params(model, params)
        n = _check_x(model, x, K, dtype)
        mask = _check_mask(mask, K, n, x.device)
        params = _detach(params)
        x = _zero_invalid(x.detach(), mask)
        out, vjp_fn = torch.func.vjp(lambda q: model.forward(q, x), params)
        if out.ndim != 3 or out.shape[:2] != (K, n):
            raise ValueError(f"model.forward returned shape {tuple(out.shape)}: expected (K, n, output_dim) = "
                             f"({K}, {n}, output_dim)")
        o = out.shape[2]
        self.K, self.n, self.o, self.N = K, n, o, n * o
        self.dtype, self.device = dtype, out.device
        self.mask = mask
        self.valid = mask.unsqueeze(-1).expand(K, n, o).reshape(K, n * o)
        self.counts = mask.sum(1) * o  # n_k · o
        self.norm = self.counts.to(dtype)
        self.params = params
        self._vjp = lambda c: vjp_fn(c)[0]
        _, jvp_fn = torch.func.vjp(self._vjp, torch.zeros_like(out))
        self._jvp = lambda u: jvp_fn(u)[0]

    def check_v(self, v, name: str = "v") -> torch.Tensor:
        if not isinstance(v, torch.Tensor) or v.ndim != 2 or tuple(v.shape) != (self.K, self.N):
            shape = tuple(v.shape) if isinstance(v, torch.Tensor) else type(v).__name__
            raise ValueError(f"{name}.shape = {shape} does not match: expected (K, n * output_dim) = "
                             f"({self.K}, {self.N})")
        if v.dtype != self.dtype:
            raise ValueError(f"{name}.dtype = {v.dtype} does not match the parameters' dtype {self.dtype}")
        return v

    def jt(self, v: torch.Tensor) -> dict[str, torch.Tensor]:
        """Jᵀ v (v (K, N), masked) as a dict like params."""
        v = torch.where(self.valid, v, torch.zeros((), dtype=v.dtype, device=v.device))
        return self._vjp(v.reshape(self.K, self.n, self.o))

    def j(self, u: dict[str, torch.Tensor]) -> torch.Tensor:
        """J u (u a dict like params) as (K, N), zero at invalid samples."""
        ju = self._jvp(u).reshape(self.K, self.N)
        return torch.where(self.valid, ju, torch.zeros((), dtype=ju.dtype, device=ju.device))

    def matvec(self, v: torch.Tensor) -> torch.Tensor:
        return self.j(self.jt(v)) / self.norm[:, None]


class _HessianOperator:
    """v ↦ ∇²L v for K models (reverse-over-reverse, one recorded graph)."""

    def __init__(self, model: StackedModel, params, x, y, mask, loss: str):
        _check_choice("loss", loss, LOSSES)
        K, dtype, _ = _check_model_params(model, params)
        n = _check_x(model, x, K, dtype)
        mask = _check_mask(mask, K, n, x.device)
        params = _detach(params)
        x = _zero_invalid(x.detach(), mask)
        o = getattr(model, "output_dim", None)
        if not isinstance(y, torch.Tensor):
            raise ValueError(f"y = {type(y).__name__} is not allowed: y must be a tensor of shape (K, n, output_dim)")
        if o == 1 and y.ndim == 2:
            y = y.unsqueeze(-1)
        if y.ndim != 3 or y.shape[:2] != (K, n) or (o is not None and y.shape[2] != o):
            raise ValueError(f"y.shape = {tuple(y.shape)} does not match: expected (K, n, output_dim) = "
                             f"({K}, {n}, {o if o is not None else 'output_dim'})" + (" or (K, n)" if o == 1 else ""))
        if y.dtype != dtype:
            raise ValueError(f"y.dtype = {y.dtype} does not match the parameters' dtype {dtype}")
        o = y.shape[2]
        y = _zero_invalid(y.detach(), mask)
        # weight of one squared residual: 1 / (2 n_k o) on valid samples, 0 elsewhere
        weight = mask.to(dtype) / (2.0 * mask.sum(1, keepdim=True).to(dtype) * o)
        weight = weight.unsqueeze(-1)

        def total_loss(q):
            r = model.forward(q, x) - y
            return (weight * r * r).sum()  # Σ_k L_k; model k's parameters see only L_k

        self.K, self.params, self.dtype = K, params, dtype
        self.gradient = torch.func.grad(total_loss)
        _, hvp_fn = torch.func.vjp(self.gradient, params)
        self._hvp = lambda v: hvp_fn(v)[0]

    def hvp(self, v: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        return self._hvp(v)

    def matvec(self, flat: torch.Tensor) -> torch.Tensor:
        return flatten_params(self._hvp(unflatten_params(flat, self.params)))


# ---------------------------------------------------------------------------------------------
# NTK


def ntk_matvec(model: StackedModel, params: dict[str, torch.Tensor], x: torch.Tensor, v: torch.Tensor,
               mask: torch.Tensor | None = None) -> torch.Tensor:
    """H v for K models at once, without forming the Jacobian.

    H = J Jᵀ / (n_k o) is model k's normalized NTK on its n_k valid samples with o outputs.

    Parameters
    ----------
    model : StackedModel
    params : dict of str to Tensor
        Stacked parameters, each (K, ...).
    x : Tensor of shape (K, n, input_dim)
        Inputs, same dtype as the parameters.
    v : Tensor of shape (K, n * output_dim)
        One vector per model, outputs flattened sample-major (entry a·o + i is sample a, output
        i); (K, n) for scalar output.  Entries of invalid samples are ignored.
    mask : bool Tensor of shape (K, n), optional
        Valid samples (default: all).

    Returns
    -------
    Tensor of shape (K, n * output_dim)
        H v, zero at invalid samples.  No autograd graph.

    Notes
    -----
    Jᵀv is a VJP (``torch.func.vjp``) and J u the VJP of that linear map (the double-backward
    trick); each product costs about two backward passes and never materialises J.  Building the
    operator once and applying it many times is what :func:`top_ntk_eigenvalues` does.

    Raises
    ------
    ValueError
        If shapes or dtypes of ``params``, ``x``, ``v`` or ``mask`` do not match.

    References
    ----------
    Jacot, Gabriel, Hongler, NeurIPS 2018 (the NTK); ``shared/theory/catapult.md`` §2
    (H = JJᵀ/n, k outputs) and §11 (implicit JJᵀv products).

    Examples
    --------
    >>> from relunet.constructions.models import StackedMLP
    >>> mlp = StackedMLP(2, 16, 1)
    >>> params = mlp.init(seeds=[0, 1])
    >>> x = torch.randn(2, 5, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    >>> v = torch.ones(2, 5, dtype=torch.float64)
    >>> Hv = ntk_matvec(mlp, params, x, v)
    >>> torch.allclose(Hv, (ntk_dense(mlp, params, x) @ v.unsqueeze(-1)).squeeze(-1))
    True
    """
    op = _NTKOperator(model, params, x, mask)
    return op.matvec(op.check_v(v).detach())


def _per_sample_jacobian(model: StackedModel, params, x) -> dict[str, torch.Tensor]:
    """dict name -> (K, n, o, *shape): per-sample gradients by vmap (over K) of vmap (over samples)."""

    def one(p, xa):
        out = model.forward({name: t.unsqueeze(0) for name, t in p.items()}, xa.reshape(1, 1, -1))
        return out.reshape(-1)

    return torch.func.vmap(torch.func.vmap(torch.func.jacrev(one), in_dims=(None, 0)), in_dims=(0, 0))(params, x)


def _jacobian_by_rows(op: _NTKOperator) -> torch.Tensor:
    """(K, N, P) one VJP per row (all K models at once): the fallback when vmap fails."""
    rows = []
    for i in range(op.N):
        e = torch.zeros(op.K, op.N, dtype=op.dtype, device=op.device)
        e[:, i] = 1.0
        rows.append(flatten_params(op._vjp(e.reshape(op.K, op.n, op.o))))
    return torch.stack(rows, dim=1)


def jacobian(model: StackedModel, params: dict[str, torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    """The Jacobians of K models, (K, n · output_dim, P).

    Parameters
    ----------
    model : StackedModel
    params : dict of str to Tensor
        Stacked parameters, each (K, ...).
    x : Tensor of shape (K, n, input_dim)

    Returns
    -------
    Tensor of shape (K, n * output_dim, P)
        Entry [k, a·o + i, p] = ∂f_i(x_a)/∂θ_p of model k.  Columns follow
        :func:`flatten_params` (the keys of ``params`` in order, each flattened row-major).

    Notes
    -----
    Per-sample gradients by ``torch.func.vmap`` (over models) of ``vmap`` (over samples) of
    ``jacrev``; this assumes each sample's output depends on its own input only, as it does for
    every :class:`StackedModel` here.  If vmap cannot trace the model's forward, one VJP per row
    (batched over K) is used instead.  Memory is K·n·o·P numbers.

    References
    ----------
    ``shared/theory/catapult.md`` §2 (J ∈ ℝ^{n×P}) and §11 (dense method).

    Examples
    --------
    >>> from relunet.constructions.models import StackedMLP
    >>> mlp = StackedMLP(2, 4, 1, output_dim=3)
    >>> params = mlp.init(seeds=[0, 1])
    >>> jacobian(mlp, params, torch.ones(2, 5, 2, dtype=torch.float64)).shape  # P = 8+4+12+3
    torch.Size([2, 15, 27])
    """
    K, dtype, _ = _check_model_params(model, params)
    n = _check_x(model, x, K, dtype)
    params = _detach(params)
    x = x.detach()
    try:
        per = _per_sample_jacobian(model, params, x)
        rows = [t.reshape(K, n, -1, math.prod(params[name].shape[1:])) for name, t in per.items()]
        o = rows[0].shape[2]
        return torch.cat(rows, dim=3).reshape(K, n * o, -1)
    except (RuntimeError, NotImplementedError):  # a forward that vmap cannot batch
        return _jacobian_by_rows(_NTKOperator(model, params, x, None))


def ntk_dense(model: StackedModel, params: dict[str, torch.Tensor], x: torch.Tensor,
              mask: torch.Tensor | None = None) -> torch.Tensor:
    """The dense normalized NTK H = J Jᵀ / (n_k o) of K models, (K, n·o, n·o).

    Parameters
    ----------
    model : StackedModel
    params : dict of str to Tensor
        Stacked parameters, each (K, ...).
    x : Tensor of shape (K, n, input_dim)
    mask : bool Tensor of shape (K, n), optional
        Valid samples (default: all); rows and columns of invalid samples are zero.

    Returns
    -------
    Tensor of shape (K, n * output_dim, n * output_dim)
        Symmetric, in the parameters' dtype; outputs flattened sample-major.

    Notes
    -----
    Builds the explicit Jacobian (:func:`jacobian`): meant for n·o up to a few thousand.  Use
    float64 for eigenvalues that must be exact (catapult.md §11).

    References
    ----------
    Jacot, Gabriel, Hongler, NeurIPS 2018; ``shared/theory/catapult.md`` §2 and §11.

    Examples
    --------
    >>> from relunet.constructions.models import StackedMLP
    >>> mlp = StackedMLP(3, 8, 2)
    >>> params = mlp.init(seeds=[0, 1, 2])
    >>> x = torch.randn(3, 6, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    >>> H = ntk_dense(mlp, params, x)
    >>> H.shape, bool(torch.equal(H, H.mT))
    (torch.Size([3, 6, 6]), True)
    """
    K, dtype, _ = _check_model_params(model, params)
    n = _check_x(model, x, K, dtype)
    mask = _check_mask(mask, K, n, x.device)
    J = jacobian(model, params, _zero_invalid(x.detach(), mask))
    o = J.shape[1] // n
    valid = mask.unsqueeze(-1).expand(K, n, o).reshape(K, n * o, 1)
    J = torch.where(valid, J, torch.zeros((), dtype=J.dtype, device=J.device))
    H = torch.bmm(J, J.mT) / (mask.sum(1) * o).to(dtype)[:, None, None]
    return 0.5 * (H + H.mT)


# ---------------------------------------------------------------------------------------------
# eigensolvers


def _random_vectors(generator: torch.Generator, valid: torch.Tensor, dtype, columns: int | None = None):
    shape = valid.shape if columns is None else (*valid.shape, columns)
    r = torch.randn(shape, generator=generator, dtype=torch.float64).to(dtype=dtype, device=valid.device)
    return r * (valid if columns is None else valid.unsqueeze(-1))


def _orthogonalize(w: torch.Tensor, basis: torch.Tensor) -> torch.Tensor:
    """w (K, N) minus its projection on the rows of basis (K, m, N); two passes (DGKS)."""
    for _ in range(2):
        w = w - torch.bmm(basis.mT, torch.bmm(basis, w.unsqueeze(-1))).squeeze(-1)
    return w


def _select(theta: torch.Tensor, k: int, which: str) -> torch.Tensor:
    """Indices of the k wanted Ritz values (theta ascending, last axis), in reporting order."""
    m = theta.shape[-1]
    if which == "largest":
        return torch.arange(m - 1, m - 1 - k, -1, device=theta.device).expand(*theta.shape[:-1], k)
    if which == "smallest":
        return torch.arange(k, device=theta.device).expand(*theta.shape[:-1], k)
    return torch.argsort(theta.abs(), dim=-1, descending=True, stable=True)[..., :k]


def _tridiagonal(alpha: torch.Tensor, beta: torch.Tensor) -> torch.Tensor:
    """Symmetric tridiagonal matrices from diagonals alpha (..., m) and off-diagonals beta (..., m-1)."""
    T = torch.diag_embed(alpha)
    if beta.shape[-1]:
        T = T + torch.diag_embed(beta, offset=1) + torch.diag_embed(beta, offset=-1)
    return T


def _lanczos(matvec: Callable[[torch.Tensor], torch.Tensor], valid: torch.Tensor, k: int, iters: int,
             tol: float, generator: torch.Generator, which: str, want_vectors: bool, dtype):
    """Batched Lanczos with full reorthogonalisation on K operators acting on (K, N).

    Model k's operator acts on the coordinates where valid[k] is True (dimension dims_k).  On a
    breakdown (an invariant Krylov subspace) the iteration restarts with a random vector
    orthogonal to the basis and a zero coupling, so T stays exact.  Convergence (every wanted Ritz
    pair with residual <= tol · max |Ritz value|) is tested from Krylov dimension _MIN_KRYLOV on;
    a model whose Krylov dimension reaches dims_k is exact.  Returns values (K, k) and,
    if asked, Ritz vectors (K, N, k).
    """
    K, N = valid.shape
    dims = valid.sum(1)
    m_max = min(iters, int(dims.max()))
    device = valid.device
    Q = torch.zeros(K, m_max + 1, N, dtype=dtype, device=device)
    alpha = torch.zeros(K, m_max, dtype=dtype, device=device)
    beta = torch.zeros(K, m_max, dtype=dtype, device=device)
    length = torch.zeros(K, dtype=torch.long)
    active = torch.ones(K, dtype=torch.bool, device=device)
    converged = torch.zeros(K, dtype=torch.bool, device=device)
    anorm = torch.zeros(K, dtype=dtype, device=device)
    breakdown = max(_BREAKDOWN, 100 * torch.finfo(dtype).eps)
    q = _random_vectors(generator, valid, dtype)
    Q[:, 0] = q / q.norm(dim=1, keepdim=True)
    for j in range(m_max):
        w = matvec(Q[:, j]) * valid
        a = (Q[:, j] * w).sum(1)
        w = w - a[:, None] * Q[:, j]
        if j > 0:
            w = w - beta[:, j - 1, None] * Q[:, j - 1]
        w = _orthogonalize(w, Q[:, : j + 1])
        b = w.norm(dim=1)
        alpha[:, j] = torch.where(active, a, torch.zeros_like(a))
        length[active.cpu()] = j + 1
        anorm = torch.where(active, torch.maximum(anorm, a.abs()), anorm)
        exhausted = active & (dims <= j + 1)
        broken = active & ~exhausted & (b <= breakdown * anorm)
        if bool(broken.any()):
            r = _orthogonalize(_random_vectors(generator, valid, dtype), Q[:, : j + 1])
            w = torch.where(broken[:, None], r, w)
            b = torch.where(broken, torch.zeros_like(b), b)
            rn = w.norm(dim=1)
            exhausted = exhausted | (broken & (rn == 0))
            scale = torch.where(broken, rn, b)
        else:
            scale = b
        anorm = torch.where(active, torch.maximum(anorm, b), anorm)
        keep = active & ~exhausted
        beta[:, j] = torch.where(keep, b, torch.zeros_like(b))
        Q[:, j + 1] = torch.where(keep[:, None], w / torch.where(keep, scale, torch.ones_like(scale))[:, None],
                                  torch.zeros_like(w))
        converged = converged | exhausted
        active = keep
        m = j + 1
        if m >= max(k, _MIN_KRYLOV) and bool(active.any()) and (m <= 50 or m % 5 == 0 or m == m_max):
            idx = torch.nonzero(active & ~converged).flatten()
            if idx.numel():
                theta, S = torch.linalg.eigh(_tridiagonal(alpha[idx, :m], beta[idx, : m - 1]))
                sel = _select(theta, k, which)
                last = torch.gather(S[:, m - 1, :], 1, sel)
                resid = (beta[idx, m - 1, None] * last).abs()
                scale_k = theta.abs().amax(dim=1, keepdim=True)
                ok = (resid <= tol * scale_k).all(dim=1)
                converged[idx[ok]] = True
        if bool(converged.all()):
            break
    if not bool(converged.all()):
        bad = torch.nonzero(~converged).flatten().tolist()
        warnings.warn(f"Lanczos did not converge for model(s) {bad} within iters = {iters} steps "
                      f"(tol = {tol}): the eigenvalues returned are the current Ritz values; raise iters",
                      RuntimeWarning, stacklevel=3)
    values = torch.empty(K, k, dtype=dtype, device=device)
    vectors = torch.empty(K, N, k, dtype=dtype, device=device) if want_vectors else None
    for i in range(K):
        m = int(length[i])
        theta, S = torch.linalg.eigh(_tridiagonal(alpha[i, :m], beta[i, : m - 1]))
        sel = _select(theta, k, which)
        values[i] = theta[sel]
        if want_vectors:
            vectors[i] = Q[i, :m].T @ S[:, sel]
    return values, vectors


def _subspace_iteration(matvec, valid, k, iters, tol, generator, dtype, want_vectors):
    """Batched subspace (block power) iteration with Rayleigh–Ritz, for a PSD operator."""
    K, N = valid.shape
    dims = valid.sum(1)
    b = min(int(dims.min()), 2 * k + 2)

    def orthonormal(Y):
        cols = []
        for i in range(b):
            w = Y[..., i]
            if cols:
                w = _orthogonalize(w, torch.stack(cols, dim=1))
            norm = w.norm(dim=1)
            ref = Y[..., i].norm(dim=1)
            bad = norm <= 1e-10 * ref.clamp_min(torch.finfo(dtype).tiny)
            if bool(bad.any()):  # rank deficient: fill with a fresh random direction
                r = _random_vectors(generator, valid, dtype)
                if cols:
                    r = _orthogonalize(r, torch.stack(cols, dim=1))
                w = torch.where(bad[:, None], r, w)
                norm = w.norm(dim=1)
            cols.append(w / norm[:, None])
        return torch.stack(cols, dim=2)

    def apply(Qb):
        return torch.stack([matvec(Qb[..., i]) * valid for i in range(b)], dim=2)

    Qb = orthonormal(_random_vectors(generator, valid, dtype, columns=b))
    converged = False
    for _ in range(iters):
        HQ = apply(Qb)
        B = Qb.mT @ HQ
        theta, S = torch.linalg.eigh(0.5 * (B + B.mT))
        theta, S = theta.flip(-1), S.flip(-1)  # descending
        X, HX = Qb @ S, HQ @ S
        resid = (HX - X * theta[:, None, :]).norm(dim=1)[:, :k]
        scale = theta.abs().amax(dim=1, keepdim=True)
        if bool((resid <= tol * scale).all()):
            converged = True
            break
        Qb = orthonormal(HX)
    if not converged:
        warnings.warn(f"subspace iteration did not converge within iters = {iters} iterations (tol = {tol}): "
                      "the eigenvalues returned are the current Ritz values; raise iters or use method='lanczos'",
                      RuntimeWarning, stacklevel=3)
    return theta[:, :k], (X[..., :k] if want_vectors else None)


def top_ntk_eigenvalues(model: StackedModel, params: dict[str, torch.Tensor], x: torch.Tensor, k: int = 1,
                        mask: torch.Tensor | None = None, method: str = "lanczos", iters: int | None = None,
                        tol: float | None = None, seed: int | torch.Generator = 0, return_vectors: bool = False):
    """The k largest eigenvalues of each model's normalized NTK, matrix-free.

    Parameters
    ----------
    model : StackedModel
    params : dict of str to Tensor
        Stacked parameters, each (K, ...).
    x : Tensor of shape (K, n, input_dim)
    k : int
        How many eigenvalues; 1 <= k <= min over models of n_k · output_dim.
    mask : bool Tensor of shape (K, n), optional
        Valid samples (default: all).
    method : {"lanczos", "power"}
        "lanczos": one batched Lanczos run with full reorthogonalisation over the (K, n·o)
        vectors; ``iters`` is the largest Krylov dimension (default 200; it stops early when the
        top k Ritz pairs have converged, but not below dimension 30, and is exact once the
        Krylov dimension reaches n_k·o).
        "power": batched subspace iteration with a block of min(n_k·o, 2k + 2) vectors and
        Rayleigh–Ritz; ``iters`` is the iteration count (default 1000).
    iters : int, optional
    tol : float, optional
        Convergence when every wanted Ritz pair has residual |H y − θ y| <= tol · θ_max, so the
        eigenvalue error is about tol² θ_max²/gap.  Default :func:`default_tol` of the dtype
        (1e-8 in float64).  A run that does not converge warns (RuntimeWarning) and returns its
        current Ritz values.
    seed : int or torch.Generator
        Start vectors are drawn from ``torch.Generator().manual_seed(seed)`` (one (K, n·o) draw).
    return_vectors : bool
        Also return the Ritz vectors.

    Returns
    -------
    values : Tensor of shape (K, k)
        Descending.
    vectors : Tensor of shape (K, n * output_dim, k)
        Only if ``return_vectors``: orthonormal eigenvectors, zero at invalid samples.

    Raises
    ------
    ValueError
        For shape or dtype mismatches, k out of range, an unknown method, iters < k (Lanczos) or
        iters < 1, or tol outside (0, 1).

    Notes
    -----
    Uses only the products of :func:`ntk_matvec` (one recorded graph, two backward passes per
    product).  Memory for Lanczos: K · iters · n · o numbers.

    References
    ----------
    Lanczos (1950); Golub & Van Loan, Matrix Computations §10.1; ``shared/theory/catapult.md``
    §2 (λ0 = λ_max(H), η_crit = 2/λ0) and §11 (iterative λ0, cross-checked against the dense
    eigensolver).

    Examples
    --------
    >>> from relunet.constructions.models import StackedMLP
    >>> mlp = StackedMLP(3, 16, 2)
    >>> params = mlp.init(seeds=[0, 1])
    >>> x = torch.randn(2, 20, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    >>> top = top_ntk_eigenvalues(mlp, params, x, k=2)
    >>> top.shape
    torch.Size([2, 2])
    >>> dense = torch.linalg.eigvalsh(ntk_dense(mlp, params, x)).flip(-1)[:, :2]
    >>> torch.allclose(top, dense, rtol=1e-10, atol=0)
    True
    """
    _check_choice("method", method, METHODS)
    generator = _generator(seed)
    op = _NTKOperator(model, params, x, mask)
    tol = _check_tol(tol, op.dtype)
    k_max = int(op.counts.min())
    check_int("k", k, 1, k_max, why=f" (the fewest valid samples × outputs over the models is {k_max})")
    if iters is None:
        iters = DEFAULT_LANCZOS_ITERS if method == "lanczos" else DEFAULT_POWER_ITERS
    if method == "lanczos":
        check_int("iters", iters, k, why=" (at least k)")
        values, vectors = _lanczos(op.matvec, op.valid, k, iters, tol, generator, "largest", return_vectors,
                                   op.dtype)
    else:
        check_int("iters", iters, 1)
        values, vectors = _subspace_iteration(op.matvec, op.valid, k, iters, tol, generator, op.dtype,
                                              return_vectors)
    return (values, vectors) if return_vectors else values


# ---------------------------------------------------------------------------------------------
# loss Hessian


def loss_hessian_matvec(model: StackedModel, params: dict[str, torch.Tensor], x: torch.Tensor, y: torch.Tensor,
                        v: dict[str, torch.Tensor], mask: torch.Tensor | None = None,
                        loss: str = "mse") -> dict[str, torch.Tensor]:
    """Hessian-vector products of each model's training loss with respect to its parameters.

    L_k(θ_k) = (1/(2 n_k o)) Σ_{valid a} |f_k(x_a) − y_a|², ½ × the mean-reduced MSE over model
    k's n_k valid samples and o outputs (catapult.md §2).

    Parameters
    ----------
    model : StackedModel
    params : dict of str to Tensor
        Stacked parameters, each (K, ...).
    x : Tensor of shape (K, n, input_dim)
    y : Tensor of shape (K, n, output_dim)
        Targets; (K, n) is accepted for scalar output.
    v : dict of str to Tensor
        A direction per model, shaped like ``params``.
    mask : bool Tensor of shape (K, n), optional
        Valid samples (default: all).
    loss : {"mse"}

    Returns
    -------
    dict of str to Tensor
        ∇²L_k v_k for every model, shaped like ``params``.  No autograd graph.

    Notes
    -----
    For o > 1 the normalisation is 1/(2 n_k o), not 1/(2 n_k): it matches the NTK normalisation
    H = JJᵀ/(n_k o), so the Gauss–Newton term (1/(n_k o)) JᵀJ has the nonzero spectrum of H and
    c = η λ_max keeps its meaning.  Computed reverse-over-reverse (the VJP of ``torch.func.grad``).

    Raises
    ------
    ValueError
        For shape or dtype mismatches or an unknown loss.

    References
    ----------
    Pearlmutter, Neural Computation 1994 (exact Hessian-vector products);
    ``shared/theory/catapult.md`` §2 (loss convention; ∇²L = (1/n)JᵀJ + (1/n)Σ ε_a ∇²f_a).

    Examples
    --------
    >>> from relunet.constructions.models import StackedMLP
    >>> mlp = StackedMLP(1, 4, 0, bias=False)  # f = w x: L = (1/2n) Σ (w x_a − y_a)²
    >>> params = {"w0": torch.tensor([[[2.0]]], dtype=torch.float64)}
    >>> x = torch.tensor([[[1.0], [3.0]]], dtype=torch.float64)
    >>> y = torch.zeros(1, 2, dtype=torch.float64)
    >>> loss_hessian_matvec(mlp, params, x, y, {"w0": torch.ones(1, 1, 1, dtype=torch.float64)})["w0"]
    tensor([[[5.]]], dtype=torch.float64)
    """
    op = _HessianOperator(model, params, x, y, mask, loss)
    _check_like("v", v, op.params)
    return op.hvp({name: t.detach() for name, t in v.items()})


def top_hessian_eigenvalue(model: StackedModel, params: dict[str, torch.Tensor], x: torch.Tensor,
                           y: torch.Tensor, mask: torch.Tensor | None = None, iters: int | None = None,
                           tol: float | None = None, seed: int | torch.Generator = 0, loss: str = "mse",
                           which: str = "largest") -> torch.Tensor:
    """The largest algebraic eigenvalue (the sharpness) of each model's loss Hessian.

    Parameters
    ----------
    model : StackedModel
    params : dict of str to Tensor
        Stacked parameters, each (K, ...).
    x : Tensor of shape (K, n, input_dim)
    y : Tensor of shape (K, n, output_dim)
        Targets; (K, n) for scalar output.
    mask : bool Tensor of shape (K, n), optional
        Valid samples (default: all).
    iters : int, optional
        Largest Krylov dimension (default 200; capped at P; at least 30 steps unless P is
        smaller).  A run that does not converge warns.
    tol : float, optional
        Convergence when the Ritz residual is <= tol · (largest |Ritz value|); default
        :func:`default_tol` of the dtype (1e-8 in float64).
    seed : int or torch.Generator
        Start vectors from ``torch.Generator().manual_seed(seed)``.
    loss : {"mse"}
        L_k = (1/(2 n_k o)) Σ |f − y|², as in :func:`loss_hessian_matvec`.
    which : {"largest", "smallest", "magnitude"}
        "largest" (default): the largest algebraic eigenvalue, the edge-of-stability sharpness,
        which GD compares with 2/η; "smallest": the most negative curvature; "magnitude": the
        eigenvalue of largest |λ| (what plain power iteration finds), with its sign.

    Returns
    -------
    Tensor of shape (K,)

    Notes
    -----
    The Hessian is indefinite away from a minimum, so the top eigenvalue by magnitude can be
    negative; the default reports the largest algebraic one.  Batched Lanczos with full
    reorthogonalisation in parameter space, using only :func:`loss_hessian_matvec` products;
    Lanczos resolves both ends of the spectrum, hence ``which``.  Memory: K · iters · P numbers.

    Raises
    ------
    ValueError
        For shape or dtype mismatches, an unknown ``loss`` or ``which``, iters < 1 or tol outside
        (0, 1).

    References
    ----------
    Cohen, Kaur, Li, Kolter, Talwalkar, ICLR 2021 (sharpness by Lanczos on Hessian-vector
    products); Pearlmutter 1994; ``shared/theory/catapult.md`` §2 (Hessian link: at an
    interpolating minimum the sharpness equals λ_max(H)) and §7.

    Examples
    --------
    >>> from relunet.constructions.models import StackedMLP
    >>> mlp = StackedMLP(3, 8, 1)
    >>> params = mlp.init(seeds=[0, 1])
    >>> x = torch.randn(2, 10, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    >>> y = mlp.forward(params, x)  # an interpolating point: the Hessian is the Gauss-Newton term
    >>> sharp = top_hessian_eigenvalue(mlp, params, x, y)
    >>> torch.allclose(sharp, top_ntk_eigenvalues(mlp, params, x)[:, 0], rtol=1e-10, atol=0)
    True
    """
    _check_choice("which", which, WHICH)
    generator = _generator(seed)
    op = _HessianOperator(model, params, x, y, mask, loss)
    tol = _check_tol(tol, op.dtype)
    iters = DEFAULT_LANCZOS_ITERS if iters is None else iters
    check_int("iters", iters, 1)
    flat = flatten_params(op.params)
    valid = torch.ones(flat.shape, dtype=torch.bool, device=flat.device)
    values, _ = _lanczos(op.matvec, valid, 1, iters, tol, generator, which, False, flat.dtype)
    return values[:, 0]


# ---------------------------------------------------------------------------------------------
# closed forms


def _as_float_tensor(name: str, value, min_ndim: int) -> torch.Tensor:
    t = value if isinstance(value, torch.Tensor) else torch.as_tensor(value, dtype=torch.float64)
    if not t.is_floating_point():
        t = t.to(torch.float64)
    if t.ndim < min_ndim:
        raise ValueError(f"{name}.shape = {tuple(t.shape)} is not allowed: {name} needs at least {min_ndim} "
                         f"dimension(s)")
    return t


def uv_ntk(u, v, x) -> torch.Tensor:
    """λ0 of the uv model f(x) = m^(-1/2) vᵀu x on n scalar inputs (closed form).

    The normalized NTK is H = (|u|² + |v|²) x xᵀ/(m n), of rank one, so

        λ0 = λ_max(H) = (|u|² + |v|²) |x|² / (m n).

    Parameters
    ----------
    u, v : array_like of shape (..., m)
        The two weight vectors (leading dimensions broadcast, e.g. K models).
    x : array_like of shape (..., n)
        The scalar inputs.

    Returns
    -------
    Tensor of shape (...)
        λ0 per model (0-d for single vectors); float64 unless the inputs are another float dtype.

    Raises
    ------
    ValueError
        If u and v differ in width m, or a vector is empty.

    Notes
    -----
    This is a StackedMLP(1, m, depth=1, bias=False, activation="identity",
    parameterization="ntk") with u = w0[k][:, 0] and v = w1[k][0].  With one sample, λ0 =
    x²(|u|² + |v|²)/m and E[λ0] = 2x².

    References
    ----------
    Lewkowycz et al., arXiv:2003.02218 (the uv model); ``shared/theory/catapult.md`` §3.1.

    Examples
    --------
    >>> uv_ntk([1.0, 0.0], [0.0, 1.0], [1.0, 2.0])  # (1 + 1) · 5 / (2 · 2)
    tensor(2.5000, dtype=torch.float64)
    """
    u, v, x = (_as_float_tensor(name, t, 1) for name, t in (("u", u), ("v", v), ("x", x)))
    if u.shape[-1] != v.shape[-1] or u.shape[-1] == 0:
        raise ValueError(f"u.shape = {tuple(u.shape)} and v.shape = {tuple(v.shape)} do not match: u and v must "
                         "have the same width m >= 1 in their last dimension")
    if x.shape[-1] == 0:
        raise ValueError(f"x.shape = {tuple(x.shape)} is not allowed: need n >= 1 inputs")
    m, n = u.shape[-1], x.shape[-1]
    return ((u * u).sum(-1) + (v * v).sum(-1)) * (x * x).sum(-1) / (m * n)


def two_layer_ntk(W, v, X, negative_slope: float) -> torch.Tensor:
    """The normalized NTK of f(x) = (d m)^(-1/2) vᵀ σ(W x), σ leaky ReLU, no biases (closed form).

        H = (1/(n d m)) [ σ(WXᵀ)ᵀ σ(WXᵀ) + (X Xᵀ) ⊙ (σ'(WXᵀ)ᵀ diag(v²) σ'(WXᵀ)) ]

    Parameters
    ----------
    W : array_like of shape (..., m, d)
    v : array_like of shape (..., m)
    X : array_like of shape (..., n, d)
        Inputs stacked as rows.  Leading dimensions broadcast (e.g. K models).
    negative_slope : float
        a in σ(h) = h (h > 0), a h (h <= 0): a = 0 is ReLU, a = 1 linear.  σ'(h) = 1 for h > 0 and
        a otherwise (at h = 0 this is torch's convention).

    Returns
    -------
    Tensor of shape (..., n, n)

    Raises
    ------
    ValueError
        If the shapes do not match or negative_slope is not a finite number.

    Notes
    -----
    A StackedMLP(d, m, depth=1, bias=False, parameterization="ntk", activation="leaky_relu"
    (negative_slope=a) or "identity" (a = 1)) is exactly this f with W = w0[k] and v = w1[k][0]:
    its forward pass m^(-1/2) vᵀσ(d^(-1/2) W x) equals (dm)^(-1/2) vᵀσ(Wx) by the positive
    homogeneity of σ.

    References
    ----------
    Meltzer & Liu, arXiv:2301.07737; ``shared/theory/catapult.md`` §3.3 (two-layer NTK).

    Examples
    --------
    >>> W = torch.tensor([[1.0, -1.0], [2.0, 0.5]], dtype=torch.float64)
    >>> v = torch.tensor([1.0, -1.0], dtype=torch.float64)
    >>> X = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]], dtype=torch.float64)
    >>> H = two_layer_ntk(W, v, X, negative_slope=0.5)
    >>> H.shape
    torch.Size([3, 3])
    >>> from relunet.constructions.models import StackedMLP
    >>> mlp = StackedMLP(2, 2, 1, activation="leaky_relu", negative_slope=0.5, bias=False)
    >>> params = {"w0": W[None], "w1": v[None, None]}
    >>> torch.allclose(ntk_dense(mlp, params, X[None])[0], H, rtol=1e-12, atol=1e-14)
    True
    """
    W = _as_float_tensor("W", W, 2)
    v = _as_float_tensor("v", v, 1)
    X = _as_float_tensor("X", X, 2)
    if isinstance(negative_slope, bool) or not isinstance(negative_slope, (int, float)) \
            or not math.isfinite(negative_slope):
        raise ValueError(f"negative_slope = {negative_slope!r} is not allowed: it must be a finite number")
    m, d = W.shape[-2], W.shape[-1]
    if v.shape[-1] != m or X.shape[-1] != d or m == 0 or d == 0 or X.shape[-2] == 0:
        raise ValueError(f"W.shape = {tuple(W.shape)}, v.shape = {tuple(v.shape)}, X.shape = {tuple(X.shape)} do not "
                         "match: expected W (..., m, d), v (..., m), X (..., n, d) with m, d, n >= 1")
    n = X.shape[-2]
    a = float(negative_slope)
    pre = W @ X.mT  # (..., m, n)
    act = torch.where(pre > 0, pre, a * pre)
    dact = torch.where(pre > 0, torch.ones_like(pre), torch.full_like(pre, a))
    first = act.mT @ act
    second = (X @ X.mT) * (dact.mT @ ((v * v).unsqueeze(-1) * dact))
    return (first + second) / (n * d * m)
