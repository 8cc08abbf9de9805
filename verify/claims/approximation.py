"""Claims about the ReLU building blocks of approximation theory (Yarotsky 2017).

approx.square.error     sup error of the m-step square is exactly 2^(-2m-2); slope -2 in m
approx.square.size      built sizes equal the size formulas
approx.product.error    the product gate stays under M^2 2^(-2m) and is 0 on the axes
approx.product.size     built sizes equal the size formulas
approx.bump.integrals   the cube bump's integrals equal (2 tau)^d/(d+1)! and 2 (2 tau)^d/(d+2)!

References
----------
D. Yarotsky, "Error bounds for approximations with deep ReLU networks", Neural Networks 94
(2017), Propositions 2 and 3.  ``shared/theory/approximation.md`` §1, §2 and checks A3, A6,
A7, A12.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np

from relunet.bounds import approximation as ab
from relunet.bounds.core import Domain
from relunet.constructions import cube_bump, piecewise_linear, product_gate, yarotsky_square
from relunet.constructions.targets import product_target, square_target

from ..claim import Claim, Control, Outcome, Param, register
from ..fitting import LogLogFit
from ..measure import integrate_exact, monte_carlo_integral, sup_error
from ..plotting import new_figure, save_figure

YAROTSKY = "Yarotsky 2017, Neural Networks 94:103-114"
IDENTITY_RTOL = 1e-12
IDENTITY_REASON = ("identity: the error is evaluated in exact rational arithmetic at the worst "
                   "point the search found; 1e-12 relative is the identity tolerance of DESIGN.md")


def _fraction(value) -> Fraction:
    import sympy as sp

    r = sp.Rational(value)
    return Fraction(int(r.p), int(r.q))


# -- approx.square.error ------------------------------------------------------------------------


def _square_sup(m: int, seed: int):
    return sup_error(yarotsky_square(m), square_target(), (0, 1), seed=seed)


def _square_error_unit(params: dict, ctx) -> Outcome:
    m = params["m"]
    predicted = _fraction(ab.square_error().exact(m=m))
    found = _square_sup(m, ctx.seed)
    measured = Fraction(found.exact_value)
    rel = abs(measured - predicted) / predicted
    weaker = _square_sup(m - 1, ctx.seed)
    control = Control(
        description=f"the {m}-step error 2^(-2m-2) claimed for the {m - 1}-step square",
        failed=Fraction(weaker.exact_value) > predicted * (1 + Fraction(1, 10**12)),
        detail=f"{m - 1}-step error {float(weaker.exact_value):.6e} vs {float(predicted):.6e}",
    )
    return Outcome(
        status="pass" if rel <= IDENTITY_RTOL else "fail",
        predicted=float(predicted), measured=float(measured), tolerance=IDENTITY_RTOL,
        tolerance_reason=IDENTITY_REASON,
        message=(f"worst point x = {float(found.point[0])!r} found by {found.found_by}; "
                 f"relative deviation {float(rel):.3e}"),
        control=control,
        data={"m": m, "error": float(measured), "error_exact": str(measured),
              "point": float(found.point[0]), "found_by": found.found_by},
    )


def _shallow_square_error(m: int, seed: int) -> tuple[int, float]:
    """Error of a one-hidden-layer PL interpolant of x^2 with no more nonzero weights than f_m."""
    budget = int(ab.square_size()["nonzero"].evaluate(m=m))
    pieces = max(1, (budget - 1) // 3)
    knots = [Fraction(k, pieces) for k in range(pieces + 1)]
    net = piecewise_linear(knots, [t * t for t in knots])
    found = sup_error(net, square_target(), (0, 1), seed=seed)
    return net.size().nonzero, float(found.exact_value)


def _square_error_aggregate(params: dict, units, ctx) -> Outcome | None:
    rows = sorted((u.data["m"], u.data["error"]) for u in units if u.data.get("error"))
    if len(rows) < 3:
        return None
    ms = np.array([r[0] for r in rows], dtype=float)
    errs = np.array([r[1] for r in rows])
    predicted = float(ab.square_error().log_slope("m", base=2))
    fit = LogLogFit(xscale="linear", base=2).fit(ms, errs)
    tol = 1e-9
    shallow = [_shallow_square_error(int(m), ctx.seed) for m in ms]
    shallow_fit = LogLogFit(xscale="linear", base=2).fit(ms, [e for _, e in shallow])
    control = Control(
        description="slope -2 claimed for one-hidden-layer interpolants of x^2 with the same "
                    "nonzero-weight budget as f_m (depth separation)",
        failed=abs(shallow_fit.slope_ - predicted) > tol,
        detail=f"shallow slope {shallow_fit.slope_:.4f}",
    )
    figures = []
    path = ctx.figure_path("approx.square.error")
    if path is not None:
        fig, ax = new_figure()
        ax.semilogy(ms, ab.square_error().evaluate(m=ms), "-", color="0.4",
                    label="bound $2^{-2m-2}$")
        ax.semilogy(ms, errs, "o", label="measured sup error (deep, f_m)")
        ax.semilogy(ms, [e for _, e in shallow], "s", mfc="none",
                    label="one hidden layer, same budget (control)")
        ax.set_xlabel("steps m")
        ax.set_ylabel("sup error on [0, 1]")
        ax.set_title(f"Yarotsky square: fitted log2 slope {fit.slope_:.6f}")
        ax.legend(fontsize=8)
        figures = save_figure(fig, path)
    return Outcome(
        status="pass" if abs(fit.slope_ - predicted) <= tol else "fail",
        predicted=predicted, measured=fit.slope_, ci=fit.slope_ci_, tolerance=tol,
        tolerance_reason=("the unit errors are exact dyadic numbers, so log2 of them are "
                          "integers and the fitted slope is exact up to float rounding"),
        message=f"log2 error against m over m = {int(ms[0])}..{int(ms[-1])}",
        control=control, figures=figures,
        data={"m": ms.tolist(), "error": errs.tolist(), "shallow": [e for _, e in shallow]},
    )


# -- sizes ------------------------------------------------------------------------------------


def _size_table(built, formulas: dict, values: dict) -> dict:
    size = built.size()
    measured = {"depth": size.depth, "width": size.width, "nonzero": size.nonzero,
                "dense": size.dense, "max_weight": size.max_abs_weight}
    table = {}
    for key, bound in formulas.items():
        args = {k: v for k, v in values.items() if k in bound.parameters}
        table[key] = (measured[key], float(bound.evaluate(**args)))
    return table


def _size_outcome(name: str, table: dict, control_table: dict, control_desc: str) -> Outcome:
    mismatched = [k for k, (got, want) in table.items() if got != want]
    control = Control(description=control_desc,
                      failed=any(got != want for got, want in control_table.values()),
                      detail=", ".join(f"{k} {g} vs {w}" for k, (g, w) in control_table.items()))
    return Outcome(
        status="fail" if mismatched else "pass",
        predicted=table["nonzero"][1], measured=table["nonzero"][0], tolerance=0,
        tolerance_reason="sizes are integer counts read from the weights: exact equality",
        message=("mismatch in " + ", ".join(f"{k}: built {table[k][0]}, formula {table[k][1]}"
                                             for k in mismatched)) if mismatched else
        ", ".join(f"{k} {g:g}" for k, (g, _) in table.items()),
        control=control,
        data={k: {"built": g, "formula": w} for k, (g, w) in table.items()},
    )


def _square_size_unit(params: dict, ctx) -> Outcome:
    m = params["m"]
    table = _size_table(yarotsky_square(m), ab.square_size(), {"m": m})
    other = _size_table(yarotsky_square(m + 1), ab.square_size(), {"m": m})
    return _size_outcome("square", table, other,
                         f"the size formulas of m = {m} claimed for the {m + 1}-step square")


def _product_size_unit(params: dict, ctx) -> Outcome:
    m, big = params["m"], params["M"]
    table = _size_table(product_gate(m, big), ab.product_gate_size(), {"m": m, "M": big})
    other = _size_table(product_gate(m + 1, big), ab.product_gate_size(), {"m": m, "M": big})
    return _size_outcome("product", table, other,
                         f"the size formulas of m = {m} claimed for the {m + 1}-step gate")


# -- approx.product.error -----------------------------------------------------------------------


def _axis_points(big: Fraction, seed: int) -> list[list[Fraction]]:
    rng = np.random.default_rng(seed)
    ts = [big * Fraction(k, 50) for k in range(-50, 51)]
    ts += [Fraction(float(v)) for v in big * (2 * rng.random(100) - 1)]
    return [[t, Fraction(0)] for t in ts] + [[Fraction(0), t] for t in ts]


def _product_error_unit(params: dict, ctx) -> Outcome:
    m, big = params["m"], Fraction(params["M"])
    gate = product_gate(m, big)
    bound = _fraction(ab.product_gate_error().exact(m=m, M=big))
    found = sup_error(gate, product_target(), (-float(big), float(big)), seed=ctx.seed)
    measured = Fraction(found.exact_value)
    axes = gate.evaluate_exact(_axis_points(big, ctx.seed))
    axis_max = max(abs(v) for v in axes[:, 0])
    stated = float(ab.product_gate_error_stated().evaluate(m=m, M=float(big)))
    tighter = _fraction(ab.product_gate_error().exact(m=m + 1, M=big))
    # attainment (approximation.md §2.1): at x = y = M/2^m, |x+y|/2M = 2^-m is a node of f_m and
    # |x|/2M = 2^(-m-1) a midpoint, so ×̃ - xy = -M^2 2^(-2m) exactly; a bound that is too large fails here
    corner = big / 2**m
    attained = Fraction(gate.evaluate_exact([[corner, corner]])[0, 0]) - corner * corner
    ok = measured <= bound and axis_max == 0 and attained == -bound
    problems = []
    if measured > bound:
        problems.append(f"sup error {float(measured):.6e} exceeds the bound {float(bound):.6e}")
    if axis_max != 0:
        problems.append(f"nonzero on an axis: {float(axis_max):.3e}")
    if attained != -bound:
        problems.append(f"at x = y = M/2^m the error is {float(attained):.6e}, not -bound = {float(-bound):.6e}: "
                        "the bound is not attained")
    return Outcome(
        status="pass" if ok else "fail",
        predicted=float(bound), measured=float(measured), tolerance=0,
        tolerance_reason=("the worst point found is evaluated exactly in rationals, so no float "
                          "slack is needed; the axis values must be exactly 0, and the error at "
                          "x = y = M/2^m exactly -M^2 2^(-2m) (the bound is attained)"),
        message="; ".join(problems) or (
            f"sharpness measured/bound = {float(measured / bound):.12f} at {found.point.tolist()} "
            f"({found.found_by}); attained exactly at x = y = M/2^m; under Yarotsky's stated "
            f"6M^2 2^(-2m-2) = {stated:.4e}; exactly 0 at {len(axes)} axis points"),
        control=Control(
            description=f"the bound of m + 1 = {m + 1} steps claimed for the {m}-step gate",
            failed=measured > tighter,
            detail=f"measured {float(measured):.6e} vs {float(tighter):.6e}",
        ),
        data={"m": m, "M": float(big), "error": float(measured), "signed": found.signed,
              "ratio": float(measured / bound), "axis_max": float(axis_max), "attained": str(attained),
              "point": found.point.tolist()},
    )


def _product_error_aggregate(params: dict, units, ctx) -> Outcome | None:
    rows = sorted((u.data["m"], u.data["error"]) for u in units if u.data.get("error"))
    if len(rows) < 3 or isinstance(params["M"], list):
        return None
    ms = np.array([r[0] for r in rows], dtype=float)
    errs = np.array([r[1] for r in rows])
    predicted = float(ab.product_gate_error().log_slope("m", base=2))
    fit = LogLogFit(xscale="linear", base=2).fit(ms, errs)
    tol = 0.05
    half = [sup_error(product_gate(max(1, (int(m) + 1) // 2), params["M"]), product_target(),
                      (-params["M"], params["M"]), seed=ctx.seed).value for m in ms]
    half_fit = LogLogFit(xscale="linear", base=2).fit(ms, half)
    figures = []
    path = ctx.figure_path("approx.product.error")
    if path is not None:
        fig, ax = new_figure()
        ax.semilogy(ms, ab.product_gate_error().evaluate(m=ms, M=params["M"]), "-", color="0.4",
                    label="bound $M^2 2^{-2m}$")
        ax.semilogy(ms, ab.product_gate_error_stated().evaluate(m=ms, M=params["M"]), ":",
                    color="0.4", label="stated $6M^2 2^{-2m-2}$")
        ax.semilogy(ms, errs, "o", label="measured sup error")
        ax.semilogy(ms, half, "s", mfc="none", label="gate with ceil(m/2) steps (control)")
        ax.set_xlabel("steps m")
        ax.set_ylabel(f"sup error on [-M, M]^2, M = {params['M']:g}")
        ax.set_title(f"Product gate: fitted log2 slope {fit.slope_:.4f}")
        ax.legend(fontsize=8)
        figures = save_figure(fig, path)
    return Outcome(
        status="pass" if abs(fit.slope_ - predicted) <= tol else "fail",
        predicted=predicted, measured=fit.slope_, ci=fit.slope_ci_, tolerance=tol,
        tolerance_reason=("the bound is attained; a search that stops short by a factor 0.9 at "
                          "one m moves the slope by less than 0.05 over the default sweep"),
        message=f"log2 error against m over m = {int(ms[0])}..{int(ms[-1])}",
        control=Control(
            description="slope -2 claimed for gates built with ceil(m/2)-step squares",
            failed=abs(half_fit.slope_ - predicted) > tol,
            detail=f"control slope {half_fit.slope_:.4f}",
        ),
        figures=figures,
        data={"m": ms.tolist(), "error": errs.tolist(), "control": half},
    )


# -- approx.bump.integrals ------------------------------------------------------------------------

MC_Z = 4.0


def _bump_integrals(d: int, tau: Fraction, plateau: Fraction, n_mc: int, seed: int) -> dict:
    center = [Fraction(1, 2)] * d
    net = cube_bump(center, plateau, tau)
    reach = plateau + tau
    box = [(float(c - reach), float(c + reach)) for c in center]
    out = {}
    for power in (1, 2):
        mc = monte_carlo_integral(lambda x, p=power: net(x)[:, 0] ** p, box, d, n=n_mc,
                                  seed=seed + power)
        out[power] = {"mc": mc}
        if d <= 4:
            out[power]["exact"] = integrate_exact(net, [(c - reach, c + reach) for c in center],
                                                  power)
    return out


def _bump_unit(params: dict, ctx) -> Outcome:
    d, tau, n_mc = params["d"], Fraction(params["tau"]), params["n_mc"]
    formulas = {1: _fraction(ab.bump_integral().exact(d=d, tau=tau)),
                2: _fraction(ab.bump_square_integral().exact(d=d, tau=tau))}

    def judge(found: dict) -> tuple[bool, list[str]]:
        ok, notes = True, []
        for power, want in formulas.items():
            mc = found[power]["mc"]
            z = abs(mc.value - float(want)) / mc.stderr if mc.stderr > 0 else float("inf")
            ok &= z <= MC_Z
            notes.append(f"power {power}: MC {mc.value:.6e} ± {mc.stderr:.1e} (z = {z:.2f})")
            if "exact" in found[power]:
                same = found[power]["exact"] == want
                ok &= same
                notes.append(f"exact {found[power]['exact']} {'==' if same else '!='} {want}")
        return ok, notes

    found = _bump_integrals(d, tau, Fraction(0), n_mc, ctx.seed)
    ok, notes = judge(found)
    wrong = _bump_integrals(d, tau, tau / 4, n_mc, ctx.seed)
    control_ok, control_notes = judge(wrong)
    mc1 = found[1]["mc"]
    measured = found[1].get("exact", mc1.value)
    return Outcome(
        status="pass" if ok else "fail",
        predicted=float(formulas[1]), measured=float(measured), ci=mc1.ci,
        tolerance=MC_Z,
        tolerance_reason=("exact rational equality for d <= 4; Monte Carlo within 4 standard "
                          "errors (two-sided probability 6e-5 per check at a fixed seed)"),
        message="; ".join(notes),
        control=Control(
            description="the formulas of the plateau-0 bump claimed for a bump with plateau tau/4",
            failed=not control_ok, detail="; ".join(control_notes),
        ),
        data={"d": d, "tau": float(tau), "integral": float(measured),
              "square_integral": float(found[2].get("exact", found[2]["mc"].value)),
              "mc": [found[p]["mc"].value for p in (1, 2)],
              "mc_stderr": [found[p]["mc"].stderr for p in (1, 2)]},
    )


def _bump_aggregate(params: dict, units, ctx) -> Outcome | None:
    """A figure of measured against predicted integrals; the verdict is that of the units."""
    rows = sorted((u.data["d"], u.data["integral"], u.data["square_integral"], u.status)
                  for u in units if "d" in u.data)
    path = ctx.figure_path("approx.bump.integrals")
    if len(rows) < 2 or path is None:
        return None
    tau = params["tau"]
    ds = np.array([r[0] for r in rows], dtype=float)
    fig, ax = new_figure()
    ax.semilogy(ds, ab.bump_integral().evaluate(d=ds, tau=tau), "-", color="0.4",
                label=r"$(2\tau)^d/(d+1)!$")
    ax.semilogy(ds, ab.bump_square_integral().evaluate(d=ds, tau=tau), "--", color="0.4",
                label=r"$2(2\tau)^d/(d+2)!$")
    ax.semilogy(ds, [r[1] for r in rows], "o", label="integral of B (measured)")
    ax.semilogy(ds, [r[2] for r in rows], "s", label="integral of B^2 (measured)")
    ax.set_xlabel("dimension d")
    ax.set_title(f"Cube bump integrals, tau = {tau:g} (exact d <= 4, Monte Carlo beyond)")
    ax.legend(fontsize=8)
    figures = save_figure(fig, path)
    failed = [r[0] for r in rows if r[3] != "pass"]
    return Outcome(status="fail" if failed else "pass",
                   message=f"units failed for d = {failed}" if failed else "all units passed",
                   control=Control("see the units' controls", failed=True), figures=figures)


# -- registration -------------------------------------------------------------------------------

_STEPS = Domain(lower=1, upper=24, integer=True)

register(Claim(
    id="approx.square.error",
    source=f"{YAROTSKY}, Prop. 2; exact error derived in approximation.md §2",
    statement="The sup error of Yarotsky's m-step square on [0, 1] is exactly 2^(-2m-2), so "
              "log2 error against m has slope -2.",
    params=[Param("m", list(range(1, 13)), _STEPS, "steps (sweep)", full=list(range(1, 21)),
                  sweep=True)],
    unit=_square_error_unit,
    aggregate=_square_error_aggregate,
))

register(Claim(
    id="approx.square.size",
    source="derived for relunet's realisation of Yarotsky 2017, Prop. 2",
    statement="The m-step square has depth m, width 4, 15m - 7 nonzero weights and the "
              "dense count and largest weight of its size formulas.",
    params=[Param("m", list(range(1, 13)), Domain(lower=1, upper=200, integer=True),
                  "steps (sweep)", full=list(range(1, 61)), sweep=True)],
    unit=_square_size_unit,
))

register(Claim(
    id="approx.product.size",
    source="derived for relunet's realisation of Yarotsky 2017, Prop. 3",
    statement="The product gate with m-step squares has depth m + 1, width 12, 45m - 4 "
              "nonzero weights and the dense count and largest weight of its size formulas.",
    params=[Param("m", list(range(1, 11)), Domain(lower=1, upper=100, integer=True),
                  "steps (sweep)", full=list(range(1, 41)), sweep=True),
            Param("M", 1.0, Domain(lower=0, lower_closed=False), "half-width of [-M, M]^2",
                  kind="float", sweep=True)],
    unit=_product_size_unit,
))

register(Claim(
    id="approx.product.error",
    source=f"{YAROTSKY}, Prop. 3; sharp bound derived in approximation.md §2.1",
    statement="Yarotsky's product gate on [-M, M]^2 has sup error at most M^2 2^(-2m) "
              "(attained), is exactly 0 on the axes, and its log2 error has slope -2 in m.",
    params=[Param("m", list(range(1, 9)), Domain(lower=1, upper=20, integer=True),
                  "steps of each square (sweep)", full=list(range(1, 15)), sweep=True),
            Param("M", 1.0, Domain(lower=0, lower_closed=False), "half-width of [-M, M]^2",
                  kind="float", sweep=True)],
    unit=_product_error_unit,
    aggregate=_product_error_aggregate,
))

register(Claim(
    id="approx.bump.integrals",
    source="derived in approximation.md §1 item 5 (bump of Chui, Lin and Zhou 2018)",
    statement="The cube bump with plateau 0 and half-width tau has integral (2 tau)^d/(d+1)! "
              "and squared integral 2 (2 tau)^d/(d+2)!: exactly for d <= 4, within Monte "
              "Carlo error for larger d.",
    params=[Param("d", list(range(1, 7)), Domain(lower=1, upper=10, integer=True),
                  "dimension (sweep)", sweep=True),
            Param("tau", 0.25, Domain(lower=0, lower_closed=False), "half-width of the bump",
                  kind="float"),
            Param("n_mc", 200_000, Domain(lower=1000, integer=True),
                  "Monte Carlo samples per integral", full=4_000_000)],
    unit=_bump_unit,
    aggregate=_bump_aggregate,
))
