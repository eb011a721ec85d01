"""The authors' method A, bug for bug (``../shared/SPEC.md``, "The authors' protocol").

Everything here exists for ``config/authors.yaml`` and the ablation that switches its choices
one at a time (:mod:`bayesprune.ablation`); no default config uses any of it.

* **Their network and flat layout.** One sigmoid hidden layer, ``z1 = x W1 - b1``,
  ``z2 = sigmoid(z1) W2 - b2``, ``out = sigmoid(z2)`` for regression and classification
  alike, flat vector ``[W1 (input-major, (D, H)), W2 ((H, O)), b1, b2]``. Our layout
  (:mod:`bayesprune.networks`) stores ``W (out, in)`` row-major per layer with its bias and
  adds the bias, so their vector is a signed permutation of ours (:func:`their_order`).
  Subtracting a bias instead of adding it is a relabelling under a symmetric prior: the
  sampler works in our layout throughout (the tests check their pass in their layout against
  ours).
* **Their target** (:class:`AuthorsPosterior`): classification probabilities are
  ``softmax(sigmoid(z2))`` (``likelihood.classification: softmax_sigmoid``), which caps them
  (at most e/(e + C - 1) for C classes: 0.73 for 2); the noise prior
  ``-(1 + nu1) log tau^2 - nu2 / tau^2`` is applied to ``eta = log tau^2`` without the
  Jacobian (``prior.eta_jacobian: false``), which adds ``-eta`` to our log density.
* **Their proposal** (:mod:`bayesprune.mcmc.sgd_epoch`, ``sampler.drift: sgd_epoch``): with probability
  ``langevin_prob``, ``w_gd`` = one epoch of per-example SGD (batch 1, data order, learning
  rate ``sgd_lr``) on ``0.5 * sum (target - out)^2`` (one-hot targets; the prior and
  ``tau^2`` ignored), ``w' ~ N(w_gd, s^2 I)``, ``w'_gd`` = the same epoch from ``w'``, and

      log q ratio = -0.5 ||w - w'_gd||^2 / v + 0.5 ||w' - w_gd||^2 / v

  with ``v = s`` (``q_ratio: authors``: the step used as a variance, under-weighting the
  correction 1/s = 40x at s = 0.025) or ``v = s^2`` (``q_ratio: exact``: the SGD epoch is a
  deterministic map, so this is a valid MH kernel). Otherwise a random walk ``N(w, s^2 I)``
  with ratio 0. ``eta`` takes a random-walk step ``N(0, noise_step^2)`` in the same proposal.
* **Their resampling mask** (``resample.mask: by_value``): the pruned coordinates are the
  zeros of the start, set to 0 in ``w'`` and ``w'_gd`` but not in ``w_gd``, and the SGD
  epochs move them internally. ``mask: index`` (ours) keeps them at exactly 0 in every SGD
  step and in both directions of the ratio.

The per-example SGD epoch is sequential over rows; it runs compiled (numba), all chains in one
call. The kernel itself is :mod:`bayesprune.mcmc.sgd_epoch`, run by the one runner
(:func:`bayesprune.mcmc.runner.run_chains`), so everything downstream is unchanged.
"""

from __future__ import annotations

import math
from typing import Any, Literal

import numba
import numpy as np

from bayesprune.likelihoods import (
    LogDensity,
    MLPPosterior,
    PriorSettings,
    Task,
    build_posterior,
)
from bayesprune.networks import MLPSpec

ClassLik = Literal["softmax_logits", "softmax_sigmoid"]


# ---------------------------------------------------------------------------- network
def check_network(spec: MLPSpec) -> tuple[int, int, int]:
    """``(D, H, O)`` of the authors' network: one sigmoid hidden layer, else an error."""
    if spec.n_layers != 2 or spec.hidden_activation != "sigmoid":
        raise ValueError(
            f"the authors' network has one sigmoid hidden layer; got sizes {spec.sizes} with "
            f"{spec.hidden_activation} hidden units (network.hidden must have one entry)"
        )
    return spec.sizes[0], spec.sizes[1], spec.sizes[2]


def their_order(spec: MLPSpec) -> tuple[np.ndarray, np.ndarray]:
    """``(index, sign)``: entry ``j`` of the authors' flat vector is ``sign[j] *
    theta[index[j]]`` of ours (biases change sign: they subtract theirs)."""
    D, H, C_out = check_network(spec)
    b0 = H * D
    w1 = b0 + H
    b1 = w1 + C_out * H
    index = np.concatenate(
        [
            np.array([h * D + d for d in range(D) for h in range(H)]),  # W1[d, h] = W0[h, d]
            np.array([w1 + o * H + h for h in range(H) for o in range(C_out)]),  # W2[h, o]
            b0 + np.arange(H),
            b1 + np.arange(C_out),
        ]
    ).astype(np.int64)
    sign = np.ones(spec.n_params)
    sign[H * D + H * C_out :] = -1.0
    return index, sign


def to_theirs(spec: MLPSpec, theta: np.ndarray) -> np.ndarray:
    """Our flat vectors ``(..., P)`` in the authors' layout."""
    index, sign = their_order(spec)
    return np.asarray(theta, dtype=np.float64)[..., index] * sign


def from_theirs(spec: MLPSpec, w: np.ndarray) -> np.ndarray:
    """The authors' flat vectors ``(..., P)`` in our layout."""
    index, sign = their_order(spec)
    w = np.asarray(w, dtype=np.float64)
    out = np.empty_like(w)
    out[..., index] = w * sign
    return out


def rnd_first_k_scores(spec: MLPSpec) -> np.ndarray:
    """Scores ``(P,)`` in our layout that make the lowest-``k`` rule prune the first ``k``
    entries of the authors' flat vector (their "RND"): entry ``j`` of theirs scores ``j``."""
    index, _ = their_order(spec)
    out = np.empty(spec.n_params)
    out[index] = np.arange(spec.n_params, dtype=np.float64)
    return out


# ---------------------------------------------------------------------------- compiled loops
#: fast-math flags without nnan/ninf: a sigmoid of a huge input overflows exp to inf and
#: must still give exactly 0, and a diverging proposal must show up as non-finite
_FAST = {"nsz", "arcp", "contract", "afn", "reassoc"}


@numba.njit(cache=True, fastmath=_FAST)
def _sigm(a: float) -> float:
    # not bayesprune.fused.sigmoid: that one is compiled without these fast-math flags and
    # with its own exp, so it rounds differently, and these loops define the authors' numbers
    return 1.0 / (1.0 + math.exp(-a))  # exp overflows to inf: exactly 0, no error


@numba.njit(cache=True, fastmath=_FAST)
def _forward_row(
    w: np.ndarray, x: np.ndarray, H: int, a: np.ndarray, out: np.ndarray, squash: bool
) -> None:
    """One row through the network ``w`` (our layout): hidden activations into ``a``, the
    outputs into ``out`` (sigmoid of ``z2`` when ``squash``, else ``z2``)."""
    D = x.shape[0]
    b0 = H * D
    w1 = b0 + H
    b1 = w1 + out.shape[0] * H
    for h in range(H):
        z = w[b0 + h]
        for d in range(D):
            z += w[h * D + d] * x[d]
        a[h] = _sigm(z)
    for o in range(out.shape[0]):
        z = w[b1 + o]
        for h in range(H):
            z += w[w1 + o * H + h] * a[h]
        out[o] = _sigm(z) if squash else z


@numba.njit(cache=True, fastmath=_FAST)
def sgd_epochs(
    theta: np.ndarray, X: np.ndarray, T: np.ndarray, H: int, lr: float, free: np.ndarray
) -> np.ndarray:
    """One epoch of per-example SGD (rows in order) from every row of ``theta`` ``(K, P)``
    (our layout), on ``0.5 * sum (T - sigmoid(z2))^2``. ``free`` ``(K, P)``: 1 where a
    coordinate may move, 0 where its updates are dropped (pruned, ``mask: index``)."""
    K, P = theta.shape
    N, D = X.shape
    C_out = T.shape[1]
    b0 = H * D
    w1 = b0 + H
    b1 = w1 + C_out * H
    out = theta.copy()
    a = np.empty(H)
    f = np.empty(C_out)
    dout = np.empty(C_out)
    dhid = np.empty(H)
    for k in range(K):
        w = out[k]
        m = free[k]
        for n in range(N):
            _forward_row(w, X[n], H, a, f, True)
            for o in range(C_out):
                dout[o] = (T[n, o] - f[o]) * f[o] * (1.0 - f[o])
            for h in range(H):  # before the output layer moves (the authors' order)
                s = 0.0
                for o in range(C_out):
                    s += dout[o] * w[w1 + o * H + h]
                dhid[h] = s * a[h] * (1.0 - a[h])
            for o in range(C_out):
                for h in range(H):
                    j = w1 + o * H + h
                    w[j] += lr * dout[o] * a[h] * m[j]
                w[b1 + o] += lr * dout[o] * m[b1 + o]
            for h in range(H):
                for d in range(D):
                    j = h * D + d
                    w[j] += lr * dhid[h] * X[n, d] * m[j]
                w[b0 + h] += lr * dhid[h] * m[b0 + h]
    return out


# 64 lines: one compiled loop over chains and rows (forward, likelihood, backward per row),
# kept whole so that its operation order, and so the authors' numbers, stay as they are
@numba.njit(cache=True, fastmath=_FAST)
def _loglik_grad(
    theta: np.ndarray,
    X: np.ndarray,
    T: np.ndarray,
    H: int,
    regression: bool,
    sigmoid_probs: bool,
    tau2: np.ndarray,
    want_grad: bool,
) -> tuple[np.ndarray, np.ndarray]:
    """Log likelihood ``(K,)`` and its gradient ``(K, P)`` (zeros unless ``want_grad``).

    Regression: Gaussian ``N(y; sigmoid(z2), tau2[k])``. Classification: categorical on
    ``softmax(s)`` with ``s = sigmoid(z2)`` (``sigmoid_probs``) or ``s = z2``; ``T`` one-hot.
    """
    K, P = theta.shape
    N, D = X.shape
    C_out = T.shape[1]
    b0 = H * D
    w1 = b0 + H
    b1 = w1 + C_out * H
    ll = np.zeros(K)
    grad = np.zeros((K, P))
    a = np.empty(H)
    s = np.empty(C_out)
    ds = np.empty(C_out)
    for k in range(K):
        w = theta[k]
        g = grad[k]
        for n in range(N):
            _forward_row(w, X[n], H, a, s, regression or sigmoid_probs)
            if regression:
                r = T[n, 0] - s[0]
                ll[k] += -0.5 * r * r / tau2[k]
                ds[0] = r / tau2[k] * s[0] * (1.0 - s[0])
            else:
                top = s[0]
                for o in range(1, C_out):
                    top = max(top, s[o])
                tot = 0.0
                for o in range(C_out):
                    tot += math.exp(s[o] - top)
                lse = top + math.log(tot)
                for o in range(C_out):
                    ll[k] += T[n, o] * (s[o] - lse)
                    ds[o] = T[n, o] - math.exp(s[o] - lse)
                    if sigmoid_probs:
                        ds[o] *= s[o] * (1.0 - s[o])
            if want_grad:
                for o in range(C_out):
                    g[b1 + o] += ds[o]
                    for h in range(H):
                        g[w1 + o * H + h] += ds[o] * a[h]
                for h in range(H):
                    da = 0.0
                    for o in range(C_out):
                        da += ds[o] * w[w1 + o * H + h]
                    dz = da * a[h] * (1.0 - a[h])
                    g[b0 + h] += dz
                    for d in range(D):
                        g[h * D + d] += dz * X[n, d]
        if regression:
            ll[k] += -0.5 * N * math.log(2.0 * math.pi * tau2[k])
    return ll, grad


# ---------------------------------------------------------------------------- target
class AuthorsPosterior(MLPPosterior):
    """The authors' log posterior (and its gradient), with our masks and helpers.

    ``classification``: ``softmax_sigmoid`` (theirs) or ``softmax_logits`` (ours).
    ``eta_jacobian``: ``False`` (theirs) applies the noise prior to ``eta`` as if it were a
    density in ``tau^2`` (``-(1 + nu1) eta - nu2 exp(-eta)``); ``True`` is ours. Needs the
    authors' network (one sigmoid hidden layer). :meth:`value` skips the gradient (their
    kernel does not use it).
    """

    def __init__(
        self,
        spec: MLPSpec,
        X: np.ndarray,
        y: np.ndarray,
        task: Task,
        *,
        classification: ClassLik = "softmax_sigmoid",
        eta_jacobian: bool = False,
        **kwargs: Any,
    ) -> None:
        _, self.n_hidden, _ = check_network(spec)
        if classification not in ("softmax_logits", "softmax_sigmoid"):
            raise ValueError(f"unknown classification likelihood {classification!r}")
        super().__init__(spec, X, y, task, **kwargs)
        self.classification = classification
        self.eta_jacobian = bool(eta_jacobian)
        self._X64 = np.ascontiguousarray(self.X, dtype=np.float64)
        if task == "regression":
            self._T = np.ascontiguousarray(self.y, dtype=np.float64).reshape(-1, 1)
        else:
            self._T = np.ascontiguousarray(self.onehot, dtype=np.float64)

    def _parts(self, x: np.ndarray, want_grad: bool) -> tuple[np.ndarray, ...]:
        x = np.asarray(x, dtype=np.float64)
        K = x.shape[0]
        theta = self.zero_pruned(np.array(x[:, : self.n_params]))
        regression = self.task == "regression"
        if regression:
            eta = x[:, self.eta_index] if self.has_eta else np.full(K, math.log(self.tau2))
        else:
            eta = np.zeros(K)
        ll, grad_ll = _loglik_grad(
            theta,
            self._X64,
            self._T,
            self.n_hidden,
            regression,
            self.classification == "softmax_sigmoid",
            np.exp(eta),
            want_grad,
        )
        prior = self._prior_const - 0.5 * np.einsum("kp,kp->k", theta, theta) / self.sigma2
        grad = np.zeros((K, self.dim))
        if want_grad:
            grad[:, : self.n_params] = grad_ll - theta / self.sigma2
            if self.chain_mask is not None:
                grad[:, : self.n_params][self.chain_mask] = 0.0
            elif self.mask.size:
                grad[:, self.mask] = 0.0
        if self.has_eta:
            power = self.nu1 + (0.0 if self.eta_jacobian else 1.0)
            prior = prior + self._ig_const - power * eta - self.nu2 * np.exp(-eta)
            if want_grad:
                r2 = 2.0 * (-ll - 0.5 * self.n * (math.log(2 * math.pi) + eta)) * np.exp(eta)
                # d loglik / d eta = -N/2 + SSE / (2 tau2), with SSE recovered from loglik
                grad[:, self.eta_index] = (
                    -0.5 * self.n + 0.5 * r2 * np.exp(-eta) - power + self.nu2 * np.exp(-eta)
                )
        return ll + prior, grad, ll

    def __call__(self, x: np.ndarray) -> LogDensity:
        x = np.asarray(x, dtype=np.float64)
        squeeze = x.ndim == 1
        with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
            lp, grad, ll = self._parts(np.atleast_2d(x), True)
        if squeeze:
            return LogDensity(lp[0], grad[0], ll[0])
        return LogDensity(lp, grad, ll)

    def value(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(log density, log likelihood)`` at positions ``(K, dim)``, no gradient."""
        with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
            lp, _, ll = self._parts(np.atleast_2d(x), False)
        return lp, ll

    def sgd_targets(self) -> np.ndarray:
        """Targets of the authors' SGD epoch: ``y`` ``(N, 1)`` or one-hot ``(N, C)``."""
        return self._T


def build_target(
    spec: MLPSpec,
    X: np.ndarray,
    y: np.ndarray,
    task: Task,
    *,
    prior: PriorSettings | None = None,
    classification: ClassLik = "softmax_logits",
    mask: np.ndarray | list[int] | None = None,
    authors_kernel: bool = False,
    **kwargs: Any,
) -> MLPPosterior:
    """The target a config asks for: our :class:`MLPPosterior` when every choice is ours,
    else :class:`AuthorsPosterior` (their likelihood, their eta prior, or their kernel, which
    needs :meth:`AuthorsPosterior.value` and the SGD targets)."""
    prior = prior or PriorSettings()
    jacobian = prior.eta_jacobian
    ours = classification == "softmax_logits" or task == "regression"
    ours = ours and (jacobian or task == "classification")
    if ours and not authors_kernel:
        return build_posterior(spec, X, y, task, prior=prior, mask=mask, **kwargs)
    kwargs.pop("torch_sigmoid", None)
    return AuthorsPosterior(
        spec,
        X,
        y,
        task,
        classification=classification,
        eta_jacobian=jacobian,
        sigma2=prior.sigma2,
        nu1=prior.nu1,
        nu2=prior.nu2,
        mask=mask,
        **kwargs,
    )
