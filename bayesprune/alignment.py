"""Map MLP posterior draws onto one canonical copy of the network's symmetric copies.

An MLP computes the same function after any of these changes to a hidden layer:

- **permutation**: reorder its units, with the matching rows of the incoming weights and
  bias and columns of the outgoing weights;
- **sign flip** of one unit, by activation: ``tanh`` is odd (negate incoming weights, bias and
  outgoing weights); ``sigmoid(-z) = 1 - sigmoid(z)`` (negate incoming weights, bias and
  outgoing weights, and add the old outgoing weights to the next layer's bias); ``relu`` has
  no sign symmetry (positive rescaling exists but is not used here).

Independently started MCMC chains, and sometimes one chain over time, visit different copies,
so parameter-space statistics (means, standard deviations, pruning scores, R-hat) of raw draws
mix copies. :func:`align` maps every draw to the copy closest to a reference, layer by layer
from the input: for every hidden unit its *features* (incoming weights, bias, outgoing
weights) are matched to the reference's units by Hungarian assignment
(:func:`scipy.optimize.linear_sum_assignment`) with the sign of each unit chosen to fit best.
The reference starts at one draw and is re-estimated as the aligned mean until no draw's
assignment changes. It is then put in a canonical form (each unit's sign fixed, units sorted),
so the result does not depend on which copy the reference started in.

Every step is an exact symmetry: aligned draws give the same predictions as the raw draws (to
rounding, tested to 1e-12). Function-space quantities are unaffected.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import linear_sum_assignment

from bayesprune.networks import MLPSpec

#: activations with a sign symmetry (``relu`` only permutes)
SIGNED = ("sigmoid", "tanh")


@dataclass(frozen=True)
class Alignment:
    """Draws mapped onto the reference's copy, and how they got there.

    ``theta``: aligned draws, the shape of the input. ``reference``: the canonical aligned
    mean ``(P,)``. ``perm[l]`` ``(S, H_l)``: for hidden layer ``l``, the raw unit placed at
    each canonical position; ``sign[l]`` ``(S, H_l)``: +1, or -1 where that unit was flipped.
    ``iterations``: reference updates made; ``converged``: the last update changed no
    assignment.
    """

    theta: np.ndarray
    reference: np.ndarray
    perm: list[np.ndarray]
    sign: list[np.ndarray]
    iterations: int
    converged: bool

    @property
    def n_changed(self) -> int:
        """Draws whose labelling differs from the identity (some unit moved or flipped)."""
        if not self.perm:
            return 0
        moved = np.zeros(self.perm[0].shape[0], dtype=bool)
        for p, s in zip(self.perm, self.sign, strict=True):
            moved |= np.any(p != np.arange(p.shape[1]), axis=1) | np.any(s < 0, axis=1)
        return int(moved.sum())


def _views(spec: MLPSpec, theta: np.ndarray, layer: int) -> tuple[np.ndarray, ...]:
    """``(W_in (S,H,in), b (S,H), W_out (S,out,H), b_out (S,out))`` views of hidden ``layer``."""
    blocks = spec.blocks
    w_in, b_in = blocks[2 * layer], blocks[2 * layer + 1]
    w_out, b_out = blocks[2 * layer + 2], blocks[2 * layer + 3]
    S = theta.shape[0]
    return (
        theta[:, w_in.slice].reshape(S, *w_in.shape),
        theta[:, b_in.slice],
        theta[:, w_out.slice].reshape(S, *w_out.shape),
        theta[:, b_out.slice],
    )


def _features(spec: MLPSpec, theta: np.ndarray, layer: int, outgoing: bool = True) -> np.ndarray:
    """Per-unit features ``(S, H, in + 1 [+ out])`` of hidden ``layer``: incoming weights,
    bias and (with ``outgoing``) outgoing weights."""
    w_in, b, w_out, _ = _views(spec, theta, layer)
    parts = [w_in, b[..., None]] + ([np.swapaxes(w_out, 1, 2)] if outgoing else [])
    return np.concatenate(parts, axis=2)


def apply_symmetry(
    spec: MLPSpec, theta: np.ndarray, layer: int, perm: np.ndarray, sign: np.ndarray
) -> np.ndarray:
    """Draws ``(S, P)`` with hidden ``layer`` relabelled: canonical unit ``i`` of draw ``s`` is
    raw unit ``perm[s, i]``, negated (with the activation's correction) where ``sign < 0``.

    Returns a new array; every draw computes the same function as before.
    """
    act = spec.hidden_activation
    if act not in SIGNED and np.any(sign < 0):
        raise ValueError(f"{act} units have no sign symmetry")
    out = np.array(theta, dtype=np.float64, copy=True)
    w_in, b, w_out, b_out = _views(spec, theta, layer)
    nw_in, nb, nw_out, nb_out = _views(spec, out, layer)
    rows = np.arange(theta.shape[0])[:, None]
    sg = np.asarray(sign, dtype=np.float64)
    nw_in[...] = w_in[rows, perm] * sg[..., None]
    nb[...] = b[rows, perm] * sg
    moved_out = np.take_along_axis(w_out, perm[:, None, :], axis=2)  # (S, out, H)
    nw_out[...] = moved_out * sg[:, None, :]
    if act == "sigmoid":
        # sigmoid(-z) = 1 - sigmoid(z): the flipped unit's old outgoing weight moves to the bias
        nb_out[...] = b_out + np.einsum("soh,sh->so", moved_out, (sg < 0).astype(np.float64))
    return out


def _match(features: np.ndarray, ref: np.ndarray, signed: bool) -> tuple[np.ndarray, ...]:
    """Best permutation and signs of every draw's units onto the reference's units.

    Minimising sum_i ||sign_i f_{perm_i} - r_i||^2 over permutations and signs is maximising
    sum_i |f_{perm_i} . r_i| (or the plain dot product without signs): norms do not depend on
    the assignment.
    """
    gram = np.einsum("sjf,if->sij", features, ref)  # (S, ref unit i, draw unit j)
    score = np.abs(gram) if signed else gram
    S, H, _ = gram.shape
    perm = np.empty((S, H), dtype=np.int64)
    for s in range(S):
        rows, cols = linear_sum_assignment(score[s], maximize=True)
        perm[s, rows] = cols
    picked = np.take_along_axis(gram, perm[:, :, None], axis=2)[..., 0]
    sign = np.where(picked < 0, -1, 1) if signed else np.ones((S, H), dtype=np.int64)
    return perm, sign.astype(np.int64)


def _pass(
    spec: MLPSpec, theta: np.ndarray, ref: np.ndarray, full: bool
) -> tuple[np.ndarray, list[np.ndarray], list[np.ndarray]]:
    signed = spec.hidden_activation in SIGNED
    last = spec.n_layers - 2
    out, perms, signs = theta, [], []
    for layer in range(last + 1):
        # a unit's outgoing weights are ordered by the next layer's units: usable once that
        # layer is aligned too (the output layer never moves)
        outgoing = full or layer == last
        perm, sign = _match(
            _features(spec, out, layer, outgoing), _features(spec, ref, layer, outgoing)[0], signed
        )
        out = apply_symmetry(spec, out, layer, perm, sign)
        perms.append(perm)
        signs.append(sign)
    return out, perms, signs


def _align_to(
    spec: MLPSpec, theta: np.ndarray, reference: np.ndarray
) -> tuple[np.ndarray, list[np.ndarray], list[np.ndarray]]:
    """Every draw onto ``reference``, hidden layers from the input outwards.

    With several hidden layers a first pass matches on incoming weights and bias only (a
    layer's outgoing weights are ordered by the next layer's not yet aligned units), a
    second pass on incoming and outgoing weights of the now aligned draws.
    """
    ref = reference[None, :]
    out, perms, signs = _pass(spec, theta, ref, full=spec.n_layers == 2)
    if spec.n_layers > 2:
        out, p2, s2 = _pass(spec, out, ref, full=True)
        rows = np.arange(out.shape[0])[:, None]
        perms = [p1[rows, q] for p1, q in zip(perms, p2, strict=True)]
        signs = [s1[rows, q] * t for s1, q, t in zip(signs, p2, s2, strict=True)]
    return out, perms, signs


def _canonical(spec: MLPSpec, reference: np.ndarray) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """The symmetry putting ``reference`` in canonical form: per hidden layer each unit's
    incoming weights and bias sum to >= 0 (signed activations), units sorted by decreasing
    feature norm (ties by that sum)."""
    signed = spec.hidden_activation in SIGNED
    ref = reference[None, :].copy()
    perms, signs = [], []
    for layer in range(spec.n_layers - 1):
        w_in, b, _, _ = _views(spec, ref, layer)
        total = w_in[0].sum(axis=1) + b[0]
        sign = np.where(total < 0, -1, 1) if signed else np.ones_like(total, dtype=np.int64)
        feats = _features(spec, ref, layer)[0] * sign[:, None]
        norm = np.round(np.linalg.norm(feats, axis=1), 12)
        order = np.lexsort((-(total * sign), -norm))
        perm, sgn = order[None, :], sign[order][None, :].astype(np.int64)
        ref = apply_symmetry(spec, ref, layer, perm, sgn)
        perms.append(perm)
        signs.append(sgn)
    return perms, signs


def _cost(spec: MLPSpec, theta: np.ndarray, reference: np.ndarray) -> float:
    """Squared distance of every draw's hidden-unit features to the reference's."""
    ref = reference[None, :]
    return float(
        sum(
            np.sum((_features(spec, theta, layer) - _features(spec, ref, layer)) ** 2)
            for layer in range(spec.n_layers - 1)
        )
    )


def align(
    spec: MLPSpec,
    theta: np.ndarray,
    *,
    reference: np.ndarray | None = None,
    max_iter: int = 100,
    rtol: float = 1e-4,
) -> Alignment:
    """Map draws ``(S, P)`` or ``(chains, draws, P)`` onto one canonical copy.

    Without ``reference`` the reference starts at the first draw and is re-estimated as the
    aligned mean until no assignment changes or the total matching cost (squared distance of
    the draws' unit features to the reference's, which every update lowers) falls by less
    than ``rtol`` of itself (at most ``max_iter`` updates), then put in canonical form. With ``reference`` the draws are matched to it once (no update, no
    canonical form): use it to map new draws onto an existing alignment.
    """
    arr = np.asarray(theta, dtype=np.float64)
    shape = arr.shape
    flat = arr.reshape(-1, shape[-1])
    if flat.shape[1] != spec.n_params:
        raise ValueError(f"draws have {flat.shape[1]} parameters, network needs {spec.n_params}")
    if spec.n_layers < 2 or flat.shape[0] == 0:
        ident = [np.tile(np.arange(h), (flat.shape[0], 1)) for h in spec.sizes[1:-1]]
        ref = flat.mean(axis=0) if flat.shape[0] else np.zeros(spec.n_params)
        return Alignment(arr.copy(), ref, ident, [np.ones_like(p) for p in ident], 0, True)
    if reference is not None:
        ref = np.asarray(reference, dtype=np.float64).reshape(spec.n_params)
        out, perms, signs = _align_to(spec, flat, ref)
        return Alignment(out.reshape(shape), ref, perms, signs, 0, True)
    ref = flat[0].copy()
    previous = None
    cost = np.inf
    converged = False
    iterations = 0
    for iterations in range(1, max_iter + 1):  # noqa: B007 (used after the loop)
        out, perms, signs = _align_to(spec, flat, ref)
        ref = out.mean(axis=0)
        key = [np.stack([p, s]) for p, s in zip(perms, signs, strict=True)]
        # the matching cost falls at every update (assignment, then mean, each minimise it);
        # poorly identified units keep a few draws switching, so stop once it levels off
        new_cost = _cost(spec, out, ref)
        same = previous is not None and all(
            np.array_equal(a, b) for a, b in zip(key, previous, strict=True)
        )
        if same or cost - new_cost <= rtol * new_cost:
            converged = True
            break
        previous, cost = key, new_cost
    # canonical form: one symmetry for the reference, applied to every draw alike
    cperm, csign = _canonical(spec, ref)
    for layer, (cp, cs) in enumerate(zip(cperm, csign, strict=True)):
        n = out.shape[0]
        out = apply_symmetry(spec, out, layer, np.repeat(cp, n, axis=0), np.repeat(cs, n, axis=0))
        rows = np.arange(n)[:, None]
        perms[layer] = perms[layer][rows, np.repeat(cp, n, axis=0)]
        signs[layer] = signs[layer][rows, np.repeat(cp, n, axis=0)] * cs
    return Alignment(out.reshape(shape), out.mean(axis=0), perms, signs, iterations, converged)
