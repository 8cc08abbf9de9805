"""Claims and verdicts: one checkable statement from a paper, and what a run of it found.

A `Claim` declares its parameters (with quick and full defaults and allowed ranges), expands
them into *units* (one per value of each swept parameter), measures each unit and, when the
claim is about a trend over the sweep (a rate), aggregates the units into one more verdict.
Claim authors write two plain functions returning an `Outcome`; the framework adds timing,
seed, device and versions, enforces the negative control and turns exceptions into verdicts
with status ``"error"``.
"""

from __future__ import annotations

import itertools
import json
import math
import numbers
import re
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path, PurePath
from typing import Any

import numpy as np

from relunet.bounds.core import Domain
from relunet.constructions.validation import check_int

from .environment import environment

__all__ = [
    "STATUSES",
    "Claim",
    "Control",
    "Outcome",
    "Param",
    "RunContext",
    "Verdict",
    "all_claims",
    "get_claim",
    "register",
    "select_claims",
]

STATUSES = ("pass", "fail", "inconclusive", "error")
PROFILES = ("quick", "full")
KINDS = ("int", "float")
RESERVED_NAMES = ("seed", "profile", "device")  # keywords of check() and Claim.run()
_SPECIAL = ("nan", "inf", "-inf")  # how the store writes non-finite floats
MAX_SWEEP_VALUES = 10_000  # values one --set a..b may expand to


@dataclass(frozen=True)
class Param:
    """One parameter of a claim.

    Parameters
    ----------
    name : str
    default : value or list
        The quick-profile value; a list for a swept parameter.
    domain : Domain
        The allowed range of every value.
    help : str
    full : value or list, optional
        The full-profile value (defaults to `default`).
    sweep : bool
        Whether a list of values is allowed, each giving one unit.
    kind : {"int", "float"}
    """

    name: str
    default: Any
    domain: Domain
    help: str = ""
    full: Any = None
    sweep: bool = False
    kind: str = "int"

    def __post_init__(self):
        if not isinstance(self.name, str) or not self.name.isidentifier():
            raise ValueError(f"Param name = {self.name!r} is not allowed: use a Python identifier")
        if self.name in RESERVED_NAMES:
            raise ValueError(f"Param name = {self.name!r} is reserved (a keyword of check() and Claim.run): "
                             f"use another name than {', '.join(RESERVED_NAMES)}")
        if not isinstance(self.domain, Domain):
            raise TypeError(f"Param {self.name}: domain = {self.domain!r} is not a Domain")
        if self.kind not in KINDS:
            raise ValueError(f"Param {self.name}: kind = {self.kind!r} is not allowed: use one of {KINDS}")
        for label, value in (("default", self.default), ("full", self.full)):
            if value is not None:
                self._check_declared(label, value)

    def _check_declared(self, label: str, value) -> None:
        if isinstance(value, (list, tuple)) and not self.sweep:
            raise ValueError(f"Param {self.name}: {label} = {value!r} is a list: declare sweep=True for a "
                             f"swept parameter")
        try:
            self.validate(value)
        except ValueError as exc:
            raise ValueError(f"Param {self.name}: {label} is not allowed: {exc}") from None

    def value_for(self, profile: str):
        return self.default if (profile == "quick" or self.full is None) else self.full

    def parse(self, text: str):
        """Parse a command-line value: a number, or for sweeps 'a..b' or 'a,b,c'."""
        text = text.strip()
        if not text:
            raise ValueError(f"{self.name} = '' is empty: {self.name} must be {self.describe()}")
        if self.sweep and (".." in text or "," in text):
            if ".." in text and "," in text:
                raise ValueError(f"{self.name} = {text!r} mixes a range and a list: give a..b or a,b,c")
            if ".." in text:
                lo, _, hi = text.partition("..")
                a, b = self._number(lo), self._number(hi)
                if self.kind != "int":
                    raise ValueError(f"{self.name} = {text!r}: a range a..b needs an integer parameter")
                a, b = self.validate([a, b])  # both ends in the domain (integers, finite) before the list
                if b < a:
                    raise ValueError(f"{self.name} = {text!r} is an empty range")
                if b - a >= MAX_SWEEP_VALUES:
                    raise ValueError(f"{self.name} = {text!r} has {b - a + 1} values: a sweep takes at most "
                                     f"{MAX_SWEEP_VALUES}")
                values = list(range(a, b + 1))
            else:
                values = [self._number(t) for t in text.split(",")]
            return self.validate(values)
        return self.validate(self._number(text))

    def _number(self, text: str):
        try:
            value = float(text)
        except ValueError:
            raise ValueError(
                f"{self.name} = {text.strip()!r} is not a number: {self.name} must be "
                f"{self.describe()}"
            ) from None
        if self.kind == "int" and value.is_integer():
            return int(value)
        return value

    def describe(self) -> str:
        lists = " (or a list: a..b, a,b,c)" if self.kind == "int" else " (or a list: a,b,c)"
        return self.domain.describe() + (lists if self.sweep else "")

    def validate(self, value):
        """Check a value (or list of values) against the domain; return it normalised."""
        values = value if isinstance(value, (list, tuple)) else [value]
        if isinstance(value, (list, tuple)) and not self.sweep:
            raise ValueError(f"{self.name} = {list(value)} is a list: {self.name} takes one value")
        if not values:
            raise ValueError(f"{self.name} = [] is empty: {self.name} must be {self.describe()}")
        out = []
        for v in values:
            if isinstance(v, bool) or not isinstance(v, numbers.Real):
                raise ValueError(f"{self.name} = {v!r} is not a number: {self.name} must be "
                                 f"{self.describe()}")
            if self.kind == "int" and not float(v).is_integer():
                raise ValueError(f"{self.name} = {v!r} is not an integer: {self.name} is an int parameter; "
                                 f"declare Param(..., kind='float') for real values")
            self.domain.check(self.name, v)
            out.append(int(v) if self.kind == "int" else float(v))
        repeated = sorted({v for v in out if out.count(v) > 1})
        if repeated:  # a repeat would run one unit twice and count it twice
            raise ValueError(f"{self.name} = {list(values)} repeats {', '.join(map(_short, repeated))}: give each "
                             f"value once")
        return out if isinstance(value, (list, tuple)) else out[0]


@dataclass
class Control:
    """The result of a negative control: a check that must fail.

    Attributes
    ----------
    description : str
        What was checked that must not hold.
    failed : bool
        True when the control failed, as it must.
    detail : str
        The numbers behind it.
    """

    description: str
    failed: bool
    detail: str = ""

    def __post_init__(self):
        self.failed = _check_failed(self.failed)


def _check_failed(failed) -> bool:
    """`Control.failed` as a bool: only a Python or NumPy bool is accepted (``"False"`` is truthy)."""
    if not isinstance(failed, (bool, np.bool_)):
        raise TypeError(f"control.failed = {failed!r} is not allowed: use True or False (a bool)")
    return bool(failed)


@dataclass
class Outcome:
    """What a claim function returns; the framework turns it into a `Verdict`."""

    status: str
    predicted: float | None = None
    measured: float | None = None
    ci: tuple[float, float] | None = None
    tolerance: float | None = None
    tolerance_reason: str = ""
    message: str = ""
    control: Control | None = None
    data: dict = field(default_factory=dict)
    figures: list[str] = field(default_factory=list)


@dataclass
class Verdict:
    """What a run of one unit (or the aggregate of a sweep) of a claim found.

    ``status`` is "pass" only when the prediction held within the tolerance *and* the
    negative control failed.
    """

    claim: str
    params: dict
    status: str
    predicted: float | None
    measured: float | None
    ci: tuple[float, float] | None
    tolerance: float | None
    tolerance_reason: str
    message: str
    seed: int
    seconds: float
    device: str
    kind: str = "unit"
    control: dict | None = None
    figures: list[str] = field(default_factory=list)
    data: dict = field(default_factory=dict)
    environment: dict = field(default_factory=dict)
    source: str = ""
    figures_requested: bool = False  # run with a figure folder: `figures` is all it draws

    @property
    def passed(self) -> bool:
        return self.status == "pass"

    def to_dict(self) -> dict:
        d = asdict(self)
        d["ci"] = list(self.ci) if self.ci is not None else None
        return d

    def to_json(self) -> str:
        # not sort_keys: the parameters keep the claim's order, so a verdict read back from the
        # store prints like the one that was run
        return json.dumps(_jsonable(self.to_dict()))

    @classmethod
    def from_json(cls, text: str) -> Verdict:
        d = json.loads(text)
        for name in ("predicted", "measured", "tolerance"):
            d[name] = _unspecial(d.get(name))
        d["ci"] = tuple(_unspecial(c) for c in d["ci"]) if d.get("ci") is not None else None
        d["data"] = _unspecial_all(d.get("data", {}))
        return cls(**d)

    def summary(self) -> str:
        """One line for people."""
        params = " ".join(f"{k}={_short(v)}" for k, v in self.params.items())
        parts = [f"{self.status.upper():<12}", self.claim]
        if self.kind == "aggregate":
            parts.append("[sweep]")
        if params:
            parts.append(params)
        nums = []
        if self.predicted is not None:
            nums.append(f"predicted {_num(self.predicted)}")
        if self.measured is not None:
            nums.append(f"measured {_num(self.measured)}")
        if self.ci is not None:
            nums.append(f"CI [{_num(self.ci[0])}, {_num(self.ci[1])}]")
        if self.tolerance is not None:
            nums.append(f"tol {_num(self.tolerance)}")
        line = "  ".join(parts)
        if nums:
            line += "  " + ", ".join(nums)
        line += f"  ({self.seconds:.2f}s)"
        if self.status != "pass" and self.message:
            line += f"\n             {self.message}"
        return line


def _unspecial(x):
    """Undo the store's strings for non-finite floats: exactly "nan", "inf" or "-inf" become floats."""
    return float(x) if isinstance(x, str) and x in _SPECIAL else x


def _unspecial_all(x):
    if isinstance(x, dict):
        return {k: _unspecial_all(v) for k, v in x.items()}
    if isinstance(x, list):
        return [_unspecial_all(v) for v in x]
    return _unspecial(x)


def _short(v) -> str:
    if isinstance(v, list) and len(v) > 4:
        return f"{_short(v[0])}..{_short(v[-1])}({len(v)})"
    if isinstance(v, list):
        return ",".join(_short(x) for x in v)
    return _num(v) if isinstance(v, float) else str(v)


def _num(x) -> str:
    if x is None:
        return "-"
    x = float(x)
    if x == 0 or (1e-3 <= abs(x) < 1e4):
        return f"{x:.6g}"
    return f"{x:.4e}"


def _jsonable(obj):
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, float) and not math.isfinite(obj):
        return str(obj)
    if isinstance(obj, (str, int, float, bool)) or obj is None:
        return obj
    if hasattr(obj, "item"):
        return _jsonable(obj.item())
    return str(obj)


@dataclass
class RunContext:
    """Where and how a unit runs: seed, device, profile and where figures go (None: none)."""

    seed: int = 0
    device: str = "cpu"
    profile: str = "quick"
    figure_dir: Path | None = None

    def __post_init__(self):
        # the seed is part of every store key (an SQLite INTEGER) and seeds numpy: [0, 2^63 - 1]
        self.seed = check_int("seed", self.seed, 0, 2**63 - 1)

    def rng(self, *keys: int) -> np.random.Generator:
        """A NumPy generator for one stream of a unit's randomness: ``default_rng([seed, *keys])``.

        Streams with different keys, or from runs with different seeds, never share draws, as
        ``seed + offset`` schemes do between neighbouring seeds (see the guide, "Several seeds").

        >>> ctx = RunContext(seed=5)
        >>> bool(ctx.rng(1, 2).random() == RunContext(seed=5).rng(1, 2).random())
        True
        >>> bool(ctx.rng(1).random() == RunContext(seed=6).rng(0).random())
        False
        """
        return np.random.default_rng([self.seed, *(check_int("key", k, 0) for k in keys)])

    def figure_path(self, stem: str) -> Path | None:
        if self.figure_dir is None:
            return None
        self.figure_dir.mkdir(parents=True, exist_ok=True)
        return self.figure_dir / f"{stem}.png"


UnitFunction = Callable[[dict, RunContext], Outcome]
AggregateFunction = Callable[[dict, list["Verdict"], RunContext], "Outcome | None"]


@dataclass
class Claim:
    """One checkable statement from a paper.

    Parameters
    ----------
    id : str
        Dotted identifier, e.g. ``"approx.square.error"``.
    source : str
        Paper and theorem.
    statement : str
        The statement in words.
    params : sequence of Param
    unit : callable (params, ctx) -> Outcome
        Measures one unit (one value of each swept parameter).
    aggregate : callable (params, unit verdicts, ctx) -> Outcome or None, optional
        Turns the units of a sweep into one verdict (a fitted rate, say).
    canonical : callable (params) -> params, optional
        The parameters a unit actually measures, e.g. a requested n rounded to a whole number
        of cells.  Units with the same canonical parameters run once, under those parameters.
    """

    id: str
    source: str
    statement: str
    params: Sequence[Param]
    unit: UnitFunction
    aggregate: AggregateFunction | None = None
    canonical: Callable[[dict], dict] | None = None

    def __post_init__(self):
        if not isinstance(self.params, (list, tuple)) or not all(isinstance(p, Param) for p in self.params):
            raise TypeError(f"Claim {self.id!r}: params = {_brief(self.params)} is not allowed: "
                            f"use a list of Param")
        names = [p.name for p in self.params]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(f"Claim {self.id!r}: params = {names} name {', '.join(twice)} twice: "
                             f"each Param needs its own name")
        for label in ("unit", "aggregate", "canonical"):
            fn = getattr(self, label)
            if not callable(fn) and not (fn is None and label != "unit"):
                raise TypeError(f"Claim {self.id!r}: {label} = {_brief(fn)} is not callable")

    def param(self, name: str) -> Param:
        for p in self.params:
            if p.name == name:
                return p
        names = ", ".join(p.name for p in self.params) or "none"
        raise ValueError(f"parameter = {name!r} is not a parameter of {self.id}: its parameters "
                         f"are {names}")

    def resolve(self, profile: str = "quick", overrides: dict | None = None) -> dict:
        """Parameter values for a profile, with overrides (already parsed or as strings)."""
        if profile not in PROFILES:
            raise ValueError(f"profile = {profile!r} is not allowed: use one of {PROFILES}")
        values = {p.name: p.value_for(profile) for p in self.params}
        for name, value in (overrides or {}).items():
            p = self.param(name)
            values[name] = p.parse(value) if isinstance(value, str) else p.validate(value)
        return values

    def units(self, values: dict) -> list[dict]:
        """Expand swept parameters into one parameter dict per unit (canonical, without repeats)."""
        swept = [p.name for p in self.params if p.sweep and isinstance(values[p.name], list)]
        grids = [values[name] for name in swept]
        out, seen = [], set()
        for combo in itertools.product(*grids):
            unit = dict(values)
            unit.update(zip(swept, combo))
            if self.canonical is not None:
                unit = self._canonical(unit)
                key = json.dumps(unit, sort_keys=True, default=str)
                if key in seen:
                    continue
                seen.add(key)
            out.append(unit)
        return out

    def as_run(self, values: dict, units: list[dict]) -> dict:
        """`values` with each swept parameter replaced by the values its units ran with.

        Where `canonical` moves a requested value (n = 100 runs as 64 whole cells), this is what
        the sweep's verdict reports; the store keeps it under the requested values.
        """
        out = dict(values)
        for p in self.params:
            if p.sweep and isinstance(values[p.name], list):
                ran = list(dict.fromkeys(u[p.name] for u in units))
                out[p.name] = ran
        return out

    def _canonical(self, unit: dict) -> dict:
        """`canonical(unit)`, checked: the same parameters, each inside its Param's domain.

        Raises
        ------
        ValueError
            When `canonical` raises, or returns other or missing parameters or a value outside
            a parameter's domain (the error names the claim).
        TypeError
            When it returns something other than a dict.
        """
        try:
            out = self.canonical(dict(unit))
        except Exception as exc:
            raise ValueError(f"{self.id}: canonical({unit}) raised {type(exc).__name__}: {exc}") from exc
        if not isinstance(out, dict):
            raise TypeError(f"{self.id}: canonical({unit}) = {_brief(out)} is not allowed: it must return "
                            f"a dict of parameters")
        if set(out) != set(unit):
            extra, missing = sorted(set(out) - set(unit)), sorted(set(unit) - set(out))
            raise ValueError(f"{self.id}: canonical({unit}) must return the same parameters; it added "
                             f"{extra or 'none'} and dropped {missing or 'none'}")
        for p in self.params:
            if isinstance(out[p.name], (list, tuple)):
                raise ValueError(f"{self.id}: canonical({unit}) returned {p.name} = {out[p.name]!r}: "
                                 "a unit takes one value per parameter")
            try:
                out[p.name] = p.validate(out[p.name])
            except ValueError as exc:
                raise ValueError(f"{self.id}: canonical({unit}) returned a value outside the declared domain: "
                                 f"{exc}") from None
        return out

    def _verdict(self, params: dict, ctx: RunContext, kind: str, fn: Callable[[], Outcome | None]):
        """Run `fn` and build its verdict; exceptions and malformed outcomes become "error" verdicts."""
        start = time.perf_counter()
        outcome = _call(fn)
        if outcome is None and kind == "aggregate":
            return None  # too few units
        try:
            fields = _outcome_fields(outcome, kind)
        except (TypeError, ValueError) as exc:
            message = f"{self.id}: the {kind} function returned a malformed outcome: {exc}"
            fields = _outcome_fields(Outcome("error", message=message), kind)
        return Verdict(
            claim=self.id, params=params, **_judge(fields), seed=ctx.seed,
            seconds=time.perf_counter() - start, device=ctx.device, kind=kind,
            environment=environment(ctx.device), source=self.source,
            figures_requested=ctx.figure_dir is not None,
        )

    def run_unit(self, params: dict, ctx: RunContext) -> Verdict:
        """Measure one unit; exceptions become an "error" verdict."""
        return self._verdict(params, ctx, "unit", lambda: self.unit(params, ctx))

    def run_aggregate(self, params: dict, units: list[Verdict], ctx: RunContext) -> Verdict | None:
        """The sweep's verdict, or None when the claim has no aggregate or too few units."""
        if self.aggregate is None:
            return None
        return self._verdict(params, ctx, "aggregate", lambda: self.aggregate(params, units, ctx))

    def run(self, profile: str = "quick", seed: int = 0, device: str = "cpu",
            figure_dir: Path | None = None, **overrides) -> list[Verdict]:
        """Run every unit and the aggregate, without a store; returns all verdicts."""
        values = self.resolve(profile, overrides)
        ctx = RunContext(seed=seed, device=device, profile=profile, figure_dir=figure_dir)
        units = self.units(values)
        verdicts = [self.run_unit(u, ctx) for u in units]
        agg = self.run_aggregate(values, verdicts, ctx)
        if agg is not None:
            agg.params = self.as_run(values, units)
        return verdicts + ([agg] if agg is not None else [])

    def describe(self) -> dict:
        return {
            "id": self.id,
            "source": self.source,
            "statement": self.statement,
            "parameters": [
                {"name": p.name, "quick": p.default, "full": p.value_for("full"),
                 "allowed": p.describe(), "help": p.help}
                for p in self.params
            ],
        }


def _call(fn: Callable[[], Outcome | None]):
    """Call a unit or aggregate function; an exception becomes an "error" Outcome."""
    try:
        return fn()
    except Exception as exc:  # a failing measurement is a verdict, not a crash
        tb = traceback.extract_tb(exc.__traceback__)[-1]
        return Outcome("error", message=f"{type(exc).__name__}: {exc} (at {Path(tb.filename).name}:{tb.lineno})")


def _outcome_fields(outcome, kind: str) -> dict:
    """The Verdict fields of an Outcome, checked and normalised to plain Python values.

    Raises
    ------
    TypeError, ValueError
        Naming the field, when `outcome` is not an Outcome or a field is malformed.
    """
    if not isinstance(outcome, Outcome):
        allowed = "an Outcome or None" if kind == "aggregate" else "an Outcome"
        raise TypeError(f"returned {type(outcome).__name__} {_brief(outcome)}: it must return {allowed}")
    return {
        "status": outcome.status, "predicted": _real("predicted", outcome.predicted),
        "measured": _real("measured", outcome.measured), "ci": _pair("ci", outcome.ci),
        "tolerance": _real("tolerance", outcome.tolerance),
        "tolerance_reason": _text("tolerance_reason", outcome.tolerance_reason),
        "message": _text("message", outcome.message), "control": _control(outcome.control),
        "figures": _figures(outcome.figures), "data": _data(outcome.data),
    }


def _judge(fields: dict) -> dict:
    """Apply the framework's rules: a known status, and no pass without a failed negative control."""
    status, message, control = fields["status"], fields["message"], fields["control"]
    if status not in STATUSES:
        status, message = "error", f"claim returned status {status!r}; {message}"
    if status == "pass" and control is None:
        status, message = "error", "no negative control was run; " + message
    if status == "pass" and not control["failed"]:
        status = "fail"
        message = (f"negative control passed, so the check cannot tell: "
                   f"{control['description']} ({control['detail']}); {message}")
    return {**fields, "status": status, "message": message}


def _brief(x) -> str:
    text = repr(x)
    return text if len(text) <= 60 else text[:57] + "..."


def _real(name: str, x) -> float | None:
    """A real number (or a 0-d array of one) as a float; None stays None."""
    if isinstance(x, np.ndarray) and x.ndim == 0:
        x = x.item()
    if x is None:
        return None
    if isinstance(x, (bool, np.bool_)) or not isinstance(x, numbers.Real):
        raise TypeError(f"{name} = {_brief(x)} is not allowed: use a real number or None")
    return float(x)


def _pair(name: str, x) -> tuple[float, float] | None:
    """None, or a pair (low, high) of real numbers as a tuple of floats."""
    if isinstance(x, np.ndarray):
        x = x.tolist()
    if x is None:
        return None
    if not isinstance(x, (list, tuple)) or len(x) != 2 or any(c is None for c in x):
        raise TypeError(f"{name} = {_brief(x)} is not allowed: use None or a pair (low, high) of numbers")
    return (_real(f"{name}[0]", x[0]), _real(f"{name}[1]", x[1]))


def _text(name: str, x) -> str:
    if not isinstance(x, str):
        raise TypeError(f"{name} = {_brief(x)} is not allowed: use a str")
    return x


def _control(control) -> dict | None:
    """None, or a Control as a dict (its `failed` a real bool)."""
    if control is None:
        return None
    if not isinstance(control, Control):
        raise TypeError(f"control = {_brief(control)} is not allowed: use None or a Control")
    _check_failed(control.failed)
    return {"description": _text("control.description", control.description),
            "failed": bool(control.failed), "detail": _text("control.detail", control.detail)}


def _figures(figures) -> list[str]:
    """A list or tuple of file names (str or Path) as a list of str; a bare str is refused."""
    if not isinstance(figures, (list, tuple)) or not all(isinstance(f, (str, PurePath)) for f in figures):
        raise TypeError(f"figures = {_brief(figures)} is not allowed: use a list of file names (str or Path)")
    return [str(f) for f in figures]


def _data(x, where: str = "data"):
    """`data` as plain JSON values: NumPy scalars and arrays via ``tolist()``; tuples become lists,
    number keys str.

    Non-finite floats stay floats here (the store writes them as strings and reads them back).
    """
    if isinstance(x, (np.ndarray, np.generic)):
        x = x.tolist()
    if where == "data" and not isinstance(x, dict):
        raise TypeError(f"data = {_brief(x)} is not allowed: use a dict")
    if isinstance(x, dict):
        for k in x:
            if not isinstance(k, (str, numbers.Real)):
                raise TypeError(f"{where} key {k!r} is not allowed: use str (or number) keys (JSON)")
        return {str(k): _data(v, f"{where}[{k!r}]") for k, v in x.items()}  # number keys: str, as JSON
    if isinstance(x, (list, tuple)):
        return [_data(v, f"{where}[{i}]") for i, v in enumerate(x)]
    if x is None or isinstance(x, (str, bool, int, float)):
        return x
    raise TypeError(f"{where} = {_brief(x)} is not JSON-able: use numbers, str, bool, None, lists and dicts")


_REGISTRY: dict[str, Claim] = {}


_ID = re.compile(r"[^\s|<>.]+(\.[^\s|<>.]+)*")
_LOADED = False


def register(claim: Claim, replace: bool = False) -> Claim:
    """Add a claim to the registry (ids are unique).

    Parameters
    ----------
    claim : Claim
        Its id is dotted segments without whitespace, "|", "<" or ">", e.g. ``"my.interp.error"``.
    replace : bool
        Replace a claim already registered under the same id (a module imported twice).

    Returns
    -------
    Claim

    Raises
    ------
    TypeError
        When `claim` is not a Claim.
    ValueError
        For a malformed id, or an id already registered (built-in claims included) without `replace`.
    """
    if not isinstance(claim, Claim):
        raise TypeError(f"claim = {_brief(claim)} is not allowed: register a Claim")
    if not isinstance(claim.id, str) or not _ID.fullmatch(claim.id):
        raise ValueError(f"claim id = {claim.id!r} is not allowed: use dotted segments such as 'my.claim.error', "
                         f"without whitespace, '|', '<' or '>'")
    _load()  # a clash with a built-in id is reported here, not on a later lookup
    if claim.id in _REGISTRY and not replace and _REGISTRY[claim.id] is not claim:
        raise ValueError(f"claim id = {claim.id!r} is already registered (source {_REGISTRY[claim.id].source!r}): "
                         f"use another id; if the module was imported twice (pytest --import-mode=importlib, "
                         f"importlib.reload), pass replace=True")
    _REGISTRY[claim.id] = claim
    return claim


def _load():
    """Import the built-in claims once (they register themselves)."""
    global _LOADED
    if _LOADED:
        return
    _LOADED = True  # set first: the built-in claims call register(), which calls _load()
    try:
        from . import claims  # noqa: F401  (registers the claims)
    except BaseException:
        _LOADED = False
        raise


def all_claims() -> list[Claim]:
    """Every registered claim, sorted by id."""
    _load()
    return [_REGISTRY[k] for k in sorted(_REGISTRY)]


def get_claim(claim_id: str) -> Claim:
    """The claim with this id; ValueError names close matches when it is unknown."""
    _load()
    if claim_id not in _REGISTRY:
        import difflib

        close = difflib.get_close_matches(claim_id, _REGISTRY, n=3) if isinstance(claim_id, str) else []
        hint = f"; did you mean {', '.join(close)}?" if close else "; see `relunet list`"
        raise ValueError(f"claim = {claim_id!r} is unknown{hint}")
    return _REGISTRY[claim_id]


def select_claims(patterns: Sequence[str]) -> list[Claim]:
    """Claims whose id equals a pattern or starts with it followed by a dot (all when empty)."""
    claims = all_claims()
    if not patterns:
        return claims
    chosen: list[Claim] = []
    for pat in patterns:
        hits = [c for c in claims if c.id == pat or c.id.startswith(pat.rstrip(".") + ".")]
        if not hits:
            get_claim(pat)  # raises with suggestions
        chosen.extend(c for c in hits if c not in chosen)
    return chosen
