"""The numpy forward/backward pass of :class:`bayesprune.likelihoods.MLPPosterior`'s data term
(any depth and dtype), batched over chains; :mod:`bayesprune.fused` is the compiled pass for
float64 networks with one hidden layer.

It is a pass of its own, not :func:`bayesprune.networks.forward_numpy`: the first layer's bias
rides in the matrix product (a ones column of the inputs), the activations stay in workspace
buffers for the backward pass, and the sigmoid is ``1 / (1 + exp(-a))`` (:func:`_sigmoid`)
where the network's forward uses ``0.5 (1 + tanh(a / 2))``: each rounds differently, and the
sampler's numbers are defined by this pass, so the two stay apart.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def _sigmoid(a: np.ndarray) -> np.ndarray:
    """In-place logistic function ``1 / (1 + exp(-a))`` of ``a`` (overflow of exp gives exactly
    0, no NaN); not the network's sigmoid, see the module docstring."""
    np.negative(a, out=a)
    np.exp(a, out=a)
    a += 1.0
    np.reciprocal(a, out=a)
    return a


class NumpyPass:
    """The numpy pass as methods of the target (it reads the target's data, network,
    dtype, workspaces and torch hook: ``n``, ``spec``, ``dtype``, ``X1``, ``y``, ``onehot``,
    ``_ones``, ``_slices``, ``_ws``, ``_torch``)."""

    n: int
    spec: Any
    dtype: np.dtype
    X1: np.ndarray
    y: np.ndarray
    onehot: np.ndarray
    _ones: np.ndarray
    _slices: list
    _ws: dict
    _torch: Any

    def _workspace(self, K: int) -> dict[str, list[np.ndarray]]:
        """Preallocated buffers for ``K`` chains.

        Large temporaries would otherwise be fresh ``malloc``/``mmap`` allocations on every
        call, whose page faults cost more than the arithmetic (measured: about 10x on a 1 MB
        array on the development machine).
        """
        ws = self._ws.get(K)
        if ws is None:
            N, sizes, dt = self.n, self.spec.sizes, self.dtype
            L = self.spec.n_layers
            ws = {
                "act": [np.empty((N, K * sizes[i + 1]), dt) for i in range(L)],
                "delta": [np.empty((N, K * sizes[i]), dt) for i in range(L)],
                "tmp": [np.empty((N, K * sizes[i]), dt) for i in range(L)],
                "kout": [np.empty((K, sizes[i + 1], N), dt) for i in range(L)],
                "kin": [np.empty((K, N, sizes[i]), dt) for i in range(L)],
                "out": [np.empty((N, K * sizes[-1]), dt) for _ in range(2)],
            }
            if self._torch is not None:  # torch views of the same memory
                ws["act_t"] = [self._torch.from_numpy(a) for a in ws["act"]]
            self._ws = {K: ws}  # keep one batch size only
        return ws

    def _use_block_diag(self, K: int) -> bool:
        """Later layers: one block-diagonal product for few chains, batched products else."""
        return K <= 4

    def _forward(self, theta: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
        """Outputs ``(N, K * O)`` (after the output activation) and the hidden activations.

        The returned arrays are workspace buffers, overwritten by the next call.
        """
        K = theta.shape[0]
        sizes = self.spec.sizes
        N = self.n
        ws = self._workspace(K)
        th = theta.astype(self.dtype, copy=False)
        hidden: list[np.ndarray] = []
        act = self.spec.hidden_activation
        n_layers = self.spec.n_layers
        bd = self._use_block_diag(K)
        h = self.X1
        for layer in range(n_layers):
            n_in, n_out = sizes[layer], sizes[layer + 1]
            w_sl, b_sl = self._slices[layer]
            last = layer == n_layers - 1
            a = ws["act"][layer]
            if layer == 0:
                # the bias rides in the product through the ones column of X1
                wa = np.empty((K, n_out, n_in + 1), dtype=self.dtype)
                wa[:, :, :n_in] = th[:, w_sl].reshape(K, n_out, n_in)
                wa[:, :, n_in] = th[:, b_sl]
                np.matmul(h, wa.reshape(K * n_out, n_in + 1).T, out=a)
            else:
                w = th[:, w_sl].reshape(K, n_out, n_in)
                if bd:
                    np.matmul(h, _block_diag(w), out=a)
                else:
                    kout = ws["kout"][layer]
                    np.matmul(w, h.reshape(N, K, n_in).transpose(1, 2, 0), out=kout)
                    np.copyto(a.reshape(N, K, n_out), kout.transpose(2, 0, 1))
                a += th[:, b_sl].reshape(K * n_out)
            if not last:
                if (
                    act == "sigmoid"
                    and self._torch is not None
                    and self._torch.get_num_threads() == 1
                ):
                    ta = ws["act_t"][layer]
                    self._torch.sigmoid(ta, out=ta)
                elif act == "sigmoid":
                    # with several torch threads, its OpenMP pool on these small arrays was
                    # measured 10-100x slower on a busy machine: stay in numpy
                    _sigmoid(a)
                elif act == "tanh":
                    np.tanh(a, out=a)
                else:
                    np.maximum(a, 0.0, out=a)
                hidden.append(a)
            h = a
        if self.spec.output_activation == "sigmoid":
            h = _sigmoid(h)
        return h, hidden

    def _data_numpy(
        self, theta: np.ndarray, inv_tau2: np.ndarray | None, grad: np.ndarray
    ) -> np.ndarray:
        """The numpy pass (any depth and dtype): as :meth:`_data_fused`."""
        K = theta.shape[0]
        N = self.n
        f, hidden = self._forward(theta)
        ws = self._workspace(K)
        if inv_tau2 is not None:
            res, delta = ws["out"]
            np.subtract(self.y[:, None], f, out=res)  # (N, K)
            data = np.einsum("nk,nk->k", res, res, dtype=np.float64)
            np.multiply(res, inv_tau2.astype(self.dtype), out=delta)  # d loglik / d f
            if self.spec.output_activation == "sigmoid":
                np.multiply(f, f, out=res)
                np.subtract(f, res, out=res)
                delta *= res
        else:
            C = self.spec.sizes[-1]
            z, delta = ws["out"]
            logits = f.reshape(N, K, C)
            z3 = z.reshape(N, K, C)
            np.subtract(logits, logits.max(axis=2, keepdims=True), out=z3)
            e = np.exp(z3)
            s = e.sum(axis=2, keepdims=True)
            # log softmax at the label: z[n, y_n] - log s_n, summed over n
            picked = np.einsum("nkc,nc->k", z3, self.onehot, dtype=np.float64)
            data = picked - np.log(s).sum(axis=(0, 2), dtype=np.float64)
            e /= s
            np.subtract(self.onehot[:, None, :], e, out=delta.reshape(N, K, C))
        self._backward(theta, delta, hidden, grad)
        return data

    def _backward(
        self, theta: np.ndarray, delta: np.ndarray, hidden: list[np.ndarray], grad: np.ndarray
    ) -> None:
        """Write d loglik / d theta into ``grad[:, :P]``; ``delta`` = d loglik / d pre-output."""
        K = theta.shape[0]
        N = self.n
        sizes = self.spec.sizes
        ws = self._workspace(K)
        th = theta.astype(self.dtype, copy=False)
        act = self.spec.hidden_activation
        bd = self._use_block_diag(K)
        for layer in range(self.spec.n_layers - 1, -1, -1):
            n_in, n_out = sizes[layer], sizes[layer + 1]
            w_sl, b_sl = self._slices[layer]
            if layer == 0:
                gw = (self.X1.T @ delta).T.reshape(K, n_out, n_in + 1)  # last column: bias
                grad[:, w_sl] = gw[:, :, :n_in].reshape(K, n_out * n_in)
                grad[:, b_sl] = gw[:, :, n_in]
                break
            h = hidden[layer - 1]  # (N, K * n_in)
            grad[:, b_sl] = (self._ones @ delta).reshape(K, n_out)
            d3 = delta.reshape(N, K, n_out)
            w = th[:, w_sl].reshape(K, n_out, n_in)
            new = ws["delta"][layer]
            if bd:
                full = delta.T @ h  # (K * n_out, K * n_in): keep the diagonal blocks
                idx = np.arange(K)
                gw = full.reshape(K, n_out, K, n_in)[idx, :, idx, :]
                np.matmul(delta, _block_diag(w).T, out=new)
            else:
                gw = np.matmul(d3.transpose(1, 2, 0), h.reshape(N, K, n_in).transpose(1, 0, 2))
                kin = ws["kin"][layer]
                np.matmul(d3.transpose(1, 0, 2), w, out=kin)  # (K, N, n_in)
                np.copyto(new.reshape(N, K, n_in), kin.transpose(1, 0, 2))
            grad[:, w_sl] = gw.reshape(K, n_out * n_in)
            tmp = ws["tmp"][layer]
            if act == "sigmoid":  # h (1 - h)
                np.multiply(h, h, out=tmp)
                np.subtract(h, tmp, out=tmp)
            elif act == "tanh":  # 1 - h^2
                np.multiply(h, h, out=tmp)
                np.subtract(1.0, tmp, out=tmp)
            else:
                np.greater(h, 0.0, out=tmp)
            new *= tmp
            delta = new


def _block_diag(w: np.ndarray) -> np.ndarray:
    """``(K * in, K * out)`` block-diagonal matrix with blocks ``w[k].T`` for ``w (K, out, in)``."""
    K, n_out, n_in = w.shape
    bd = np.zeros((K, n_in, K, n_out), dtype=w.dtype)
    idx = np.arange(K)
    bd[idx, :, idx, :] = w.transpose(0, 2, 1)
    return bd.reshape(K * n_in, K * n_out)
