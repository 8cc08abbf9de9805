"""The batched trainer: equal to separate runs, isolates divergence, records, stops, validates."""

import numpy as np
import pytest
import torch
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from relunet.constructions.models import StackedMLP
from relunet.constructions.training import BatchedTrainer, per_model_loss, train_one_by_one


def _data(k, n, d, seed=0, out=1):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(k, n, d, dtype=torch.float64, generator=g)
    y = torch.randn(k, n, out, dtype=torch.float64, generator=g)
    return x, y


def _max_diff(a: dict, b: dict) -> float:
    return max(float((a[k] - b[k]).abs().max()) for k in a)


@settings(max_examples=30)
@given(k=st.integers(1, 4), n=st.integers(2, 12), d=st.integers(1, 3), width=st.integers(1, 6),
       depth=st.integers(0, 2), activation=st.sampled_from(["relu", "leaky_relu", "identity"]),
       bias=st.booleans(), param=st.sampled_from(["ntk", "standard"]),
       lrs=st.lists(st.floats(1e-3, 0.2), min_size=4, max_size=4), seed=st.integers(0, 10**6),
       masked=st.booleans())
def test_stacked_equals_one_by_one(k, n, d, width, depth, activation, bias, param, lrs, seed, masked):
    mlp = StackedMLP(d, width, depth, activation=activation, negative_slope=0.3, bias=bias,
                     parameterization=param)
    x, y = _data(k, n, d, seed)
    mask = None
    if masked:
        rng = np.random.default_rng(seed)
        mask = rng.random((k, n)) < 0.7
        mask[:, 0] = True
    lr = lrs[:k]
    steps = 15
    trainer = BatchedTrainer(mlp, lr=lr, steps=steps, record_every=1).fit(x, y, seeds=range(seed, seed + k),
                                                                          mask=mask)
    assume(not trainer.diverged_.any())  # divergence has its own test below
    ref_params, ref_loss = train_one_by_one(mlp, mlp.init(range(seed, seed + k)), x, y, lr=lr, steps=steps,
                                            mask=mask)
    assert _max_diff(trainer.params_, ref_params) <= 1e-10
    np.testing.assert_allclose(trainer.history_["loss"], ref_loss, rtol=1e-10, atol=1e-12)


def test_diverging_models_are_frozen_and_do_not_disturb_the_others():
    mlp = StackedMLP(3, 16, 2)
    x, y = _data(6, 20, 3)
    lr = [0.1, 1e3, 0.2, 5e3, 0.3, 1e4]
    both = BatchedTrainer(mlp, lr=lr, steps=100, divergence_cap=1e8, record_every=5).fit(x, y, seeds=range(6))
    good = [0, 2, 4]
    alone = BatchedTrainer(mlp, lr=[lr[i] for i in good], steps=100, record_every=5).fit(
        x[good], y[good], seeds=good)
    assert both.diverged_.tolist() == [False, True, False, True, False, True]
    assert (both.diverged_step_[[1, 3, 5]] > 0).all() and (both.diverged_step_[good] == -1).all()
    for name in alone.params_:
        assert torch.equal(both.params_[name][good], alone.params_[name])
    np.testing.assert_array_equal(both.history_["loss"][:, good], alone.history_["loss"])
    # a frozen model keeps the parameters it had when it was flagged
    assert all(torch.isfinite(both.params_[n][1]).all() for n in both.params_)


def test_sgd_batches_are_per_model():
    mlp = StackedMLP(2, 8, 1)
    x, y = _data(3, 30, 2, seed=4)
    seeds = [11, 12, 13]
    together = BatchedTrainer(mlp, optimizer="sgd", batch_size=7, lr=0.2, steps=40, seed=5).fit(
        x, y, seeds=seeds)
    for i, s in enumerate(seeds):
        alone = BatchedTrainer(mlp, optimizer="sgd", batch_size=7, lr=0.2, steps=40, seed=5).fit(
            x[i:i + 1], y[i:i + 1], seeds=[s])
        for name in alone.params_:
            assert float((together.params_[name][i] - alone.params_[name][0]).abs().max()) <= 1e-12
    again = BatchedTrainer(mlp, optimizer="sgd", batch_size=7, lr=0.2, steps=40, seed=5).fit(x, y, seeds=seeds)
    assert _max_diff(together.params_, again.params_) == 0.0


def test_adam_equals_torch_adam():
    mlp = StackedMLP(2, 6, 2)
    x, y = _data(2, 16, 2, seed=1)
    lr = [1e-2, 3e-2]
    trainer = BatchedTrainer(mlp, optimizer="adam", lr=lr, steps=30).fit(x, y, seeds=[0, 1])
    start = mlp.init([0, 1])
    for i in range(2):
        net = mlp.single(start, i)
        opt = torch.optim.Adam(net.parameters(), lr=lr[i], betas=(0.9, 0.999), eps=1e-8)
        for _ in range(30):
            opt.zero_grad()
            out = net(x[i])
            loss = 0.5 * ((out - y[i]) ** 2).sum(-1).mean()
            loss.backward()
            opt.step()
        linears = [m.linear for m in net.modules() if hasattr(m, "linear")]
        for j, lin in enumerate(linears):
            assert float((trainer.params_[f"w{j}"][i] - lin.weight.detach()).abs().max()) <= 1e-10
            assert float((trainer.params_[f"b{j}"][i] - lin.bias.detach()).abs().max()) <= 1e-10


def test_metrics_recorded_at_chosen_steps():
    mlp = StackedMLP(2, 8, 1, bias=False)
    x, y = _data(3, 10, 2)
    tr = BatchedTrainer(mlp, lr=0.1, steps=25, record_every=10).fit(x, y, seeds=range(3))
    assert tr.history_["step"].tolist() == [0, 10, 20, 25]
    assert tr.history_["loss"].shape == (4, 3) and tr.loss_.shape == (3,)
    final = tr.params_
    norm = sum(p.reshape(3, -1).pow(2).sum(-1) for p in final.values()).numpy()
    np.testing.assert_allclose(tr.history_["weight_norm"][-1], norm, rtol=1e-12)
    assert np.all(tr.history_["grad_norm"] > 0)
    loss = per_model_loss(mlp.forward(final, x), y, torch.full((3, 10), 0.1, dtype=torch.float64), "mse")
    np.testing.assert_allclose(tr.loss_, loss.numpy(), rtol=1e-12)


def test_stopping_by_tolerance_and_time():
    mlp = StackedMLP(1, 32, 1)
    x = torch.linspace(-1, 1, 8, dtype=torch.float64).reshape(1, 8, 1).expand(2, 8, 1)
    y = 0.1 * x
    tr = BatchedTrainer(mlp, lr=0.5, steps=100_000, tol=1e-6, check_every=10).fit(x, y, seeds=[0, 1])
    assert tr.stopped_by_ == "tol" and tr.steps_run_ < 100_000 and (tr.loss_ < 1e-6).all()
    tr = BatchedTrainer(mlp, lr=1e-4, steps=10**7, time_budget=0.3, check_every=5).fit(x, y, seeds=[0, 1])
    assert tr.stopped_by_ == "time_budget" and tr.seconds_ < 5
    assert tr.history_["step"][-1] == tr.steps_run_


def test_float32_and_class_losses():
    mlp = StackedMLP(2, 8, 1, output_dim=3)
    x, _ = _data(2, 12, 2)
    labels = torch.randint(0, 3, (2, 12), generator=torch.Generator().manual_seed(0))
    tr = BatchedTrainer(mlp, lr=0.5, loss="cross_entropy", steps=50, dtype=torch.float32).fit(
        x, labels, seeds=[0, 1])
    assert tr.params_["w0"].dtype == torch.float32 and tr.loss_[0] < tr.history_["loss"][0, 0]
    out = torch.randn(2, 12, 3, dtype=torch.float64)
    w = torch.full((2, 12), 1 / 12, dtype=torch.float64)
    ref = torch.stack([torch.nn.functional.cross_entropy(out[i], labels[i]) for i in range(2)])
    torch.testing.assert_close(per_model_loss(out, labels, w, "cross_entropy"), ref, rtol=1e-12, atol=0)
    signs = torch.where(labels[:, :] > 0, 1.0, -1.0).to(torch.float64)
    ref = torch.stack([torch.nn.functional.soft_margin_loss(out[i, :, 0], signs[i]) for i in range(2)])
    torch.testing.assert_close(per_model_loss(out[..., :1], signs, w, "logistic"), ref, rtol=1e-12, atol=0)


@pytest.mark.parametrize("kwargs, fragment", [
    ({"optimizer": "lbfgs"}, "optimizer"),
    ({"loss": "hinge"}, "loss"),
    ({"steps": -1}, "steps"),
    ({"optimizer": "sgd"}, "batch_size"),
    ({"metrics": ["loss", "curvature"]}, "metrics"),
    ({"dtype": torch.float16}, "dtype"),
])
def test_bad_settings(kwargs, fragment):
    with pytest.raises(ValueError, match=fragment):
        BatchedTrainer(StackedMLP(2, 4, 1), **kwargs)


def test_bad_data():
    mlp = StackedMLP(2, 4, 1)
    x, y = _data(2, 5, 2)
    with pytest.raises(ValueError, match="lr"):
        BatchedTrainer(mlp, lr=[0.1, 0.2, 0.3]).fit(x, y, seeds=[0, 1])
    with pytest.raises(ValueError, match="x has shape"):
        BatchedTrainer(mlp).fit(x[..., :1], y, seeds=[0, 1])
    with pytest.raises(ValueError, match="y has shape"):
        BatchedTrainer(mlp).fit(x, y[:, :3], seeds=[0, 1])
    with pytest.raises(ValueError, match="no valid sample"):
        BatchedTrainer(mlp).fit(x, y, seeds=[0, 1], mask=torch.zeros(2, 5, dtype=torch.bool))
    with pytest.raises(ValueError, match="exactly one"):
        BatchedTrainer(mlp).fit(x, y)


@pytest.mark.gpu
def test_cuda_matches_cpu():
    mlp = StackedMLP(3, 16, 2)
    x, y = _data(4, 32, 3)
    cpu = BatchedTrainer(mlp, lr=0.2, steps=50).fit(x, y, seeds=range(4))
    gpu = BatchedTrainer(mlp, lr=0.2, steps=50, device="cuda").fit(x, y, seeds=range(4))
    assert _max_diff({k: v.cpu() for k, v in gpu.params_.items()}, cpu.params_) < 1e-9


class _LinearFamily:
    """A model family written outside relunet: f(x) = w . x, to show that families plug in."""

    input_dim, output_dim, homogeneity = 3, 1, 1

    def parameter_shapes(self):
        return {"w": (1, 3)}

    def init(self, seeds, dtype=torch.float64, device="cpu"):
        return {"w": torch.stack([torch.randn(1, 3, generator=torch.Generator().manual_seed(s), dtype=dtype)
                                  for s in seeds]).to(device)}

    def forward(self, params, x):
        return torch.bmm(x, params["w"].transpose(1, 2))


def test_any_family_plugs_in_and_gd_matches_the_closed_form():
    fam = _LinearFamily()
    x, y = _data(2, 10, 3, seed=9)
    lr, steps = 0.3, 25
    tr = BatchedTrainer(fam, lr=lr, steps=steps).fit(x, y, seeds=[4, 5])
    w = fam.init([4, 5])["w"].clone()
    for _ in range(steps):  # GD on (1/2n)|Xw - y|^2: w <- w - lr X^T (Xw - y) / n
        grad = torch.bmm((torch.bmm(x, w.transpose(1, 2)) - y).transpose(1, 2), x) / x.shape[1]
        w = w - lr * grad
    assert float((tr.params_["w"] - w).abs().max()) <= 1e-12


# -- regressions from the API audit (W1, U1, U2, U3) ---------------------------------------------------


@pytest.mark.parametrize("stop", [{"tol": 1e9}, {"time_budget": 0}])
def test_an_early_stop_on_a_recording_step_is_recorded_once(stop):
    mlp = StackedMLP(4, 16, 2)
    x, y = _data(2, 16, 4)
    tr = BatchedTrainer(mlp, lr=0.1, steps=1000, check_every=10, record_every=10, **stop).fit(x, y, seeds=[0, 1])
    assert tr.stopped_by_ == next(iter(stop)) and tr.steps_run_ == 10
    assert tr.history_["step"].tolist() == [0, 10]
    for name in ("loss", "weight_norm", "grad_norm"):
        assert tr.history_[name].shape == (2, 2) and np.all(np.isfinite(tr.history_[name]))
    np.testing.assert_array_equal(tr.loss_, tr.history_["loss"][-1])


def test_an_early_stop_between_recording_steps_appends_one_row():
    mlp = StackedMLP(2, 8, 1)
    x, y = _data(2, 10, 2)
    tr = BatchedTrainer(mlp, lr=0.1, steps=100, tol=1e9, check_every=5, record_every=10).fit(x, y, seeds=[0, 1])
    assert tr.history_["step"].tolist() == [0, 5] and np.all(np.isfinite(tr.history_["loss"]))


@pytest.mark.parametrize(("call", "match"), [
    (lambda mlp, x, y: BatchedTrainer(mlp, optimizer="sgd", batch_size=2, seed=-1), r"seed = -1 "),
    (lambda mlp, x, y: BatchedTrainer(mlp, seed=1.5), r"seed = 1.5 "),
    (lambda mlp, x, y: BatchedTrainer(mlp, steps=2).fit(x, y, seeds=[-1, -2]), r"seeds\[0\] = -1 "),
    (lambda mlp, x, y: BatchedTrainer(mlp, steps=2).fit(x, y, seeds=[0.5, 1.7]), r"seeds\[0\] = 0.5 "),
    (lambda mlp, x, y: BatchedTrainer(mlp, steps=2).fit(x, y, seeds=3), r"seeds = 3 is not allowed"),
    (lambda mlp, x, y: mlp.init([2**64]), r"seeds\[0\] = 18446744073709551616 is out of range"),
    (lambda mlp, x, y: mlp.init([0, [1, 2]]), r"seeds\[1\] = \[1, 2\]"),
    (lambda mlp, x, y: mlp.init([]), r"seeds = \[\] is empty"),
])
def test_seeds_are_integers_in_the_documented_range(call, match):
    mlp = StackedMLP(2, 4, 1)
    x, y = _data(2, 6, 2)
    with pytest.raises(ValueError, match=match):
        call(mlp, x, y)


def test_numpy_integer_seeds_and_settings_count_as_their_values():
    mlp = StackedMLP(2, 4, 1)
    x, y = _data(2, 6, 2)
    plain = BatchedTrainer(mlp, optimizer="sgd", batch_size=3, steps=5, seed=3, lr=0.5).fit(x, y, seeds=[0, 1])
    numpy = BatchedTrainer(mlp, optimizer="sgd", batch_size=np.int64(3), steps=np.int64(5), seed=np.int64(3),
                           lr=np.float32(0.5), tol=np.float32(1e-12)).fit(x, y, seeds=np.array([0, 1]))
    assert _max_diff(plain.params_, numpy.params_) == 0.0
    assert _max_diff(mlp.init(np.arange(2)), mlp.init([0, 1])) == 0.0


def _labels(k, n, value):
    return torch.full((k, n), value)


@pytest.mark.parametrize(("call", "match"), [
    (lambda m, x, y, p: BatchedTrainer(m, loss="cross_entropy"), r"loss = 'cross_entropy' .*output_dim = 1"),
    (lambda m, x, y, p: BatchedTrainer(StackedMLP(4, 8, 1, output_dim=2), steps=2, loss="cross_entropy").fit(
        x, _labels(8, 16, 5), seeds=range(8)), r"y has labels from 5 to 5: .*\[0, 1\]"),
    (lambda m, x, y, p: BatchedTrainer(StackedMLP(4, 8, 1, output_dim=2), steps=2, loss="cross_entropy").fit(
        x, _labels(8, 16, -1), seeds=range(8)), r"y has labels from -1 to -1"),
    (lambda m, x, y, p: BatchedTrainer(StackedMLP(4, 8, 1, output_dim=2), steps=2, loss="cross_entropy").fit(
        x, _labels(8, 16, 0.5), seeds=range(8)), r"y has non-integer"),
    (lambda m, x, y, p: BatchedTrainer(m, steps=2).fit(x, y, params={"w0": p["w0"]}), r"missing \['b0', 'b1', 'w1'\]"),
    (lambda m, x, y, p: BatchedTrainer(m, steps=2).fit(x, y, params={**p, "extra": p["w0"]}),
     r"unexpected \['extra'\]"),
    (lambda m, x, y, p: BatchedTrainer(m, steps=2).fit(x, y, params={**p, "w0": p["w0"][:, :2]}),
     r"params\['w0'\] has shape \(8, 2, 4\)"),
    (lambda m, x, y, p: BatchedTrainer(m, steps=2).fit(x, y, params=[p]), r"params = list"),
    (lambda m, x, y, p: BatchedTrainer(m, steps=2).fit(x, y, seeds=range(3)),
     r"seeds = \[0, 1, 2\] has 3 entries, but x has shape \(8, 16, 4\)"),
    (lambda m, x, y, p: BatchedTrainer(m, steps=2).fit(x, y, params={k: v[:3] for k, v in p.items()}),
     r"params hold K = 3 models, but x has shape \(8, 16, 4\)"),
    (lambda m, x, y, p: BatchedTrainer(m, tol=float("nan")), r"tol = nan"),
    (lambda m, x, y, p: BatchedTrainer(m, tol=0), r"tol = 0"),
    (lambda m, x, y, p: BatchedTrainer(m, time_budget=-1), r"time_budget = -1"),
    (lambda m, x, y, p: BatchedTrainer(m, optimizer="adam", betas=(1.5, 0.9)), r"betas\[0\] = 1.5"),
    (lambda m, x, y, p: BatchedTrainer(m, optimizer="adam", betas=(0.9, -0.1)), r"betas\[1\] = -0.1"),
    (lambda m, x, y, p: BatchedTrainer(m, optimizer="adam", betas=0.9), r"betas = 0.9"),
    (lambda m, x, y, p: BatchedTrainer(m, optimizer="adam", eps=0), r"eps = 0"),
    (lambda m, x, y, p: BatchedTrainer(m, batch_size=2.5), r"batch_size = 2.5"),
    (lambda m, x, y, p: BatchedTrainer(m, weight_decay="a"), r"weight_decay = 'a'"),
    (lambda m, x, y, p: BatchedTrainer(m, divergence_cap=float("nan")), r"divergence_cap = nan"),
    (lambda m, x, y, p: StackedMLP(3, "a", 1), r"width = 'a' is not an integer"),
    (lambda m, x, y, p: StackedMLP(3, None, 1), r"width = None is not an integer"),
    (lambda m, x, y, p: StackedMLP(3, 4, 1, init_scale=float("nan")), r"init_scale = nan"),
    (lambda m, x, y, p: StackedMLP(3, 4, 1, activation="leaky_relu", negative_slope="a"), r"negative_slope = 'a'"),
    (lambda m, x, y, p: m.forward(p, x[:3]), r"x has shape \(3, 16, 4\): expected \(K=8, n, 4\)"),
    (lambda m, x, y, p: m.forward(p, x[0, :, :2]), r"x has shape \(16, 2\)"),
])
def test_trainer_and_mlp_errors_name_the_argument(call, match):
    mlp = StackedMLP(4, 8, 1)
    x, y = _data(8, 16, 4)
    with pytest.raises(ValueError, match=match):
        call(mlp, x, y, mlp.init(range(8)))


def test_forward_shares_a_two_dimensional_x_among_the_models():
    mlp = StackedMLP(3, 8, 2)
    params = mlp.init([0, 1, 2])
    x = torch.randn(5, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    torch.testing.assert_close(mlp.forward(params, x), mlp.forward(params, x.expand(3, 5, 3)), rtol=0, atol=0)
    pre = mlp.preactivations(params, x.numpy())
    assert len(pre) == 2 and pre[0].shape == (3, 5, 8)


# -- loss conventions, weight decay, minibatch streams and freezing, against closed forms ------------


def test_mse_is_half_the_mean_square_over_samples_and_outputs():
    # (1/(2 n o)) sum |f - y|^2 with o = 2 outputs: samples (1, 3) and (0, 2) against 0, weights 1/2 each
    out = torch.tensor([[[1.0, 3.0], [0.0, 2.0]]], dtype=torch.float64)
    w = torch.full((1, 2), 0.5, dtype=torch.float64)
    loss = per_model_loss(out, torch.zeros_like(out), w, "mse")
    assert loss.tolist() == [(1 + 9 + 0 + 4) / (2 * 2 * 2)]


def test_logistic_loss_reads_zero_one_labels_as_minus_one_plus_one():
    # label 0 is the negative class: log(1 + exp(f)), so f = 2 costs log(1 + e^2)
    out = torch.tensor([[[2.0], [-1.0], [0.5]]], dtype=torch.float64)
    w = torch.full((1, 3), 1 / 3, dtype=torch.float64)
    zero_one = torch.tensor([[0.0, 1.0, 0.0]], dtype=torch.float64)
    pm = per_model_loss(out, 2 * zero_one - 1, w, "logistic")
    torch.testing.assert_close(per_model_loss(out, zero_one, w, "logistic"), pm, rtol=1e-15, atol=0)
    want = (np.log1p(np.exp(2.0)) + np.log1p(np.exp(1.0)) + np.log1p(np.exp(0.5))) / 3
    assert float(pm[0]) == pytest.approx(want, rel=1e-14)


def _gd_linear(w, x, y, lr, steps, decay=0.0):
    """Closed-form GD on (1/2n)|Xw - y|^2 + decoupled decay: w <- w - lr (X^T (Xw - y) / n + decay w)."""
    lr = torch.as_tensor(lr, dtype=torch.float64).reshape(-1, 1, 1)
    decay = torch.as_tensor(decay, dtype=torch.float64).reshape(-1, 1, 1)
    for _ in range(steps):
        grad = torch.bmm((torch.bmm(x, w.transpose(1, 2)) - y).transpose(1, 2), x) / x.shape[1]
        w = w - lr * (grad + decay * w)
    return w


def test_weight_decay_per_model_is_lr_times_lambda_theta():
    # weight_decay = [0, 0.5]: model 0 trains as without decay, model 1 also subtracts lr * 0.5 * theta
    fam = _LinearFamily()
    x, y = _data(2, 10, 3, seed=9)
    lr, steps = 0.3, 8
    tr = BatchedTrainer(fam, lr=lr, steps=steps, weight_decay=[0.0, 0.5]).fit(x, y, seeds=[4, 5])
    want = _gd_linear(fam.init([4, 5])["w"], x, y, lr, steps, decay=[0.0, 0.5])
    assert float((tr.params_["w"] - want).abs().max()) <= 1e-12
    plain = BatchedTrainer(fam, lr=lr, steps=steps).fit(x, y, seeds=[4, 5])
    assert torch.equal(tr.params_["w"][0], plain.params_["w"][0])
    assert float((tr.params_["w"][1] - plain.params_["w"][1]).abs().max()) > 1e-3


def test_minibatches_come_from_the_documented_per_model_streams():
    # model k draws from numpy.random.default_rng([seed, s_k]), s_k its init seed (its index k for params=)
    fam = _LinearFamily()
    x, y = _data(2, 10, 3, seed=9)
    lr, steps, batch, seed = 0.2, 6, 3, 5

    def reference(keys):
        w = fam.init([11, 12])["w"].clone()
        rngs = [np.random.default_rng([seed, key]) for key in keys]
        for _ in range(steps):
            for i, rng in enumerate(rngs):
                idx = torch.as_tensor(rng.choice(x.shape[1], batch, replace=False))
                xb, yb = x[i, idx], y[i, idx]
                w[i] = w[i] - lr * (xb @ w[i].T - yb).T @ xb / batch
        return w

    def sgd():
        return BatchedTrainer(fam, optimizer="sgd", batch_size=batch, lr=lr, steps=steps, seed=seed)

    by_seeds = sgd().fit(x, y, seeds=[11, 12]).params_["w"]
    assert float((by_seeds - reference([11, 12])).abs().max()) <= 1e-12
    by_params = sgd().fit(x, y, params=fam.init([11, 12])).params_["w"]
    assert float((by_params - reference([0, 1])).abs().max()) <= 1e-12
    assert float((by_params - by_seeds).abs().max()) > 1e-6  # the streams differ, so do the runs


def test_a_model_whose_loss_is_nan_is_frozen_and_flagged_at_step_0():
    fam = _LinearFamily()
    x, y = _data(2, 10, 3, seed=9)
    start = fam.init([4, 5])
    start["w"][1, 0, 0] = float("nan")
    tr = BatchedTrainer(fam, lr=0.3, steps=3).fit(x, y, params=start)
    assert tr.diverged_.tolist() == [False, True] and tr.diverged_step_.tolist() == [-1, 0]
    torch.testing.assert_close(tr.params_["w"][1], start["w"][1], rtol=0, atol=0, equal_nan=True)
    assert torch.isfinite(tr.params_["w"][0]).all()


def test_a_diverging_model_is_frozen_at_its_first_loss_above_the_cap():
    # GD with lr 3 diverges on model 1's data; it must be flagged at the first step whose loss exceeds
    # the cap and keep the parameters it had there (its loss stays constant from then on)
    fam = _LinearFamily()
    x, y = _data(2, 10, 3, seed=9)
    lr, cap, steps = [0.3, 3.0], 1e6, 12
    start = fam.init([4, 5])["w"]
    losses, w = [], start[1:]
    for _ in range(steps + 1):
        losses.append(0.5 * float(((torch.bmm(x[1:], w.transpose(1, 2)) - y[1:]) ** 2).mean()))
        w = _gd_linear(w, x[1:], y[1:], lr[1], 1)
    first = next(t for t, v in enumerate(losses) if v > cap)
    assert 0 < first < steps
    tr = BatchedTrainer(fam, lr=lr, steps=steps, divergence_cap=cap, record_every=1).fit(x, y, seeds=[4, 5])
    assert tr.diverged_.tolist() == [False, True] and tr.diverged_step_.tolist() == [-1, first]
    torch.testing.assert_close(tr.params_["w"][1:], _gd_linear(start[1:], x[1:], y[1:], lr[1], first),
                               rtol=1e-12, atol=0)
    frozen_loss = tr.history_["loss"][first:, 1]
    assert frozen_loss[0] == pytest.approx(losses[first], rel=1e-12) and (frozen_loss == frozen_loss[0]).all()
