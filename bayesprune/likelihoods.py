"""Log posterior of the flat-vector MLP and its gradient, batched over ``K`` chains.

The target is a density over one *position* vector per chain:

* ``x = theta`` (length ``P``, layout of :class:`bayesprune.networks.MLPSpec`) for
  classification and for regression with fixed noise;
* ``x = (theta, eta)`` (length ``P + 1``) for regression with sampled noise, where
  ``eta = log tau^2`` is the last coordinate.

Model (spec part A):

* every weight and bias ~ N(0, sigma2);
* regression: ``y_n ~ N(f(x_n; theta), tau^2)`` with ``tau^2 ~ InverseGamma(nu1, nu2)``.
  The sampled coordinate is ``eta = log tau^2``, so the density of ``eta`` includes the
  Jacobian ``d tau^2 / d eta = tau^2``: ``log p(eta) = c - nu1 * eta - nu2 * exp(-eta)``.
  ``nu1 = nu2 = 0`` is allowed: the improper prior ``p(tau^2) ∝ 1 / tau^2``, i.e. flat in
  ``eta``, with the normalising constant taken as 0;
* classification: categorical on ``softmax(logits)`` (stable ``log_softmax``);
* the log likelihood is summed over the full training set.

For float64 networks with one hidden layer (every method-A network of the shipped configs) the
data term and its gradient come from the compiled pass of :mod:`bayesprune.fused` (about 2-3x
faster, equal to rounding; ``fused=False`` forces numpy). Otherwise the gradient is computed
by a hand-written backward pass in numpy (no autograd): small
networks on full-batch data are bound by per-call overhead, and one fused forward+backward
pass per MCMC step is what the sampler needs (it keeps the gradient of the current state).
The first layer of all ``K`` chains is one matrix product ``X @ W0^T`` with ``W0`` of shape
``(K * H, D)``; later layers use one product with a block-diagonal weight matrix. Activations
are kept as ``(N, K * width)`` arrays so every step is a plain 2-D BLAS call.

Pruning: ``mask`` is an explicit array of pruned flat indices. Those coordinates are treated as
exactly 0 whatever value the input holds there: the log density does not depend on them and
their gradient is 0. The prior normalising constant counts only kept parameters.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np

from bayesprune.mcmc.model import LogDensity
from bayesprune.networks import MLPSpec
from bayesprune.numpy_pass import NumpyPass

Task = Literal["regression", "classification"]


class MLPPosterior(NumpyPass):
    """Log posterior (and gradient) of an MLP over a batch of flat parameter vectors.

    Call it with positions ``x`` of shape ``(K, dim)``; it returns a :class:`LogDensity`.
    ``dtype`` is the precision of the network arithmetic (``float64`` default; ``float32``
    roughly halves the cost of numpy's large element-wise passes); sums and results are
    float64. ``fused``: the compiled one-hidden-layer pass (None: wherever it applies, i.e.
    float64 with one hidden layer; True: required; False: numpy).
    """

    def __init__(
        self,
        spec: MLPSpec,
        X: np.ndarray,
        y: np.ndarray,
        task: Task,
        *,
        sigma2: float = 25.0,
        nu1: float = 2.0,
        nu2: float = 0.1,
        noise: Literal["sampled", "fixed"] = "sampled",
        tau2: float | None = None,
        mask: np.ndarray | list[int] | None = None,
        dtype: type | np.dtype = np.float64,
        torch_sigmoid: bool = False,
        fused: bool | None = None,
    ) -> None:
        if task not in ("regression", "classification"):
            raise ValueError(f"task must be regression or classification, got {task!r}")
        X = np.asarray(X)
        if X.ndim != 2 or X.shape[1] != spec.sizes[0]:
            raise ValueError(f"X must be (N, {spec.sizes[0]}), got {X.shape}")
        self.spec = spec
        self.task = task
        self.dtype = np.dtype(dtype)
        self.X = np.ascontiguousarray(X, dtype=self.dtype)
        self.n = X.shape[0]
        # inputs with a ones column: the first layer's bias rides in its matrix product
        self.X1 = np.ascontiguousarray(np.hstack([self.X, np.ones((self.n, 1), self.dtype)]))
        self._ones = np.ones(self.n, dtype=self.dtype)
        self.sigma2 = float(sigma2)
        self.nu1, self.nu2 = float(nu1), float(nu2)
        if self.sigma2 <= 0 or self.nu1 < 0 or self.nu2 < 0:
            raise ValueError("need sigma2 > 0, nu1 >= 0, nu2 >= 0")
        self._set_targets(y, noise, tau2)
        if self.y.shape[0] != self.n:
            raise ValueError("X and y have different numbers of rows")
        P = spec.n_params
        self.n_params = P
        self.has_eta = task == "regression" and self.noise == "sampled"
        self.dim = P + int(self.has_eta)
        self.eta_index = P if self.has_eta else None
        self._set_mask(mask)
        blocks = spec.blocks
        self._slices = [
            (blocks[2 * i].slice, blocks[2 * i + 1].slice) for i in range(spec.n_layers)
        ]
        self._ws: dict[int, dict[str, list[np.ndarray]]] = {}
        self._set_passes(fused, torch_sigmoid)
        # IG prior constant on tau^2 (0 for the improper nu1 = 0 or nu2 = 0 case).
        if self.nu1 > 0 and self.nu2 > 0:
            self._ig_const = self.nu1 * math.log(self.nu2) - math.lgamma(self.nu1)
        else:
            self._ig_const = 0.0
        self._prior_const = -0.5 * self.n_kept * math.log(2 * math.pi * self.sigma2)

    def _set_targets(self, y: np.ndarray, noise: str, tau2: float | None) -> None:
        """The targets (regression ``y`` and its noise model, or class labels and one-hot)."""
        spec, task = self.spec, self.task
        if task == "regression":
            if spec.sizes[-1] != 1:
                raise ValueError("regression needs one network output")
            self.y = np.asarray(y, dtype=self.dtype).reshape(-1)
            if noise not in ("sampled", "fixed"):
                raise ValueError(f"noise must be sampled or fixed, got {noise!r}")
            if noise == "fixed" and (tau2 is None or tau2 <= 0):
                raise ValueError("noise='fixed' needs tau2 > 0")
            self.noise = noise
            self.tau2 = None if tau2 is None else float(tau2)
        else:
            if spec.output_activation != "identity":
                raise ValueError("classification uses identity output (the logits)")
            self.y = np.asarray(y, dtype=np.int64).reshape(-1)
            n_classes = spec.sizes[-1]
            if self.y.size and (self.y.min() < 0 or self.y.max() >= n_classes):
                raise ValueError(f"labels must lie in 0..{n_classes - 1}")
            self.onehot = np.eye(n_classes, dtype=self.dtype)[self.y]
            self.noise = "none"
            self.tau2 = None

    def _set_mask(self, mask: np.ndarray | list[int] | None) -> None:
        """The pruned coordinates: one index set, or one boolean row per chain."""
        P = self.n_params
        raw_mask = np.asarray([] if mask is None else mask)
        if raw_mask.ndim == 2:
            # one mask per chain: (K, P) booleans, True where pruned
            if raw_mask.dtype != bool or raw_mask.shape[1] != P:
                raise ValueError(f"a per-chain mask must be boolean (K, {P}), got {raw_mask.shape}")
            self.chain_mask: np.ndarray | None = raw_mask.copy()
            pruned = np.flatnonzero(raw_mask.all(axis=0))  # pruned in every chain
            n_kept: int | np.ndarray = P - raw_mask.sum(axis=1)
        else:
            self.chain_mask = None
            pruned = np.unique(raw_mask.astype(np.int64))
            if pruned.size and (pruned.min() < 0 or pruned.max() >= P):
                raise ValueError(f"mask indices must lie in 0..{P - 1}")
            n_kept = P - pruned.size
        self.mask = pruned
        self.n_kept = n_kept

    def _set_passes(self, fused: bool | None, torch_sigmoid: bool) -> None:
        """The compiled pass where it applies (or is asked for), else numpy's, optionally
        with torch's sigmoid."""
        spec, task = self.spec, self.task
        # the compiled pass (bayesprune.fused) for float64 networks with one hidden layer;
        # None: wherever it applies
        applies = spec.n_layers == 2 and self.dtype == np.float64
        if fused and not applies:
            raise ValueError("the compiled pass needs float64 and exactly one hidden layer")
        self._fused = None
        if applies and fused is not False:
            from bayesprune import fused as compiled

            self._fused = compiled
            # inputs transposed, rows padded with zeros to a multiple of 4 (see fused._hidden)
            self._XT = compiled.padded_inputs(self.X.astype(np.float64))
            regression = task == "regression"
            # the compiled call's constant arguments: D, H, C, activation code, sigmoid output
            self._fused_shape = (
                *spec.sizes,
                compiled.HIDDEN_CODES[spec.hidden_activation],
                spec.output_activation == "sigmoid",
            )
            self._fused_ws = {
                "y": self.y.astype(np.float64) if regression else np.zeros(self.n),
                "labels": np.zeros(self.n, np.int64) if regression else self.y.copy(),
                **compiled.workspaces(spec.sizes, self.n),
            }
        # numpy path: torch's vectorised sigmoid is 1.5x faster than numpy's exp + add +
        # reciprocal on one thread, but importing torch costs about 2 s: worth it on long,
        # wide runs only (see :func:`torch_sigmoid_pays`)
        self._torch = None
        if torch_sigmoid and spec.hidden_activation == "sigmoid" and self._fused is None:
            import torch

            self._torch = torch

    # ------------------------------------------------------------------ helpers
    def theta_of(self, x: np.ndarray) -> np.ndarray:
        """Network parameters ``(..., P)`` of positions ``(..., dim)`` (pruned entries 0;
        with a per-chain mask the second-last axis is the chain)."""
        theta = np.array(x[..., : self.n_params], dtype=np.float64)
        return self.zero_pruned(theta)

    def zero_pruned(self, theta: np.ndarray) -> np.ndarray:
        """Set the pruned entries of ``theta`` ``(..., [K,] P)`` to 0 in place; returns it."""
        if self.chain_mask is not None:
            if theta.shape[-2] != self.chain_mask.shape[0]:
                raise ValueError(
                    f"{theta.shape[-2]} chains, but the per-chain mask has "
                    f"{self.chain_mask.shape[0]} rows"
                )
            theta[..., self.chain_mask] = 0.0
        elif self.mask.size:
            theta[..., self.mask] = 0.0
        return theta

    def tau2_of(self, x: np.ndarray) -> np.ndarray | None:
        """``tau^2`` of positions ``(..., dim)``; the fixed value, or None for classification."""
        if self.has_eta:
            return np.exp(x[..., self.eta_index])
        if self.task == "regression":
            return np.full(x.shape[:-1], self.tau2)
        return None

    def position(self, theta: np.ndarray, tau2: float | np.ndarray | None = None) -> np.ndarray:
        """Position ``(..., dim)`` from parameters ``(..., P)`` (and ``tau2`` when sampled)."""
        theta = np.asarray(theta, dtype=np.float64)
        if not self.has_eta:
            return theta.copy()
        if tau2 is None:
            raise ValueError("this posterior samples eta = log tau2: give tau2")
        eta = np.broadcast_to(np.log(np.asarray(tau2, dtype=np.float64)), theta.shape[:-1])
        return np.concatenate([theta, eta[..., None]], axis=-1)

    def residual_tau2(self, theta: np.ndarray) -> np.ndarray:
        """Mean squared residual of each parameter vector ``(K, P)`` (a start for ``tau^2``)."""
        out = self._forward(np.atleast_2d(theta).astype(np.float64))[0]
        res = out - self.y[:, None]
        return np.mean(res.astype(np.float64) ** 2, axis=0)

    def __call__(self, x: np.ndarray) -> LogDensity:
        """Log posterior, its gradient and the log likelihood at positions ``(K, dim)``."""
        x = np.asarray(x, dtype=np.float64)
        squeeze = x.ndim == 1
        if squeeze:
            x = x[None]
        if x.shape[-1] != self.dim:
            raise ValueError(f"positions must have {self.dim} coordinates, got {x.shape[-1]}")
        with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
            out = self._evaluate(x)
        if squeeze:
            out = LogDensity(out.logdensity[0], out.grad[0], out.loglik[0])
        return out

    def _evaluate(self, x: np.ndarray) -> LogDensity:
        K = x.shape[0]
        P = self.n_params
        theta = x[:, :P]
        if self.mask.size or self.chain_mask is not None:
            theta = self.zero_pruned(theta.copy())
        grad = np.empty((K, self.dim), dtype=np.float64)
        eta = None
        if self.task == "regression":
            eta = x[:, self.eta_index] if self.has_eta else np.full(K, math.log(self.tau2))
        inv_tau2 = None if eta is None else np.exp(-eta)
        if self._fused is not None:
            data = self._data_fused(theta, inv_tau2, grad)
        else:
            data = self._data_numpy(theta, inv_tau2, grad)
        if eta is not None:
            assert inv_tau2 is not None
            sse = data
            loglik = -0.5 * self.n * (math.log(2 * math.pi) + eta) - 0.5 * sse * inv_tau2
            if self.has_eta:
                log_prior_eta = self._ig_const - self.nu1 * eta - self.nu2 * inv_tau2
                grad[:, self.eta_index] = (
                    -0.5 * self.n + 0.5 * sse * inv_tau2 - self.nu1 + self.nu2 * inv_tau2
                )
            else:
                log_prior_eta = 0.0
        else:
            loglik, log_prior_eta = data, 0.0
        th64 = theta.astype(np.float64, copy=False)
        log_prior = self._prior_const - 0.5 * np.einsum("kp,kp->k", th64, th64) / self.sigma2
        grad[:, :P] -= th64 / self.sigma2
        if self.chain_mask is not None:
            grad[:, :P][self.chain_mask] = 0.0
        elif self.mask.size:
            grad[:, self.mask] = 0.0
        lp = loglik + log_prior + log_prior_eta
        return LogDensity(np.asarray(lp, dtype=np.float64), grad, np.asarray(loglik, np.float64))

    def _data_fused(
        self, theta: np.ndarray, inv_tau2: np.ndarray | None, grad: np.ndarray
    ) -> np.ndarray:
        """The compiled one-hidden-layer pass (:mod:`bayesprune.fused`): regression's sum of
        squared residuals (``inv_tau2`` = 1 / tau^2 per chain) or classification's log
        likelihood (``inv_tau2`` None) per chain; writes the data term's gradient into
        ``grad[:, :P]``."""
        fused, ws = self._fused, self._fused_ws
        out = np.empty(theta.shape[0])
        fused.loglik_and_grad(
            np.ascontiguousarray(theta, dtype=np.float64),
            self._XT,
            ws["y"],
            ws["labels"],
            out if inv_tau2 is None else inv_tau2,
            *self._fused_shape,
            inv_tau2 is not None,
            grad,
            out,
            ws["A"],
            ws["F"],
            ws["dl"],
            ws["back"],
        )
        return out


#: chain-rows x hidden units x iterations above which torch's sigmoid repays its import:
#: it saves about 0.66 ns per element (float64, one thread) against an import of about 2 s
TORCH_SIGMOID_MIN_WORK = 3e9


def torch_sigmoid_pays(
    spec: MLPSpec, n_rows: int, chains: int, iterations: int, *, dtype: object = np.float64
) -> bool:
    """Whether a sampling run is long and wide enough for ``torch_sigmoid=True`` to pay off.

    Never where the compiled pass applies (float64, one hidden layer): it has its own sigmoid.

    On the paper's grid only the full Abalone runs (2,506 rows x 12 units x 4 chains x 50,000
    iterations = 6e9) qualify; resampling (2,000 iterations) and the small sets stay in numpy,
    so their jobs never import torch.
    """
    if spec.hidden_activation != "sigmoid":
        return False
    if spec.n_layers == 2 and np.dtype(dtype) == np.float64:
        return False
    return n_rows * chains * sum(spec.sizes[1:-1]) * iterations >= TORCH_SIGMOID_MIN_WORK


@dataclass(frozen=True)
class PriorSettings:
    """The config's ``method_a.prior`` block: weight prior variance ``sigma2``, the noise
    prior's ``nu1`` / ``nu2``, and whether the noise prior carries its Jacobian in ``eta``
    (``False``: the authors' bug-compatible choice, :mod:`bayesprune.authors`)."""

    sigma2: float = 25.0
    nu1: float = 2.0
    nu2: float = 0.1
    eta_jacobian: bool = True

    @staticmethod
    def from_params(block: dict | None) -> PriorSettings:
        """From a validated prior config block (missing keys take the defaults)."""
        b = dict(block or {})
        return PriorSettings(
            float(b.get("sigma2", 25.0)),
            float(b.get("nu1", 2.0)),
            float(b.get("nu2", 0.1)),
            bool(b.get("eta_jacobian", True)),
        )


def build_posterior(
    spec: MLPSpec,
    X: np.ndarray,
    y: np.ndarray,
    task: Task,
    prior: PriorSettings | None = None,
    mask: np.ndarray | list[int] | None = None,
    **kwargs: object,
) -> MLPPosterior:
    """:class:`MLPPosterior` of the ``prior`` (our noise prior: ``eta_jacobian`` is not
    consulted here, :func:`bayesprune.authors.build_target` decides it)."""
    prior = prior or PriorSettings()
    return MLPPosterior(
        spec,
        X,
        y,
        task,
        sigma2=prior.sigma2,
        nu1=prior.nu1,
        nu2=prior.nu2,
        mask=mask,
        **kwargs,  # type: ignore[arg-type]
    )
