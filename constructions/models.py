"""Stacked model families: K networks of one architecture whose parameters live in stacked tensors.

A stacked model holds no weights itself.  It says what parameters one model has
(:meth:`StackedModel.parameter_shapes`), draws them for K models from K seeds
(:meth:`StackedModel.init`, each model from its own ``torch.Generator``, so model k is the same
whether it is drawn alone or among others) and evaluates all K at once
(:meth:`StackedModel.forward`, with inputs of shape (K, n, d)).  The batched trainer
(:mod:`relunet.constructions.training`) and the spectral tools
(:mod:`relunet.constructions.spectral`) work with any family that does these three things;
:meth:`StackedModel.single` gives the ordinary ``torch.nn.Module`` of one model for reference
loops.

References
----------
A. Jacot, F. Gabriel, C. Hongler, "Neural Tangent Kernel: convergence and generalization in
neural networks", NeurIPS 2018 (the NTK parameterization).
``shared/theory/catapult.md`` §3.3 (bias-free homogeneous nets and their output scaling).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch

from .validation import check_int, check_positive, check_real, check_seeds

__all__ = ["ACTIVATIONS", "PARAMETERIZATIONS", "ArrayModule", "StackedMLP", "StackedModel", "stack_params"]

ACTIVATIONS = ("relu", "leaky_relu", "identity")
PARAMETERIZATIONS = ("ntk", "standard")


class ArrayModule(torch.nn.Module):
    """A torch module that also takes numpy arrays: numpy in, float64 numpy out (as `ReluNet`).

    Tensors pass through unchanged (with autograd), so the measuring code can search with
    gradients while users call the net on plain arrays.
    """

    def __call__(self, x):
        if isinstance(x, torch.Tensor):
            return super().__call__(x)
        with torch.no_grad():
            return super().__call__(torch.as_tensor(np.asarray(x, dtype=np.float64))).numpy()


def stack_params(per_model: Sequence[dict[str, torch.Tensor]]) -> dict[str, torch.Tensor]:
    """Stack K per-model parameter dicts into one dict of (K, ...) tensors."""
    if not per_model:
        raise ValueError("per_model is empty: need at least one model's parameters")
    return {name: torch.stack([p[name] for p in per_model]) for name in per_model[0]}


class StackedModel:
    """Base class of stacked model families.

    Subclasses define `input_dim`, `output_dim`, :meth:`parameter_shapes`, :meth:`init_one`
    and :meth:`forward`.  Optional: :attr:`homogeneity` (the degree k with f(s θ) = s^k f(θ),
    None when f is not homogeneous) and :meth:`single`.
    """

    input_dim: int
    output_dim: int
    homogeneity: int | None = None

    def parameter_shapes(self) -> dict[str, tuple[int, ...]]:
        raise NotImplementedError

    def init_one(self, generator: torch.Generator, dtype: torch.dtype) -> dict[str, torch.Tensor]:
        raise NotImplementedError

    def forward(self, params: dict[str, torch.Tensor], x: torch.Tensor) -> torch.Tensor:
        """Outputs of shape (K, n, output_dim) for inputs x of shape (K, n, input_dim)."""
        raise NotImplementedError

    def batched_input(self, params: dict[str, torch.Tensor], x) -> torch.Tensor:
        """`x` as a (K, n, input_dim) tensor for the K models of `params`.

        An (n, input_dim) `x` is shared by all K models (a broadcast view, no copy); arrays
        become tensors of the parameters' dtype and device.

        Raises
        ------
        ValueError
            When `x` has another shape.
        """
        first = next(iter(params.values()))
        k, d = first.shape[0], self.input_dim
        if not torch.is_tensor(x):
            x = torch.as_tensor(np.asarray(x), dtype=first.dtype, device=first.device)
        if x.ndim == 2 and x.shape[1] == d:
            x = x.expand(k, *x.shape)
        if x.ndim != 3 or x.shape[0] != k or x.shape[2] != d:
            raise ValueError(f"x has shape {tuple(x.shape)}: expected (K={k}, n, {d}) for the K = {k} models of "
                             f"params, or (n, {d}) shared by all of them")
        return x

    def init(self, seeds: Sequence[int], dtype: torch.dtype = torch.float64,
             device: str | torch.device = "cpu") -> dict[str, torch.Tensor]:
        """Parameters of K models, model k drawn from ``torch.Generator().manual_seed(seeds[k])``.

        `seeds` are integers in [0, 2^63 - 1] (see :func:`check_seeds`).
        """
        seeds = check_seeds(seeds)
        per_model = [self.init_one(torch.Generator().manual_seed(s), dtype) for s in seeds]
        return {k: v.to(device) for k, v in stack_params(per_model).items()}

    def parameter_count(self) -> int:
        """Parameters of one model."""
        return sum(math.prod(s) for s in self.parameter_shapes().values())

    def single(self, params: dict[str, torch.Tensor], k: int) -> torch.nn.Module:
        """Model k as an ordinary torch module (a copy of its parameters)."""
        raise NotImplementedError(f"{type(self).__name__} has no single-model module")


class _ScaledLinear(torch.nn.Module):
    """nn.Linear applied to x * input_scale (the NTK parameterization's 1/sqrt(fan_in))."""

    def __init__(self, weight: torch.Tensor, bias: torch.Tensor | None, input_scale: float):
        super().__init__()
        self.linear = torch.nn.Linear(weight.shape[1], weight.shape[0], bias=bias is not None,
                                      dtype=weight.dtype, device=weight.device)
        with torch.no_grad():
            self.linear.weight.copy_(weight)
            if bias is not None:
                self.linear.bias.copy_(bias)
        self.input_scale = input_scale

    def forward(self, x):
        return self.linear(x * self.input_scale if self.input_scale != 1.0 else x)


class StackedMLP(StackedModel):
    """K fully connected networks: `depth` hidden layers of `width` units.

    Parameters
    ----------
    input_dim, width, depth, output_dim : int
        ``depth`` hidden layers (0 gives a linear model).
    activation : {"relu", "leaky_relu", "identity"}
    negative_slope : float
        The slope a of leaky ReLU for negative inputs (a = 0 is ReLU, a = 1 linear).
    bias : bool
        Whether layers have biases (initialised to zero).
    parameterization : {"ntk", "standard"}
        "ntk": weights N(0, init_scale^2) and each layer's input multiplied by 1/sqrt(fan_in);
        "standard": weights N(0, init_scale^2 / fan_in) and no multiplier.  Both give the same
        function at initialisation; gradients and hence learning rates differ.
    init_scale : float

    Notes
    -----
    Without biases and with a homogeneous activation, f is (depth + 1)-homogeneous in its
    parameters (``homogeneity``), and the NTK parameterization gives the output scaling
    d^(-1/2) m^(-L/2) of catapult.md §3.3.

    Examples
    --------
    >>> mlp = StackedMLP(3, 8, 2)
    >>> params = mlp.init(seeds=[0, 1])
    >>> mlp.forward(params, torch.zeros(2, 5, 3, dtype=torch.float64)).shape
    torch.Size([2, 5, 1])
    """

    def __init__(self, input_dim: int, width: int, depth: int, output_dim: int = 1, *,
                 activation: str = "relu", negative_slope: float = 0.01, bias: bool = True,
                 parameterization: str = "ntk", init_scale: float = 1.0):
        dims = [check_int(name, value, low) for name, value, low in (
            ("input_dim", input_dim, 1), ("width", width, 1), ("depth", depth, 0), ("output_dim", output_dim, 1))]
        if activation not in ACTIVATIONS:
            raise ValueError(f"activation = {activation!r} is not allowed: use one of {ACTIVATIONS}")
        if parameterization not in PARAMETERIZATIONS:
            raise ValueError(f"parameterization = {parameterization!r} is not allowed: use one of "
                             f"{PARAMETERIZATIONS}")
        self.input_dim, self.width, self.depth, self.output_dim = dims
        self.activation, self.negative_slope = activation, check_real("negative_slope", negative_slope)
        self.bias, self.parameterization = bool(bias), parameterization
        self.init_scale = check_positive("init_scale", init_scale)
        sizes = [self.input_dim] + [self.width] * self.depth + [self.output_dim]
        self.layer_sizes = list(zip(sizes[:-1], sizes[1:]))
        homogeneous = activation in ("relu", "identity") or activation == "leaky_relu"
        self.homogeneity = self.depth + 1 if (homogeneous and not self.bias) else None

    def __repr__(self) -> str:
        return (f"StackedMLP({self.input_dim}, width={self.width}, depth={self.depth}, "
                f"out={self.output_dim}, {self.activation}, bias={self.bias}, "
                f"{self.parameterization})")

    def parameter_shapes(self) -> dict[str, tuple[int, ...]]:
        shapes = {}
        for i, (fan_in, fan_out) in enumerate(self.layer_sizes):
            shapes[f"w{i}"] = (fan_out, fan_in)
            if self.bias:
                shapes[f"b{i}"] = (fan_out,)
        return shapes

    def _input_scale(self, fan_in: int) -> float:
        return 1.0 / math.sqrt(fan_in) if self.parameterization == "ntk" else 1.0

    def init_one(self, generator: torch.Generator, dtype: torch.dtype) -> dict[str, torch.Tensor]:
        params = {}
        for i, (fan_in, fan_out) in enumerate(self.layer_sizes):
            std = self.init_scale if self.parameterization == "ntk" else self.init_scale / math.sqrt(fan_in)
            params[f"w{i}"] = torch.randn(fan_out, fan_in, generator=generator, dtype=torch.float64).to(dtype) * std
            if self.bias:
                params[f"b{i}"] = torch.zeros(fan_out, dtype=dtype)
        return params

    def _act(self, h: torch.Tensor) -> torch.Tensor:
        if self.activation == "relu":
            return torch.relu(h)
        if self.activation == "leaky_relu":
            return torch.nn.functional.leaky_relu(h, self.negative_slope)
        return h

    def forward(self, params: dict[str, torch.Tensor], x: torch.Tensor) -> torch.Tensor:
        """Outputs (K, n, output_dim) for x of shape (K, n, input_dim), or (n, input_dim) shared by all K."""
        h = self.batched_input(params, x)
        last = len(self.layer_sizes) - 1
        for i, (fan_in, _) in enumerate(self.layer_sizes):
            w = params[f"w{i}"]
            scale = self._input_scale(fan_in)
            w_t = w.transpose(1, 2) if scale == 1.0 else w.transpose(1, 2) * scale
            if self.bias:
                h = torch.baddbmm(params[f"b{i}"].unsqueeze(1), h, w_t)
            else:
                h = torch.bmm(h, w_t)
            if i < last:
                h = self._act(h)
        return h

    def preactivations(self, params: dict[str, torch.Tensor], x: torch.Tensor) -> list[torch.Tensor]:
        """Hidden pre-activations of every layer, each of shape (K, n, width); x as in :meth:`forward`."""
        out, h = [], self.batched_input(params, x)
        for i, (fan_in, _) in enumerate(self.layer_sizes[:-1]):
            w_t = params[f"w{i}"].transpose(1, 2) * self._input_scale(fan_in)
            h = torch.bmm(h, w_t) + (params[f"b{i}"].unsqueeze(1) if self.bias else 0)
            out.append(h)
            h = self._act(h)
        return out

    def single(self, params: dict[str, torch.Tensor], k: int) -> torch.nn.Module:
        """Model k as a torch.nn.Sequential of (scaled) Linear layers and activations."""
        mods: list[torch.nn.Module] = []
        for i, (fan_in, _) in enumerate(self.layer_sizes):
            bias = params[f"b{i}"][k].detach().clone() if self.bias else None
            mods.append(_ScaledLinear(params[f"w{i}"][k].detach().clone(), bias, self._input_scale(fan_in)))
            if i < len(self.layer_sizes) - 1:
                if self.activation == "relu":
                    mods.append(torch.nn.ReLU())
                elif self.activation == "leaky_relu":
                    mods.append(torch.nn.LeakyReLU(self.negative_slope))
        return torch.nn.Sequential(*mods)
