"""Compiled (numba) log likelihood and gradient of a one-hidden-layer MLP, all chains per call.

:class:`bayesprune.likelihoods.MLPPosterior` calls :func:`loglik_and_grad` for float64
networks with one hidden layer (every method-A network of the shipped configs); deeper or
float32 networks take its numpy path. Both compute the same function (tests compare them to
1e-12).

Why compiled: a step of the sampler is one full-batch forward and backward pass per chain.
In numpy every element-wise stage (bias, sigmoid's exp, add, reciprocal, its derivative) is
a separate pass over ``(N, K * H)`` arrays and the small products are separate BLAS calls;
on Abalone (2,506 rows) those passes, and on Iris (90 rows) the per-call overhead, are the
cost. Here each hidden unit's activations are computed, used and turned into their backward
deltas while they sit in cache, four units per pass over the inputs, in one call for every
chain (measured: ``benchmarks/sampler_throughput.py``, README "Speed").

The exponential is a vectorisable polynomial (:func:`exp_neg`: Cody-Waite reduction by
``ln 2``, degree-13 Taylor polynomial, exponent by bit construction), because numba's
``math.exp`` is a scalar libm call that stops the loop vectoriser (about 7x slower here).
Its relative error is below 5e-16 on [-700, 0] (tests/test_fused.py); inputs below -708
return exp(-708) (about 3e-308) instead of a subnormal or 0.

Loops that sum over rows are compiled with ``reassoc`` (vectorised reductions: the sums are
not bit-identical to the numpy path, only equal to rounding); ``nnan``/``ninf`` are never
assumed, so a non-finite value still propagates and the sampler rejects that proposal.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, types
from numba.extending import intrinsic

# reassociation (vectorised reductions) and contraction (FMA), never finite-math
_FAST = {"reassoc", "contract", "nsz", "arcp"}
# the exponential's range reduction must be evaluated as written (no reassociation)
_EXACT = {"contract"}

HIDDEN_CODES = {"sigmoid": 0, "tanh": 1, "relu": 2}

_LOG2E = 1.4426950408889634
_LN2_HI = 0.6931471803691238  # ln 2 split in two for an exact k * ln2_hi
_LN2_LO = 1.9082149292705877e-10
_ROUND = 6755399441055744.0  # 1.5 * 2**52: x + _ROUND rounds x to an integer in the low bits
_ROUND_BITS = 4843621399236968448  # the int64 bit pattern of _ROUND


@intrinsic
def _bits_to_float(typingctx, x):  # type: ignore[no-untyped-def]
    """Reinterpret an int64 bit pattern as a float64 (an LLVM bitcast: free, vectorisable)."""
    from llvmlite import ir

    sig = types.float64(types.int64)

    def codegen(context, builder, signature, args):  # type: ignore[no-untyped-def]
        return builder.bitcast(args[0], ir.DoubleType())

    return sig, codegen


@intrinsic
def _float_to_bits(typingctx, x):  # type: ignore[no-untyped-def]
    """The int64 bit pattern of a float64."""
    from llvmlite import ir

    sig = types.int64(types.float64)

    def codegen(context, builder, signature, args):  # type: ignore[no-untyped-def]
        return builder.bitcast(args[0], ir.IntType(64))

    return sig, codegen


@njit(fastmath=_EXACT, error_model="numpy", cache=True)
def exp_neg(x: float) -> float:
    """``exp(x)`` for ``x`` in [-708, 708] (values outside are clipped to it); accurate to
    about 1 ulp (the name: the softmax and the sigmoid call it with ``x <= 0`` mostly)."""
    x = min(max(x, -708.0), 708.0)
    t = x * _LOG2E + _ROUND
    k = t - _ROUND  # round(x / ln 2), exactly
    ki = _float_to_bits(t) - _ROUND_BITS
    r = x - k * _LN2_HI
    r = r - k * _LN2_LO  # |r| <= ln(2) / 2
    p = 1.0 / 6227020800.0
    p = p * r + 1.0 / 479001600.0
    p = p * r + 1.0 / 39916800.0
    p = p * r + 1.0 / 3628800.0
    p = p * r + 1.0 / 362880.0
    p = p * r + 1.0 / 40320.0
    p = p * r + 1.0 / 5040.0
    p = p * r + 1.0 / 720.0
    p = p * r + 1.0 / 120.0
    p = p * r + 1.0 / 24.0
    p = p * r + 1.0 / 6.0
    p = p * r + 0.5
    p = p * r + 1.0
    p = p * r + 1.0
    return p * _bits_to_float((ki + 1023) << 52)


@njit(fastmath=_EXACT, error_model="numpy", cache=True)
def sigmoid(a: float) -> float:
    """Logistic function (for ``a < -708`` it returns about 3e-308 instead of smaller)."""
    return 1.0 / (1.0 + exp_neg(-a))


@njit(fastmath=_FAST, error_model="numpy", cache=True)
def _activate(a: np.ndarray, act: int) -> None:
    """The hidden activation of ``a`` in place (one loop per kind, so each vectorises)."""
    if act == 0:
        for n in range(a.shape[0]):
            a[n] = sigmoid(a[n])
    elif act == 1:
        for n in range(a.shape[0]):
            a[n] = math.tanh(a[n])
    else:
        for n in range(a.shape[0]):
            a[n] = max(a[n], 0.0)


@njit(fastmath=_FAST, error_model="numpy", cache=True)
def _times_derivative(back: np.ndarray, a: np.ndarray, act: int) -> None:
    """``a = back * activation'`` in place, the derivative expressed through the output."""
    if act == 0:
        for n in range(a.shape[0]):
            h = a[n]
            a[n] = back[n] * (h - h * h)
    elif act == 1:
        for n in range(a.shape[0]):
            h = a[n]
            a[n] = back[n] * (1.0 - h * h)
    else:
        for n in range(a.shape[0]):
            a[n] = back[n] if a[n] > 0.0 else 0.0


@njit(fastmath=_FAST, error_model="numpy", cache=True)
def _first_inputs(xa, xb, xc, xd, w, c, a0, a1, a2, a3):  # type: ignore[no-untyped-def]
    """``a_u = c_u + sum_v w[u, v] x_v`` for 4 units and 4 input rows (``a3`` written first:
    with fewer than 4 units the spare outputs alias the last real one)."""
    w00, w01, w02, w03 = w[0, 0], w[0, 1], w[0, 2], w[0, 3]
    w10, w11, w12, w13 = w[1, 0], w[1, 1], w[1, 2], w[1, 3]
    w20, w21, w22, w23 = w[2, 0], w[2, 1], w[2, 2], w[2, 3]
    w30, w31, w32, w33 = w[3, 0], w[3, 1], w[3, 2], w[3, 3]
    c0, c1, c2, c3 = c[0], c[1], c[2], c[3]
    for n in range(xa.shape[0]):
        p, q, r, t = xa[n], xb[n], xc[n], xd[n]
        a3[n] = c3 + w30 * p + w31 * q + w32 * r + w33 * t
        a2[n] = c2 + w20 * p + w21 * q + w22 * r + w23 * t
        a1[n] = c1 + w10 * p + w11 * q + w12 * r + w13 * t
        a0[n] = c0 + w00 * p + w01 * q + w02 * r + w03 * t


@njit(fastmath=_FAST, error_model="numpy", cache=True)
def _more_inputs(xa, xb, xc, xd, w, a0, a1, a2, a3):  # type: ignore[no-untyped-def]
    """``a_u += sum_v w[u, v] x_v`` (as :func:`_first_inputs`)."""
    w00, w01, w02, w03 = w[0, 0], w[0, 1], w[0, 2], w[0, 3]
    w10, w11, w12, w13 = w[1, 0], w[1, 1], w[1, 2], w[1, 3]
    w20, w21, w22, w23 = w[2, 0], w[2, 1], w[2, 2], w[2, 3]
    w30, w31, w32, w33 = w[3, 0], w[3, 1], w[3, 2], w[3, 3]
    for n in range(xa.shape[0]):
        p, q, r, t = xa[n], xb[n], xc[n], xd[n]
        a3[n] += w30 * p + w31 * q + w32 * r + w33 * t
        a2[n] += w20 * p + w21 * q + w22 * r + w23 * t
        a1[n] += w10 * p + w11 * q + w12 * r + w13 * t
        a0[n] += w00 * p + w01 * q + w02 * r + w03 * t


@njit(fastmath=_FAST, error_model="numpy", cache=True)
def _dense(
    th: np.ndarray,
    w_off: int,
    su: int,
    sv: int,
    b_off: int,
    IN: np.ndarray,
    V: int,
    OUT: np.ndarray,
    U: int,
) -> None:
    """``OUT[u, n] = b[u] + sum_v W[u, v] IN[v, n]`` for ``u < U``, with
    ``W[u, v] = th[w_off + u * su + v * sv]`` and ``b[u] = th[b_off + u]`` (0 if ``b_off < 0``).

    ``IN`` has ``V`` rows rounded up to a multiple of 4 (zero rows beyond ``V``); each pass
    over the rows adds 4 inputs to 4 outputs (16 multiply-adds per 8 loads)."""
    for j0 in range(0, U, 4):
        nj = min(4, U - j0)
        c = np.zeros(4)
        if b_off >= 0:
            for u in range(nj):
                c[u] = th[b_off + j0 + u]
        a0, a1, a2, a3 = (
            OUT[j0],
            OUT[j0 + min(1, nj - 1)],
            OUT[j0 + min(2, nj - 1)],
            OUT[j0 + nj - 1],
        )
        # with fewer than 4 outputs left the spare rows alias the last one: its value is
        # written last (output order), so the aliases are harmless
        for i0 in range(0, IN.shape[0], 4):
            w = np.zeros((4, 4))
            for u in range(nj):
                for v in range(min(4, V - i0)):
                    w[u, v] = th[w_off + (j0 + u) * su + (i0 + v) * sv]
            xa, xb, xc, xd = IN[i0], IN[i0 + 1], IN[i0 + 2], IN[i0 + 3]
            if i0 == 0:
                _first_inputs(xa, xb, xc, xd, w, c, a0, a1, a2, a3)
            else:
                _more_inputs(xa, xb, xc, xd, w, a0, a1, a2, a3)


@njit(fastmath=_FAST, error_model="numpy", cache=True)
def _hidden(th: np.ndarray, XT: np.ndarray, A: np.ndarray, D: int, H: int, act: int) -> None:
    """``A[j, n]`` = activation of hidden unit ``j`` at row ``n`` (``XT`` padded as for
    :func:`_dense`)."""
    _dense(th, 0, D, 1, H * D, XT, D, A, H)
    for j in range(H):
        _activate(A[j], act)


@njit(fastmath=_FAST, error_model="numpy", cache=True)
def _input_grad(XT: np.ndarray, A: np.ndarray, g: np.ndarray, D: int, H: int) -> None:
    """``g[j * D + i] = sum_n A[j, n] XT[i, n]`` (A holds the hidden deltas): 4 units by 4
    inputs per pass (16 sums)."""
    N = XT.shape[1]
    for j0 in range(0, H, 4):
        nj = min(4, H - j0)
        a0, a1, a2, a3 = A[j0], A[j0 + min(1, nj - 1)], A[j0 + min(2, nj - 1)], A[j0 + nj - 1]
        for i0 in range(0, XT.shape[0], 4):
            xa, xb, xc, xd = XT[i0], XT[i0 + 1], XT[i0 + 2], XT[i0 + 3]
            s = np.empty((4, 4))
            s00 = s01 = s02 = s03 = 0.0
            s10 = s11 = s12 = s13 = 0.0
            s20 = s21 = s22 = s23 = 0.0
            s30 = s31 = s32 = s33 = 0.0
            for n in range(N):
                p, q, r, t = xa[n], xb[n], xc[n], xd[n]
                e0, e1, e2, e3 = a0[n], a1[n], a2[n], a3[n]
                s00 += e0 * p
                s01 += e0 * q
                s02 += e0 * r
                s03 += e0 * t
                s10 += e1 * p
                s11 += e1 * q
                s12 += e1 * r
                s13 += e1 * t
                s20 += e2 * p
                s21 += e2 * q
                s22 += e2 * r
                s23 += e2 * t
                s30 += e3 * p
                s31 += e3 * q
                s32 += e3 * r
                s33 += e3 * t
            s[0, 0], s[0, 1], s[0, 2], s[0, 3] = s00, s01, s02, s03
            s[1, 0], s[1, 1], s[1, 2], s[1, 3] = s10, s11, s12, s13
            s[2, 0], s[2, 1], s[2, 2], s[2, 3] = s20, s21, s22, s23
            s[3, 0], s[3, 1], s[3, 2], s[3, 3] = s30, s31, s32, s33
            for u in range(nj):
                for v in range(min(4, D - i0)):
                    g[(j0 + u) * D + i0 + v] = s[u, v]


@njit(fastmath=_FAST, error_model="numpy", cache=True)
def _outputs(th: np.ndarray, A: np.ndarray, F: np.ndarray, D: int, H: int, C: int) -> None:
    """``F[c, n]`` = output pre-activation ``c`` at row ``n`` (``A`` has ``H`` rows rounded up to
    a multiple of 4, zero beyond ``H``)."""
    W1 = H * D + H
    _dense(th, W1, H, 1, W1 + C * H, A, H, F, C)


@njit(fastmath=_FAST, error_model="numpy", cache=True)
def _regression_delta(
    F: np.ndarray, y: np.ndarray, inv_tau2: float, out_sigmoid: bool, dl: np.ndarray
) -> float:
    """Sum of squared residuals; ``dl`` = d loglik / d output pre-activation."""
    f = F[0]
    d = dl[0]
    sse = 0.0
    for n in range(f.shape[0]):
        out = sigmoid(f[n]) if out_sigmoid else f[n]
        r = y[n] - out
        sse += r * r
        dn = r * inv_tau2
        if out_sigmoid:
            dn *= out - out * out
        d[n] = dn
    return sse


@njit(fastmath=_FAST, error_model="numpy", cache=True)
def _classification_delta(
    F: np.ndarray, labels: np.ndarray, dl: np.ndarray, m: np.ndarray, s: np.ndarray
) -> float:
    """Categorical log likelihood of softmax(F); ``dl`` = onehot - softmax (``m``, ``s``
    (N,) workspaces). Every pass runs over the rows, so it vectorises.

    The rows' normalisers ``s_n`` (in [1, C]) are multiplied in blocks of 32 before one
    ``log`` per block (a scalar libm call): ``C ** 32`` stays finite for any C < 4e9.
    """
    C, N = F.shape
    f0 = F[0]
    for n in range(N):
        m[n] = f0[n]
    for c in range(1, C):
        f = F[c]
        for n in range(N):
            m[n] = max(m[n], f[n])
    for n in range(N):
        s[n] = 0.0
    for c in range(C):
        f = F[c]
        e = dl[c]
        for n in range(N):
            v = exp_neg(f[n] - m[n])
            e[n] = v
            s[n] += v
    ll = 0.0
    for n in range(N):
        ll += F[labels[n], n] - m[n]
    for b in range(0, N, 32):
        prod = 1.0
        for n in range(b, min(b + 32, N)):
            prod *= s[n]
        ll -= math.log(prod)
    for n in range(N):
        s[n] = 1.0 / s[n]
    for c in range(C):
        e = dl[c]
        for n in range(N):
            e[n] = -e[n] * s[n]
    for n in range(N):
        dl[labels[n], n] += 1.0
    return ll


@njit(fastmath=_FAST, error_model="numpy", cache=True)
def _sum(a: np.ndarray) -> float:
    s = 0.0
    for n in range(a.shape[0]):
        s += a[n]
    return s


@njit(fastmath=_FAST, error_model="numpy", cache=True)
def _backward(
    th: np.ndarray,
    XT: np.ndarray,
    A: np.ndarray,
    dl: np.ndarray,
    back: np.ndarray,
    g: np.ndarray,
    D: int,
    H: int,
    C: int,
    act: int,
) -> None:
    """Gradient of the log likelihood into ``g`` (P,); overwrites ``A`` with hidden deltas
    (``back`` (>= H, N) a workspace; ``A`` and ``dl`` padded as for :func:`_dense`)."""
    N = A.shape[1]
    W1 = H * D + H
    B1 = W1 + C * H
    if C == 1 and act == 0:  # one output, sigmoid units: one pass per unit
        d = dl[0]
        for j in range(H):
            a = A[j]
            w = th[W1 + j]
            sw = 0.0
            sb = 0.0
            for n in range(N):
                h = a[n]
                sw += d[n] * h
                dh = w * d[n] * (h - h * h)
                a[n] = dh
                sb += dh
            g[W1 + j] = sw
            g[H * D + j] = sb
        g[B1] = _sum(d)
        _input_grad(XT, A, g, D, H)
        return
    for c in range(C):
        g[B1 + c] = _sum(dl[c])
    _input_grad(A, dl, g[W1:], H, C)  # g[W1 + c * H + j] = sum_n dl[c, n] A[j, n]
    _dense(th, W1, 1, H, -1, dl, C, back, H)  # back[j] = sum_c W1[c, j] dl[c]
    for j in range(H):
        a = A[j]
        _times_derivative(back[j], a, act)
        g[H * D + j] = _sum(a)
    _input_grad(XT, A, g, D, H)


@njit(error_model="numpy", cache=True)
def loglik_and_grad(
    theta: np.ndarray,
    XT: np.ndarray,
    y: np.ndarray,
    labels: np.ndarray,
    inv_tau2: np.ndarray,
    D: int,
    H: int,
    C: int,
    act: int,
    out_sigmoid: bool,
    regression: bool,
    grad: np.ndarray,
    out: np.ndarray,
    A: np.ndarray,
    F: np.ndarray,
    dl: np.ndarray,
    back: np.ndarray,
) -> None:
    """For every chain ``k``: the data part of the log likelihood into ``out[k]`` (regression:
    the sum of squared residuals; classification: the log likelihood) and its gradient with
    respect to ``theta[k]`` into ``grad[k, :P]``.

    ``theta`` (K, P) in the layout of :class:`bayesprune.networks.MLPSpec` for sizes
    ``(D, H, C)``; ``XT`` (D rounded up to a multiple of 4, N) the inputs transposed, zero rows
    beyond ``D``; ``y`` (N,) regression targets,
    ``labels`` (N,) int64 classes; ``inv_tau2`` (K,) 1 / tau^2 (regression);
    ``act`` a :data:`HIDDEN_CODES` value; workspaces (see :func:`workspaces`).
    """
    for k in range(theta.shape[0]):
        th = theta[k]
        g = grad[k]
        _hidden(th, XT, A, D, H, act)
        _outputs(th, A, F, D, H, C)
        if regression:
            out[k] = _regression_delta(F, y, inv_tau2[k], out_sigmoid, dl)
        else:
            out[k] = _classification_delta(F, labels, dl, back[0], back[1])
        _backward(th, XT, A, dl, back, g, D, H, C, act)


@njit(error_model="numpy", cache=True)
def forward(
    theta: np.ndarray,
    XT: np.ndarray,
    D: int,
    H: int,
    C: int,
    act: int,
    out_sigmoid: bool,
    A: np.ndarray,
    F: np.ndarray,
    out: np.ndarray,
) -> None:
    """Network outputs ``out[s, n, c]`` (after the output activation) of every parameter
    vector ``theta[s]``; ``A`` and ``F`` from :func:`workspaces`, ``XT`` as in
    :func:`loglik_and_grad`."""
    N = XT.shape[1]
    for s in range(theta.shape[0]):
        th = theta[s]
        _hidden(th, XT, A, D, H, act)
        _outputs(th, A, F, D, H, C)
        for c in range(C):
            f = F[c]
            if out_sigmoid:
                for n in range(N):
                    out[s, n, c] = sigmoid(f[n])
            else:
                for n in range(N):
                    out[s, n, c] = f[n]


def _rows4(n: int) -> int:
    return -(-n // 4) * 4


def workspaces(sizes: tuple[int, ...], n: int) -> dict[str, np.ndarray]:
    """Buffers of :func:`loglik_and_grad` / :func:`forward` for sizes ``(D, H, C)`` and ``n``
    rows: ``A`` (H rounded up to 4, n), ``F`` (C, n), ``dl`` (C rounded up to 4, n), ``back``
    (max(H, 2), n); the rows beyond H and C are zero and stay zero."""
    _, H, C = sizes
    return {
        "A": np.zeros((_rows4(H), n)),
        "F": np.zeros((C, n)),
        "dl": np.zeros((_rows4(C), n)),
        "back": np.zeros((max(H, 2), n)),
    }


def padded_inputs(X: np.ndarray) -> np.ndarray:
    """Inputs ``(N, D)`` transposed to ``(D rounded up to a multiple of 4, N)``, zero rows
    beyond ``D`` (the layout of :func:`loglik_and_grad` and :func:`forward`)."""
    N, D = X.shape
    XT = np.zeros((_rows4(D), N))
    XT[:D] = X.T
    return XT
