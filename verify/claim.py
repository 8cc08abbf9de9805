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
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

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

    def value_for(self, profile: str):
        return self.default if (profile == "quick" or self.full is None) else self.full

    def parse(self, text: str):
        """Parse a command-line value: a number, or for sweeps 'a..b' or 'a,b,c'."""
        text = text.strip()
        if not text:
            raise ValueError(f"{self.name} = '' is empty: {self.name} must be {self.describe()}")
        if self.sweep and (".." in text or "," in text):
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
        return self.domain.describe() + (" (or a list: a..b, a,b,c)" if self.sweep else "")

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
            self.domain.check(self.name, v)
            out.append(int(v) if self.kind == "int" else float(v))
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
        return json.dumps(_jsonable(self.to_dict()), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Verdict:
        d = json.loads(text)
        d["ci"] = tuple(d["ci"]) if d.get("ci") is not None else None
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
                unit = self.canonical(unit)
                key = json.dumps(unit, sort_keys=True, default=str)
                if key in seen:
                    continue
                seen.add(key)
            out.append(unit)
        return out

    def _verdict(self, params: dict, ctx: RunContext, kind: str, fn: Callable[[], Outcome | None]):
        start = time.perf_counter()
        try:
            outcome = fn()
        except Exception as exc:  # a failing measurement is a verdict, not a crash
            tb = traceback.extract_tb(exc.__traceback__)[-1]
            outcome = Outcome(
                "error",
                message=f"{type(exc).__name__}: {exc} (at {Path(tb.filename).name}:{tb.lineno})",
            )
        if outcome is None:
            return None
        status, message = outcome.status, outcome.message
        if status not in STATUSES:
            status, message = "error", f"claim returned status {status!r}; {message}"
        if status == "pass" and outcome.control is None:
            status, message = "error", "no negative control was run; " + message
        if status == "pass" and not outcome.control.failed:
            status = "fail"
            message = (f"negative control passed, so the check cannot tell: "
                       f"{outcome.control.description} ({outcome.control.detail}); {message}")
        control = asdict(outcome.control) if outcome.control is not None else None
        return Verdict(
            claim=self.id, params=params, status=status, predicted=_float(outcome.predicted),
            measured=_float(outcome.measured),
            ci=tuple(float(c) for c in outcome.ci) if outcome.ci is not None else None,
            tolerance=_float(outcome.tolerance), tolerance_reason=outcome.tolerance_reason,
            message=message, seed=ctx.seed, seconds=time.perf_counter() - start,
            device=ctx.device, kind=kind, control=control, figures=list(outcome.figures),
            data=_jsonable(outcome.data), environment=environment(ctx.device), source=self.source,
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
        verdicts = [self.run_unit(u, ctx) for u in self.units(values)]
        agg = self.run_aggregate(values, verdicts, ctx)
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


def _float(x):
    return None if x is None else float(x)


_REGISTRY: dict[str, Claim] = {}


def register(claim: Claim) -> Claim:
    """Add a claim to the registry (ids are unique)."""
    if claim.id in _REGISTRY:
        raise ValueError(f"claim id {claim.id!r} is registered twice")
    _REGISTRY[claim.id] = claim
    return claim


def _load():
    from . import claims  # noqa: F401  (registers the claims)


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
