"""DeepInv physics on pnpdist's operators: deepinv.physics.LinearPhysics subclasses whose A and A_adjoint are
pnpdist's projectors and blurs, so that DeepInv's optimisers, PnP and unrolled models run on them unchanged.

    import pnpdist, pnpdist.deepinv as pdi
    physics = pdi.Tomography(pnpdist.parallel_beam_2d(angles, 384, (256, 256)),
                             noise_model=deepinv.physics.GaussianNoise(0.01))
    y = physics(x)                       # x: (B, C, 256, 256) -> y: (B, C, views, 384), noise added

DeepInv is optional: importing this module does not import it; the physics classes (Tomography, Blur,
BlurStack, Physics) import it when first used and raise ImportError naming the pip package (deepinv) when
it is missing. The shape helpers (tensor_shapes, check_shape) and the conversions to and from DeepInv's own
Tomography layout need neither DeepInv nor torch.

Layout. DeepInv's tensors are (B, C, *spatial); pnpdist's operators take their domain_shape. A tensor must
be (B, C, *domain_shape) for an operator whose domain is an image (H, W) or a volume (D, H, W): every
(batch, channel) pair is one pnpdist image, the measurement is (B, C, *range_shape) (a 2D sinogram
(B, C, views, detector_cols), 3D projections (B, C, views, detector_rows, detector_cols)). A blur whose
domain is (C, H, W) takes (B, C, H, W) and gives (B, C, *range); a blur of (N, C, H, W) only that shape
(B = N). A CircularBlurStack of K blurs of (H, W) or (C, H, W) images gives (B, K, C, H, W): the K blurred
copies along the second axis. Any other shape raises ValueError naming the expected one. Tensors must be
CPU tensors of the operator's dtype (TypeError otherwise, naming the device or dtype): the bindings have no
CUDA component yet, so a CUDA tensor is refused, never moved.

A and A_adjoint go through pnpdist.torch (backward = the matched adjoint, so gradients flow and
torch.autograd.gradcheck passes with float64 operators); A_adjoint_A (DeepInv's L2 gradient) is the
operator's normal(), one call (one FFT pair for a Blur with method='fft'; forward then adjoint in C++ through
the operator's buffer for projectors and stacks), divided by the squared norm with normalize=True. DeepInv's noise model, sensor model,
physics(x), A_dagger (its least-squares solver) and prox_l2 (its conjugate gradients; BlurStack: the
library's closed form) are inherited.

DeepInv's own Tomography differs in conventions (see docs/python.md, DeepInv): its sinograms are
(B, C, detectors, angles), pnpdist's (views, detectors), its angles are in degrees, and normalize=True divides
A by its spectral norm. Tomography(..., normalize=True) does the same here; to_deepinv_sinogram and
from_deepinv_sinogram swap the last two axes.
"""

import math

__all__ = ["Tomography", "Blur", "BlurStack", "Physics", "tensor_shapes", "check_shape",
           "to_deepinv_sinogram", "from_deepinv_sinogram", "deepinv_parallel_geometry"]

_INSTALL_HINT = ("pnpdist.deepinv needs DeepInv, which is not installed: pip install deepinv "
                 "(it is an optional dependency of pnpdist)")


def _import_deepinv():
    try:
        import deepinv
    except ImportError as error:
        raise ImportError(_INSTALL_HINT, name="deepinv") from error
    return deepinv


# ---- Shapes (no DeepInv, no torch) --------------------------------------------------------------------

def tensor_shapes(domain_shape, range_shape, channels=False, stacked=0):
    """DeepInv's shapes for an operator of pnpdist's domain_shape and range_shape, as (x_shape, y_shape)
    patterns where None stands for any size. channels: the operator's domain starts with the channel axis
    (a blur of (C, H, W) or (N, C, H, W) images); otherwise a domain (H, W) or (D, H, W) takes any B and C.
    stacked = K for a CircularBlurStack of K blurs (range (K, *domain), y (B, K, C, H, W))."""
    domain, rng = tuple(domain_shape), tuple(range_shape)
    if stacked:
        if len(domain) not in (2, 3) or rng != (stacked,) + domain:
            raise ValueError(f"a stack of {stacked} blurs of (H, W) or (C, H, W) images must have range "
                             f"({stacked}, *domain), got domain {domain} and range {rng}")
        c = domain[0] if len(domain) == 3 else None
        return (None, c) + domain[-2:], (None, stacked, c) + domain[-2:]
    if not channels and len(domain) in (2, 3):
        return (None, None) + domain, (None, None) + rng
    if channels and len(domain) == 3:
        return (None,) + domain, (None,) + rng
    if channels and len(domain) == 4:
        return domain, rng
    raise ValueError(f"pnpdist.deepinv: an operator of domain {domain} has no (B, C, ...) layout "
                     "(expected (H, W) or (D, H, W); for blurs (C, H, W) or (N, C, H, W))")


def _pattern(shape):
    return "(" + ", ".join("B" if i == 0 and s is None else "C" if s is None else str(s)
                           for i, s in enumerate(shape)) + ")"


def check_shape(shape, pattern, name="x"):
    """Raises ValueError unless shape matches pattern (None: any size), naming the expected shape."""
    shape = tuple(shape)
    if len(shape) != len(pattern) or any(p is not None and p != s for s, p in zip(shape, pattern)):
        raise ValueError(f"pnpdist.deepinv: {name} must have shape {_pattern(pattern)}, got {shape}")


def to_deepinv_sinogram(y):
    """pnpdist's (..., views, detectors) sinogram in DeepInv's Tomography layout (..., detectors, views)."""
    return y.swapaxes(-2, -1)


def from_deepinv_sinogram(y):
    """DeepInv's (..., detectors, views) sinogram in pnpdist's layout (..., views, detectors)."""
    return to_deepinv_sinogram(y)


def deepinv_parallel_geometry(angles_degrees, img_width):
    """The pnpdist parallel-beam geometry of deepinv.physics.Tomography(angles, img_width, circle=False,
    fan_beam=False) on DeepInv's own image layout: unit pixels; the detector of P = ceil(sqrt(2) img_width)
    unit bins of DeepInv's padded rotate-and-sum; the angles in radians; the image mirrored in y (DeepInv's
    row 0 is at +y, pnpdist's at -y: the geometry is mirrored, no array is flipped); and, where P - img_width
    is odd, DeepInv's rotation centre half a pixel off the image centre in both axes (the detector shifted by
    (cos t - sin t) / 2 bins at angle t). The sinogram is pnpdist's (views, P): to_deepinv_sinogram gives
    DeepInv's (P, views). The projectors differ in interpolation (DeepInv: bilinear rotation of the image,
    pnpdist: Joseph), so the sinograms agree to interpolation accuracy, not to round-off (docs/python.md)."""
    import numpy as np
    import pnpdist
    width = int(img_width)
    bins = math.ceil(math.sqrt(2.0) * width)
    angles = np.radians(np.asarray(angles_degrees, dtype=np.float64))
    vectors = np.array(pnpdist.parallel_beam_2d(angles.tolist(), bins, (width, width)).vectors)
    if (bins - width) % 2 == 1:
        shift = 0.5 * (np.cos(angles) - np.sin(angles))
        vectors[:, 2:4] += shift[:, None] * vectors[:, 4:6]
    vectors[:, 1::2] *= -1.0  # mirror y: ray, detector centre and u
    return pnpdist.Geometry2D.from_vectors("parallel", vectors, bins, (width, width))


# ---- The physics classes (DeepInv imported on first use) ---------------------------------------------

_classes = {}


def _build_classes():
    if _classes:
        return _classes
    deepinv = _import_deepinv()
    import numpy as np
    import torch
    import pnpdist
    from . import torch as pt

    def check_tensor(t, pattern, dtype, name):
        if not isinstance(t, torch.Tensor):
            raise TypeError(f"pnpdist.deepinv: {name} must be a torch.Tensor, got {type(t).__name__}")
        if t.device.type != "cpu":
            raise TypeError(f"pnpdist.deepinv: {name} is on {t.device}; pnpdist's Python package has no CUDA "
                            "component yet, pass CPU tensors")
        dtype = str(np.dtype(dtype))
        if t.dtype != getattr(torch, dtype):
            raise TypeError(f"pnpdist.deepinv: {name} must be torch.{dtype} (the operator's dtype), got {t.dtype}")
        check_shape(t.shape, pattern, name)

    class Physics(deepinv.physics.LinearPhysics):
        """A pnpdist linear operator (projector, Blur, StackedOperator) as a DeepInv LinearPhysics: A(x) =
        op applied to every (batch, channel) image of x, A_adjoint its matched adjoint, both differentiable
        (pnpdist.torch). normalize=True divides A and A_adjoint by the operator's spectral norm (power
        method, 50 iterations, as DeepInv's Tomography does with normalize=True); operator_norm holds it
        (1 otherwise). Other keyword arguments (noise_model, sensor_model, max_iter, tol, solver, ...) go to
        deepinv.physics.LinearPhysics."""

        def __init__(self, op, normalize=False, **kwargs):
            super().__init__(**kwargs)
            self.op = op
            channels = isinstance(op, pnpdist.Blur) and len(op.domain_shape) > 2
            self.x_pattern, self.y_pattern = tensor_shapes(op.domain_shape, op.range_shape, channels=channels)
            self.normalize = bool(normalize)
            self.operator_norm = 1.0
            if self.normalize:
                self.operator_norm = _spectral_norm(op)

        def A(self, x, **kwargs):
            check_tensor(x, self.x_pattern, self.op.dtype, "x")
            y = pt.apply(self.op, x)
            return y / self.operator_norm if self.normalize else y

        def A_adjoint(self, y, **kwargs):
            check_tensor(y, self.y_pattern, self.op.dtype, "y")
            x = pt.apply(pt.Adjoint(self.op), y)
            return x / self.operator_norm if self.normalize else x

        def A_adjoint_A(self, x, **kwargs):
            """A^T A x (DeepInv's L2 gradient calls it): one call of the operator's normal() (every bound
            operator has one; a Blur with method='fft': one FFT pair instead of two), A_adjoint(A(x)) for an
            operator without it. Differentiable (its backward is itself)."""
            if not hasattr(self.op, "normal"):
                return super().A_adjoint_A(x, **kwargs)
            check_tensor(x, self.x_pattern, self.op.dtype, "x")
            z = pt.apply(pt.Normal(self.op), x)
            return z / self.operator_norm ** 2 if self.normalize else z

    def _spectral_norm(op, iterations=50):
        import numpy as np
        x = np.random.default_rng(0).standard_normal(op.domain_shape).astype(op.dtype)
        norm = 0.0
        for _ in range(iterations):
            x /= np.linalg.norm(x)
            x = op.adjoint(op.forward(x))
            norm = math.sqrt(float(np.linalg.norm(x)))
        return norm

    class Tomography(Physics):
        """Joseph's projector of a pnpdist Geometry2D (parallel or fan) or Geometry3D (parallel or cone) as a
        DeepInv physics: x (B, C, H, W) -> y (B, C, views, detector_cols), or x (B, C, D, H, W) ->
        y (B, C, views, detector_rows, detector_cols). projector: a Geometry2D / Geometry3D (a projector of
        `dtype` is made) or a JosephProjector2D / 3D. normalize: see Physics (DeepInv's Tomography
        default is True, here False: pnpdist's projections are line integrals in the geometry's units)."""

        def __init__(self, projector, dtype="float32", normalize=False, **kwargs):
            if isinstance(projector, pnpdist.Geometry2D):
                projector = pnpdist.JosephProjector2D(projector, dtype=dtype)
            elif isinstance(projector, pnpdist.Geometry3D):
                projector = pnpdist.JosephProjector3D(projector, dtype=dtype)
            elif not isinstance(projector, (pnpdist.JosephProjector2D, pnpdist.JosephProjector3D,
                                            pnpdist.StackedOperator)):
                raise TypeError("pnpdist.deepinv.Tomography: projector must be a Geometry2D, Geometry3D, "
                                f"JosephProjector2D, JosephProjector3D or StackedOperator of them, got "
                                f"{type(projector).__name__}")
            super().__init__(projector, normalize=normalize, **kwargs)

        def fbp(self, y):
            """pnpdist's FBP (Ram-Lak; FDK for cone beams) of y (B, C, *range), undoing the normalization."""
            op = self.op
            if not hasattr(op, "geometry"):
                raise TypeError("pnpdist.deepinv.Tomography.fbp needs a single projector (it has a geometry)")
            check_tensor(y, self.y_pattern, op.dtype, "y")
            recon = pnpdist.fbp if isinstance(op, pnpdist.JosephProjector2D) else pnpdist.fdk
            ys = (y.detach() * self.operator_norm).contiguous().numpy().reshape((-1,) + tuple(op.range_shape))
            xs = [recon(op.geometry, s) for s in ys]
            out = torch.from_numpy(np.stack(xs)).reshape(tuple(y.shape[:2]) + tuple(op.domain_shape))
            return out * self.operator_norm if self.normalize else out

    class Blur(Physics):
        """A pnpdist.Blur as a DeepInv physics: (B, C, H, W) -> (B, C, H', W') for a blur of (H, W)
        images (every channel blurred alike) or of (C, H, W) images."""

        def __init__(self, blur, **kwargs):
            if not isinstance(blur, pnpdist.Blur):
                raise TypeError(f"pnpdist.deepinv.Blur: blur must be a pnpdist.Blur, got {type(blur).__name__}")
            super().__init__(blur, **kwargs)

    class BlurStack(deepinv.physics.LinearPhysics):
        """A pnpdist.CircularBlurStack of K blurs as a DeepInv physics: x (B, C, H, W) -> y (B, K, C, H, W)
        (for a stack of (H, W) blurs any C, every channel blurred alike). prox_l2 (DeepInv's data step of
        HQS, ADMM, DPIR) is the library's closed form through the combined normal operator instead of
        DeepInv's conjugate gradients; float32."""

        def __init__(self, stack, **kwargs):
            super().__init__(**kwargs)
            if not isinstance(stack, pnpdist.CircularBlurStack):
                raise TypeError("pnpdist.deepinv.BlurStack: stack must be a pnpdist.CircularBlurStack, got "
                                f"{type(stack).__name__}")
            self.op = stack
            self.k = len(stack)
            self.x_pattern, self.y_pattern = tensor_shapes(stack.domain_shape, stack.range_shape, stacked=self.k)
            self.per_channel = len(stack.domain_shape) == 2

        def A(self, x, **kwargs):
            check_tensor(x, self.x_pattern, "float32", "x")
            y = pt.apply(self.op, x)  # (B, C, K, H, W) per channel, (B, K, C, H, W) for (C, H, W) blurs
            return y.movedim(2, 1) if self.per_channel else y

        def A_adjoint(self, y, **kwargs):
            check_tensor(y, self.y_pattern, "float32", "y")
            return pt.apply(pt.Adjoint(self.op), y.movedim(1, 2) if self.per_channel else y)

        def prox_l2(self, z, y, gamma, **kwargs):
            """argmin_x gamma/2 ||A x - y||^2 + 1/2 ||x - z||^2 in closed form (not differentiable)."""
            check_tensor(z, self.x_pattern, "float32", "z")
            check_tensor(y, self.y_pattern, "float32", "y")
            gamma = float(gamma)
            ys = (y.movedim(1, 2) if self.per_channel else y).detach().contiguous()
            zs = z.detach().contiguous()
            image = tuple(self.op.domain_shape)
            ys = ys.numpy().reshape((-1, self.k) + image)
            zs = zs.numpy().reshape((-1,) + image)
            out = np.empty_like(zs)
            for i in range(zs.shape[0]):
                self.op.set_measurements(ys[i])
                self.op.proximal(zs[i], 1.0 / gamma, out=out[i])
            return torch.from_numpy(out.reshape(tuple(z.shape)))

    _classes.update(Physics=Physics, Tomography=Tomography, Blur=Blur, BlurStack=BlurStack)
    return _classes


def __getattr__(name):
    if name in ("Physics", "Tomography", "Blur", "BlurStack"):
        return _build_classes()[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
