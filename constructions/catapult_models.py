"""The models of the catapult papers as stacked families for the batched trainer.

* :class:`StackedUV`: the uv model f(x) = m^(-1/2) vᵀu x of Lewkowycz et al.
* :class:`QuadraticFeatures` and :class:`QuadraticModel`: the Roberts–Yaida–Hanin quadratic model
  z(x; θ) = θ_f·φ(x) + (ζ/2) θᵀψ(x)θ used by Meltzer and Liu, pure (φ = 0) or with a linear part,
  with the meta-feature construction and teacher–student masking of the authors' code.
* :class:`NeuralQuadraticModel`: the second-order Taylor expansion of any stacked family around
  its initialisation (Zhu et al.'s NQM), through directional derivatives by reverse mode.
* :func:`homogeneous_mlp`: bias-free (leaky) ReLU MLPs in the NTK parameterization, the
  homogeneous nets of Meltzer and Liu (a :class:`~relunet.constructions.models.StackedMLP`).
* :func:`ntk_matrix`, :func:`top_ntk_eigenvalue`: the normalised NTK H = JJᵀ/n of these models,
  by closed forms where they exist (uv, two-layer nets, quadratic models) and otherwise by
  :mod:`relunet.constructions.spectral`; :func:`sparsity`, the fraction of negative
  pre-activations.

Conventions are those of ``shared/theory/catapult.md`` §2: loss (1/2n)Σε², H = JJᵀ/n.

References
----------
A. Lewkowycz, Y. Bahri, E. Dyer, J. Sohl-Dickstein, G. Gur-Ari, "The large learning rate phase
of deep learning: the catapult mechanism", arXiv:2003.02218 (the uv model).
D. Meltzer, J. Liu, "Catapult Dynamics and Phase Transitions in Quadratic Nets",
arXiv:2301.07737, and github.com/david-meltzer/quadratic_model (quadratic models, eqs. (184)-(191)
of the code's comments: linear features, meta-features, masking).
D. A. Roberts, S. Yaida, B. Hanin, "The Principles of Deep Learning Theory", CUP 2022 (the
quadratic model).
L. Zhu, C. Liu, A. Radhakrishnan, M. Belkin, "Quadratic models for understanding catapult
dynamics of neural networks", ICLR 2024, arXiv:2205.11787 (the NQM).
``shared/theory/catapult.md`` §3 (models) and §11 (computing λ0).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch

from . import spectral
from .models import StackedMLP, StackedModel
from .validation import check_int, check_positive, check_real, check_seed, check_seeds

__all__ = [
    "FEATURE_ACTIVATIONS",
    "NeuralQuadraticModel",
    "QuadraticFeatures",
    "QuadraticModel",
    "StackedUV",
    "homogeneous_mlp",
    "ntk_matrix",
    "sparsity",
    "top_ntk_eigenvalue",
]

FEATURE_ACTIVATIONS = ("identity", "tanh", "relu", "leaky_relu")


def _is_transformed(t: torch.Tensor) -> bool:
    """Whether `t` is wrapped by a torch.func transform (vmap, grad, vjp)."""
    check = getattr(torch._C._functorch, "is_functorch_wrapped_tensor", None)
    return bool(check(t)) if check is not None else False


# -- the uv model ------------------------------------------------------------------------------------


class StackedUV(StackedModel):
    """K uv models f(x) = m^(-1/2) vᵀu x with u, v ∈ ℝ^m, entries N(0, 1) (NTK parameterization).

    Parameters
    ----------
    width : int
        m.

    Notes
    -----
    The same function as ``StackedMLP(1, m, 1, bias=False, activation="identity")`` with
    u = w0[:, 0] and v = w1[0], written with elementwise products (cheaper at m = 10^5).
    2-homogeneous in θ = (u, v).  On n scalar inputs H = (|u|² + |v|²) x xᵀ/(m n), so
    λ0 = (|u|² + |v|²)|x|²/(m n) (:func:`relunet.constructions.spectral.uv_ntk`).

    References
    ----------
    Lewkowycz et al. 2020; ``shared/theory/catapult.md`` §3.1.

    Examples
    --------
    >>> uv = StackedUV(4)
    >>> params = {"u": torch.tensor([[1.0, 2.0, 0.0, 0.0]]), "v": torch.tensor([[3.0, 1.0, 0.0, 0.0]])}
    >>> uv.forward(params, torch.tensor([[[2.0]]]))  # (3 + 2)/2 * 2
    tensor([[[5.]]])
    """

    input_dim = 1
    output_dim = 1
    homogeneity = 2

    def __init__(self, width: int):
        self.width = check_int("width", width, 1)

    def __repr__(self) -> str:
        return f"StackedUV(width={self.width})"

    def parameter_shapes(self) -> dict[str, tuple[int, ...]]:
        return {"u": (self.width,), "v": (self.width,)}

    def init_one(self, generator: torch.Generator, dtype: torch.dtype) -> dict[str, torch.Tensor]:
        u = torch.randn(self.width, generator=generator, dtype=torch.float64)
        v = torch.randn(self.width, generator=generator, dtype=torch.float64)
        return {"u": u.to(dtype), "v": v.to(dtype)}

    def forward(self, params: dict[str, torch.Tensor], x: torch.Tensor) -> torch.Tensor:
        s = (params["u"] * params["v"]).sum(-1) / math.sqrt(self.width)
        return x * s[:, None, None]

    def ntk(self, params: dict[str, torch.Tensor], x: torch.Tensor) -> torch.Tensor:
        """H = (|u|² + |v|²) x xᵀ/(m n), shape (K, n, n)."""
        norm = (params["u"] ** 2).sum(-1) + (params["v"] ** 2).sum(-1)
        xs = x[..., 0]
        return norm[:, None, None] * xs[:, :, None] * xs[:, None, :] / (self.width * x.shape[1])


# -- quadratic models ----------------------------------------------------------------------------


def _feature_activation(h: torch.Tensor, activation: str, negative_slope: float) -> torch.Tensor:
    if activation == "identity":
        return h
    if activation == "tanh":
        return torch.tanh(h)
    if activation == "relu":
        return torch.relu(h)
    return torch.nn.functional.leaky_relu(h, negative_slope)


@dataclass(frozen=True, eq=False)
class QuadraticFeatures:
    """The teacher's features: meta-feature matrices W^i (d, N, N) and linear features U (d, F).

    ψ(x) = g(Σ_i x_i W^i/√d) entrywise (N × N, symmetric), φ(x) = Uᵀx/√(dF).  Build with
    :meth:`draw`.

    Attributes
    ----------
    W : Tensor (d, N, N), float64
    U : Tensor (d, F), float64 (F may be 0)
    activation : {"identity", "tanh", "relu", "leaky_relu"}
    negative_slope : float
    """

    W: torch.Tensor
    U: torch.Tensor
    activation: str = "identity"
    negative_slope: float = 0.01

    @classmethod
    def draw(cls, input_dim: int, rank: int, linear_features: int = 0, *,
             eigenvalue_range: tuple[float, float] = (1.0, 1.0), paired: bool = True,
             activation: str = "identity", negative_slope: float = 0.01, seed: int = 0) -> QuadraticFeatures:
        """Draw W^i = q^i diag(λ^i) q^iᵀ and U from one seed.

        Parameters
        ----------
        input_dim : int
            d.
        rank : int
            N (even when ``paired``).
        linear_features : int
            F (0 for the pure quadratic model).
        eigenvalue_range : (low, high)
            Eigenvalue magnitudes are uniform on [low, high] ((1, 1): all ±1).
        paired : bool
            Eigenvalues in ± pairs (N/2 magnitudes, each with both signs), as in the authors' code.
        activation, negative_slope
            g applied entrywise to Σ_i x_i W^i/√d.
        seed : int
            In [0, 2^63 - 1]; ``torch.Generator().manual_seed(seed)`` draws B^i (q^i = exp((B^i − B^iᵀ)/√2),
            an orthogonal matrix), the eigenvalues and U, in that order.

        References
        ----------
        Meltzer and Liu 2023, code eqs. (184)-(187); ``shared/theory/catapult.md`` §3.2.

        Examples
        --------
        >>> feats = QuadraticFeatures.draw(1, 4, eigenvalue_range=(1.0, 2.0), seed=0)
        >>> ev = torch.linalg.eigvalsh(feats.W[0])
        >>> bool(torch.allclose(ev, -ev.flip(0), atol=1e-12))  # ± pairs
        True
        """
        check_int("input_dim", input_dim, 1)
        check_int("rank", rank, 1)
        check_int("linear_features", linear_features, 0)
        if paired and rank % 2:
            raise ValueError(f"rank = {rank} is odd: paired (± pairs of) eigenvalues need an even rank")
        try:
            low, high = (check_real(f"eigenvalue_range[{i}]", v, 0) for i, v in enumerate(eigenvalue_range))
        except (TypeError, ValueError):
            low, high = 1.0, 0.0
        if not low <= high:
            raise ValueError(f"eigenvalue_range = {eigenvalue_range!r} is not allowed: need 0 <= low <= high, finite")
        if activation not in FEATURE_ACTIVATIONS:
            raise ValueError(f"activation = {activation!r} is not allowed: use one of {FEATURE_ACTIVATIONS}")
        g = torch.Generator().manual_seed(check_seed(seed))
        mats = []
        for _ in range(input_dim):
            b = torch.randn(rank, rank, generator=g, dtype=torch.float64)
            q = torch.linalg.matrix_exp((b - b.T) / math.sqrt(2.0))
            count = rank // 2 if paired else rank
            mag = low + (high - low) * torch.rand(count, generator=g, dtype=torch.float64)
            eig = torch.cat([mag, -mag]) if paired else mag
            w = (q * eig) @ q.T
            mats.append(0.5 * (w + w.T))
        U = torch.randn(input_dim, linear_features, generator=g, dtype=torch.float64)
        return cls(torch.stack(mats), U, activation, float(negative_slope))

    @property
    def input_dim(self) -> int:
        return self.W.shape[0]

    @property
    def rank(self) -> int:
        return self.W.shape[1]

    @property
    def linear_features(self) -> int:
        return self.U.shape[1]

    def psi(self, x: torch.Tensor) -> torch.Tensor:
        """ψ(x) for inputs (..., d): shape (..., N, N)."""
        W = self.W.to(dtype=x.dtype, device=x.device)
        h = torch.einsum("...i,imn->...mn", x, W) / math.sqrt(self.input_dim)
        return _feature_activation(h, self.activation, self.negative_slope)

    def phi(self, x: torch.Tensor) -> torch.Tensor:
        """φ(x) = Uᵀx/√(dF) for inputs (..., d): shape (..., F)."""
        U = self.U.to(dtype=x.dtype, device=x.device)
        return x @ U / math.sqrt(self.input_dim * max(self.linear_features, 1))


class QuadraticModel(StackedModel):
    """K quadratic models z(x) = θ_f·φ_S(x) + (ζ/2) θᵀψ_S(x)θ on (a masked subset S of) the features.

    Parameters
    ----------
    features : QuadraticFeatures
        The teacher's features.
    keep_quadratic : sequence of int, optional
        The meta-feature coordinates the model sees (default all N): ψ_S is ψ restricted to them.
    keep_linear : sequence of int, optional
        The linear features it sees (default all F).
    zeta : float, optional
        Default √(2/N_S) with N_S the number of kept meta-feature coordinates (the student's rank,
        as catapult.md §3.2 requires for teacher–student runs).

    Notes
    -----
    Parameters: "theta" (N_S,) and, when a linear part is present, "theta_f" (F_S,), all N(0, 1).
    The pure model is 2-homogeneous; with a linear part it is not homogeneous.  The NTK is
    H_ab = (ζ²/n)(ψ_aθ)·(ψ_bθ) + (1/n)φ_a·φ_b (:meth:`ntk`).  ψ(x) is computed once for inputs
    shared by all K models and kept for the next call with the same inputs.

    References
    ----------
    Meltzer and Liu 2023 (and their code, ``Quadratic`` and ``quadratic_with_bias``); Roberts,
    Yaida, Hanin 2022; ``shared/theory/catapult.md`` §3.2.

    Examples
    --------
    >>> feats = QuadraticFeatures.draw(1, 6, seed=0)
    >>> model = QuadraticModel(feats)
    >>> params = model.init([0, 0])
    >>> x = torch.ones(2, 1, 1, dtype=torch.float64)
    >>> out = model.forward(params, x)
    >>> theta = params["theta"][0]
    >>> bool(torch.isclose(out[0, 0, 0], model.zeta / 2 * theta @ feats.W[0] @ theta))
    True
    """

    output_dim = 1

    def __init__(self, features: QuadraticFeatures, keep_quadratic: Sequence[int] | None = None,
                 keep_linear: Sequence[int] | None = None, zeta: float | None = None):
        if not isinstance(features, QuadraticFeatures):
            raise ValueError(f"features = {type(features).__name__} is not allowed: use QuadraticFeatures.draw(...)")
        self.features = features
        self.keep_quadratic = self._indices("keep_quadratic", keep_quadratic, features.rank, allow_empty=False)
        self.keep_linear = self._indices("keep_linear", keep_linear, features.linear_features, allow_empty=True)
        self.rank = int(self.keep_quadratic.numel())
        self.linear_features = int(self.keep_linear.numel())
        if zeta is None:
            zeta = math.sqrt(2.0 / self.rank)
        self.zeta = check_positive("zeta", zeta)
        self.input_dim = features.input_dim
        self.homogeneity = 2 if self.linear_features == 0 else None
        self._cache: tuple[torch.Tensor, torch.Tensor] | None = None

    @staticmethod
    def _indices(name: str, keep, size: int, allow_empty: bool) -> torch.Tensor:
        if keep is None:
            return torch.arange(size)
        idx = torch.as_tensor(list(keep), dtype=torch.long)
        if idx.ndim != 1 or (idx.numel() == 0 and not allow_empty) or bool((idx < 0).any()) \
                or bool((idx >= size).any()) or idx.unique().numel() != idx.numel():
            raise ValueError(f"{name} = {list(keep)[:6]}... is not allowed: give distinct indices in [0, {size})"
                             + ("" if allow_empty else ", at least one"))
        return idx.sort().values

    def __repr__(self) -> str:
        return (f"QuadraticModel(rank={self.rank}/{self.features.rank}, linear={self.linear_features}/"
                f"{self.features.linear_features}, zeta={self.zeta:.4g}, {self.features.activation})")

    def student(self, masked_quadratic: int, masked_linear: int = 0, seed: int = 0) -> QuadraticModel:
        """The student: the same features with `masked_*` random coordinates removed (ζ from the student rank).

        The kept coordinates are the first N − masked_quadratic (F − masked_linear) of
        ``torch.randperm`` drawn from ``torch.Generator().manual_seed(seed)``, sorted (`seed` an
        integer in [0, 2^63 - 1]).
        """
        check_int("masked_quadratic", masked_quadratic, 0)
        check_int("masked_linear", masked_linear, 0)
        if masked_quadratic >= self.rank or masked_linear > self.linear_features:
            raise ValueError(f"masked_quadratic = {masked_quadratic}, masked_linear = {masked_linear} are out of "
                             f"range: at most {self.rank - 1} and {self.linear_features}")
        g = torch.Generator().manual_seed(check_seed(seed))
        keep_q = self.keep_quadratic[torch.randperm(self.rank, generator=g)[: self.rank - masked_quadratic]]
        keep_l = self.keep_linear[torch.randperm(self.linear_features, generator=g)
                                  [: self.linear_features - masked_linear]]
        return QuadraticModel(self.features, keep_q.tolist(), keep_l.tolist())

    def parameter_shapes(self) -> dict[str, tuple[int, ...]]:
        shapes = {"theta": (self.rank,)}
        if self.linear_features:
            shapes["theta_f"] = (self.linear_features,)
        return shapes

    def init_one(self, generator: torch.Generator, dtype: torch.dtype) -> dict[str, torch.Tensor]:
        return {name: torch.randn(shape, generator=generator, dtype=torch.float64).to(dtype)
                for name, shape in self.parameter_shapes().items()}

    # -- features of the kept coordinates ---------------------------------------------------------------
    def _psi_raw(self, x: torch.Tensor) -> torch.Tensor:
        psi = self.features.psi(x)
        idx = self.keep_quadratic.to(x.device)
        if self.rank != self.features.rank:
            psi = psi.index_select(-1, idx).index_select(-2, idx)
        return psi

    def psi(self, x: torch.Tensor) -> torch.Tensor:
        """ψ_S(x) for x (K, n, d): (1, n, N_S, N_S) when all K rows of x are equal, else (K, n, N_S, N_S)."""
        if _is_transformed(x):  # inside torch.func.vmap: no data-dependent checks, no caching
            return self._psi_raw(x)
        if not (x.shape[0] == 1 or bool(torch.equal(x, x[:1].expand_as(x)))):
            return self._psi_raw(x)
        x0 = x[:1].detach()
        cache = self._cache
        if cache is not None and cache[0].shape == x0.shape and cache[0].dtype == x0.dtype \
                and cache[0].device == x0.device and torch.equal(cache[0], x0):
            return cache[1]
        psi = self._psi_raw(x0)
        self._cache = (x0.clone(), psi)
        return psi

    def phi(self, x: torch.Tensor) -> torch.Tensor:
        """φ_S(x) for x (K, n, d): (K, n, F_S)."""
        return self.features.phi(x).index_select(-1, self.keep_linear.to(x.device))

    def _psi_theta(self, psi: torch.Tensor, theta: torch.Tensor) -> torch.Tensor:
        if psi.shape[0] == 1 and theta.shape[0] != 1:
            return torch.einsum("anm,km->kan", psi[0], theta)
        return torch.einsum("kanm,km->kan", psi, theta)

    def forward(self, params: dict[str, torch.Tensor], x: torch.Tensor) -> torch.Tensor:
        theta = params["theta"]
        psi_theta = self._psi_theta(self.psi(x), theta)
        z = 0.5 * self.zeta * torch.einsum("kan,kn->ka", psi_theta, theta)
        if self.linear_features:
            z = z + torch.einsum("kaf,kf->ka", self.phi(x), params["theta_f"])
        return z.unsqueeze(-1)

    def ntk(self, params: dict[str, torch.Tensor], x: torch.Tensor) -> torch.Tensor:
        """H_ab = (ζ²/n)(ψ_aθ)·(ψ_bθ) + (1/n)φ_a·φ_b, shape (K, n, n) (closed form)."""
        g = self.zeta * self._psi_theta(self.psi(x), params["theta"].detach())
        H = g @ g.mT
        if self.linear_features:
            phi = self.phi(x)
            H = H + phi @ phi.mT
        return H / x.shape[1]

    def bound_inputs(self, params: dict[str, torch.Tensor], x: torch.Tensor) -> dict[str, torch.Tensor]:
        """What the bounds (154), (138) and (163) need, per model, at the given (initial) weights.

        Returns
        -------
        dict of (K,) tensors: "lam0" (λ_max(H)), "zeta", "theta_sq" (|θ|², all weights),
        "psi_eff_sq" (λ_max(ψ_eff²), ψ_eff = n^(-1/2)Σ_a u_aψ_a with u the unit top eigenvector of
        H), "omega_top" (λ_max(Ω) = (ζ²/n) λ_max(Σ_a ψ_a²)) and, with a linear part, "phi_eff_sq"
        (|φ_eff|²) and "overlap_sq" ((φ_eff·θ_f)²).

        References
        ----------
        Meltzer and Liu 2023, eqs. (138), (143), (154), (155), (163) (authors' code);
        ``shared/theory/catapult.md`` §3.2 and §6.
        """
        params = {k: v.detach() for k, v in params.items()}
        K, n = params["theta"].shape[0], x.shape[1]
        evals, evecs = torch.linalg.eigh(self.ntk(params, x))
        u = evecs[..., -1]  # (K, n)
        psi = self.psi(x)
        psi_k = psi.expand(K, *psi.shape[1:]) if psi.shape[0] == 1 else psi
        psi_eff = torch.einsum("ka,kamn->kmn", u, psi_k) / math.sqrt(n)
        psi_eff_sq = torch.linalg.eigvalsh(psi_eff).abs().amax(-1) ** 2
        if n == 1:
            omega = torch.linalg.eigvalsh(psi).abs().amax(-1)[:, 0] ** 2
        else:
            stacked = psi.reshape(psi.shape[0], n * self.rank, self.rank)
            omega = torch.linalg.eigvalsh(stacked.mT @ stacked)[..., -1]
        omega = (self.zeta**2 / n * omega).expand(K)
        theta_sq = sum((p**2).sum(-1) for p in params.values())
        out = {"lam0": evals[..., -1], "zeta": torch.full((K,), self.zeta, dtype=theta_sq.dtype),
               "theta_sq": theta_sq, "psi_eff_sq": psi_eff_sq, "omega_top": omega}
        if self.linear_features:
            phi_eff = torch.einsum("ka,kaf->kf", u, self.phi(x)) / math.sqrt(n)
            out["phi_eff_sq"] = (phi_eff**2).sum(-1)
            out["overlap_sq"] = ((phi_eff * params["theta_f"]).sum(-1)) ** 2
        return out


# -- the neural quadratic model --------------------------------------------------------------------------


def _d_dt(fn):
    """t ↦ d fn(t)/dt for a scalar t and a tensor-valued fn, by the double-VJP trick (reverse mode only)."""

    def derivative(t):
        out, vjp_fn = torch.func.vjp(fn, t)
        _, vjp_of_vjp = torch.func.vjp(lambda c: vjp_fn(c)[0], torch.zeros_like(out))
        return vjp_of_vjp(torch.ones_like(t))[0]

    return derivative


class NeuralQuadraticModel(StackedModel):
    """The second-order Taylor model of a stacked family around fixed weights w0 (the NQM).

        f_quad(w) = f(w0) + J(w0)(w − w0) + ½ (w − w0)ᵀ ∇²f(w0) (w − w0)

    Parameters
    ----------
    base : StackedModel
        The network (any family with the three methods).
    anchor : dict of (K, ...) tensors
        w0 for each of the K models.

    Notes
    -----
    With g(t) = f(w0 + t(w − w0)), f_quad = g(0) + g'(0) + ½g''(0): the JVP and the HVP
    along w − w0, each computed as a derivative in the scalar t by two reverse-mode passes (the
    double-VJP trick of :mod:`relunet.constructions.spectral`; forward-mode AD warns on this
    torch).  The result is differentiable in w by ordinary autograd and composes with
    ``torch.func`` (so :mod:`relunet.constructions.spectral` measures its NTK).  At w0 its value
    and gradient are the base's; for a base that is itself quadratic in its weights (the uv model,
    the pure quadratic model) it equals the base everywhere.  A step costs several base passes.
    Use ``params=model.anchor`` with the trainer, or build it with :meth:`around_init` to allow
    ``init(seeds)``.

    References
    ----------
    Zhu, Liu, Radhakrishnan, Belkin, ICLR 2024 (arXiv:2205.11787); ``shared/theory/catapult.md``
    §3.2 ("NQM") and §9.

    Examples
    --------
    >>> base = StackedUV(8)
    >>> nqm = NeuralQuadraticModel.around_init(base, seeds=[0])
    >>> w = {k: v + 0.5 for k, v in nqm.anchor.items()}
    >>> x = torch.tensor([[[1.5]]], dtype=torch.float64)
    >>> bool(torch.allclose(nqm.forward(w, x), base.forward(w, x), rtol=1e-13))  # uv is quadratic
    True
    """

    def __init__(self, base: StackedModel, anchor: dict[str, torch.Tensor]):
        if not isinstance(base, StackedModel):
            raise ValueError(f"base = {type(base).__name__} is not allowed: base must be a StackedModel")
        if not isinstance(anchor, dict) or not anchor:
            raise ValueError("anchor is not allowed: give the weights w0 as a dict of (K, ...) tensors")
        self.base = base
        self.anchor = {k: v.detach().clone() for k, v in anchor.items()}
        self.input_dim, self.output_dim = base.input_dim, base.output_dim
        self.homogeneity = None
        self.seeds: list[int] | None = None
        self.models = next(iter(self.anchor.values())).shape[0]

    @classmethod
    def around_init(cls, base: StackedModel, seeds: Sequence[int], dtype: torch.dtype = torch.float64,
                    device: str | torch.device = "cpu") -> NeuralQuadraticModel:
        """The NQM around ``base.init(seeds)``; then ``init(seeds)`` returns that anchor."""
        model = cls(base, base.init(seeds, dtype, device))
        model.seeds = check_seeds(seeds)
        return model

    def __repr__(self) -> str:
        return f"NeuralQuadraticModel({self.base!r}, K={self.models})"

    def parameter_shapes(self) -> dict[str, tuple[int, ...]]:
        return self.base.parameter_shapes()

    def init(self, seeds: Sequence[int], dtype: torch.dtype = torch.float64,
             device: str | torch.device = "cpu") -> dict[str, torch.Tensor]:
        """The anchor w0 (the NQM's initialisation is the point it expands around)."""
        if self.seeds is None or check_seeds(seeds) != self.seeds:
            raise ValueError(f"seeds = {list(seeds)[:4]}... do not match: this NQM is anchored at seeds "
                             f"{self.seeds}; pass params=model.anchor to the trainer instead")
        return {k: v.to(dtype=dtype, device=device).clone() for k, v in self.anchor.items()}

    def forward(self, params: dict[str, torch.Tensor], x: torch.Tensor) -> torch.Tensor:
        first = next(iter(params.values()))
        if first.shape[0] != self.models and any(_is_transformed(p) for p in params.values()):
            # torch.func.vmap over single models (spectral.jacobian): the anchor cannot follow, so let the caller use
            # its model-batched fallback
            raise NotImplementedError("an NQM cannot be evaluated one model at a time under torch.func.vmap")
        if first.shape[0] != self.models or set(params) != set(self.anchor):
            raise ValueError(f"params have K = {first.shape[0]} models and keys {sorted(params)}: this NQM is "
                             f"anchored at K = {self.models} models with keys {sorted(self.anchor)}")
        w0 = {k: v.to(dtype=first.dtype, device=first.device) for k, v in self.anchor.items()}
        delta = {k: params[k] - w0[k] for k in w0}

        def along(t):
            return self.base.forward({k: w0[k] + t * delta[k] for k in w0}, x)

        t0 = torch.zeros((), dtype=first.dtype, device=first.device)
        return self.base.forward(w0, x) + _d_dt(along)(t0) + 0.5 * _d_dt(_d_dt(along))(t0)


# -- homogeneous nets ----------------------------------------------------------------------------------


def homogeneous_mlp(input_dim: int, width: int, depth: int = 1, negative_slope: float = 0.0) -> StackedMLP:
    """A bias-free MLP with leaky-ReLU slope a₋ in the NTK parameterization (output scale d^(-1/2) m^(-L/2)).

    a₋ = 0 is ReLU, a₋ = 1 the linear net (the uv model when d = 1 and depth = 1).  It is
    (depth + 1)-homogeneous in its weights.

    References
    ----------
    Meltzer and Liu 2023; ``shared/theory/catapult.md`` §3.3.

    Examples
    --------
    >>> homogeneous_mlp(1, 16, negative_slope=0.5).homogeneity
    2
    """
    negative_slope = check_real("negative_slope", negative_slope)
    if negative_slope == 0:
        activation = "relu"
    elif negative_slope == 1:
        activation = "identity"
    else:
        activation = "leaky_relu"
    return StackedMLP(input_dim, width, depth, activation=activation, negative_slope=negative_slope,
                      bias=False, parameterization="ntk")


def _two_layer_slope(model) -> float | None:
    """a₋ when `model` is a bias-free two-layer NTK-parameterized StackedMLP with scalar output."""
    if not isinstance(model, StackedMLP) or model.depth != 1 or model.bias or model.output_dim != 1 \
            or model.parameterization != "ntk":
        return None
    return {"relu": 0.0, "identity": 1.0}.get(model.activation, model.negative_slope)


def ntk_matrix(model: StackedModel, params: dict[str, torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    """The normalised NTK H = JJᵀ/n of K scalar-output models, (K, n, n).

    Closed forms for :class:`StackedUV`, :class:`QuadraticModel` and bias-free two-layer
    ``StackedMLP``s in the NTK parameterization (:func:`relunet.constructions.spectral.two_layer_ntk`);
    otherwise the dense Jacobian (:func:`relunet.constructions.spectral.ntk_dense`).

    References
    ----------
    ``shared/theory/catapult.md`` §2, §3 (closed forms) and §11.

    Examples
    --------
    >>> mlp = homogeneous_mlp(3, 32, negative_slope=0.5)
    >>> params = mlp.init([0, 1])
    >>> x = torch.randn(2, 5, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    >>> bool(torch.allclose(ntk_matrix(mlp, params, x), spectral.ntk_dense(mlp, params, x), rtol=1e-12))
    True
    """
    params = {k: v.detach() for k, v in params.items()}
    if isinstance(model, (StackedUV, QuadraticModel)):
        return model.ntk(params, x)
    slope = _two_layer_slope(model)
    if slope is not None:
        return spectral.two_layer_ntk(params["w0"], params["w1"][:, 0], x, slope)
    return spectral.ntk_dense(model, params, x)


def top_ntk_eigenvalue(model: StackedModel, params: dict[str, torch.Tensor], x: torch.Tensor,
                       method: str = "auto") -> torch.Tensor:
    """λ_max(H) of each of K models, (K,).

    Parameters
    ----------
    method : {"auto", "closed", "lanczos"}
        "closed": the top eigenvalue of :func:`ntk_matrix` (closed forms where they exist, else the
        dense Jacobian); "lanczos": :func:`relunet.constructions.spectral.top_ntk_eigenvalues`
        (matrix-free); "auto": closed form for the families that have one, else Lanczos.

    References
    ----------
    ``shared/theory/catapult.md`` §11 (λ0 on the actual initial weights).

    Examples
    --------
    >>> uv = StackedUV(50)
    >>> params = uv.init([3])
    >>> x = torch.ones(1, 1, 1, dtype=torch.float64)
    >>> closed = top_ntk_eigenvalue(uv, params, x)
    >>> bool(torch.allclose(closed, top_ntk_eigenvalue(uv, params, x, method="lanczos"), rtol=1e-12))
    True
    """
    if method not in ("auto", "closed", "lanczos"):
        raise ValueError(f"method = {method!r} is not allowed: use 'auto', 'closed' or 'lanczos'")
    has_closed = isinstance(model, (StackedUV, QuadraticModel)) or _two_layer_slope(model) is not None
    if method == "closed" or (method == "auto" and has_closed):
        return torch.linalg.eigvalsh(ntk_matrix(model, params, x))[..., -1]
    return spectral.top_ntk_eigenvalues(model, {k: v.detach() for k, v in params.items()}, x.detach(), k=1)[:, 0]


def sparsity(model: StackedMLP, params: dict[str, torch.Tensor], x: torch.Tensor,
             per_unit: bool = False) -> torch.Tensor:
    """The fraction of (hidden unit, example) pairs with a negative pre-activation, per hidden layer.

    Parameters
    ----------
    model : StackedMLP
    params : dict of (K, ...) tensors
    x : Tensor (K, n, d)
    per_unit : bool
        Return the fraction over examples for every unit, (K, depth, width), instead of the layer
        means (K, depth).

    References
    ----------
    Meltzer and Liu 2023 (sparsity rises with the learning rate in ReLU nets);
    ``shared/theory/catapult.md`` §10, "Sparsity".

    Examples
    --------
    >>> mlp = homogeneous_mlp(2, 4)
    >>> params = {"w0": torch.tensor([[[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0], [0.0, -1.0]]]),
    ...           "w1": torch.ones(1, 1, 4)}
    >>> sparsity(mlp, params, torch.tensor([[[1.0, 2.0], [3.0, -1.0]]]))
    tensor([[0.5000]])
    """
    if not isinstance(model, StackedMLP):
        raise ValueError(f"model = {type(model).__name__} is not allowed: sparsity needs a StackedMLP")
    with torch.no_grad():
        pre = model.preactivations({k: v.detach() for k, v in params.items()}, x)
        frac = torch.stack([(h < 0).to(x.dtype).mean(1) for h in pre], dim=1)  # (K, L, width)
    return frac if per_unit else frac.mean(-1)
