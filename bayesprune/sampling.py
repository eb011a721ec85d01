"""One posterior sampled as a config asks: the target (ours or the authors'), the chains'
starts, the kernel, the run (:func:`bayesprune.mcmc.runner.run_chains`) and its InferenceData
(:func:`bayesprune.posterior.build_inference_data`), from typed settings
(:class:`bayesprune.mcmc.settings.SamplerSettings`,
:class:`bayesprune.likelihoods.PriorSettings`) that the scripts build once."""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from bayesprune.arviz_setup import az
from bayesprune.io import UserError
from bayesprune.likelihoods import MLPPosterior, PriorSettings
from bayesprune.mcmc.settings import SamplerSettings
from bayesprune.mcmc.trace import ChainResult
from bayesprune.networks import MLPSpec
from bayesprune.posterior import build_inference_data


def sample_network(
    spec: MLPSpec,
    task: str,
    X: np.ndarray,
    y: np.ndarray,
    *,
    prior: PriorSettings,
    settings: SamplerSettings,
    seed: int,
    theta_start: np.ndarray | None = None,
    tau2_start: float | None = None,
    mask: np.ndarray | None = None,
    checkpoint: str | os.PathLike[str] | None = None,
    logger: Any = None,
    extra_attrs: dict[str, Any] | None = None,
    likelihood: str = "softmax_logits",
    allow_stuck: bool = False,
    config_digest: str = "",
) -> az.InferenceData:
    """Sample one network's posterior (full or pruned) and return it as InferenceData.

    ``settings.init`` ``map`` starts every chain at ``theta_start`` (the trained network) plus
    ``init_jitter`` noise, ``prior`` from N(0, 1); a 2-D ``theta_start`` is one start per
    chain (resampling). ``mask``: the pruned indices (or one boolean row per chain), exactly
    0 throughout. The checkpoint file (if any) is left in place for the caller to remove once
    the posterior is safe; ``config_digest`` stamps the attributes. The authors' choices
    (``config/authors.yaml``): ``settings.drift`` ``sgd_epoch`` runs their proposal
    (:mod:`bayesprune.mcmc.sgd_epoch`, no checkpoints); ``likelihood`` ``softmax_sigmoid`` and
    ``prior.eta_jacobian`` false select their target. ``allow_stuck`` returns chains that
    never moved instead of raising :class:`StuckChainsError` (the ablation reports them).
    """
    from bayesprune.mcmc import runner

    starts = None if theta_start is None else np.asarray(theta_start, dtype=np.float64)
    n_chains = starts.shape[0] if starts is not None and starts.ndim == 2 else settings.chains
    post = _target(spec, task, X, y, prior, settings, likelihood, mask, int(n_chains))
    x0 = _starts(post, settings, seed, int(n_chains), starts, tau2_start)
    sgd = settings.drift == "sgd_epoch"
    every = 0 if sgd else settings.checkpoint_every
    result = runner.run_chains(
        post,
        x0,
        _kernel(post, settings),
        settings.samples,
        burn_in=settings.burn_in,
        thin=settings.thin,
        seed=seed,
        checkpoint=checkpoint if every else None,
        checkpoint_every=every or None,
        logger=logger,
        adapt=settings.adapt,
        target_accept=settings.target_accept,
        metric="identity" if sgd else settings.metric,
        target_id=_target_id(X, y, task, prior, mask, settings.dtype, likelihood),
    )
    if not allow_stuck:
        _check_chains_moved(result, settings, checkpoint)
    return build_inference_data(
        result, spec, task, mask=mask, config_digest=config_digest, extra_attrs=extra_attrs
    )


def _target(
    spec: MLPSpec,
    task: str,
    X: np.ndarray,
    y: np.ndarray,
    prior: PriorSettings,
    settings: SamplerSettings,
    likelihood: str,
    mask: np.ndarray | None,
    n_chains: int,
) -> MLPPosterior:
    """The target a sampler block, prior and likelihood ask for (torch's sigmoid where it
    pays, :func:`bayesprune.likelihoods.torch_sigmoid_pays`)."""
    from bayesprune import authors
    from bayesprune.likelihoods import torch_sigmoid_pays

    dtype = np.dtype(settings.dtype)
    sgd = settings.drift == "sgd_epoch"
    use_torch = not sgd and torch_sigmoid_pays(
        spec, len(X), n_chains, settings.samples, dtype=dtype
    )
    if use_torch:
        import torch

        torch.set_num_threads(1)  # its thread pool is slower than one thread at these sizes
    return authors.build_target(
        spec,
        X,
        y,
        task,  # type: ignore[arg-type]
        prior=prior,
        classification=likelihood,  # type: ignore[arg-type]
        mask=mask,
        authors_kernel=sgd,
        dtype=dtype,
        torch_sigmoid=use_torch,
    )


def _starts(
    post: MLPPosterior,
    settings: SamplerSettings,
    seed: int,
    n_chains: int,
    starts: np.ndarray | None,
    tau2_start: float | None,
) -> np.ndarray:
    """The chains' starting positions: the given per-chain starts, or drawn
    (:func:`bayesprune.mcmc.streams.initial_positions`)."""
    from bayesprune.mcmc.streams import initial_positions

    if starts is not None and starts.ndim == 2:
        t2 = np.broadcast_to(np.asarray(1.0 if tau2_start is None else tau2_start), n_chains)
        x0 = post.position(starts, t2) if post.has_eta else starts.copy()
        post.zero_pruned(x0[:, : post.n_params])
        return x0
    if settings.init == "map" and starts is None:
        raise ValueError("init: map needs a starting network (theta_start)")
    return initial_positions(
        post,
        n_chains,
        seed,
        init=settings.init,
        theta_map=starts,
        jitter=settings.init_jitter,
        # from the prior, each chain's eta starts at its own residual variance
        tau2=None if settings.init == "prior" else tau2_start,
    )


def _kernel(post: MLPPosterior, settings: SamplerSettings) -> Any:
    """The kernel a sampler block asks for: the authors' SGD-epoch proposal, or ours."""
    from bayesprune.mcmc.kernel import kernel_params_for
    from bayesprune.mcmc.sgd_epoch import KernelSettings

    if settings.drift == "sgd_epoch":
        return KernelSettings(
            step_size=float(settings.step_size),
            noise_step=float(settings.noise_step),
            langevin_prob=float(settings.langevin_prob),
            sgd_lr=float(settings.sgd_lr),
            q_ratio=settings.q_ratio,
            mask=settings.mask,
        )
    return kernel_params_for(
        post,
        settings.step_size,
        noise_step=settings.noise_step,
        langevin_step=settings.langevin_step,
        langevin_prob=settings.langevin_prob,
    )


def _target_id(
    X: np.ndarray,
    y: np.ndarray,
    task: str,
    prior: PriorSettings,
    mask: np.ndarray | None,
    dtype: str,
    likelihood: str,
) -> str:
    """A checkpoint resumes only the very same target: its data, task, prior, mask, dtype
    and likelihood."""
    target = hashlib.sha256()
    for array in (np.ascontiguousarray(X), np.ascontiguousarray(y)):
        target.update(array.tobytes())
    m = np.asarray([] if mask is None else mask)
    mask_list = (
        [np.flatnonzero(row).tolist() for row in m] if m.ndim == 2 else sorted(int(i) for i in m)
    )
    parts = [task, asdict(prior), mask_list, dtype, likelihood]
    target.update(json.dumps(parts, sort_keys=True).encode())
    return target.hexdigest()


class StuckChainsError(UserError):
    """A chain accepted none of its post-burn-in proposals: its draws are one point."""


def _check_chains_moved(
    result: ChainResult, settings: SamplerSettings, checkpoint: str | os.PathLike[str] | None
) -> None:
    """Refuse a posterior with a chain that never moved after burn-in (0% acceptance)."""
    stuck = [int(k) for k in np.flatnonzero(np.asarray(result.acceptance_rate) == 0.0)]
    if not stuck:
        return
    if checkpoint is not None:
        Path(checkpoint).unlink(missing_ok=True)  # a finished run that is rejected
    n_post = result.n_iter - result.burn_in
    raise StuckChainsError(
        f"MCMC chain(s) {stuck} of {result.n_chains} accepted none of their {n_post} "
        f"post-burn-in proposals (step_size {settings.step_size}): they never moved, so "
        f"their draws are a single point and every score and diagnostic would be meaningless. "
        f"Lower step_size in the sampler block (method_a.sampler for the full posterior, "
        f"method_a.resample for resampling) or set its adapt: true."
    )
