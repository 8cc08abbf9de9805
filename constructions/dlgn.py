"""Deep Linearly Gated Networks (DLGN) and their variants as stacked model families.

A DLGN has two sub-networks.  The *gating network* is deep and linear: η^0 = x and
η^ℓ = W^ℓ η^(ℓ-1) + b^ℓ, so η^ℓ(x) = V^ℓ x + c^ℓ with V^ℓ = W^ℓ ⋯ W^1.  Its gates are
G^ℓ(x) = sigmoid(β η^ℓ(x)) (soft, for training) or 1(η^ℓ(x) >= 0) (hard, β = ∞).  The *value
network* multiplies by the gates: with value input 1, h^1 = G^1 ∘ u^1 (a free vector u^1);
with value input x, h^1 = G^1 ∘ (U^1 x); then h^ℓ = G^ℓ ∘ (U^ℓ h^(ℓ-1)) and
ŷ = u^(L+1) h^L (linear, ungated).  So ŷ = Σ_π g_π f_π(x), a sum over paths
π = (i_1, ..., i_L) of path values g_π times path gates f_π(x) = Π_ℓ G^ℓ_(i_ℓ)(x): every
feature is the indicator of an intersection of L half-spaces (``constructions/dlgn_paths.py``).

Families (all :class:`~relunet.constructions.models.StackedModel`, trainable by the
:class:`~relunet.constructions.training.BatchedTrainer`):

* :class:`StackedDLGN`: the DLGN above, with or without gating biases.
* :class:`StackedDLGNSF`: "shallow features": V^ℓ and c^ℓ are free, so every gating layer
  reads x directly; every DLGN is one (:func:`dlgn_to_sf`), not conversely.
* :class:`StackedDLGNVT`: "value tensor": DLGN gates and a free path-value tensor g with
  Π_ℓ m_ℓ entries (times d for value input x); practical only for small m^L.
* Baselines of the same shape: :func:`relu_baseline` (a ReLU net), :func:`deep_linear_baseline`
  (a deep linear net) and :func:`linear_baseline`, all :class:`StackedMLP`.

Parameter names (each a stacked (K, ...) tensor): gating ``gw1 .. gwL`` (W^ℓ, shape
(m_ℓ, m_(ℓ-1)), m_0 = d) and ``gb1 .. gbL`` (b^ℓ) for the DLGN; ``gv1 .. gvL`` ((m_ℓ, d)) and
``gc1 .. gcL`` for DLGN-SF; value ``v1`` ((m_1,) for value input 1, (m_1, d) for value input x),
``v2 .. vL`` ((m_ℓ, m_(ℓ-1))) and ``out`` ((output_dim, m_L)); DLGN-VT has ``g`` of shape
(output_dim, [d,] m_1, ..., m_L) in place of the value weights.

References
----------
Yadav, Ramaswamy, Lakshminarayanan, "Half-Space Feature Learning in Neural Networks",
arXiv:2404.04312 (2024).  Banerjee, Ramaswamy, Yadav, Lakshminarayanan, "Deep Networks Learn
Features From Local Discontinuities in the Label Function", ICLR 2025, §2 (the DLGN, DLGN-SF and
DLGN-VT definitions).  Lakshminarayanan, Singh, "Neural path features and neural path kernel",
NeurIPS 2020 (the gated value network).  ``shared/theory/dlgn.md`` §2, §3, §5.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Sequence

import numpy as np
import torch

from .models import StackedMLP, StackedModel
from .validation import check_int, check_positive, check_real

__all__ = [
    "VALUE_INPUTS",
    "StackedDLGN",
    "StackedDLGNSF",
    "StackedDLGNVT",
    "deep_linear_baseline",
    "dlgn_to_sf",
    "linear_baseline",
    "relu_baseline",
]

VALUE_INPUTS = ("one", "x")


def _widths(width, depth) -> tuple[int, ...]:
    if (isinstance(width, Sequence) and not isinstance(width, str)) or (isinstance(width, np.ndarray) and width.ndim):
        widths = tuple(check_int("width", w, 1) for w in width)
        if not widths:
            raise ValueError("width = [] is empty: give one width per gating layer")
        if depth is not None and check_int("depth", depth, 1) != len(widths):
            raise ValueError(f"depth = {depth!r} does not match the {len(widths)} widths {list(widths)}")
        return widths
    if depth is None:
        raise ValueError("depth = None: give depth with an integer width (or a list of widths)")
    return (check_int("width", width, 1),) * check_int("depth", depth, 1)


def _check_beta(beta) -> float:
    """β in (0, ∞] (NumPy scalars included); ∞ gives hard gates."""
    try:
        return check_real("beta", beta, 0, low_open=True, finite=False)
    except ValueError:
        raise ValueError(f"beta = {beta!r} is out of range: beta must be a number in (0, inf] "
                         "(inf gives hard gates)") from None


def _gate(eta: torch.Tensor, beta: float) -> torch.Tensor:
    """sigmoid(β η), or the hard gate 1(η >= 0) when β = ∞."""
    if math.isinf(beta):
        return (eta >= 0).to(eta.dtype)
    return torch.sigmoid(beta * eta)


def _normal(gen: torch.Generator, shape, std: float, dtype) -> torch.Tensor:
    return (torch.randn(*shape, generator=gen, dtype=torch.float64) * std).to(dtype)


class _GatedFamily(StackedModel):
    """What the DLGN families share: widths, gates, β, the value input and the value network."""

    gating_prefix = "gw"

    def __init__(self, input_dim: int, width, depth: int | None = None, output_dim: int = 1, *,
                 value_input: str = "one", beta: float = 3.0, gating_bias: bool = False,
                 bias_init: float = 0.0, init_scale: float = 1.0):
        self.input_dim = check_int("input_dim", input_dim, 1)
        self.output_dim = check_int("output_dim", output_dim, 1)
        self.widths = _widths(width, depth)
        self.depth = len(self.widths)
        if value_input not in VALUE_INPUTS:
            raise ValueError(f"value_input = {value_input!r} is not allowed: use one of {VALUE_INPUTS}")
        self.value_input = value_input
        self.beta = _check_beta(beta)
        self.gating_bias = bool(gating_bias)
        self.bias_init = check_real("bias_init", bias_init, 0)
        self.init_scale = check_positive("init_scale", init_scale)
        self.homogeneity = None

    # -- shapes ------------------------------------------------------------------------------
    @property
    def hard(self) -> bool:
        """True when the gates are hard (β = ∞)."""
        return math.isinf(self.beta)

    @property
    def n_paths(self) -> int:
        """Number of paths: Π_ℓ m_ℓ, times d with value input x."""
        count = math.prod(self.widths)
        return count * self.input_dim if self.value_input == "x" else count

    def with_beta(self, beta: float):
        """A copy of the family with another β (``math.inf`` for hard gates); same parameters."""
        other = copy.copy(self)
        other.beta = _check_beta(beta)
        return other

    def _gating_shapes(self) -> dict[str, tuple[int, ...]]:
        raise NotImplementedError

    def _value_shapes(self) -> dict[str, tuple[int, ...]]:
        m, d = self.widths, self.input_dim
        shapes = {"v1": (m[0],) if self.value_input == "one" else (m[0], d)}
        for ell in range(2, self.depth + 1):
            shapes[f"v{ell}"] = (m[ell - 1], m[ell - 2])
        shapes["out"] = (self.output_dim, m[-1])
        return shapes

    def parameter_shapes(self) -> dict[str, tuple[int, ...]]:
        return {**self._gating_shapes(), **self._value_shapes()}

    def _init_value(self, gen: torch.Generator, dtype) -> dict[str, torch.Tensor]:
        """He-like scales: each gate passes about half its input, so std sqrt(2 / fan_in) keeps h^ℓ of order 1."""
        params = {}
        for name, shape in self._value_shapes().items():
            fan_in = 1 if shape == (self.widths[0],) else shape[-1]
            gain = 1.0 if name == "out" else 2.0
            params[name] = _normal(gen, shape, self.init_scale * math.sqrt(gain / fan_in), dtype)
        return params

    # -- evaluation --------------------------------------------------------------------------
    def gating_preactivations(self, params: dict[str, torch.Tensor], x: torch.Tensor) -> list[torch.Tensor]:
        """η^1(x), ..., η^L(x), each of shape (K, n, m_ℓ)."""
        raise NotImplementedError

    def gates(self, params: dict[str, torch.Tensor], x: torch.Tensor, beta: float | None = None) -> list[torch.Tensor]:
        """G^1(x), ..., G^L(x), each (K, n, m_ℓ): sigmoid(β η), or 1(η >= 0) for β = ∞."""
        b = self.beta if beta is None else _check_beta(beta)
        return [_gate(eta, b) for eta in self.gating_preactivations(params, x)]

    def value_forward(self, params: dict[str, torch.Tensor], x: torch.Tensor,
                      gates: list[torch.Tensor]) -> torch.Tensor:
        """The value network with given gates: (K, n, output_dim)."""
        if self.value_input == "one":
            h = gates[0] * params["v1"].unsqueeze(1)
        else:
            h = gates[0] * torch.bmm(x, params["v1"].transpose(1, 2))
        for ell in range(2, self.depth + 1):
            h = gates[ell - 1] * torch.bmm(h, params[f"v{ell}"].transpose(1, 2))
        return torch.bmm(h, params["out"].transpose(1, 2))

    def forward(self, params: dict[str, torch.Tensor], x: torch.Tensor) -> torch.Tensor:
        """Outputs (K, n, output_dim) for inputs (K, n, d), or (n, d) shared by all K models."""
        x = self.batched_input(params, x)
        return self.value_forward(params, x, self.gates(params, x))


class StackedDLGN(_GatedFamily):
    """K Deep Linearly Gated Networks: a deep linear gating network and a gated value network.

    Parameters
    ----------
    input_dim : int
        d.
    width : int or sequence of int
        The widths m_ℓ of the L gating (and value) layers; an int needs `depth`.
    depth : int, optional
        L, when `width` is an int.
    output_dim : int
    value_input : {"one", "x"}
        "one": h^1 = G^1 ∘ u^1 (piecewise constant output under hard gates); "x":
        h^1 = G^1 ∘ (U^1 x) (piecewise linear).
    beta : float in (0, inf]
        Gate sharpness; ``math.inf`` gives hard gates 1(η >= 0) (not differentiable: for
        evaluation and exact checks).
    gating_bias : bool
        Whether the gating layers have biases b^ℓ (default False, the follow-up's choice).
    bias_init : float
        Standard deviation of the initial gating biases (0: hyperplanes through the origin at
        initialisation even when biases are trainable).
    init_scale : float
        Gating weights are drawn N(0, init_scale^2 / fan_in), so the rows of V^ℓ have norm of
        order init_scale; value weights N(0, 2 init_scale^2 / fan_in), ``out`` N(0, init_scale^2 / m_L).

    Examples
    --------
    >>> net = StackedDLGN(3, 4, depth=2)
    >>> params = net.init(seeds=[0, 1])
    >>> net.forward(params, torch.zeros(2, 5, 3, dtype=torch.float64)).shape
    torch.Size([2, 5, 1])
    >>> sorted(params)
    ['gw1', 'gw2', 'out', 'v1', 'v2']
    >>> net.n_paths
    16

    References
    ----------
    Banerjee et al., ICLR 2025, §2; ``shared/theory/dlgn.md`` §2.
    """

    def __repr__(self) -> str:
        return (f"StackedDLGN({self.input_dim}, widths={list(self.widths)}, out={self.output_dim}, "
                f"value_input={self.value_input!r}, beta={self.beta}, gating_bias={self.gating_bias})")

    def _gating_shapes(self) -> dict[str, tuple[int, ...]]:
        sizes = (self.input_dim,) + self.widths
        shapes = {}
        for ell in range(1, self.depth + 1):
            shapes[f"gw{ell}"] = (sizes[ell], sizes[ell - 1])
            if self.gating_bias:
                shapes[f"gb{ell}"] = (sizes[ell],)
        return shapes

    def init_one(self, generator: torch.Generator, dtype: torch.dtype) -> dict[str, torch.Tensor]:
        params = {}
        for name, shape in self._gating_shapes().items():
            if name.startswith("gw"):
                params[name] = _normal(generator, shape, self.init_scale / math.sqrt(shape[1]), dtype)
            else:
                params[name] = _normal(generator, shape, self.bias_init, dtype)
        params.update(self._init_value(generator, dtype))
        return params

    def gating_preactivations(self, params, x):
        out, eta = [], x
        for ell in range(1, self.depth + 1):
            w_t = params[f"gw{ell}"].transpose(1, 2)
            eta = torch.baddbmm(params[f"gb{ell}"].unsqueeze(1), eta, w_t) if self.gating_bias else torch.bmm(eta, w_t)
            out.append(eta)
        return out


class StackedDLGNSF(_GatedFamily):
    """K DLGN-SF ("shallow features"): the gating layers are free maps x -> V^ℓ x + c^ℓ.

    Same parameters as :class:`StackedDLGN`; the gating weights ``gv1 .. gvL`` have shape
    (m_ℓ, d) and are drawn N(0, init_scale^2 / d), the distribution of the DLGN's V^1.  There is
    no rank nesting: the row spaces of the V^ℓ are unrelated.

    Examples
    --------
    >>> sf = StackedDLGNSF(3, [4, 2], value_input="x")
    >>> {k: tuple(v.shape) for k, v in sf.init(seeds=[0]).items()}["gv2"]
    (1, 2, 3)

    References
    ----------
    Banerjee et al., ICLR 2025, §5 (DLGN-SF); ``shared/theory/dlgn.md`` §5.
    """

    gating_prefix = "gv"

    def __repr__(self) -> str:
        return (f"StackedDLGNSF({self.input_dim}, widths={list(self.widths)}, out={self.output_dim}, "
                f"value_input={self.value_input!r}, beta={self.beta}, gating_bias={self.gating_bias})")

    def _gating_shapes(self) -> dict[str, tuple[int, ...]]:
        shapes = {}
        for ell, m in enumerate(self.widths, start=1):
            shapes[f"gv{ell}"] = (m, self.input_dim)
            if self.gating_bias:
                shapes[f"gc{ell}"] = (m,)
        return shapes

    def init_one(self, generator: torch.Generator, dtype: torch.dtype) -> dict[str, torch.Tensor]:
        params = {}
        for name, shape in self._gating_shapes().items():
            std = self.init_scale / math.sqrt(self.input_dim) if name.startswith("gv") else self.bias_init
            params[name] = _normal(generator, shape, std, dtype)
        params.update(self._init_value(generator, dtype))
        return params

    def gating_preactivations(self, params, x):
        out = []
        for ell in range(1, self.depth + 1):
            w_t = params[f"gv{ell}"].transpose(1, 2)
            out.append(torch.baddbmm(params[f"gc{ell}"].unsqueeze(1), x, w_t) if self.gating_bias
                       else torch.bmm(x, w_t))
        return out


class StackedDLGNVT(StackedDLGN):
    """K DLGN-VT ("value tensor"): DLGN gates and a free tensor of path values.

    ŷ(x) = Σ_π g_π f_π(x) (value input 1) or Σ_(i_0, π) g_(i_0 π) x_(i_0) f_π(x) (value input x),
    evaluated by contracting g with one layer's gates at a time (memory n · o · m^(L-1) per
    model).  With frozen gates it is a linear model in the Π_ℓ m_ℓ path features.

    Parameters
    ----------
    As :class:`StackedDLGN`, plus
    max_paths : int
        Refuse tensors with more entries per output than this (default 10^5).

    Examples
    --------
    >>> vt = StackedDLGNVT(2, [3, 4])
    >>> tuple(vt.parameter_shapes()["g"])
    (1, 3, 4)

    References
    ----------
    Banerjee et al., ICLR 2025, §5 (DLGN-VT); ``shared/theory/dlgn.md`` §5.
    """

    def __init__(self, input_dim: int, width, depth: int | None = None, output_dim: int = 1, *,
                 value_input: str = "one", beta: float = 3.0, gating_bias: bool = False,
                 bias_init: float = 0.0, init_scale: float = 1.0, max_paths: int = 100_000):
        super().__init__(input_dim, width, depth, output_dim, value_input=value_input, beta=beta,
                         gating_bias=gating_bias, bias_init=bias_init, init_scale=init_scale)
        max_paths = check_int("max_paths", max_paths, 1)
        if self.n_paths > max_paths:
            raise ValueError(f"width = {list(self.widths)} gives {self.n_paths} path values per output, "
                             f"more than max_paths = {max_paths}: DLGN-VT is for small m^L")

    def __repr__(self) -> str:
        return super().__repr__().replace("StackedDLGN(", "StackedDLGNVT(", 1)

    def _value_shapes(self) -> dict[str, tuple[int, ...]]:
        lead = (self.output_dim,) + ((self.input_dim,) if self.value_input == "x" else ())
        return {"g": lead + self.widths}

    def _init_value(self, gen, dtype):
        # f_π is about 2^-L on average, so std 2^(L/2) / sqrt(#paths) gives an output of order 1
        std = self.init_scale * 2 ** (self.depth / 2) / math.sqrt(self.n_paths)
        return {"g": _normal(gen, self._value_shapes()["g"], std, dtype)}

    def value_forward(self, params, x, gates):
        t = params["g"]  # (K, o, [d,] m_1, ..., m_L)
        t = torch.einsum("k...j,knj->kn...", t, gates[-1])
        for ell in range(self.depth - 1, 0, -1):
            t = (t * gates[ell - 1].view(*gates[ell - 1].shape[:2], *([1] * (t.ndim - 3)), -1)).sum(-1)
        if self.value_input == "x":
            t = (t * x.unsqueeze(2)).sum(-1)
        return t


def dlgn_to_sf(model: StackedDLGN, params: dict[str, torch.Tensor]) -> tuple[StackedDLGNSF, dict[str, torch.Tensor]]:
    """The DLGN-SF with the same function: V^ℓ = W^ℓ V^(ℓ-1), c^ℓ = W^ℓ c^(ℓ-1) + b^ℓ.

    Every DLGN is a DLGN-SF (Banerjee et al., ICLR 2025, §5); the value weights are copied.

    Examples
    --------
    >>> net = StackedDLGN(3, 4, depth=3, gating_bias=True, bias_init=0.5)
    >>> p = net.init([0])
    >>> sf, q = dlgn_to_sf(net, p)
    >>> x = torch.randn(1, 6, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    >>> bool(torch.allclose(net.forward(p, x), sf.forward(q, x), rtol=1e-12, atol=1e-12))
    True
    """
    if not isinstance(model, StackedDLGN) or isinstance(model, StackedDLGNVT):
        raise ValueError(f"model = {model!r} is not allowed: dlgn_to_sf converts a StackedDLGN")
    sf = StackedDLGNSF(model.input_dim, list(model.widths), output_dim=model.output_dim,
                       value_input=model.value_input, beta=model.beta, gating_bias=model.gating_bias,
                       bias_init=model.bias_init, init_scale=model.init_scale)
    out, v, c = {}, None, None
    for ell in range(1, model.depth + 1):
        w = params[f"gw{ell}"]
        v = w if v is None else torch.bmm(w, v)
        out[f"gv{ell}"] = v
        if model.gating_bias:
            b = params[f"gb{ell}"]
            c = b if c is None else torch.bmm(w, c.unsqueeze(-1))[..., 0] + b
            out[f"gc{ell}"] = c
    out.update({k: p.clone() for k, p in params.items() if not k.startswith(("gw", "gb"))})
    return sf, {k: out[k] for k in sf.parameter_shapes()}


def _baseline_width(model: _GatedFamily) -> int:
    if len(set(model.widths)) != 1:
        raise ValueError(f"model widths = {list(model.widths)}: a StackedMLP baseline needs equal widths")
    return model.widths[0]


def relu_baseline(model: _GatedFamily, *, bias: bool = True) -> StackedMLP:
    """A ReLU net of the same shape (d, L hidden layers of width m, same outputs), standard parameterization.

    >>> relu_baseline(StackedDLGN(20, 10, depth=4))
    StackedMLP(20, width=10, depth=4, out=1, relu, bias=True, standard)
    """
    return StackedMLP(model.input_dim, _baseline_width(model), model.depth, model.output_dim,
                      activation="relu", bias=bias, parameterization="standard")


def deep_linear_baseline(model: _GatedFamily) -> StackedMLP:
    """A deep linear net of the same shape (identity activations, no biases): a linear map in disguise.

    >>> deep_linear_baseline(StackedDLGN(20, 10, depth=4)).activation
    'identity'
    """
    return StackedMLP(model.input_dim, _baseline_width(model), model.depth, model.output_dim,
                      activation="identity", bias=False, parameterization="standard")


def linear_baseline(model: _GatedFamily) -> StackedMLP:
    """A linear classifier x -> w x + b on the same inputs (a StackedMLP with no hidden layer).

    >>> linear_baseline(StackedDLGN(20, 10, depth=4)).depth
    0
    """
    return StackedMLP(model.input_dim, 1, 0, model.output_dim, bias=True, parameterization="standard")
