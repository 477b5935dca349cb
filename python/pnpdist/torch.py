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

pnpdist.torch.DRUNet runs the denoiser on tensors. It is differentiable in x and sigma for the untiled 2D
network (DRUNetFunction: the forward pass of pnpdist.DRUNetBackward keeps the activations, the backward pass is
their vector-Jacobian product in the library, float32 or float64); the network's weights are not torch
parameters, so no gradient reaches them through autograd (DRUNetBackward.backward(..., parameters=True) gives
them). Without a gradient to compute, float32 inputs run the inference network (oneDNN).
"""

import numpy as np
import torch

from torch.autograd.function import once_differentiable

from . import DRUNet as _DRUNet
from . import DRUNetBackward as _DRUNetBackward

__all__ = ["Adjoint", "Normal", "LinearFunction", "apply", "Operator", "DRUNet", "DRUNetFunction"]


class Adjoint:
    """The adjoint of a linear operator as an operator: forward = A^T, adjoint = A."""

    def __init__(self, op):
        self.op = op

    forward = property(lambda self: self.op.adjoint)
    adjoint = property(lambda self: self.op.forward)
    domain_shape = property(lambda self: self.op.range_shape)
    range_shape = property(lambda self: self.op.domain_shape)
    dtype = property(lambda self: self.op.dtype)


class Normal:
    """The normal operator A^T A of a pnpdist.LinearOperator (every bound operator has normal(x, out): one call,
    one FFT pair for a Blur with method='fft', forward then adjoint in C++ for the others) as a self-adjoint
    operator: forward = adjoint = op.normal."""

    def __init__(self, op):
        self.op = op

    forward = property(lambda self: self.op.normal)
    adjoint = forward
    domain_shape = property(lambda self: self.op.domain_shape)
    range_shape = domain_shape
    dtype = property(lambda self: self.op.dtype)


def _transposed(op):
    if isinstance(op, Normal):
        return op
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


class DRUNetFunction(torch.autograd.Function):
    """y = DRUNet(x, sigma) for x of shape (N, C, H, W) and a 0-d tensor sigma; apply(x, sigma, net) with net a
    pnpdist.DRUNetBackward of x's dtype. The backward pass returns the gradients in x and sigma (its own
    backward is not defined: no second derivatives)."""

    @staticmethod
    def forward(ctx, x, sigma, net):
        y, tape = net.forward(x.detach().contiguous().numpy(), float(sigma))
        ctx.net, ctx.tape = net, tape
        return torch.from_numpy(y)

    @staticmethod
    @once_differentiable
    def backward(ctx, grad):
        grad_x, grad_sigma = ctx.net.backward(ctx.tape, grad.contiguous().numpy())
        return torch.from_numpy(grad_x), torch.tensor(grad_sigma, dtype=grad.dtype), None


class DRUNet(torch.nn.Module):
    """pnpdist.DRUNet on CPU tensors of the shapes it takes; forward(x, sigma), sigma a number or a 0-d tensor.
    The keyword options (dim, tile, overlap, tile_batch, executor) are pnpdist.DRUNet's. Differentiable in x
    and sigma for the untiled 2D network (float32 and float64, see DRUNetFunction); float32 inputs that need
    no gradient run the inference network."""

    def __init__(self, path, **options):
        super().__init__()
        self.net = _DRUNet(path, **options)
        self.path = str(path)
        self._executor = options.get("executor")
        self._backward = {}

    def backward_network(self, dtype):
        """The pnpdist.DRUNetBackward of `dtype` (torch.float32 or torch.float64), created on first use."""
        name = {torch.float32: "float32", torch.float64: "float64"}.get(dtype)
        if name is None:
            raise TypeError(f"pnpdist.torch.DRUNet: x must be float32 or float64, got {dtype}")
        if name not in self._backward:
            self._backward[name] = _DRUNetBackward(self.path, dtype=name, executor=self._executor)
        return self._backward[name]

    def forward(self, x, sigma):
        if x.device.type != "cpu":
            raise TypeError(f"pnpdist.torch.DRUNet: x must be on the CPU, got {x.device}")
        sigma_grad = torch.is_tensor(sigma) and sigma.requires_grad
        needs_grad = torch.is_grad_enabled() and (x.requires_grad or sigma_grad)
        if not needs_grad and x.dtype != torch.float64:
            return torch.from_numpy(self.net.denoise(x.detach().contiguous().numpy(), float(sigma)))
        if self.net.dim != 2 or self.net.tiled:
            raise NotImplementedError("pnpdist.torch.DRUNet: the backward pass (and float64) exists for the "
                                      "untiled 2D network only")
        channels = self.net.config["image_channels"]
        if x.dim() == 4 or x.dim() == 3 or (x.dim() == 2 and channels == 1):
            batch = x.reshape((1,) * (4 - x.dim()) + tuple(x.shape))
        else:
            raise ValueError(f"pnpdist.torch.DRUNet: x must have shape (N, C, H, W), (C, H, W) or, for grayscale "
                             f"networks, (H, W); got {tuple(x.shape)}")
        sigma = sigma.to(x.dtype) if torch.is_tensor(sigma) else torch.tensor(float(sigma), dtype=x.dtype)
        y = DRUNetFunction.apply(batch, sigma, self.backward_network(x.dtype))
        return y.reshape(x.shape)
