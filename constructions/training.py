"""The batched trainer: K models of one architecture trained at once as stacked tensors.

Each model has its own data (rows of X and Y, with a mask for models with fewer samples), its
own initialisation seed, learning rate and loss scale.  Full-batch GD, minibatch SGD and Adam
update all K together; metrics are written into device buffers at chosen steps, so recording
them forces no host synchronisation.  A model whose loss becomes non-finite or exceeds a cap is
frozen at that step and flagged; because the K models share no computation, it never disturbs
the others, and a stacked run equals K separate runs to float rounding
(:func:`train_one_by_one` is the simple reference the tests compare against).

References
----------
``shared/theory/catapult.md`` §2 for the loss convention L = (1/2n) Σ ε² and GD on it.
``shared/DESIGN.md``, "The batched trainer".
"""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from .models import StackedModel
from .validation import check_int, check_positive, check_real, check_seed, check_seeds

__all__ = ["LOSSES", "OPTIMIZERS", "BatchedTrainer", "per_model_loss", "train_one_by_one"]

OPTIMIZERS = ("gd", "sgd", "adam")
LOSSES = ("mse", "logistic", "cross_entropy")
METRICS = ("loss", "weight_norm", "grad_norm", "ntk_top")


def per_model_loss(out: torch.Tensor, y: torch.Tensor, weight: torch.Tensor, loss: str) -> torch.Tensor:
    """Loss of each model, shape (K,).

    Parameters
    ----------
    out : (K, n, out_dim) outputs.
    y : targets: (K, n, out_dim) for "mse"; (K, n) labels in {-1, +1} (or {0, 1}) for
        "logistic"; (K, n) class indices for "cross_entropy".
    weight : (K, n) sample weights, 1/n_k on the valid samples of model k and 0 elsewhere.
    loss : {"mse", "logistic", "cross_entropy"}
        "mse" is (1/(2 n_k o)) Σ_a |f(x_a) - y_a|^2 with o outputs (for one output the
        convention (1/2n) Σ ε² of catapult.md §2; for o outputs the 1/(2nk) normalisation of
        catapult.md §2, under which the effective kernel is the normalised NTK of
        :mod:`relunet.constructions.spectral` and η_crit = 2/λ_max for any o); "logistic" is
        (1/n_k) Σ log(1 + exp(-y f)) for a scalar output;
        "cross_entropy" is (1/n_k) Σ -log softmax(f)_y.
    """
    if loss == "mse":
        return 0.5 * ((out - y) ** 2).mean(-1).mul(weight).sum(-1)
    if loss == "logistic":
        signs = torch.where(y > 0, 1.0, -1.0).to(out.dtype)
        return torch.nn.functional.softplus(-signs * out[..., 0]).mul(weight).sum(-1)
    if loss == "cross_entropy":
        logp = torch.log_softmax(out, dim=-1)
        picked = logp.gather(-1, y.long().unsqueeze(-1))[..., 0]
        return (-picked).mul(weight).sum(-1)
    raise ValueError(f"loss = {loss!r} is not allowed: use one of {LOSSES}")


def _check_classes(model, loss: str) -> None:
    """Cross-entropy needs one output per class, so at least two."""
    out = getattr(model, "output_dim", None)
    if loss == "cross_entropy" and out is not None and out < 2:
        raise ValueError(f"loss = 'cross_entropy' is not allowed for a model with output_dim = {out}: it needs "
                         "output_dim >= 2 (one output per class; use 'logistic' for a single output)")


def _check_betas(betas) -> tuple[float, float]:
    """Adam's (β1, β2), each in [0, 1)."""
    try:
        b1, b2 = betas
    except (TypeError, ValueError):
        raise ValueError(f"betas = {betas!r} is not allowed: give two numbers (beta1, beta2) in [0, 1)") from None
    return (check_real("betas[0]", b1, 0, 1, high_open=True), check_real("betas[1]", b2, 0, 1, high_open=True))


def _check_rates(name: str, value, low_open: bool) -> None:
    """A number, or one per model: finite and > 0 (`low_open`) or >= 0."""
    allowed = "> 0" if low_open else ">= 0"
    try:
        raw = np.asarray(value.detach().cpu() if isinstance(value, torch.Tensor) else value)
    except (TypeError, ValueError):
        raw = np.array(None)
    if raw.dtype.kind not in "iuf":  # a string such as "0.1" would convert, and then fail inside torch
        raise ValueError(f"{name} = {value!r} is not a number: give a finite number {allowed} (or one per model)")
    values = raw.astype(float).reshape(-1)
    bad = np.any(values <= 0) if low_open else np.any(values < 0)
    if values.size == 0 or not np.all(np.isfinite(values)) or bad:
        raise ValueError(f"{name} = {value!r} is out of range: give a finite number {allowed} (or one per model)")


@dataclass
class _Data:
    x: torch.Tensor
    y: torch.Tensor
    weight: torch.Tensor
    valid: list[np.ndarray]


def _per_model(name: str, value, k: int, dtype, device) -> torch.Tensor:
    arr = torch.as_tensor(value, dtype=dtype, device=device).reshape(-1)
    if arr.numel() == 1:
        arr = arr.expand(k).clone()
    if arr.numel() != k:
        raise ValueError(f"{name} has {arr.numel()} entries: give one value or one per model (K = {k})")
    if not torch.all(torch.isfinite(arr)) or torch.any(arr <= 0):
        raise ValueError(f"{name} = {arr.tolist()[:4]}... must be finite and > 0")
    return arr


class BatchedTrainer:
    """Train K models of one architecture at once.

    Parameters
    ----------
    model : StackedModel
        The family (e.g. :class:`~relunet.constructions.models.StackedMLP`).
    optimizer : {"gd", "sgd", "adam"}
        Full-batch gradient descent, minibatch SGD (``batch_size`` samples per model per step,
        drawn without replacement from that model's valid samples by its own generator) or
        Adam (full batch unless ``batch_size`` is given).
    lr : float or sequence of K floats
        Learning rates, one per model.
    loss : {"mse", "logistic", "cross_entropy"}
        See :func:`per_model_loss`.  "cross_entropy" needs a model with ``output_dim >= 2`` and
        labels that are class indices in [0, output_dim - 1].
    loss_scale : float or sequence of K floats
        Each model's loss is multiplied by its scale.
    steps : int
        Most steps to take.
    batch_size : int, optional
    record_every : int
        Record metrics at steps 0, record_every, 2 record_every, ... and at the last step.
    metrics : sequence of {"loss", "weight_norm", "grad_norm", "ntk_top"}
        "weight_norm" is |θ|^2, "grad_norm" is |∇L|; "ntk_top" (the top eigenvalue of the
        normalised NTK, by :mod:`relunet.constructions.spectral`) costs a Lanczos run per record.
    divergence_cap : float
        A model whose loss exceeds this (or is not finite) is frozen and flagged.
    tol : float, optional
        Stop once every model that is still training has loss below `tol` (a finite number > 0).
    time_budget : float, optional
        Stop after this many seconds (a number >= 0).
    check_every : int
        Steps between the host checks of `tol`, `time_budget` and the progress bar (the only
        points where the host waits for the device).
    device : {"cpu", "cuda", "auto"} or torch.device
    dtype : torch.dtype
        float64 (default) or float32.
    betas, eps : Adam's parameters: two numbers in [0, 1), and a finite number > 0.
    weight_decay : float or sequence of K floats
        Decoupled weight decay λ >= 0 (Loshchilov and Hutter 2019): every step also subtracts
        lr λ θ from all parameters (for "gd" and "sgd" the same as an L2 penalty λ|θ|²/2);
        0 (the default) changes nothing.
    seed : int
        An integer in [0, 2^63 - 1]; it seeds the minibatch generators: model k uses
        ``numpy.random.default_rng([seed, s_k])`` with s_k its init seed (or its index k when
        `params` are given).
    progress : bool, optional
        Show a progress bar; by default only when stderr is a terminal.

    Attributes
    ----------
    params_ : dict of (K, ...) tensors, the final parameters.
    history_ : dict of numpy arrays, each (n_records, K), plus "step" (n_records,).
        Every recorded step appears once, the step where `tol` or `time_budget` stopped the run
        included.
    loss_ : numpy array (K,), the last recorded loss of each model.
    diverged_ : numpy bool array (K,).
    diverged_step_ : numpy int array (K,), the step at which a model was frozen (-1 if never).
    steps_run_ : int
    stopped_by_ : {"steps", "tol", "time_budget"}
    seconds_ : float

    Examples
    --------
    >>> from relunet.constructions.models import StackedMLP
    >>> mlp = StackedMLP(2, 16, 1)
    >>> x = torch.randn(4, 32, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    >>> y = x[..., :1] ** 2
    >>> trainer = BatchedTrainer(mlp, lr=[0.1, 0.2, 0.4, 0.8], steps=200).fit(x, y, seeds=range(4))
    >>> trainer.history_["loss"].shape, bool((trainer.loss_ < trainer.history_["loss"][0]).all())
    ((21, 4), True)
    """

    def __init__(self, model: StackedModel, *, optimizer: str = "gd", lr=0.1, loss: str = "mse",
                 loss_scale=1.0, steps: int = 1000, batch_size: int | None = None,
                 record_every: int = 10, metrics: Sequence[str] = ("loss", "weight_norm", "grad_norm"),
                 divergence_cap: float = 1e10, tol: float | None = None,
                 time_budget: float | None = None, check_every: int = 50, device="cpu",
                 dtype: torch.dtype = torch.float64, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay=0.0, seed: int = 0, progress: bool | None = None):
        if optimizer not in OPTIMIZERS:
            raise ValueError(f"optimizer = {optimizer!r} is not allowed: use one of {OPTIMIZERS}")
        if loss not in LOSSES:
            raise ValueError(f"loss = {loss!r} is not allowed: use one of {LOSSES}")
        _check_classes(model, loss)
        steps, record_every, check_every = (check_int(name, value, low) for name, value, low in (
            ("steps", steps, 0), ("record_every", record_every, 1), ("check_every", check_every, 1)))
        if batch_size is not None:
            batch_size = check_int("batch_size", batch_size, 1)
        if optimizer == "sgd" and batch_size is None:
            raise ValueError("batch_size = None: optimizer 'sgd' needs a batch size (use 'gd' for full batch)")
        bad = [m for m in metrics if m not in METRICS]
        if bad:
            raise ValueError(f"metrics = {bad[0]!r} is not allowed: use any of {METRICS}")
        if dtype not in (torch.float32, torch.float64):
            raise ValueError(f"dtype = {dtype} is not allowed: use torch.float32 or torch.float64")
        self.model, self.optimizer, self.lr, self.loss = model, optimizer, lr, loss
        self.loss_scale, self.steps, self.batch_size = loss_scale, steps, batch_size
        self.record_every, self.metrics = record_every, tuple(metrics)
        self.divergence_cap = check_real("divergence_cap", divergence_cap, 0, low_open=True, finite=False)
        self.tol = None if tol is None else check_positive("tol", tol)
        self.time_budget = None if time_budget is None else check_real("time_budget", time_budget, 0, finite=False)
        self.check_every, self.device, self.dtype = check_every, device, dtype
        self.betas, self.eps = _check_betas(betas), check_positive("eps", eps)
        self.seed, self.progress = check_seed(seed), progress
        self.weight_decay = weight_decay
        for name, value, low_open in (("weight_decay", weight_decay, False), ("lr", lr, True),
                                      ("loss_scale", loss_scale, True)):
            _check_rates(name, value, low_open)

    # -- setup ------------------------------------------------------------------------------------
    def _device(self) -> torch.device:
        if self.device == "auto":
            return torch.device("cuda" if torch.cuda.is_available() else "cpu")
        dev = torch.device(self.device)
        if dev.type == "cuda" and not torch.cuda.is_available():
            raise ValueError("device = 'cuda' is not available here: use 'cpu' or 'auto'")
        return dev

    def _data(self, x, y, mask, k: int, device, source: str) -> _Data:
        x = torch.as_tensor(x, dtype=self.dtype, device=device)
        shared = x.ndim == 2  # one (n, d) data set for all models; then y may be (n,) or (n, out)
        if shared:
            x = x.expand(k, *x.shape)
        if x.ndim == 3 and x.shape[2] == self.model.input_dim and x.shape[0] != k:
            raise ValueError(f"{source} but x has shape {tuple(x.shape)}, data for K = {x.shape[0]}: give "
                             "one per model")
        if x.ndim != 3 or x.shape[0] != k or x.shape[2] != self.model.input_dim:
            raise ValueError(f"x has shape {tuple(x.shape)}: expected (K={k}, n, {self.model.input_dim}) "
                             f"or (n, {self.model.input_dim})")
        n = x.shape[1]
        y = self._targets(y, shared, k, n, device)
        for name, t in (("x", x), ("y", y)):
            if t.is_floating_point() and not bool(torch.isfinite(t).all()):
                raise ValueError(f"{name} has NaN or inf entries: training data must be finite")
        if mask is None:
            valid_mask = torch.ones(k, n, dtype=torch.bool, device=device)
        else:
            valid_mask = torch.as_tensor(mask, dtype=torch.bool, device=device)
            if tuple(valid_mask.shape) != (k, n):
                raise ValueError(f"mask has shape {tuple(valid_mask.shape)}: expected ({k}, {n})")
        counts = valid_mask.sum(-1)
        if torch.any(counts == 0):
            raise ValueError(f"mask: model {int(torch.argmin(counts))} has no valid sample")
        weight = valid_mask.to(self.dtype) / counts.unsqueeze(-1).to(self.dtype)
        valid = [np.flatnonzero(row) for row in valid_mask.cpu().numpy()]
        if self.batch_size is not None and self.batch_size > int(counts.min()):
            raise ValueError(f"batch_size = {self.batch_size} exceeds the {int(counts.min())} valid samples "
                             "of the smallest model")
        return _Data(x.contiguous(), y.contiguous(), weight, valid)

    def _targets(self, y, shared: bool, k: int, n: int, device) -> torch.Tensor:
        """y as (K, n, out_dim) for "mse", (K, n) for the class losses."""
        if self.loss == "mse":
            y = torch.as_tensor(y, dtype=self.dtype, device=device)
            if y.ndim == (1 if shared else 2) and self.model.output_dim == 1:
                y = y.unsqueeze(-1)
            if shared and y.ndim == 2:
                y = y.expand(k, *y.shape)
            want = (k, n, self.model.output_dim)
        else:
            y = torch.as_tensor(y, device=device)
            y = y.to(self.dtype) if self.loss == "logistic" else self._class_indices(y)
            if shared and y.ndim == 1:
                y = y.expand(k, *y.shape)
            want = (k, n)
        if tuple(y.shape) != want:
            raise ValueError(f"y has shape {tuple(y.shape)}: expected {want} for loss {self.loss!r}")
        return y

    def _class_indices(self, y: torch.Tensor) -> torch.Tensor:
        """Cross-entropy labels: integers in [0, output_dim - 1], as a long tensor."""
        classes = self.model.output_dim
        allowed = f"loss 'cross_entropy' needs class indices, integers in [0, {classes - 1}] (output_dim = {classes})"
        if y.is_floating_point() and not bool((y == torch.round(y)).all()):
            raise ValueError(f"y has non-integer or non-finite entries: {allowed}")
        y = y.long()
        if y.numel() and (int(y.min()) < 0 or int(y.max()) >= classes):
            raise ValueError(f"y has labels from {int(y.min())} to {int(y.max())}: {allowed}")
        return y

    def _start(self, seeds, params, device) -> tuple[dict, list[int], str]:
        """The initial parameters, the keys of the minibatch streams and what fixed K (for messages)."""
        if (seeds is None) == (params is None):
            raise ValueError("give exactly one of seeds (to initialise) or params (to start from)")
        if params is None:
            seeds = check_seeds(seeds)
            params = self.model.init(seeds, self.dtype, device)
            source = f"seeds = {seeds[:4]}{'...' if len(seeds) > 4 else ''} has {len(seeds)} entries,"
        params = self._check_params(params, device)
        k = next(iter(params.values())).shape[0]
        if seeds is None:
            return params, list(range(k)), f"params hold K = {k} models,"
        return params, seeds, source

    def _check_params(self, params, device) -> dict:
        """Copies of `params` on `device`, checked against the family's parameter shapes."""
        if not isinstance(params, dict) or not params:
            raise ValueError(f"params = {type(params).__name__} is not allowed: give a non-empty dict of "
                             "(K, ...) tensors")
        try:
            shapes = self.model.parameter_shapes()
        except (AttributeError, NotImplementedError):  # a family that does not list its shapes
            shapes = {name: tuple(p.shape[1:]) for name, p in params.items()}
        if set(params) != set(shapes):
            missing, extra = sorted(set(shapes) - set(params)), sorted(set(params) - set(shapes))
            raise ValueError(f"params has keys {sorted(params)}: the model needs exactly {sorted(shapes)} "
                             f"(missing {missing}, unexpected {extra})")
        out = {name: torch.as_tensor(p).detach().to(device=device, dtype=self.dtype).clone()
               for name, p in params.items()}
        k = next(iter(out.values())).shape[0] if next(iter(out.values())).ndim else 0
        for name, p in out.items():
            if k < 1 or tuple(p.shape) != (k, *shapes[name]):
                raise ValueError(f"params[{name!r}] has shape {tuple(p.shape)}: expected (K, *{tuple(shapes[name])}) "
                                 f"with the same K >= 1 for every entry")
        return out

    # -- training ----------------------------------------------------------------------------------
    def fit(self, x, y, *, seeds: Sequence[int] | None = None, params: dict | None = None,
            mask=None) -> BatchedTrainer:
        """Train; x is (K, n, d) or (n, d) shared by all models, y matches the loss.

        Give `seeds` (one per model, integers in [0, 2^63 - 1]) to initialise from the model
        family, or `params` (a dict of (K, ...) tensors with the family's parameter names and
        shapes) to start from given weights.
        """
        from tqdm import tqdm

        device = self._device()
        params, keys, source = self._start(seeds, params, device)
        k = next(iter(params.values())).shape[0]
        data = self._data(x, y, mask, k, device, source)
        lr = _per_model("lr", self.lr, k, self.dtype, device)
        scale = _per_model("loss_scale", self.loss_scale, k, self.dtype, device)
        decay = torch.as_tensor(self.weight_decay, dtype=self.dtype, device=device).reshape(-1)
        if decay.numel() not in (1, k):
            raise ValueError(f"weight_decay has {decay.numel()} entries: give one value or one per model (K = {k})")
        decay = decay.expand(k) if bool(torch.any(decay > 0)) else None
        # Model i draws its minibatches from its own stream, keyed by its init seed when given,
        # so a model draws the same batches whether it trains alone or among others.
        rngs = [np.random.default_rng([self.seed, key]) for key in keys]

        record_steps = sorted(set(range(0, self.steps + 1, self.record_every)) | {self.steps})
        slots = {s: i for i, s in enumerate(record_steps)}
        buffers = {m: torch.full((len(record_steps), k), float("nan"), dtype=self.dtype, device=device)
                   for m in self.metrics}
        frozen = torch.zeros(k, dtype=torch.bool, device=device)
        frozen_step = torch.full((k,), -1, dtype=torch.long, device=device)
        adam = {name: (torch.zeros_like(p), torch.zeros_like(p)) for name, p in params.items()} \
            if self.optimizer == "adam" else None

        show = sys.stderr.isatty() if self.progress is None else self.progress
        bar = tqdm(total=self.steps, disable=not show, file=sys.stderr, unit="step", leave=False)
        start = time.perf_counter()
        stopped_by, step, last_recorded = "steps", 0, -1
        try:
            for step in range(self.steps + 1):
                batch = self._batch(data, rngs, device, step) if self.batch_size else None
                record = step in slots
                if step == self.steps and not record:
                    break
                loss_k, grads = self._loss_and_grads(params, data, batch, scale,
                                                     need_grads=step < self.steps or "grad_norm" in self.metrics)
                bad = ~torch.isfinite(loss_k) | (loss_k > self.divergence_cap)
                newly = bad & ~frozen
                frozen_step = torch.where(newly, torch.full_like(frozen_step, step), frozen_step)
                frozen = frozen | bad
                if record:
                    self._record(buffers, slots[step], params, data, loss_k, grads, k)
                    last_recorded = step
                if step == self.steps:
                    break
                self._update(params, grads, lr, frozen, adam, step, decay)
                if (step + 1) % self.check_every == 0:
                    bar.update(self.check_every)
                    if self.time_budget is not None and time.perf_counter() - start > self.time_budget:
                        stopped_by = "time_budget"
                        step += 1
                        break
                    if self.tol is not None:
                        active = ~frozen
                        if bool(active.any()) and bool((loss_k[active] < self.tol).all()):
                            stopped_by = "tol"
                            step += 1
                            break
        finally:
            bar.close()
        if last_recorded != step and stopped_by != "steps":
            loss_k, buffers = self._record_stop(buffers, record_steps, slots, step, params, data, scale, k)
            last_recorded = step
        used = [i for i, s in enumerate(record_steps) if s <= last_recorded]
        self.history_ = {m: b[used].cpu().numpy() for m, b in buffers.items()}
        self.history_["step"] = np.array([record_steps[i] for i in used])
        self.params_ = params
        self.loss_ = self.history_["loss"][-1] if "loss" in self.history_ else loss_k.detach().cpu().numpy()
        self.diverged_ = frozen.cpu().numpy()
        self.diverged_step_ = frozen_step.cpu().numpy()
        self.steps_run_ = step
        self.stopped_by_ = stopped_by
        self.seconds_ = time.perf_counter() - start
        return self

    def _record_stop(self, buffers, record_steps: list[int], slots: dict, step: int, params, data: _Data, scale,
                     k: int):
        """Record the metrics at the step where `tol` or `time_budget` stopped the run.

        The step's own slot is used when it is a recording step (so it is not listed twice);
        otherwise a slot is appended.  Returns the loss there and the (possibly grown) buffers.
        """
        loss_k, grads = self._loss_and_grads(params, data, None, scale, need_grads="grad_norm" in self.metrics)
        if step not in slots:
            record_steps.append(step)
            slots[step] = len(record_steps) - 1
            buffers = {m: torch.cat([b, torch.full((1, k), float("nan"), dtype=self.dtype, device=b.device)])
                       for m, b in buffers.items()}
        self._record(buffers, slots[step], params, data, loss_k, grads, k)
        return loss_k, buffers

    def _batch(self, data: _Data, rngs, device, step: int) -> torch.Tensor:
        idx = np.stack([data.valid[i][rng.choice(len(data.valid[i]), self.batch_size, replace=False)]
                        for i, rng in enumerate(rngs)])
        return torch.as_tensor(idx, device=device)

    def _loss_and_grads(self, params, data: _Data, batch, scale, need_grads: bool):
        leaves = {n: p.requires_grad_(need_grads) for n, p in params.items()}
        with torch.set_grad_enabled(need_grads):
            if batch is None:
                x, y, w = data.x, data.y, data.weight
            else:
                rows = torch.arange(batch.shape[0], device=batch.device).unsqueeze(1)
                x, y = data.x[rows, batch], data.y[rows, batch]
                w = torch.full(batch.shape, 1.0 / batch.shape[1], dtype=self.dtype, device=batch.device)
            loss_k = per_model_loss(self.model.forward(leaves, x), y, w, self.loss) * scale
            grads = None
            if need_grads:
                # The models share no computation, so the gradient of the sum is each model's own.
                grads = torch.autograd.grad(loss_k.sum(), list(leaves.values()))
                grads = dict(zip(leaves, grads))
        for p in params.values():
            p.requires_grad_(False)
        return loss_k.detach(), grads

    def _record(self, buffers, slot: int, params, data, loss_k, grads, k: int) -> None:
        if "loss" in buffers:
            buffers["loss"][slot] = loss_k
        if "weight_norm" in buffers:
            buffers["weight_norm"][slot] = sum(p.reshape(k, -1).pow(2).sum(-1) for p in params.values())
        if "grad_norm" in buffers and grads is not None:
            buffers["grad_norm"][slot] = torch.sqrt(sum(g.reshape(k, -1).pow(2).sum(-1) for g in grads.values()))
        if "ntk_top" in buffers:
            from .spectral import top_ntk_eigenvalues

            mask = data.weight > 0
            buffers["ntk_top"][slot] = top_ntk_eigenvalues(self.model, params, data.x, k=1, mask=mask)[:, 0]

    def _update(self, params, grads, lr, frozen, adam, step: int, decay=None) -> None:
        keep = frozen
        with torch.no_grad():
            for name, p in params.items():
                g = grads[name]
                shape = (-1,) + (1,) * (p.ndim - 1)
                rate = lr.view(shape)
                if adam is None:
                    step_vec = rate * g
                else:
                    b1, b2 = self.betas
                    m, v = adam[name]
                    m.mul_(b1).add_(g, alpha=1 - b1)
                    v.mul_(b2).addcmul_(g, g, value=1 - b2)
                    m_hat = m / (1 - b1 ** (step + 1))
                    v_hat = v / (1 - b2 ** (step + 1))
                    step_vec = rate * m_hat / (v_hat.sqrt() + self.eps)
                new = p - step_vec
                if decay is not None:
                    new = new - rate * decay.view(shape) * p
                p.copy_(torch.where(keep.view(shape), p, new))


def train_one_by_one(model: StackedModel, params: dict, x, y, *, lr, steps: int, loss: str = "mse",
                     mask=None) -> tuple[dict, np.ndarray]:
    """Reference implementation: full-batch GD on each model alone, as an ordinary nn.Module.

    The simple thing the batched trainer must equal (to float rounding): a loop over the K
    models, each trained with ``torch.autograd`` on its own ``model.single`` module.  Returns
    the final parameters (stacked like `params`) and the loss history (steps + 1, K).
    """
    k = next(iter(params.values())).shape[0]
    dtype = next(iter(params.values())).dtype
    x = torch.as_tensor(x, dtype=dtype)
    x = x.expand(k, *x.shape) if x.ndim == 2 else x
    y = torch.as_tensor(y, dtype=dtype if loss != "cross_entropy" else torch.long)
    if loss == "mse" and y.ndim == 2:
        y = y.unsqueeze(-1)
    lrs = np.broadcast_to(np.asarray(lr, dtype=float), (k,))
    finals, history = [], np.full((steps + 1, k), np.nan)
    for i in range(k):
        net = model.single(params, i)
        rows = slice(None) if mask is None else torch.as_tensor(mask[i], dtype=torch.bool)
        xi, yi = x[i][rows], y[i][rows]
        n = xi.shape[0]
        for t in range(steps + 1):
            out = net(xi)
            w = torch.full((1, n), 1.0 / n, dtype=dtype)
            value = per_model_loss(out.unsqueeze(0), yi.unsqueeze(0), w, loss)[0]
            history[t, i] = float(value.detach())
            if t == steps:
                break
            net.zero_grad()
            value.backward()
            with torch.no_grad():
                for p in net.parameters():
                    p -= float(lrs[i]) * p.grad
        finals.append(_single_params(model, net))
    stacked = {name: torch.stack([f[name] for f in finals]) for name in params}
    return stacked, history


def _single_params(model: StackedModel, net: torch.nn.Module) -> dict:
    """Read a StackedMLP-style single module back into the family's parameter names."""
    linears = [m.linear for m in net.modules() if hasattr(m, "linear")]
    out = {}
    for i, lin in enumerate(linears):
        out[f"w{i}"] = lin.weight.detach().clone()
        if lin.bias is not None:
            out[f"b{i}"] = lin.bias.detach().clone()
    return out
