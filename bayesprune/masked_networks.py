"""``torch.nn`` networks whose weights carry pruning masks (method B).

Every weight tensor (``Linear`` and ``Conv2d`` weights) owns a ``mask`` buffer of the same
shape holding 0/1 values (same dtype as the weight, so ``weight * mask`` is one multiply).
Biases are never pruned and have no mask. Masks live in the module's ``state_dict``, so a
saved network keeps its pruning pattern.

The forward pass uses the weights as they are: the training code
(:mod:`bayesprune.sparse_training`) keeps pruned entries at exactly 0 by multiplying weights by
their masks after every optimiser step (and gradients before it), so no ``weight * mask``
product is needed in the forward pass.

Network config (:class:`MaskedNetworkSpec`, from a dataset's ``network`` block)::

    {kind: mlp | cnn, hidden: [300, 100], channels: [32, 64], hidden_activation: relu}

* ``mlp``: flattens its input (images or feature vectors), then ``Linear`` layers of the
  ``hidden`` widths and the output layer; ``784-300-100-10`` is LeNet-300-100.
* ``cnn``: for each entry of ``channels`` a block ``Conv2d(3x3, padding 1) -> activation ->
  MaxPool2d(2)``, then flatten, the ``hidden`` fully connected layers and the output layer
  (defaults ``channels: [32, 64]``, ``hidden: [256]``: a small CIFAR-10 network).

Other keys (e.g. method A's ``output_activation``) are ignored; the output is always logits.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

HIDDEN_ACTIVATIONS: dict[str, type[nn.Module]] = {
    "relu": nn.ReLU,
    "tanh": nn.Tanh,
    "sigmoid": nn.Sigmoid,
}
NETWORK_KINDS = ("mlp", "cnn")


class MaskedLinear(nn.Linear):
    """``nn.Linear`` with a 0/1 ``mask`` buffer over its weight (the bias is not pruned)."""

    mask: torch.Tensor

    def __init__(self, in_features: int, out_features: int, bias: bool = True) -> None:
        super().__init__(in_features, out_features, bias=bias)
        self.register_buffer("mask", torch.ones_like(self.weight))


class MaskedConv2d(nn.Conv2d):
    """``nn.Conv2d`` with a 0/1 ``mask`` buffer over its weight (the bias is not pruned)."""

    mask: torch.Tensor

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, **kw: Any) -> None:
        super().__init__(in_channels, out_channels, kernel_size, **kw)
        self.register_buffer("mask", torch.ones_like(self.weight))


MASKED_LAYERS = (MaskedLinear, MaskedConv2d)


class MaskedNetwork(nn.Module):
    """A feed-forward classifier (``features`` -> flatten -> ``classifier``) with masked weights."""

    def __init__(self, features: nn.Sequential, classifier: nn.Sequential) -> None:
        super().__init__()
        self.features = features
        self.classifier = classifier

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(torch.flatten(self.features(x), 1))


def _activation(name: str) -> nn.Module:
    try:
        return HIDDEN_ACTIVATIONS[name]()
    except KeyError:
        raise ValueError(
            f"hidden_activation must be one of {sorted(HIDDEN_ACTIVATIONS)}, got {name!r}"
        ) from None


@dataclass(frozen=True)
class MaskedNetworkSpec:
    """A method-B network (the dataset's ``network`` config block; see the module docstring).

    ``hidden`` defaults by kind: ``(300, 100)`` for ``mlp``, ``(256,)`` for ``cnn``.
    """

    kind: str = "mlp"
    hidden: tuple[int, ...] | None = None
    channels: tuple[int, ...] = (32, 64)
    kernel_size: int = 3
    hidden_activation: str = "relu"

    def __post_init__(self) -> None:
        if self.kind not in NETWORK_KINDS:
            raise ValueError(f"network kind must be one of {NETWORK_KINDS}, got {self.kind!r}")
        _activation(self.hidden_activation)  # validate early
        if self.hidden is None:
            object.__setattr__(self, "hidden", (300, 100) if self.kind == "mlp" else (256,))

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> MaskedNetworkSpec:
        """From a network config block; other keys (method A's) are ignored."""
        return cls(
            kind=str(params.get("kind", "mlp")),
            hidden=None if "hidden" not in params else tuple(int(h) for h in params["hidden"]),
            channels=tuple(int(c) for c in params.get("channels", [32, 64])),
            kernel_size=int(params.get("kernel_size", 3)),
            hidden_activation=str(params.get("hidden_activation", "relu")),
        )


def build_network(
    spec: MaskedNetworkSpec, input_shape: Sequence[int], n_classes: int
) -> MaskedNetwork:
    """Build the masked network ``spec`` describes for inputs of ``input_shape``.

    ``input_shape`` excludes the batch dimension: ``(D,)`` for feature vectors or
    ``(C, H, W)`` for images. The output layer has ``n_classes`` logits. Parameters are
    initialised by PyTorch's default initialisers, so seed the global RNG
    (``torch.manual_seed``) before calling for a reproducible network.
    """
    shape = tuple(int(s) for s in input_shape)
    if n_classes < 1:
        raise ValueError(f"n_classes must be positive, got {n_classes}")
    if spec.kind == "mlp":
        features, n_in = nn.Sequential(), math.prod(shape)
    else:
        features, n_in = _conv_blocks(spec, shape)
    fc: list[nn.Module] = []
    for width in spec.hidden or ():
        fc += [MaskedLinear(n_in, width), _activation(spec.hidden_activation)]
        n_in = width
    fc.append(MaskedLinear(n_in, int(n_classes)))
    return MaskedNetwork(features, nn.Sequential(*fc))


def _conv_blocks(spec: MaskedNetworkSpec, shape: tuple[int, ...]) -> tuple[nn.Sequential, int]:
    """The ``cnn``'s conv blocks and the size of their flattened output."""
    if len(shape) != 3:
        raise ValueError(f"a cnn needs (C, H, W) inputs, got input_shape {shape}")
    kernel = spec.kernel_size
    c, h, w = shape
    layers: list[nn.Module] = []
    for c_out in spec.channels:
        if h < 2 or w < 2:
            raise ValueError(f"input {shape} too small for {len(spec.channels)} conv blocks")
        layers += [
            MaskedConv2d(c, c_out, kernel, padding=kernel // 2),
            _activation(spec.hidden_activation),
            nn.MaxPool2d(2),
        ]
        c, h, w = c_out, h // 2, w // 2
    return nn.Sequential(*layers), c * h * w


def masked_layers(model: nn.Module) -> list[tuple[str, nn.Module]]:
    """``(module name, module)`` of every masked layer, input to output."""
    return [(name, m) for name, m in model.named_modules() if isinstance(m, MASKED_LAYERS)]


def prunable(model: nn.Module) -> list[tuple[str, torch.Tensor, torch.Tensor]]:
    """``(name, weight, mask)`` for every prunable weight, e.g. ``("classifier.0.weight", ...)``."""
    return [(f"{name}.weight", m.weight, m.mask) for name, m in masked_layers(model)]


@torch.no_grad()
def set_masks(model: nn.Module, masks: Mapping[str, torch.Tensor]) -> None:
    """Replace the masks named in ``masks`` (weight name -> 0/1 tensor) and apply them."""
    for name, weight, mask in prunable(model):
        if name in masks:
            mask.copy_(masks[name].to(mask))
            weight.mul_(mask)


def n_weights(model: nn.Module) -> int:
    """Number of prunable weights (all ``Linear``/``Conv2d`` weight entries)."""
    return sum(w.numel() for _, w, _ in prunable(model))


def n_params(model: nn.Module) -> int:
    """Number of parameters (weights and biases)."""
    return sum(p.numel() for p in model.parameters())


def kept_weights(model: nn.Module) -> int:
    """Number of prunable weights whose mask is 1."""
    return int(sum(int(m.sum().item()) for _, _, m in prunable(model)))


def kept_params(model: nn.Module) -> int:
    """Number of parameters kept: unmasked weights plus every bias (biases are never pruned)."""
    return n_params(model) - n_weights(model) + kept_weights(model)


def sparsity(model: nn.Module) -> float:
    """Fraction of prunable weights that are pruned (masked to 0)."""
    total = n_weights(model)
    return 1.0 - kept_weights(model) / total if total else 0.0


def param_sparsity(model: nn.Module) -> float:
    """Fraction of all parameters (weights and biases) that are pruned."""
    return 1.0 - kept_params(model) / n_params(model)


def layer_sparsity(model: nn.Module) -> dict[str, float]:
    """Fraction of pruned weights per prunable tensor, keyed by weight name."""
    return {name: 1.0 - float(m.mean().item()) for name, _, m in prunable(model)}


@torch.no_grad()
def flops(model: nn.Module, input_shape: Sequence[int]) -> tuple[int, int]:
    """Multiply-accumulates per example of the masked layers: ``(dense, sparse)``.

    ShrinkBench's count (Blalock et al. 2020): a ``Linear`` layer costs one FLOP per weight,
    a ``Conv2d`` one per weight and output position; the sparse count takes only the kept
    (unmasked) weights. Biases, activations and pooling are not counted. ``input_shape``
    excludes the batch dimension.
    """
    positions: dict[int, int] = {}

    def hook(module: nn.Module, _inp: Any, out: torch.Tensor) -> None:
        positions[id(module)] = int(out[0, 0].numel()) if out.dim() > 2 else 1

    layers = [m for _, m in masked_layers(model)]
    handles = [m.register_forward_hook(hook) for m in layers]
    was_training = model.training
    try:
        model.eval()
        param = next(model.parameters())
        model(torch.zeros((1, *[int(s) for s in input_shape]), device=param.device))
    finally:
        model.train(was_training)
        for h in handles:
            h.remove()
    dense = sum(m.weight.numel() * positions[id(m)] for m in layers)
    sparse = sum(int(m.mask.sum().item()) * positions[id(m)] for m in layers)
    return int(dense), int(sparse)
