"""``keras.ops.linalg``: linear algebra on (batches of) matrices, differentiable where Keras's is.

Shapes: matrices are the last two axes, ``(..., m, n)``; leading axes are a batch.

New Functions and their gradients (g is the output gradient, ^T swaps the last two axes):

- ``inv``: A^-1 -> -A^-T g A^-T
- ``det``: g det(A) A^-T
- ``slogdet``: (sign, log|det A|) -> g_logdet A^-T (the sign passes none)
- ``solve``: X = A^-1 B -> gB = A^-T g, gA = -gB X^T
- ``cholesky``: A = L L^T -> gA = sym(L^-T Phi(L^T g) L^-1), Phi = lower triangle, diagonal halved
- ``eigh``: A = V diag(w) V^T -> V (diag(gw) + F o (V^T gV)) V^T, F_ij = 1/(w_j - w_i), then symmetrised
- ``qr`` (reduced, m >= n): M = R gR^T - gQ^T Q -> (gQ + Q copyltu(M)) R^-T
- ``svd``: singular values only -> U diag(gS) V^T (gradients through U and V are refused)

Compositions: ``solve_triangular`` (solve on the masked triangle), ``cholesky_inverse``,
``logdet``, ``lstsq`` (normal equations). ``pinv``, ``matrix_rank``, ``lu_factor``
and ``eig`` compute values only (no gradient), as NumPy gives them.
"""

from __future__ import annotations

import numpy

from ..engine.function import Function
from ..engine.tensor import Tensor, tensor
from . import arithmetic as _ar
from . import comparison as _cmp
from . import shaping as _sh
from .keras_names import norm, tril, triu

__all__ = [
    "cholesky",
    "cholesky_inverse",
    "det",
    "eig",
    "eigh",
    "inv",
    "logdet",
    "lstsq",
    "lu_factor",
    "matrix_rank",
    "norm",
    "pinv",
    "qr",
    "slogdet",
    "solve",
    "solve_triangular",
    "svd",
    "jvp",
]


def _float_matrix(op, x) -> Tensor:
    from ..backend.config import floatx

    x = x if isinstance(x, Tensor) else tensor(x)
    if x.dtype.kind != "f":
        x = x.astype(floatx())
    if x.ndim < 2:
        raise ValueError(f"{op}: expected a matrix or a batch of matrices (..., m, n), got shape {x.shape}")
    return x


def _square(op, x) -> Tensor:
    x = _float_matrix(op, x)
    if x.shape[-1] != x.shape[-2]:
        raise ValueError(f"{op}: expected square matrices (..., n, n), got shape {x.shape}")
    return x


def _mT(a):  # noqa: N802 - the usual name for a matrix transpose
    return a.swapaxes(-1, -2)


class Inv(Function):
    """y = A^-1. Shapes: (..., n, n) -> (..., n, n)."""

    def forward(self, a):
        self.y = self.xp.linalg.inv(a)
        return self.y

    def backward(self, g):
        yt = _mT(self.y)
        return -(yt @ g @ yt)


def inv(x):
    """The inverse of each square matrix of ``x``."""
    return Inv.apply(_square("inv", x))


class Det(Function):
    """y = det(A). Shapes: (..., n, n) -> (...)."""

    def forward(self, a):
        self.a = a
        self.y = self.xp.linalg.det(a)
        return self.y

    def backward(self, g):
        return (g * self.y)[..., None, None] * _mT(self.xp.linalg.inv(self.a))


def det(x):
    """The determinant of each square matrix of ``x``."""
    return Det.apply(_square("det", x))


class Slogdet(Function):
    """(sign, log|det A|). Shapes: (..., n, n) -> (...), (...)."""

    def forward(self, a):
        self.a = a
        sign, logabs = self.xp.linalg.slogdet(a)
        return sign.astype(a.dtype), logabs.astype(a.dtype)

    def backward(self, g_sign, g_logabs):
        return g_logabs[..., None, None] * _mT(self.xp.linalg.inv(self.a))


def slogdet(x):
    """The sign and the log of the absolute value of each determinant: ``(sign, logabsdet)``."""
    return Slogdet.apply(_square("slogdet", x))


def logdet(x):
    """The log-determinant of each matrix of ``x`` (NaN where the determinant is negative)."""
    sign, logabs = slogdet(x)
    return _ar.where(_cmp.less(sign, 0), numpy.nan, logabs)


class Solve(Function):
    """X = A^-1 B. Shapes: A (..., n, n), B (..., n, k) -> X (..., n, k)."""

    def forward(self, a, b):
        self.a = a
        self.x = self.xp.linalg.solve(a, b)
        return self.x

    def backward(self, g):
        gb = self.xp.linalg.solve(_mT(self.a), g)
        ga = -(gb @ _mT(self.x)) if self.needs_input_grad[0] else None
        return ga, gb


def solve(a, b):
    """The solution ``x`` of ``a @ x = b`` (``b`` a matrix (..., n, k) or a vector (..., n))."""
    a = _square("solve", a)
    b = b if isinstance(b, Tensor) else tensor(b, dtype=a.dtype)
    if b.dtype != a.dtype:
        b = b.astype(a.dtype)
    vector = b.ndim == a.ndim - 1
    if vector:
        b = _sh.expand_dims(b, -1)
    if b.shape[-2] != a.shape[-1]:
        raise ValueError(f"solve: a of shape {a.shape} cannot solve b of shape {b.shape} (rows differ)")
    x = Solve.apply(a, b)
    return _sh.squeeze(x, -1) if vector else x


def solve_triangular(a, b, lower=False):
    """The solution of ``a @ x = b`` using only the lower (``lower=True``) or upper triangle of ``a``."""
    a = _square("solve_triangular", a)
    return solve(tril(a) if lower else triu(a), b)


def _phi(xp, m):
    """The lower triangle of m with its diagonal halved."""
    out = xp.tril(m)
    idx = numpy.arange(m.shape[-1])
    out[..., idx, idx] *= 0.5
    return out


class Cholesky(Function):
    """L with A = L L^T, L lower triangular. Shapes: (..., n, n) -> (..., n, n)."""

    def forward(self, a):
        try:
            self.L = self.xp.linalg.cholesky(a)
        except numpy.linalg.LinAlgError:
            raise ValueError("cholesky: the matrix is not symmetric positive definite") from None
        return self.L

    def backward(self, g):
        xp = self.xp
        lt = _mT(self.L)
        eye = xp.broadcast_to(xp.eye(self.L.shape[-1], dtype=g.dtype), self.L.shape)
        l_inv = xp.linalg.solve(self.L, eye)
        s = _mT(l_inv) @ _phi(xp, lt @ g) @ l_inv
        return 0.5 * (s + _mT(s))


def cholesky(x, upper=False):
    """The Cholesky factor of each symmetric positive-definite matrix (lower, or upper with ``upper=True``)."""
    factor = Cholesky.apply(_square("cholesky", x))
    return _sh.swapaxes(factor, -1, -2) if upper else factor


def cholesky_inverse(x, upper=False):
    """The inverse of ``A`` given its Cholesky factor ``x`` (``A = x x^T``, or ``x^T x`` with ``upper``)."""
    f = _square("cholesky_inverse", x)
    ft = _sh.swapaxes(f, -1, -2)
    return inv(_ar.matmul(ft, f) if upper else _ar.matmul(f, ft))


class Eigh(Function):
    """(w, V) with A = V diag(w) V^T for symmetric A (its lower triangle is read).

    Shapes: (..., n, n) -> (..., n), (..., n, n).
    """

    def forward(self, a):
        self.w, self.v = self.xp.linalg.eigh(a)
        return self.w, self.v

    def backward(self, gw, gv):
        xp = self.xp
        w, v = self.w, self.v
        diff = w[..., None, :] - w[..., :, None]  # w_j - w_i
        n = w.shape[-1]
        off = ~numpy.eye(n, dtype=bool)
        f = xp.zeros_like(diff)
        f[..., off] = 1.0 / diff[..., off]
        inner = f * (_mT(v) @ gv)
        idx = numpy.arange(n)
        inner[..., idx, idx] += gw
        ga = v @ inner @ _mT(v)
        return 0.5 * (ga + _mT(ga))


def eigh(x):
    """Eigenvalues (ascending) and eigenvectors of each symmetric matrix: ``(w, v)``."""
    return Eigh.apply(_square("eigh", x))


def eig(x):
    """Eigenvalues and eigenvectors of general square matrices (no gradient).

    Ember tensors are real: matrices whose eigenvalues are complex are refused.
    """
    a = _square("eig", x)
    w, v = numpy.linalg.eig(a.numpy())
    if numpy.iscomplexobj(w) and numpy.any(numpy.imag(w) != 0):
        raise NotImplementedError(
            "eig: these eigenvalues are complex and Ember has no complex tensors; use eigh for symmetric matrices"
        )
    return tensor(numpy.real(w).astype(a.dtype)), tensor(numpy.real(v).astype(a.dtype))


def _copyltu(xp, m):
    """The lower triangle of m mirrored onto the upper one."""
    low = xp.tril(m, -1)
    idx = numpy.arange(m.shape[-1])
    out = low + _mT(low)
    out[..., idx, idx] = m[..., idx, idx]
    return out


class QR(Function):
    """(Q, R) with A = Q R. Shapes: (..., m, n) -> (..., m, k), (..., k, n), k = min(m, n) ('reduced')."""

    def forward(self, a, mode):
        self.mode = mode
        self.shape = a.shape
        self.q, self.r = self.xp.linalg.qr(a, mode=mode)
        return self.q, self.r

    def backward(self, gq, gr):
        m, n = self.shape[-2:]
        if self.mode != "reduced" or m < n:
            raise NotImplementedError(
                f"qr: the gradient is defined for mode='reduced' with rows >= columns; got mode={self.mode!r} "
                f"and a ({m}, {n}) matrix"
            )
        xp = self.xp
        q, r = self.q, self.r
        mm = r @ _mT(gr) - _mT(gq) @ q
        b = gq + q @ _copyltu(xp, mm)
        # B R^-T: solve R X^T = B^T
        return _mT(xp.linalg.solve(r, _mT(b)))


def qr(x, mode="reduced"):
    """The QR decomposition ``(q, r)`` of each matrix (``mode`` 'reduced' or 'complete')."""
    if mode not in ("reduced", "complete"):
        raise ValueError(f"qr: mode must be 'reduced' or 'complete', got {mode!r}")
    return QR.apply(_float_matrix("qr", x), mode=mode)


class SVD(Function):
    """(U, S, Vh) with A = U diag(S) Vh. Gradients flow through S only."""

    def forward(self, a, full_matrices):
        self.u, self.s, self.vh = self.xp.linalg.svd(a, full_matrices=full_matrices)
        return self.u, self.s, self.vh

    def backward(self, gu, gs, gvh):
        xp = self.xp
        if xp.any(gu != 0) or xp.any(gvh != 0):
            raise NotImplementedError(
                "svd: Ember differentiates the singular values only; use svd(x, compute_uv=False) "
                "or eigh of x^T x for gradients through the singular vectors"
            )
        k = self.s.shape[-1]
        return (self.u[..., :, :k] * gs[..., None, :]) @ self.vh[..., :k, :]


class SingularValues(Function):
    """S of A = U diag(S) Vh. Shapes: (..., m, n) -> (..., min(m, n)). Gradient U diag(gS) Vh."""

    def forward(self, a):
        self.u, s, self.vh = self.xp.linalg.svd(a, full_matrices=False)
        return s

    def backward(self, gs):
        return (self.u * gs[..., None, :]) @ self.vh


def svd(x, full_matrices=True, compute_uv=True):
    """The singular value decomposition ``(u, s, vh)``, or ``s`` alone with ``compute_uv=False``."""
    a = _float_matrix("svd", x)
    if not compute_uv:
        return SingularValues.apply(a)
    return SVD.apply(a, full_matrices=bool(full_matrices))


def lstsq(a, b, rcond=None):
    """The least-squares solution of ``a @ x = b`` for a full-rank ``a`` (normal equations; differentiable)."""
    a = _float_matrix("lstsq", a)
    b = b if isinstance(b, Tensor) else tensor(b, dtype=a.dtype)
    vector = b.ndim == 1
    if vector:
        b = _sh.expand_dims(b, -1)
    at = _sh.swapaxes(a, -1, -2)
    if a.shape[-2] >= a.shape[-1]:
        x = solve(_ar.matmul(at, a), _ar.matmul(at, b))
    else:
        x = _ar.matmul(at, solve(_ar.matmul(a, at), b))
    return _sh.squeeze(x, -1) if vector else x


def pinv(x, rcond=None):
    """The Moore-Penrose pseudo-inverse (no gradient); ``rcond`` defaults to NumPy's."""
    a = _float_matrix("pinv", x)
    kwargs = {} if rcond is None else {"rcond": rcond}
    return tensor(numpy.linalg.pinv(a.numpy(), **kwargs).astype(a.dtype))


def matrix_rank(x, tol=None):
    """The rank of each matrix (int32), singular values above ``tol`` counted."""
    a = _float_matrix("matrix_rank", x)
    return tensor(numpy.asarray(numpy.linalg.matrix_rank(a.numpy(), tol=tol)).astype(numpy.int32))


def lu_factor(x):
    """The LU factorisation with partial pivoting: ``(lu, pivots)`` as ``scipy.linalg.lu_factor`` (0-based pivots).

    ``lu`` holds U in its upper triangle and the unit-lower L below; row i was swapped with row ``pivots[i]``.
    """
    a = _square("lu_factor", x)
    data = a.numpy().astype(numpy.float64)
    batch = data.shape[:-2]
    n = data.shape[-1]
    lus = numpy.empty_like(data)
    pivs = numpy.empty(batch + (n,), dtype=numpy.int32)
    for idx in numpy.ndindex(*batch):
        m = data[idx].copy()
        piv = numpy.empty(n, dtype=numpy.int32)
        for k in range(n):
            p = k + int(numpy.argmax(numpy.abs(m[k:, k])))
            piv[k] = p
            if p != k:
                m[[k, p]] = m[[p, k]]
            if m[k, k] != 0:
                m[k + 1 :, k] /= m[k, k]
                m[k + 1 :, k + 1 :] -= numpy.outer(m[k + 1 :, k], m[k, k + 1 :])
        lus[idx] = m
        pivs[idx] = piv
    return tensor(lus.astype(a.dtype)), tensor(pivs)


def jvp(fun, primals, tangents, has_aux=False):
    """The Jacobian-vector product: ``(fun(*primals), J @ tangents)`` (and ``aux`` with ``has_aux``).

    Ember's autodiff is reverse-mode: the product is assembled from one backward pass per output element,
    exact but meant for small outputs.
    """
    primals, tangents = tuple(primals), tuple(tangents)
    if len(primals) != len(tangents):
        raise ValueError(f"jvp: {len(primals)} primals but {len(tangents)} tangents")
    leaves = []
    for p in primals:
        p = p if isinstance(p, Tensor) else tensor(p)
        leaves.append(tensor(p.numpy(), dtype=p.dtype, requires_grad=True))
    result = fun(*leaves)
    out, aux = (result[0], result[1]) if has_aux else (result, None)
    flat = _sh.reshape(out, (-1,))
    values = numpy.zeros(flat.shape[0], dtype=out.dtype)
    tangent_arrays = [t.numpy() if isinstance(t, Tensor) else numpy.asarray(t) for t in tangents]
    for i in range(flat.shape[0]):
        for leaf in leaves:
            leaf.grad = None
        flat[i].backward(retain_graph=True)
        values[i] = sum(
            float((leaf.grad.numpy() * t).sum()) for leaf, t in zip(leaves, tangent_arrays) if leaf.grad is not None
        )
    tangent_out = tensor(values.reshape(out.shape), dtype=out.dtype)
    primal_out = out.detach()
    if has_aux:
        return primal_out, tangent_out, aux
    return primal_out, tangent_out
