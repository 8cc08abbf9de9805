"""relunet.constructions: explicit ReLU networks with exact weights, and what they are built from."""

from .models import StackedMLP, StackedModel
from .network import (
    NetSize,
    ReluNet,
    affine_net,
    compose,
    deepen,
    identity_net,
    linear_combination,
    parallel,
)
from .primitives import (
    absolute_value,
    clip,
    cube_bump,
    hat,
    max_of,
    maximum,
    min_of,
    minimum,
    piecewise_linear,
    product_gate,
    sawtooth,
    tent,
    trapezoid,
    yarotsky_square,
)
from .training import BatchedTrainer, train_one_by_one

__all__ = [
    "NetSize",
    "ReluNet",
    "StackedMLP",
    "StackedModel",
    "BatchedTrainer",
    "absolute_value",
    "affine_net",
    "clip",
    "compose",
    "cube_bump",
    "deepen",
    "hat",
    "identity_net",
    "linear_combination",
    "max_of",
    "maximum",
    "min_of",
    "minimum",
    "parallel",
    "piecewise_linear",
    "product_gate",
    "sawtooth",
    "tent",
    "train_one_by_one",
    "trapezoid",
    "yarotsky_square",
]
