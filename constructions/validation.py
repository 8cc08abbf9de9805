"""Checks of user arguments shared by the constructions.

Every check raises ``ValueError`` with one line that names the parameter, its value and what is
allowed, and returns the value as a plain Python number.  NumPy scalars (``np.int64(3)``,
``np.float32(0.5)``) count as the numbers they hold; booleans do not count as numbers.
"""

from __future__ import annotations

import math
import numbers

__all__ = ["check_confidence", "check_int", "check_positive", "check_real", "check_seed", "check_seeds"]


def check_int(name: str, value, low: int, high: int | None = None, why: str = "") -> int:
    """`value` as an int, if it is an integer in [low, high] (an integral float such as 2.0 counts).

    >>> check_int("d", 3.0, 1)
    3
    """
    integral = isinstance(value, numbers.Integral) or (isinstance(value, numbers.Real) and math.isfinite(value)
                                                       and float(value).is_integer())
    allowed = f">= {low}" if high is None else f"in [{low}, {high}]"
    if isinstance(value, bool) or not integral:
        raise ValueError(f"{name} = {value!r} is not an integer: {name} must be an integer {allowed}{why}")
    if value < low or (high is not None and value > high):
        raise ValueError(f"{name} = {value!r} is out of range: {name} must be an integer {allowed}{why}")
    return int(value)


def check_real(name: str, value, low: float = -math.inf, high: float = math.inf, *, low_open: bool = False,
               high_open: bool = False, finite: bool = True) -> float:
    """`value` as a float, if it is a real number in the interval from low to high.

    The interval is closed unless ``low_open`` or ``high_open``; NaN is never allowed, and
    infinities only with ``finite=False``.

    >>> check_real("sigma", 0.1, 0)
    0.1
    """
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool) and not math.isnan(value)
    ok = ok and (math.isfinite(value) or not finite)
    ok = ok and (value > low if low_open else value >= low) and (value < high if high_open else value <= high)
    if not ok:
        kind = "a finite number" if finite else "a number"
        lo = "" if low == -math.inf else f"{'>' if low_open else '>='} {low:g}"
        hi = "" if high == math.inf else f"{'<' if high_open else '<='} {high:g}"
        allowed = " and ".join(s for s in (lo, hi) if s)
        raise ValueError(f"{name} = {value!r} is out of range: {name} must be {kind}"
                         + (f" {allowed}" if allowed else ""))
    return float(value)


def check_positive(name: str, value) -> float:
    """`value` as a float, if it is a finite number > 0.

    >>> check_positive("tau", 0.25)
    0.25
    """
    return check_real(name, value, 0, low_open=True)


def check_confidence(confidence) -> float:
    """A confidence level, a number in the open interval (0, 1).

    >>> check_confidence(0.95)
    0.95
    """
    return check_real("confidence", confidence, 0, 1, low_open=True, high_open=True)


def check_seed(seed, name: str = "seed"):
    """An explicit random seed: an integer in [0, 2^63 - 1] (numpy's and the results store's
    range), or a non-empty sequence of such integers (entropy for ``numpy.random.default_rng``).

    >>> check_seed(7), check_seed([3, 1])
    (7, [3, 1])
    """
    if isinstance(seed, (list, tuple)) and seed:
        try:
            return [check_int(name, s, 0, 2**63 - 1) for s in seed]
        except ValueError:
            pass
        raise ValueError(f"{name} = {seed!r} is out of range: a seed sequence must hold integers in [0, 2^63 - 1]")
    return check_int(name, seed, 0, 2**63 - 1)


def check_seeds(seeds, name: str = "seeds") -> list[int]:
    """One initialisation seed per model, as a list of ints.

    Parameters
    ----------
    seeds : sequence of int
        A non-empty sequence (list, tuple, range, integer array) of integers in [0, 2^63 - 1];
        NumPy integers and integral floats count as the integers they hold.
    name : str
        The parameter's name in error messages.

    Raises
    ------
    ValueError
        Naming the first bad entry (e.g. ``seeds[1] = -2``) or the sequence itself.

    Examples
    --------
    >>> check_seeds(range(3))
    [0, 1, 2]
    """
    if hasattr(seeds, "tolist"):  # a NumPy array or a torch tensor
        seeds = seeds.tolist()
    try:
        values = list(seeds)
    except TypeError:
        raise ValueError(f"{name} = {seeds!r} is not allowed: give a sequence of integer seeds, one per model") \
            from None
    if not values:
        raise ValueError(f"{name} = {seeds!r} is empty: give one seed per model")
    return [_one_seed(f"{name}[{i}]", s) for i, s in enumerate(values)]


def _one_seed(name: str, seed) -> int:
    if isinstance(seed, (list, tuple)):  # check_seed would take it as a seed sequence
        raise ValueError(f"{name} = {seed!r} is not allowed: each model takes one integer seed in [0, 2^63 - 1]")
    return check_seed(seed, name)
