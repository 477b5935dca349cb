"""PyTorch autograd for pnpdist's linear operators (CPU tensors).

    A = pnpdist.JosephProjector2D(geometry, dtype="float64")
    y = pnpdist.torch.apply(A, x)          # differentiable: the gradient of <y, g> is A^T g
    op = pnpdist.torch.Operator(A)         # the same as an nn.Module; op.T is the adjoint

Guarantees: the forward pass is the operator's forward (A x) and the backward pass its matched adjoint
(A^T g), computed by the C++ library on the tensors' memory (zero-copy through numpy for contiguous
tensors; non-contiguous ones, such as the expanded gradients autograd passes, are made contiguous first);
the backward is itself differentiable (its backward is A again), so second derivatives work. Inputs may carry leading batch
dimensions: x of shape (*batch, *A.domain_shape) gives (*batch, *A.range_shape). Tensors must be CPU tensors
of the operator's dtype (float32 or float64, see pnpdist.LinearOperator); gradcheck needs float64 operators.

pnpdist.torch.DRUNet runs the denoiser on tensors; it is not differentiable (no gradient flows through it).
"""

import numpy as np
import torch

from . import DRUNet as _DRUNet

__all__ = ["Adjoint", "LinearFunction", "apply", "Operator", "DRUNet"]


class Adjoint:
    """The adjoint of a linear operator as an operator: forward = A^T, adjoint = A."""

    def __init__(self, op):
        self.op = op

    forward = property(lambda self: self.op.adjoint)
    adjoint = property(lambda self: self.op.forward)
    domain_shape = property(lambda self: self.op.range_shape)
    range_shape = property(lambda self: self.op.domain_shape)
    dtype = property(lambda self: self.op.dtype)


def _transposed(op):
    return op.op if isinstance(op, Adjoint) else Adjoint(op)


def _run(function, x, in_shape, out_shape, dtype):
    """function(x_i, out=y_i) for every batch element of x; returns y as a new tensor."""
    if x.device.type != "cpu":
        raise TypeError(f"pnpdist.torch: tensors must be on the CPU, got one on {x.device}")
    in_shape, out_shape = tuple(in_shape), tuple(out_shape)
    if tuple(x.shape[x.dim() - len(in_shape):]) != in_shape:
        raise ValueError(f"pnpdist.torch: input of shape {tuple(x.shape)} does not end with the operator's "
                         f"input shape {in_shape}")
    batch = tuple(x.shape[:x.dim() - len(in_shape)])
    xs = x.detach().contiguous().numpy().reshape((-1,) + in_shape)
    ys = np.empty((xs.shape[0],) + out_shape, dtype=dtype)
    for i in range(xs.shape[0]):
        function(xs[i], out=ys[i])
    return torch.from_numpy(ys.reshape(batch + out_shape))


class LinearFunction(torch.autograd.Function):
    """y = A x with backward A^T; apply(x, op)."""

    @staticmethod
    def forward(ctx, x, op):
        ctx.op = op
        return _run(op.forward, x, op.domain_shape, op.range_shape, op.dtype)

    @staticmethod
    def backward(ctx, grad):
        return LinearFunction.apply(grad, _transposed(ctx.op)), None


def apply(op, x):
    """A x as a differentiable torch operation (op: a pnpdist.LinearOperator or Adjoint)."""
    return LinearFunction.apply(x, op)


class Operator(torch.nn.Module):
    """A pnpdist linear operator as a module: forward(x) = A x, differentiable; .T is the adjoint module."""

    def __init__(self, op):
        super().__init__()
        self.op = op

    def forward(self, x):
        return LinearFunction.apply(x, self.op)

    @property
    def T(self):
        return Operator(_transposed(self.op))


class DRUNet(torch.nn.Module):
    """pnpdist.DRUNet on float32 CPU tensors of the shapes it takes; forward(x, sigma). The keyword options
    (dim, tile, overlap, tile_batch, executor) are pnpdist.DRUNet's. Not differentiable: the result carries no
    gradient."""

    def __init__(self, path, **options):
        super().__init__()
        self.net = _DRUNet(path, **options)

    def forward(self, x, sigma):
        if x.device.type != "cpu":
            raise TypeError(f"pnpdist.torch.DRUNet: x must be on the CPU, got {x.device}")
        return torch.from_numpy(self.net.denoise(x.detach().contiguous().numpy(), float(sigma)))
