"""Learning-rate sweeps in c = ηλ0 and the classification of their runs into phases.

:func:`run_c_sweep` trains K copies of a model (by default all from one seed, the protocol of
Meltzer and Liu) with learning rates η_k = c_k/λ0_k as one batched program
(:class:`~relunet.constructions.training.BatchedTrainer`), λ0_k measured on each model's own
initial weights.  It records the loss and |θ|² at every step and λ_max(H_t) on a schedule (every
step early, where the catapult happens, then every few steps), by running the trainer in chunks
between the measurement steps (full-batch GD has no state, so the chunks continue the run
exactly).  :func:`classify_run` labels a run lazy, catapult, divergent, collapsed or ambiguous by
the rules of catapult.md §12.

References
----------
A. Lewkowycz et al., arXiv:2003.02218 (the phases); D. Meltzer, J. Liu, arXiv:2301.07737 (the
protocol: η = c/λ0 with λ0 on that initialisation, the same seed for every c).
``shared/theory/catapult.md`` §1 (phases), §10 (protocol), §12 (classifying a run).
"""

from __future__ import annotations

import math
import numbers
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch

from .catapult_models import NeuralQuadraticModel, sparsity, top_ntk_eigenvalue
from .models import StackedMLP, StackedModel
from .training import BatchedTrainer
from .validation import check_int, check_positive, check_real, check_seed, check_seeds

__all__ = ["LABELS", "PhaseRules", "SweepResult", "classify_run", "classify_sweep", "lam_schedule", "run_c_sweep"]

LABELS = ("lazy", "catapult", "divergent", "collapsed", "ambiguous")


@dataclass
class SweepResult:
    """What a c-sweep measured.  Arrays over models have K entries; histories are (steps, K).

    Attributes
    ----------
    c, lam0, eta : ndarray (K,)
        The dimensionless rate, λ_max(H_0) measured on each model's initial weights, η = c/λ0.
    seeds : list of int
    steps : ndarray (T + 1,)
        0..T (T the steps run).
    loss, weight_norm : ndarray (T + 1, K)
        L_t and |θ_t|² at every step.
    lam_steps : ndarray (S,)
        Steps at which λ_max(H_t) was measured (0 and the last step included).
    lam : ndarray (S, K)
    observed : dict of ndarray (S, K, ...)
        Extra quantities measured at ``lam_steps`` (see ``observe`` of :func:`run_c_sweep`).
    diverged : bool ndarray (K,); diverged_step : int ndarray (K,) (-1 if never)
    params0, params : dict of (K, ...) tensors
        Initial and final weights.
    sparsity : ndarray (K, L) or None
        Final fraction of negative pre-activations per hidden layer (StackedMLP only).
    width : float
        The width m used in the divergence cap.
    cap : float
        The loss above which a model was frozen.
    seconds : float
    """

    c: np.ndarray
    lam0: np.ndarray
    eta: np.ndarray
    seeds: list[int]
    steps: np.ndarray
    loss: np.ndarray
    weight_norm: np.ndarray
    lam_steps: np.ndarray
    lam: np.ndarray
    diverged: np.ndarray
    diverged_step: np.ndarray
    params0: dict
    params: dict
    width: float
    cap: float
    seconds: float
    sparsity: np.ndarray | None = None
    observed: dict = field(default_factory=dict)

    @property
    def lam_final(self) -> np.ndarray:
        """λ_max(H) at the last step."""
        return self.lam[-1]

    @property
    def eta_lam(self) -> np.ndarray:
        """η λ_max(H_t) at ``lam_steps``, (S, K)."""
        return self.eta[None, :] * self.lam

    @property
    def eta_lam_final(self) -> np.ndarray:
        return self.eta * self.lam_final

    @property
    def norm_ratio(self) -> np.ndarray:
        """|θ_T|²/|θ_0|², (K,)."""
        return self.weight_norm[-1] / self.weight_norm[0]

    @property
    def peak_step(self) -> np.ndarray:
        """t* = the first step of the largest loss, (K,)."""
        return np.argmax(np.where(np.isfinite(self.loss), self.loss, np.inf), axis=0)

    @property
    def max_loss(self) -> np.ndarray:
        return np.max(np.where(np.isfinite(self.loss), self.loss, np.inf), axis=0)


def lam_schedule(steps: int, dense: int = 50, every: int = 10) -> list[int]:
    """Steps at which λ_max(H_t) is measured: every step up to `dense`, then every `every`, and `steps`.

    Examples
    --------
    >>> lam_schedule(100, dense=3, every=40)
    [0, 1, 2, 3, 43, 83, 100]
    """
    steps, dense, every = (check_int(name, value, low) for name, value, low in (
        ("steps", steps, 0), ("dense", dense, 0), ("every", every, 1)))
    head = list(range(0, min(dense, steps) + 1))
    tail = list(range(head[-1] + every, steps + 1, every))
    return sorted(set(head + tail + [steps]))


def _width(model: StackedModel) -> float:
    """The width m of a family (uv width, MLP width, quadratic rank; the base's for an NQM)."""
    if isinstance(model, NeuralQuadraticModel):
        return _width(model.base)
    for attr in ("width", "rank"):
        if hasattr(model, attr):
            return float(getattr(model, attr))
    return 1.0


def _as_batch(name: str, t, k: int, dtype, device, last_dim: int) -> torch.Tensor:
    t = torch.as_tensor(t, dtype=dtype, device=device)
    if name == "y" and t.ndim in (1, 2) and (t.ndim == 1 or t.shape[-1] != 1):
        t = t.unsqueeze(-1)
    if t.ndim == 2:
        t = t.expand(k, *t.shape)
    if t.ndim != 3 or t.shape[0] != k or t.shape[2] != last_dim:
        raise ValueError(f"{name} has shape {tuple(t.shape)}: expected (n, {last_dim}) or (K={k}, n, {last_dim})")
    return t.contiguous()


def _lam0(model: StackedModel, params0: dict, x: torch.Tensor, seeds: list[int], method: str) -> torch.Tensor:
    """λ0 of every model, measured once per distinct initialisation when inputs are shared.

    Models share a measurement only when they have the same seed *and* equal initial weights:
    ``params0`` given by the caller need not be ``model.init(seeds)`` (e.g. one seed with
    per-model biases drawn afterwards), and each model's c must use its own λ0 (catapult.md §11).
    """
    lam_model = model.base if isinstance(model, NeuralQuadraticModel) else model
    k = x.shape[0]
    if not k:
        return torch.empty(0)
    if not bool(torch.equal(x, x[:1].expand_as(x))):
        return top_ntk_eigenvalue(lam_model, params0, x, method)
    first: dict[int, int] = {}
    rep = []
    for i, s in enumerate(seeds):
        j = first.setdefault(s, i)
        if j != i and not all(torch.equal(p[i], p[j]) for p in params0.values()):
            j = i
        rep.append(j)
    distinct = sorted(set(rep))
    idx = torch.tensor(distinct, device=x.device)
    values = top_ntk_eigenvalue(lam_model, {n: p[idx] for n, p in params0.items()}, x[idx], method)
    where = {j: r for r, j in enumerate(distinct)}
    return values[torch.tensor([where[j] for j in rep], device=values.device)]


def _check_c(c) -> np.ndarray:
    """The rates c_k: a non-empty sequence of finite numbers > 0."""
    try:
        cs = np.asarray(c, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError):
        cs = np.array([np.nan])
    if cs.size == 0 or not np.all(np.isfinite(cs)) or np.any(cs <= 0):
        raise ValueError(f"c = {list(cs)[:4]}... is not allowed: give finite values > 0")
    return cs


def _seed_list(seeds, k: int) -> list[int]:
    """One seed for every c: a single seed repeated, or K seeds, each in [0, 2^63 - 1]."""
    if isinstance(seeds, (numbers.Number, np.generic)) or seeds is None:
        return [check_seed(seeds, "seeds")] * k
    seed_list = check_seeds(seeds)
    if len(seed_list) != k:
        raise ValueError(f"seeds has {len(seed_list)} entries: give one seed or one per c (K = {k})")
    return seed_list


def run_c_sweep(model: StackedModel, x, y, c: Sequence[float], *, seeds: int | Sequence[int] = 0,
                steps: int = 1000, lam_dense: int = 50, lam_every: int = 10, params0: dict | None = None,
                width: float | None = None, divergence_factor: float = 1e3, tol: float | None = None,
                time_budget: float | None = None, lam_method: str = "auto",
                observe: Callable[[dict], dict[str, torch.Tensor]] | None = None, device="cpu",
                dtype: torch.dtype = torch.float64) -> SweepResult:
    """Full-batch GD of K copies of `model` at c_k = η_k λ0_k, as one batched program.

    Parameters
    ----------
    model : StackedModel
    x : Tensor (n, d) shared by all models, or (K, n, d)
    y : Tensor (n,), (n, 1) or (K, n, 1)
    c : sequence of K floats
        The dimensionless learning rates.
    seeds : int or sequence of K ints
        Initialisation seeds, integers in [0, 2^63 - 1] (one int: the same initialisation for
        every c, as in the protocol).
    steps : int
        T >= 1 (``steps = 0`` is refused: a sweep that trains nothing has no run to classify).
    lam_dense, lam_every : int
        λ_max(H_t) is measured at :func:`lam_schedule` (steps, lam_dense, lam_every).
    params0 : dict of (K, ...) tensors, optional
        Start from these weights instead of ``model.init(seeds)`` (e.g. an NQM's anchor).
    width : float, optional
        m in the divergence cap (default: the family's width or rank).
    divergence_factor : float
        B: a model is frozen and flagged once L_t > B · max(L_0, 1) · m (catapult.md §12 rule 1).
    tol, time_budget : optional
        Stop early once every model still training has loss below `tol`, or after `time_budget`
        seconds (checked at the measurement steps).
    lam_method : {"auto", "closed", "lanczos"}
        How λ_max(H) is measured (:func:`~relunet.constructions.catapult_models.top_ntk_eigenvalue`).
    observe : callable(params) -> dict of (K, ...) tensors, optional
        Further quantities to measure at the same steps.
    device, dtype
        As for the trainer.

    Returns
    -------
    SweepResult

    References
    ----------
    Meltzer and Liu 2023 (protocol); ``shared/theory/catapult.md`` §10 and §12.

    Examples
    --------
    >>> from relunet.constructions.catapult_models import StackedUV
    >>> res = run_c_sweep(StackedUV(1000), [[1.0]], [0.0], c=[0.5, 3.0, 4.5], steps=200, seeds=1)
    >>> res.diverged.tolist(), bool(res.eta_lam_final[1] < 2 < res.c[1])
    ([False, False, True], True)
    """
    cs = _check_c(c)
    k = cs.size
    seed_list = _seed_list(seeds, k)
    steps = check_int("steps", steps, 1, why=" (a sweep must take at least one GD step)")
    m = check_positive("width", width) if width is not None else _width(model)
    divergence_factor = check_positive("divergence_factor", divergence_factor)
    tol = None if tol is None else check_positive("tol", tol)
    time_budget = None if time_budget is None else check_real("time_budget", time_budget, 0, finite=False)
    device = torch.device(device)
    x = _as_batch("x", x, k, dtype, device, model.input_dim)
    y = _as_batch("y", y, k, dtype, device, model.output_dim)
    start = time.perf_counter()
    if params0 is None:
        params0 = model.init(seed_list, dtype, device)
    params0 = {n: p.detach().to(device=device, dtype=dtype) for n, p in params0.items()}
    lam0 = _lam0(model, params0, x, seed_list, method=lam_method)
    eta = torch.as_tensor(cs, dtype=dtype, device=device) / lam0
    with torch.no_grad():
        loss0 = 0.5 * ((model.forward(params0, x) - y) ** 2).sum(-1).mean(-1)
    cap = divergence_factor * max(float(loss0.max()), 1.0) * m
    schedule = lam_schedule(steps, lam_dense, lam_every)
    lams, obs = [top_ntk_eigenvalue(model, params0, x, lam_method)], {}
    if observe is not None:
        obs = {name: [v.detach()] for name, v in observe(params0).items()}
    losses, norms, done = [], [], [0]
    diverged = np.zeros(k, dtype=bool)
    diverged_step = np.full(k, -1, dtype=np.int64)
    params = params0
    for begin, end in zip(schedule[:-1], schedule[1:]):
        trainer = BatchedTrainer(model, lr=eta, steps=end - begin, record_every=1, metrics=("loss", "weight_norm"),
                                 divergence_cap=cap, device=device, dtype=dtype, check_every=end - begin,
                                 progress=False).fit(x, y, params=params)
        skip = 0 if begin == 0 else 1
        losses.append(trainer.history_["loss"][skip:])
        norms.append(trainer.history_["weight_norm"][skip:])
        newly = trainer.diverged_ & ~diverged
        diverged_step[newly] = begin + trainer.diverged_step_[newly]
        diverged |= trainer.diverged_
        params = trainer.params_
        lams.append(top_ntk_eigenvalue(model, params, x, lam_method))
        if observe is not None:
            for name, v in observe(params).items():
                obs[name].append(v.detach())
        done.append(end)
        active = ~diverged
        last = trainer.history_["loss"][-1]
        if tol is not None and active.any() and bool(np.all(last[active] < tol)):
            break
        if time_budget is not None and time.perf_counter() - start > time_budget:
            break
    spars = sparsity(model, params, x).cpu().numpy() if isinstance(model, StackedMLP) else None
    return SweepResult(
        c=cs, lam0=lam0.cpu().numpy(), eta=eta.cpu().numpy(), seeds=seed_list,
        steps=np.arange(done[-1] + 1), loss=np.concatenate(losses), weight_norm=np.concatenate(norms),
        lam_steps=np.array(done), lam=torch.stack(lams).cpu().numpy(), diverged=diverged,
        diverged_step=diverged_step, params0=params0, params=params, width=m, cap=cap,
        seconds=time.perf_counter() - start, sparsity=spars,
        observed={name: torch.stack(v).cpu().numpy() for name, v in obs.items()})


# -- classification ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PhaseRules:
    """The tolerances of the classification rules (catapult.md §12), with the page's defaults.

    Attributes
    ----------
    divergence_factor : float
        B: divergent once L_t > B · max(L_0, 1) · m.
    norm_factor : float
        Divergent once |θ_t|² > norm_factor · |θ_0|².
    converged : float
        ε: converged when L_T < ε · L_0.
    spike : float
        κ: a catapult needs max_t L_t ≥ κ · L_0.
    lazy_overshoot : float
        δ′: a lazy run has max_t L_t ≤ (1 + δ′) L_0 (1e-6 for the uv and quadratic models, about
        0.05 for nets).
    lazy_drift : float, optional
        A lazy run has |λ_T/λ_0 − 1| ≤ lazy_drift; default 3/√m ("a few/√m").
    band : float
        δ: runs with |c − 2| ≤ δ or |c − c_max| ≤ δ are ambiguous.
    stall : float
        A run has stalled when |L_T − L_{T−1}| ≤ stall · L_T.
    dead : float
        Collapsed needs hidden sparsity ≥ dead.
    """

    divergence_factor: float = 1e3
    norm_factor: float = 1e6
    converged: float = 1e-6
    spike: float = 2.0
    lazy_overshoot: float = 1e-6
    lazy_drift: float | None = None
    band: float = 0.1
    stall: float = 1e-6
    dead: float = 0.99


def classify_run(c: float, loss, lam0: float, lam_final: float, eta: float, weight_norm, width: float, *,
                 c_max: float | None = None, sparsity: float | None = None, diverged: bool = False,
                 rules: PhaseRules = PhaseRules()) -> tuple[str, str]:
    """Label one run lazy, catapult, divergent, collapsed or ambiguous (first matching rule wins).

    Parameters
    ----------
    c : float
        η λ0.
    loss, weight_norm : array_like (T + 1,)
        L_t and |θ_t|² at every step.
    lam0, lam_final, eta : float
        λ_max(H_0), λ_max(H_T) and η.
    width : float
        m.
    c_max : float, optional
        Where theory puts the edge of convergence (4 for the uv model); runs within `rules.band`
        of it are ambiguous.
    sparsity : float, optional
        The largest hidden-layer fraction of negative pre-activations (needed for "collapsed").
    diverged : bool
        Whether the trainer froze the run.

    Returns
    -------
    (label, reason)

    References
    ----------
    ``shared/theory/catapult.md`` §12.

    Examples
    --------
    >>> classify_run(0.5, [1.0, 0.25, 0.06], 2.0, 2.0, 0.25, [4.0, 4.0, 4.0], 1e4, rules=PhaseRules(converged=0.1))
    ('lazy', 'converged (L_T/L_0 = 0.06), max L/L_0 = 1, lambda_T/lambda_0 - 1 = 0')
    """
    loss = np.asarray(loss, dtype=np.float64)
    norms = np.asarray(weight_norm, dtype=np.float64)
    l0, lt = loss[0], loss[-1]
    finite = np.all(np.isfinite(loss))
    peak = float(np.max(loss)) if finite else math.inf
    # 1. divergent
    if diverged or not finite or peak > rules.divergence_factor * max(l0, 1.0) * width \
            or float(np.max(norms)) > rules.norm_factor * norms[0]:
        frozen = " (frozen by the trainer)" if diverged else ""
        return "divergent", (f"diverged: max L/L_0 = {peak / l0:.3g}, max |theta|^2/|theta_0|^2 = "
                             f"{float(np.max(norms)) / norms[0]:.3g}{frozen}")
    converged = lt < rules.converged * l0
    # 2. collapsed
    stalled = len(loss) > 1 and abs(lt - loss[-2]) <= rules.stall * lt
    if not converged and stalled and sparsity is not None and sparsity >= rules.dead:
        return "collapsed", f"stalled at L_T/L_0 = {lt / l0:.3g} with sparsity {sparsity:.3f}"
    # 3. ambiguous band
    band = rules.band + 1e-9  # the band is closed: c = 2 + δ written in decimal is in it
    if abs(c - 2.0) <= band or (c_max is not None and abs(c - c_max) <= band):
        return "ambiguous", f"c = {c:g} within {rules.band:g} of " + ("2" if abs(c - 2) <= band else f"{c_max:g}")
    t_star = int(np.argmax(loss))
    drift = lam_final / lam0 - 1.0
    # 4. catapult
    if converged and peak >= rules.spike * l0 and t_star > 0 and eta * lam_final < 2 and lam_final < lam0:
        return "catapult", (f"converged (L_T/L_0 = {lt / l0:.3g}) after a spike max L/L_0 = {peak / l0:.3g} at "
                            f"t* = {t_star}, eta lambda_T = {eta * lam_final:.3g}")
    # 5. lazy
    drift_tol = rules.lazy_drift if rules.lazy_drift is not None else 3.0 / math.sqrt(width)
    if converged and peak <= (1 + rules.lazy_overshoot) * l0 and abs(drift) <= drift_tol:
        return "lazy", (f"converged (L_T/L_0 = {lt / l0:.3g}), max L/L_0 = {peak / l0:.6g}, "
                        f"lambda_T/lambda_0 - 1 = {drift:.3g}")
    return "ambiguous", (f"no rule matched: L_T/L_0 = {lt / l0:.3g}, max L/L_0 = {peak / l0:.3g}, t* = {t_star}, "
                         f"eta lambda_T = {eta * lam_final:.3g}, lambda_T/lambda_0 = {lam_final / lam0:.3g}")


def classify_sweep(result: SweepResult, *, c_max: float | None = None, rules: PhaseRules = PhaseRules()
                   ) -> list[tuple[str, str]]:
    """:func:`classify_run` for every model of a sweep.

    Examples
    --------
    >>> from relunet.constructions.catapult_models import StackedUV
    >>> res = run_c_sweep(StackedUV(1000), [[1.0]], [0.0], c=[0.5, 3.0, 4.5], steps=200, seeds=1)
    >>> [label for label, _ in classify_sweep(res, c_max=4.0)]
    ['lazy', 'catapult', 'divergent']
    """
    sparse = None if result.sparsity is None else result.sparsity.max(axis=1)
    return [classify_run(float(result.c[i]), result.loss[:, i], float(result.lam0[i]), float(result.lam_final[i]),
                         float(result.eta[i]), result.weight_norm[:, i], result.width, c_max=c_max,
                         sparsity=None if sparse is None else float(sparse[i]), diverged=bool(result.diverged[i]),
                         rules=rules)
            for i in range(result.c.size)]

