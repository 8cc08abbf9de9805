"""Tests of relunet.constructions.spectral: matrix-free NTK and Hessian spectra against dense references."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from relunet.constructions.models import StackedMLP
from relunet.constructions.spectral import (
    _jacobian_by_rows,
    _NTKOperator,
    flatten_params,
    jacobian,
    loss_hessian_matvec,
    ntk_dense,
    ntk_matvec,
    top_hessian_eigenvalue,
    top_ntk_eigenvalues,
    two_layer_ntk,
    unflatten_params,
    uv_ntk,
)

F64 = torch.float64


# ---------------------------------------------------------------------------------------------
# random set-ups


def _setup(seed, K, n, d=3, width=6, depth=2, out=1, activation="relu", bias=True, slope=0.2, masked=False):
    """A StackedMLP with K models, inputs (K, n, d), targets and (optionally) a random mask."""
    mlp = StackedMLP(d, width, depth, out, activation=activation, negative_slope=slope, bias=bias)
    params = mlp.init([seed + i for i in range(K)])
    g = torch.Generator().manual_seed(10_000 + seed)
    if bias:  # non-zero biases, so that they matter
        params = {k: p + 0.3 * torch.randn(p.shape, generator=g, dtype=F64) if k.startswith("b") else p
                  for k, p in params.items()}
    x = torch.randn(K, n, d, generator=g, dtype=F64)
    y = torch.randn(K, n, out, generator=g, dtype=F64)
    mask = None
    if masked:
        counts = torch.randint(1, n + 1, (K,), generator=g)
        mask = torch.zeros(K, n, dtype=torch.bool)
        for k in range(K):
            mask[k, torch.randperm(n, generator=g)[: int(counts[k])]] = True
    return mlp, params, x, y, mask


architectures = st.fixed_dictionaries({
    "activation": st.sampled_from(["relu", "leaky_relu", "identity"]),
    "bias": st.booleans(),
    "depth": st.integers(1, 3),
    "K": st.integers(1, 4),
    "n": st.integers(1, 9),
    "d": st.integers(1, 4),
    "width": st.integers(2, 8),
    "out": st.sampled_from([1, 1, 2]),
    "masked": st.booleans(),
    "slope": st.floats(0.0, 1.0),
})


def _valid(mask, K, n, out):
    if mask is None:
        mask = torch.ones(K, n, dtype=torch.bool)
    return mask.unsqueeze(-1).expand(K, n, out).reshape(K, n * out)


def _single(params, x, y, mask, k):
    p = {name: t[k : k + 1] for name, t in params.items()}
    return p, x[k : k + 1], y[k : k + 1], (None if mask is None else mask[k : k + 1])


# ---------------------------------------------------------------------------------------------
# matvec, Jacobian and the dense NTK


@given(cfg=architectures, seed=st.integers(0, 10_000))
def test_ntk_matvec_equals_dense(cfg, seed):
    mlp, params, x, _, mask = _setup(seed, **cfg)
    K, n, out = cfg["K"], cfg["n"], cfg["out"]
    v = torch.randn(K, n * out, generator=torch.Generator().manual_seed(seed), dtype=F64)
    H = ntk_dense(mlp, params, x, mask=mask)
    v_valid = v * _valid(mask, K, n, out)
    expected = (H @ v_valid.unsqueeze(-1)).squeeze(-1)
    got = ntk_matvec(mlp, params, x, v, mask=mask)
    scale = expected.abs().amax().clamp_min(1e-300)
    assert torch.allclose(got, expected, rtol=0, atol=1e-10 * float(scale))
    assert torch.all(got[~_valid(mask, K, n, out)] == 0)


# torch 2.13's forward-mode AD loads its decompositions through the deprecated torch.jit.script
@pytest.mark.filterwarnings("ignore:`torch.jit.script` is deprecated:DeprecationWarning")
def test_jvp_by_double_vjp_equals_torch_func_jvp():
    mlp, params, x, _, _ = _setup(3, K=3, n=7, out=2, activation="leaky_relu")
    op = _NTKOperator(mlp, params, x, None)
    g = torch.Generator().manual_seed(1)
    u = {k: torch.randn(p.shape, generator=g, dtype=F64) for k, p in params.items()}
    _, reference = torch.func.jvp(lambda q: mlp.forward(q, x), (params,), (u,))
    assert torch.allclose(op.j(u), reference.reshape(3, -1), rtol=1e-12, atol=1e-13)
    by_jacobian = (jacobian(mlp, params, x) @ flatten_params(u).unsqueeze(-1)).squeeze(-1)
    assert torch.allclose(op.j(u), by_jacobian, rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize("activation,bias,out", [("relu", True, 1), ("leaky_relu", False, 2), ("identity", True, 3)])
def test_jacobian_matches_single_module_autograd(activation, bias, out):
    mlp, params, x, _, _ = _setup(5, K=3, n=4, depth=2, out=out, activation=activation, bias=bias)
    J = jacobian(mlp, params, x)
    P = mlp.parameter_count()
    assert J.shape == (3, 4 * out, P)
    for k in range(3):
        module = mlp.single(params, k)
        f = module(x[k])  # (n, out)
        for a in range(4):
            for i in range(out):
                grads = torch.autograd.grad(f[a, i], list(module.parameters()), retain_graph=True)
                row = torch.cat([g.reshape(-1) for g in grads])
                assert torch.allclose(J[k, a * out + i], row, rtol=1e-12, atol=1e-14)


class _NotVmappable(StackedMLP):
    """A forward that vmap cannot batch (a data-dependent Python branch)."""

    def forward(self, params, x):
        if float(x.abs().sum()) < 0:  # never true; .item() fails under vmap
            raise AssertionError
        return super().forward(params, x)


def test_jacobian_fallback_by_rows():
    mlp, params, x, _, _ = _setup(2, K=2, n=5, out=2)
    op = _NTKOperator(mlp, params, x, None)
    assert torch.allclose(_jacobian_by_rows(op), jacobian(mlp, params, x), rtol=1e-12, atol=1e-14)
    odd = _NotVmappable(3, 6, 2, 2)
    assert torch.allclose(jacobian(odd, params, x), jacobian(mlp, params, x), rtol=1e-12, atol=1e-14)


def test_flatten_roundtrip_and_order():
    mlp, params, *_ = _setup(0, K=2, n=3)
    flat = flatten_params(params)
    assert flat.shape == (2, mlp.parameter_count())
    assert torch.equal(flat[:, :18], params["w0"].reshape(2, -1))
    back = unflatten_params(flat, params)
    assert list(back) == list(params) and all(torch.equal(back[k], params[k]) for k in params)


def test_invalid_samples_are_never_used():
    mlp, params, x, y, _ = _setup(7, K=3, n=6, out=2)
    mask = torch.tensor([[1, 1, 0, 1, 0, 1], [1, 0, 0, 0, 0, 0], [1, 1, 1, 1, 1, 1]], dtype=torch.bool)
    bad_x, bad_y = x.clone(), y.clone()
    bad_x[~mask] = float("nan")
    bad_y[~mask] = float("inf")
    H = ntk_dense(mlp, params, x, mask=mask)
    assert torch.equal(ntk_dense(mlp, params, bad_x, mask=mask), H)
    top = top_ntk_eigenvalues(mlp, params, x, mask=mask)
    assert torch.equal(top_ntk_eigenvalues(mlp, params, bad_x, mask=mask), top)
    v = {k: torch.ones_like(p) for k, p in params.items()}
    a = loss_hessian_matvec(mlp, params, bad_x, bad_y, v, mask=mask)
    b = loss_hessian_matvec(mlp, params, x, y, v, mask=mask)
    assert all(torch.equal(a[k], b[k]) for k in a)
    # normalisation by n_k · o: model 1 has one valid sample
    Hs = ntk_dense(mlp, {k: p[1:2] for k, p in params.items()}, x[1:2, :1])
    assert torch.allclose(H[1, :2, :2], Hs[0], rtol=1e-13, atol=0)
    assert torch.all(H[1, 2:] == 0) and torch.all(H[1, :, 2:] == 0)


# ---------------------------------------------------------------------------------------------
# top NTK eigenvalues


@given(cfg=architectures, seed=st.integers(0, 10_000), k=st.integers(1, 3))
def test_lanczos_top_eigenvalues_equal_dense(cfg, seed, k):
    mlp, params, x, _, mask = _setup(seed, **cfg)
    H = ntk_dense(mlp, params, x, mask=mask)
    counts = (H.shape[1] if mask is None else mask.sum(1).min().item() * cfg["out"])
    k = min(k, int(counts))
    dense = torch.linalg.eigvalsh(H).flip(-1)[:, :k]
    top = top_ntk_eigenvalues(mlp, params, x, k=k, mask=mask, seed=seed)
    assert top.shape == (cfg["K"], k)
    scale = dense[:, :1].clamp_min(1e-300)
    assert torch.all((top - dense).abs() <= 1e-6 * scale)


@settings(max_examples=8)
@given(cfg=architectures, seed=st.integers(0, 10_000), k=st.integers(1, 2))
def test_power_top_eigenvalues_equal_dense(cfg, seed, k):
    mlp, params, x, _, mask = _setup(seed, **cfg)
    H = ntk_dense(mlp, params, x, mask=mask)
    counts = (H.shape[1] if mask is None else mask.sum(1).min().item() * cfg["out"])
    k = min(k, int(counts))
    dense = torch.linalg.eigvalsh(H).flip(-1)[:, :k]
    top = top_ntk_eigenvalues(mlp, params, x, k=k, mask=mask, method="power", seed=seed)
    assert torch.all((top - dense).abs() <= 1e-6 * dense[:, :1].clamp_min(1e-300))


@pytest.mark.parametrize("method", ["lanczos", "power"])
def test_top_eigenvectors(method):
    mlp, params, x, _, _ = _setup(11, K=3, n=8, out=2, activation="leaky_relu")
    mask = torch.ones(3, 8, dtype=torch.bool)
    mask[0, 5:] = False
    values, vectors = top_ntk_eigenvalues(mlp, params, x, k=3, mask=mask, method=method, return_vectors=True)
    H = ntk_dense(mlp, params, x, mask=mask)
    assert vectors.shape == (3, 16, 3)
    eye = torch.eye(3, dtype=F64).expand(3, 3, 3)
    assert torch.allclose(vectors.mT @ vectors, eye, atol=1e-10)
    resid = H @ vectors - vectors * values[:, None, :]
    assert resid.abs().max() <= 1e-6 * values.max()
    assert torch.all(vectors[0, 10:] == 0)


def test_lanczos_seeded_and_reproducible():
    mlp, params, x, _, _ = _setup(4, K=2, n=30, width=16)
    a = top_ntk_eigenvalues(mlp, params, x, k=2, seed=5)
    b = top_ntk_eigenvalues(mlp, params, x, k=2, seed=torch.Generator().manual_seed(5))
    assert torch.equal(a, b)


def test_lanczos_warns_when_not_converged():
    mlp, params, x, _, _ = _setup(4, K=1, n=40, width=16, activation="leaky_relu")
    with pytest.warns(RuntimeWarning, match="did not converge"):
        top_ntk_eigenvalues(mlp, params, x, k=3, iters=3, tol=1e-14)


# ---------------------------------------------------------------------------------------------
# closed forms


@given(seed=st.integers(0, 10_000), width=st.integers(1, 12), n=st.integers(1, 8), K=st.integers(1, 3))
def test_uv_closed_form_equals_autograd(seed, width, n, K):
    mlp = StackedMLP(1, width, 1, activation="identity", bias=False, parameterization="ntk")
    params = mlp.init([seed + i for i in range(K)])
    x = torch.randn(K, n, 1, generator=torch.Generator().manual_seed(seed), dtype=F64)
    u, v, xs = params["w0"][..., 0], params["w1"][:, 0], x[..., 0]
    lam = uv_ntk(u, v, xs)
    H = ntk_dense(mlp, params, x)
    closed = lam[:, None, None] * xs[:, :, None] * xs[:, None, :] / (xs * xs).sum(-1)[:, None, None]
    assert torch.allclose(H, closed, rtol=0, atol=1e-10 * float(lam.max()))
    assert torch.allclose(torch.linalg.eigvalsh(H)[:, -1], lam, rtol=1e-10, atol=0)
    k = min(2, n)
    top = top_ntk_eigenvalues(mlp, params, x, k=k)  # H has rank one: the Krylov space breaks down
    assert torch.allclose(top[:, 0], lam, rtol=1e-10, atol=0)
    if k == 2:
        assert torch.all(top[:, 1].abs() <= 1e-10 * lam)
    for k in range(K):  # one model, one sample: λ0 = x²(|u|² + |v|²)/m
        one = uv_ntk(u[k], v[k], xs[k, :1])
        assert torch.allclose(one, xs[k, 0] ** 2 * (u[k] @ u[k] + v[k] @ v[k]) / width, rtol=1e-14)


@given(seed=st.integers(0, 10_000), width=st.integers(1, 12), n=st.integers(1, 8), d=st.integers(1, 4),
       a=st.floats(0.0, 1.0), K=st.integers(1, 3))
def test_two_layer_closed_form_equals_autograd(seed, width, n, d, a, K):
    mlp = StackedMLP(d, width, 1, activation="leaky_relu", negative_slope=a, bias=False, parameterization="ntk")
    params = mlp.init([seed + i for i in range(K)])
    x = torch.randn(K, n, d, generator=torch.Generator().manual_seed(seed), dtype=F64)
    H = ntk_dense(mlp, params, x)
    closed = two_layer_ntk(params["w0"], params["w1"][:, 0], x, negative_slope=a)
    assert torch.allclose(H, closed, rtol=0, atol=1e-10 * float(H.abs().max()))
    for k in range(K):  # unbatched call
        single = two_layer_ntk(params["w0"][k], params["w1"][k, 0], x[k], a)
        assert torch.allclose(single, closed[k], rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("activation,a", [("relu", 0.0), ("identity", 1.0)])
def test_two_layer_closed_form_relu_and_identity(activation, a):
    mlp = StackedMLP(3, 7, 1, activation=activation, bias=False)
    params = mlp.init([1, 2])
    x = torch.randn(2, 5, 3, generator=torch.Generator().manual_seed(0), dtype=F64)
    closed = two_layer_ntk(params["w0"], params["w1"][:, 0], x, a)
    assert torch.allclose(ntk_dense(mlp, params, x), closed, rtol=1e-12, atol=1e-14)


def test_uv_is_two_layer_with_unit_slope():
    g = torch.Generator().manual_seed(3)
    u, v, xs = (torch.randn(s, generator=g, dtype=F64) for s in (9, 9, 4))
    H = two_layer_ntk(u[:, None], v, xs[:, None], 1.0)
    assert torch.allclose(torch.linalg.eigvalsh(H)[-1], uv_ntk(u, v, xs), rtol=1e-12)


# ---------------------------------------------------------------------------------------------
# batched equals single


def test_batched_equals_single_models():
    mlp, params, x, y, _ = _setup(21, K=4, n=7, width=7, depth=2, out=2, activation="leaky_relu")
    mask = torch.ones(4, 7, dtype=torch.bool)
    mask[1, 4:] = False
    mask[3, 1:] = False
    g = torch.Generator().manual_seed(0)
    v = torch.randn(4, 14, generator=g, dtype=F64)
    w = {k: torch.randn(p.shape, generator=g, dtype=F64) for k, p in params.items()}
    H = ntk_dense(mlp, params, x, mask=mask)
    Hv = ntk_matvec(mlp, params, x, v, mask=mask)
    top = top_ntk_eigenvalues(mlp, params, x, k=2, mask=mask)
    hvp = flatten_params(loss_hessian_matvec(mlp, params, x, y, w, mask=mask))
    sharp = top_hessian_eigenvalue(mlp, params, x, y, mask=mask)
    for k in range(4):
        p, xk, yk, mk = _single(params, x, y, mask, k)
        wk = {name: t[k : k + 1] for name, t in w.items()}

        def close(a, b):
            return torch.allclose(a, b, rtol=1e-12, atol=1e-12 * float(b.abs().max()))

        assert close(H[k], ntk_dense(mlp, p, xk, mask=mk)[0])
        assert close(Hv[k], ntk_matvec(mlp, p, xk, v[k : k + 1], mask=mk)[0])
        assert close(top[k], top_ntk_eigenvalues(mlp, p, xk, k=2, mask=mk)[0])
        assert close(hvp[k], flatten_params(loss_hessian_matvec(mlp, p, xk, yk, wk, mask=mk))[0])
        assert close(sharp[k], top_hessian_eigenvalue(mlp, p, xk, yk, mask=mk)[0])


# ---------------------------------------------------------------------------------------------
# loss Hessian


def _dense_hessian(mlp, params, x, y, mask, k):
    """Dense Hessian of model k's loss (1/(2 n_k o)) Σ |f − y|² via torch.autograd.functional.hessian."""
    p, xk, yk, mk = _single(params, x, y, mask, k)
    mk = torch.ones(1, x.shape[1], dtype=torch.bool) if mk is None else mk
    o = yk.shape[2]

    def loss(flat):
        f = mlp.forward(unflatten_params(flat[None], p), xk)
        r = (f - yk)[mk]
        return (r * r).sum() / (2 * mk.sum() * o)

    return torch.autograd.functional.hessian(loss, flatten_params(p)[0])


@settings(max_examples=15)
@given(cfg=architectures, seed=st.integers(0, 10_000))
def test_hvp_equals_dense_hessian(cfg, seed):
    mlp, params, x, y, mask = _setup(seed, **cfg)
    g = torch.Generator().manual_seed(seed)
    v = {k: torch.randn(p.shape, generator=g, dtype=F64) for k, p in params.items()}
    got = flatten_params(loss_hessian_matvec(mlp, params, x, y, v, mask=mask))
    flat_v = flatten_params(v)
    for k in range(cfg["K"]):
        expected = _dense_hessian(mlp, params, x, y, mask, k) @ flat_v[k]
        assert torch.allclose(got[k], expected, rtol=0, atol=1e-10 * float(expected.abs().max().clamp_min(1e-300)))


@settings(max_examples=10)
@given(cfg=architectures, seed=st.integers(0, 10_000), which=st.sampled_from(["largest", "smallest", "magnitude"]))
def test_top_hessian_eigenvalue_equals_dense(cfg, seed, which):
    mlp, params, x, y, mask = _setup(seed, **cfg)
    got = top_hessian_eigenvalue(mlp, params, x, y, mask=mask, seed=seed, which=which)
    assert got.shape == (cfg["K"],)
    for k in range(cfg["K"]):
        eig = torch.linalg.eigvalsh(_dense_hessian(mlp, params, x, y, mask, k))
        expected = {"largest": eig[-1], "smallest": eig[0], "magnitude": eig[eig.abs().argmax()]}[which]
        assert abs(float(got[k] - expected)) <= 1e-6 * float(eig.abs().max().clamp_min(1e-300))


def test_top_hessian_eigenvalue_can_be_below_magnitude_eigenvalue():
    # f = w x on one sample with target far away: L = (w x - y)^2 / 2 is convex, so use a depth-1 linear
    # net at a point with a large residual, where ∇²L has a negative eigenvalue (the ε ∇²f term).
    mlp = StackedMLP(1, 1, 1, activation="identity", bias=False)
    params = {"w0": torch.tensor([[[0.1]]], dtype=F64), "w1": torch.tensor([[[0.1]]], dtype=F64)}
    x = torch.ones(1, 1, 1, dtype=F64)
    y = torch.full((1, 1, 1), 10.0, dtype=F64)
    # L = (uv - 10)^2 / 2: Hessian [[v^2, 2uv - 10], [2uv - 10, u^2]] = [[.01, -9.98], [-9.98, .01]]
    assert torch.allclose(top_hessian_eigenvalue(mlp, params, x, y), torch.tensor([9.99], dtype=F64), rtol=1e-12)
    smallest = top_hessian_eigenvalue(mlp, params, x, y, which="smallest")
    assert torch.allclose(smallest, torch.tensor([-9.97], dtype=F64), rtol=1e-12)


@given(cfg=architectures, seed=st.integers(0, 10_000))
@settings(max_examples=15)
def test_sharpness_at_interpolation_equals_top_ntk_eigenvalue(cfg, seed):
    # catapult.md §2 Hessian link: with ε = 0 the Hessian is the Gauss-Newton term (1/(n o)) JᵀJ
    mlp, params, x, _, mask = _setup(seed, **cfg)
    y = mlp.forward(params, x)
    sharp = top_hessian_eigenvalue(mlp, params, x, y, mask=mask, seed=seed)
    lam = top_ntk_eigenvalues(mlp, params, x, mask=mask, seed=seed)[:, 0]
    assert torch.all((sharp - lam).abs() <= 1e-8 * lam.clamp_min(1e-300))


# ---------------------------------------------------------------------------------------------
# bad input


def test_bad_input_raises_value_error():
    mlp, params, x, y, _ = _setup(0, K=2, n=4)
    v = torch.zeros(2, 4, dtype=F64)
    w = {k: torch.zeros_like(p) for k, p in params.items()}
    cases = [
        (lambda: ntk_matvec(mlp, params, x, torch.zeros(2, 5, dtype=F64)), "v.shape"),
        (lambda: ntk_matvec(mlp, params, x, v.float()), "v.dtype"),
        (lambda: ntk_matvec(mlp, params, x[:1], v), "x.shape"),
        (lambda: ntk_matvec(mlp, params, x[..., :2], v), "x.shape"),
        (lambda: ntk_matvec(mlp, params, x.float(), v), "x.dtype"),
        (lambda: ntk_matvec(mlp, {**params, "w0": params["w0"][:1]}, x, v), "params"),
        (lambda: ntk_matvec(mlp, {"w0": params["w0"]}, x, v), "params"),
        (lambda: ntk_matvec(mlp, params, x, v, mask=torch.ones(2, 3, dtype=torch.bool)), "mask.shape"),
        (lambda: ntk_matvec(mlp, params, x, v, mask=torch.ones(2, 4)), "mask"),
        (lambda: ntk_dense(mlp, params, x, mask=torch.zeros(2, 4, dtype=torch.bool)), "mask"),
        (lambda: top_ntk_eigenvalues(mlp, params, x, k=5), "k = 5"),
        (lambda: top_ntk_eigenvalues(mlp, params, x, k=0), "k = 0"),
        (lambda: top_ntk_eigenvalues(mlp, params, x, k=3, mask=torch.tensor([[1, 1, 1, 1], [1, 1, 0, 0]]).bool()),
         "k = 3"),
        (lambda: top_ntk_eigenvalues(mlp, params, x, method="arnoldi"), "method"),
        (lambda: top_ntk_eigenvalues(mlp, params, x, k=2, iters=1), "iters"),
        (lambda: top_ntk_eigenvalues(mlp, params, x, tol=0.0), "tol"),
        (lambda: top_ntk_eigenvalues(mlp, params, x, seed=-1), "seed"),
        (lambda: loss_hessian_matvec(mlp, params, x, y, w, loss="ce"), "loss"),
        (lambda: loss_hessian_matvec(mlp, params, x, y[:, :3], w), "y.shape"),
        (lambda: loss_hessian_matvec(mlp, params, x, y.float(), w), "y.dtype"),
        (lambda: loss_hessian_matvec(mlp, params, x, y, {"w0": w["w0"]}), "v has keys"),
        (lambda: loss_hessian_matvec(mlp, params, x, y, {**w, "w0": w["w0"][:, :1]}), "v\\['w0'\\].shape"),
        (lambda: top_hessian_eigenvalue(mlp, params, x, y, which="top"), "which"),
        (lambda: top_hessian_eigenvalue(mlp, params, x, y, iters=0), "iters"),
        (lambda: uv_ntk(torch.ones(3), torch.ones(4), torch.ones(2)), "u.shape"),
        (lambda: uv_ntk(torch.ones(3), torch.ones(3), torch.ones(0)), "x.shape"),
        (lambda: two_layer_ntk(torch.ones(3, 2), torch.ones(4), torch.ones(5, 2), 0.5), "W.shape"),
        (lambda: two_layer_ntk(torch.ones(3, 2), torch.ones(3), torch.ones(5, 3), 0.5), "X.shape"),
        (lambda: two_layer_ntk(torch.ones(3, 2), torch.ones(3), torch.ones(5, 2), float("nan")), "negative_slope"),
        (lambda: unflatten_params(torch.zeros(2, 3, dtype=F64), params), "flat.shape"),
    ]
    for call, match in cases:
        with pytest.raises(ValueError, match=match):
            call()


def test_float32_converges_with_dtype_tolerance():
    mlp, params, x, y, _ = _setup(8, K=2, n=40, width=12, activation="leaky_relu")
    p32, x32, y32 = {k: p.float() for k, p in params.items()}, x.float(), y.float()
    top = top_ntk_eigenvalues(mlp, p32, x32, k=2)  # would warn (an error here) if it did not converge
    assert top.dtype == torch.float32
    dense = torch.linalg.eigvalsh(ntk_dense(mlp, params, x)).flip(-1)[:, :2]
    assert torch.allclose(top.double(), dense, rtol=1e-4, atol=0)
    sharp = top_hessian_eigenvalue(mlp, p32, x32, y32)
    assert torch.allclose(sharp.double(), top_hessian_eigenvalue(mlp, params, x, y), rtol=1e-3, atol=0)
