"""Multi-layer perceptrons whose parameters are one flat vector, batched over chains.

Method A works with every weight and bias of the network as one flat vector ``theta`` of
length ``P``. The layout is fixed and documented so that masks, pruning scores and
per-parameter diagnostics all name the same entries:

    for each layer l = 0, 1, ..., L-1 (input -> output):
        weight W_l, shape (out_l, in_l), row-major: entry "layer{l}.weight[o,i]"
        bias   b_l, shape (out_l,):                 entry "layer{l}.bias[o]"

A batch of ``K`` parameter vectors (one per MCMC chain) is a tensor of shape ``(K, P)``; the
forward pass evaluates all of them on the same inputs in one set of batched matrix products.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # torch is imported where a function needs it: jobs that only evaluate
    import torch  # draws (numpy) start seconds faster without it.


def _torch_activation(name: str) -> Callable:
    import torch

    return {"sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": torch.relu}.get(name, lambda x: x)


def _numpy_activation(name: str, a: np.ndarray) -> np.ndarray:
    """The activation of ``a``, computed in place (``a`` is overwritten and returned)."""
    if name == "sigmoid":  # overflow-free logistic 0.5 (1 + tanh(a / 2))
        a *= 0.5
        np.tanh(a, out=a)
        a += 1.0
        a *= 0.5
    elif name == "tanh":
        np.tanh(a, out=a)
    elif name == "relu":
        np.maximum(a, 0.0, out=a)
    return a


HIDDEN_ACTIVATIONS = ("sigmoid", "tanh", "relu")
OUTPUT_ACTIVATIONS = ("identity", "sigmoid")


@dataclass(frozen=True)
class ParamBlock:
    """One weight matrix or bias vector inside the flat parameter vector."""

    layer: int
    kind: str  # "weight" | "bias"
    shape: tuple[int, ...]
    offset: int

    @property
    def size(self) -> int:
        return int(np.prod(self.shape))

    @property
    def slice(self) -> slice:
        return slice(self.offset, self.offset + self.size)


@dataclass(frozen=True)
class MLPSpec:
    """Architecture of a fully connected network.

    ``sizes`` lists the width of every layer from input to output, e.g. ``(4, 12, 3)``.
    ``output_activation`` is ``identity`` (regression mean, or classification logits) or
    ``sigmoid`` (regression targets min-max scaled to [0, 1], as in the paper).
    """

    sizes: tuple[int, ...]
    hidden_activation: str = "sigmoid"
    output_activation: str = "identity"

    def __post_init__(self) -> None:
        object.__setattr__(self, "sizes", tuple(int(s) for s in self.sizes))
        if len(self.sizes) < 2 or any(s < 1 for s in self.sizes):
            raise ValueError(f"network sizes must be >= 2 positive widths, got {self.sizes}")
        if self.hidden_activation not in HIDDEN_ACTIVATIONS:
            raise ValueError(
                f"hidden_activation must be one of {HIDDEN_ACTIVATIONS}, got {self.hidden_activation!r}"
            )
        if self.output_activation not in OUTPUT_ACTIVATIONS:
            raise ValueError(
                f"output_activation must be one of {OUTPUT_ACTIVATIONS}, got {self.output_activation!r}"
            )

    @classmethod
    def from_config(cls, n_inputs: int, n_outputs: int, network: dict) -> MLPSpec:
        """Build from a dataset's ``network`` config entry and the data's dimensions."""
        return cls(
            sizes=(n_inputs, *network.get("hidden", []), n_outputs),
            hidden_activation=network.get("hidden_activation", "sigmoid"),
            output_activation=network.get("output_activation", "identity"),
        )

    @property
    def n_layers(self) -> int:
        return len(self.sizes) - 1

    @property
    def blocks(self) -> list[ParamBlock]:
        out, offset = [], 0
        for layer, (n_in, n_out) in enumerate(zip(self.sizes[:-1], self.sizes[1:], strict=True)):
            out.append(ParamBlock(layer, "weight", (n_out, n_in), offset))
            offset += n_out * n_in
            out.append(ParamBlock(layer, "bias", (n_out,), offset))
            offset += n_out
        return out

    @property
    def n_params(self) -> int:
        return sum(b.size for b in self.blocks)

    def param_names(self) -> list[str]:
        names: list[str] = []
        for b in self.blocks:
            if b.kind == "weight":
                names += [
                    f"layer{b.layer}.weight[{o},{i}]"
                    for o in range(b.shape[0])
                    for i in range(b.shape[1])
                ]
            else:
                names += [f"layer{b.layer}.bias[{o}]" for o in range(b.shape[0])]
        return names

    def param_layer(self) -> np.ndarray:
        """Layer index of every flat parameter, shape ``(P,)``."""
        return np.concatenate([np.full(b.size, b.layer) for b in self.blocks])

    def param_is_bias(self) -> np.ndarray:
        """Boolean ``(P,)``: True where the flat parameter is a bias."""
        return np.concatenate([np.full(b.size, b.kind == "bias") for b in self.blocks])

    def unflatten(self, theta: torch.Tensor | np.ndarray) -> list[tuple]:
        """Views ``(W, b)`` per layer of ``theta`` with shape ``(..., P)``.

        ``W`` has shape ``(..., out, in)`` and ``b`` shape ``(..., out)``.
        """
        if theta.shape[-1] != self.n_params:
            raise ValueError(
                f"theta has {theta.shape[-1]} entries, network {self.sizes} needs {self.n_params}"
            )
        lead = theta.shape[:-1]
        blocks = self.blocks
        return [
            (theta[..., w.slice].reshape(*lead, *w.shape), theta[..., b.slice])
            for w, b in zip(blocks[::2], blocks[1::2], strict=True)
        ]

    def to_dict(self) -> dict:
        return {
            "sizes": list(self.sizes),
            "hidden_activation": self.hidden_activation,
            "output_activation": self.output_activation,
        }

    @classmethod
    def from_dict(cls, d: dict) -> MLPSpec:
        return cls(tuple(d["sizes"]), d["hidden_activation"], d["output_activation"])


def forward(spec: MLPSpec, theta: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """Network outputs for a batch of parameter vectors.

    ``theta``: ``(K, P)`` or ``(P,)``; ``x``: ``(N, D)``. Returns ``(K, N, O)`` or ``(N, O)``:
    the regression mean (after the output activation) or the classification logits.
    """
    squeeze = theta.dim() == 1
    if squeeze:
        theta = theta.unsqueeze(0)
    hidden = _torch_activation(spec.hidden_activation)
    layers = spec.unflatten(theta)
    h = x
    for layer, (w, b) in enumerate(layers):
        h = h @ w.transpose(-1, -2) + b.unsqueeze(-2)
        if layer < len(layers) - 1:
            h = hidden(h)
    h = _torch_activation(spec.output_activation)(h)
    return h.squeeze(0) if squeeze else h


def forward_numpy(spec: MLPSpec, theta: np.ndarray, x: np.ndarray, chunk: int = 256) -> np.ndarray:
    """:func:`forward` in numpy (float64) for many draws ``(S, P)``, evaluated in chunks.

    Returns ``(S, N, O)`` (or ``(N, O)`` for a single ``(P,)`` vector). No torch: one hidden
    layer runs the compiled pass of :mod:`bayesprune.fused`, deeper networks numpy.
    """
    th = np.asarray(theta, dtype=np.float64)
    xs = np.asarray(x, dtype=np.float64)
    if th.ndim == 1:
        return forward_numpy(spec, th[None, :], xs, chunk)[0]
    if spec.n_layers == 2:  # one hidden layer: the compiled pass (equal to rounding)
        from bayesprune import fused

        n, (d_in, hid, n_out) = xs.shape[0], spec.sizes
        out = np.empty((th.shape[0], n, n_out))
        ws = fused.workspaces(spec.sizes, n)
        fused.forward(
            np.ascontiguousarray(th), fused.padded_inputs(xs), d_in, hid, n_out,
            fused.HIDDEN_CODES[spec.hidden_activation], spec.output_activation == "sigmoid",
            ws["A"], ws["F"], out,
        )  # fmt: skip
        return out
    outs = []
    for start in range(0, th.shape[0], chunk):
        h = xs
        layers = spec.unflatten(th[start : start + chunk])
        for layer, (w, b) in enumerate(layers):
            h = np.matmul(h, np.swapaxes(w, -1, -2))  # a fresh array: activated in place
            h += b[:, None, :]
            act = spec.hidden_activation if layer < len(layers) - 1 else spec.output_activation
            h = _numpy_activation(act, h)
        outs.append(h)
    return np.concatenate(outs, axis=0)


def sparse_bytes(n_kept: int, n_params: int, value_bytes: int = 4) -> dict[str, int]:
    """Storage of a pruned flat parameter vector.

    Dense: ``P * value_bytes``. Sparse (COO over the flat vector): kept values plus one int32
    index each. Bitmask: kept values plus one bit per parameter. The smallest is reported as
    ``best``.
    """
    dense = n_params * value_bytes
    coo = n_kept * (value_bytes + 4)
    bitmask = n_kept * value_bytes + (n_params + 7) // 8
    return {"dense": dense, "coo": coo, "bitmask": bitmask, "best": min(dense, coo, bitmask)}


def resolve_device(name: str) -> str:
    """``cpu`` | ``cuda`` | ``auto`` (cuda when available) -> a torch device string.

    Asking for ``cuda`` where none is present is an error that says so, not a silent fallback.
    """
    import torch

    if name == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if name == "cuda" and not torch.cuda.is_available():
        raise RuntimeError(
            "config device: cuda was asked for but no CUDA device is available; use cpu or auto"
        )
    return name
