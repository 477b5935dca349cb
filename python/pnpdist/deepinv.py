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
from_deepinv_sinogram swap the last two axes. The geometries of DeepInv's Tomography on its image layout:
deepinv_parallel_geometry (circle=False and True), deepinv_fan_geometry (fan_beam=True, its fan_parameters)
with deepinv_fan_weights (DeepInv's fan-beam values are line integrals times cos of the fan angle), and
deepinv_circle_mask for circle=True (Tomography(geometry, mask=deepinv_circle_mask(W))).
"""

import math
import numbers

__all__ = ["Tomography", "Blur", "BlurStack", "Physics", "tensor_shapes", "check_shape",
           "to_deepinv_sinogram", "from_deepinv_sinogram", "deepinv_parallel_geometry", "deepinv_fan_geometry",
           "deepinv_fan_weights", "deepinv_circle_mask"]

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


def _deepinv_angles(angles_degrees):
    """DeepInv's angles in radians: an int n gives n angles over 180 degrees (linspace(0, 180, n + 1)[:-1], as
    DeepInv's Tomography), otherwise a non-empty 1D sequence of finite angles in degrees."""
    import numpy as np
    if isinstance(angles_degrees, bool):
        raise TypeError("pnpdist.deepinv: angles must be an int (a count) or a 1D sequence of degrees, got bool")
    if isinstance(angles_degrees, numbers.Integral):
        if angles_degrees < 1:
            raise ValueError(f"pnpdist.deepinv: the number of angles must be positive, got {angles_degrees}")
        return np.radians(np.linspace(0.0, 180.0, angles_degrees + 1)[:-1])
    if hasattr(angles_degrees, "detach"):  # a torch tensor
        angles_degrees = angles_degrees.detach().cpu().numpy()
    angles = np.asarray(angles_degrees, dtype=np.float64)
    if angles.ndim != 1 or angles.size == 0:
        raise ValueError("pnpdist.deepinv: angles must be an int or a non-empty 1D sequence of degrees, got shape "
                         f"{angles.shape}")
    if not np.all(np.isfinite(angles)):
        raise ValueError("pnpdist.deepinv: angles must be finite")
    return np.radians(angles)


def _width(img_width):
    """img_width checked (an int >= 2, numpy ints too) as an int."""
    if isinstance(img_width, bool) or not isinstance(img_width, numbers.Integral) or img_width < 2:
        raise ValueError(f"pnpdist.deepinv: img_width must be an int >= 2, got {img_width!r}")
    return int(img_width)


def _deepinv_frame(img_width, circle):
    """DeepInv's sampling frame of a W x W image: (G, c), G the width of the grid it rotates (ceil(sqrt(2) W),
    the zero-padded image, with circle=False; W with circle=True) and c the offset, in pixels along x and y, of the
    grid's centre (DeepInv's rotation centre) from the image centre: -1/2, 0 or 1/2."""
    img_width = _width(img_width)
    if circle:
        return img_width, 0.0
    grid = math.ceil(math.sqrt(2.0) * img_width)
    pad = grid - img_width
    before = (img_width + pad) // 2 - img_width // 2  # DeepInv's padding before the image
    return grid, pad / 2 - before


def deepinv_parallel_geometry(angles_degrees, img_width, circle=False):
    """The pnpdist parallel-beam geometry of deepinv.physics.Tomography(angles, img_width, circle=circle,
    fan_beam=False) on DeepInv's own image layout. angles_degrees: DeepInv's angles in degrees, or an int n
    for n angles over 180 degrees (DeepInv's rule). Unit pixels; the detector of G unit bins centred on
    DeepInv's rotation centre, G = ceil(sqrt(2) img_width) (the zero-padded image DeepInv rotates) with
    circle=False, G = img_width with circle=True; the angles in radians, the image mirrored in y relative to
    parallel_beam_2d (DeepInv's row 0 is at +y, pnpdist's at -y: the geometry is mirrored, no array is
    flipped). With circle=False and G - img_width odd, DeepInv's rotation centre lies half a pixel off the
    image centre in both axes, towards the last row and column for an even img_width and towards the first
    for an odd one: the geometry's rotation centre is there too. With circle=True DeepInv also restricts the
    image to its inscribed circle: compose this projector with deepinv_circle_mask(img_width)
    (Tomography(geometry, mask=...)). The sinogram is pnpdist's (views, G): to_deepinv_sinogram gives
    DeepInv's (G, views). The projectors differ in interpolation (DeepInv: bilinear rotation of the image,
    pnpdist: Joseph), so the sinograms agree to interpolation accuracy, not to round-off (docs/python.md)."""
    import numpy as np
    import pnpdist
    img_width = _width(img_width)
    theta = _deepinv_angles(angles_degrees)
    grid, centre = _deepinv_frame(img_width, bool(circle))
    c, s = np.cos(theta), np.sin(theta)
    # DeepInv sums the rotated grid along its rows: rays along (sin, cos), detector along (cos, -sin) in
    # pnpdist's frame (x along the columns, y along the rows from row 0).
    vectors = np.stack([s, c, np.full_like(c, centre), np.full_like(c, centre), c, -s], axis=1)
    return pnpdist.Geometry2D.from_vectors("parallel", vectors, grid, (img_width, img_width))


# DeepInv 0.5.0's defaults of fan_parameters (deepinv.physics.Tomography with fan_beam=True); pixel_spacing
# defaults to 0.5 / img_width.
_FAN_DEFAULTS = {"source_radius": 57.5, "detector_radius": 57.5, "n_detector_pixels": 258, "detector_spacing": 0.077}
_FAN_KEYS = ("pixel_spacing", "source_radius", "detector_radius", "n_detector_pixels", "detector_spacing")


def _fan_parameters(img_width, fan_parameters, circle):
    """DeepInv's fan_parameters completed with its defaults and checked, and the lengths in pixels: (source
    radius, detector radius, detector spacing, detector cells, grid width, centre offset)."""
    grid, centre = _deepinv_frame(img_width, bool(circle))
    given = {} if fan_parameters is None else fan_parameters
    if not isinstance(given, dict):
        raise TypeError(f"pnpdist.deepinv: fan_parameters must be a dict or None, got {type(given).__name__}")
    unknown = sorted(set(given) - set(_FAN_KEYS))
    if unknown:
        raise ValueError(f"pnpdist.deepinv: unknown fan_parameters {unknown}; the keys are {list(_FAN_KEYS)}")
    p = dict(_FAN_DEFAULTS, pixel_spacing=0.5 / img_width)
    p.update(given)
    cells = p["n_detector_pixels"]
    if isinstance(cells, bool) or not isinstance(cells, numbers.Integral) or cells < 1:
        raise ValueError(f"pnpdist.deepinv: fan_parameters['n_detector_pixels'] must be a positive int, got {cells!r}")
    for key in ("pixel_spacing", "source_radius", "detector_radius", "detector_spacing"):
        value = p[key]
        if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value) or value <= 0:
            raise ValueError(f"pnpdist.deepinv: fan_parameters[{key!r}] must be a positive finite number, "
                             f"got {value!r}")
    # DeepInv scales lengths by 2 / (G pixel_spacing) into its grid's [-1, 1], whose G samples are one pixel
    # apart: one length unit is (G - 1) / (G pixel_spacing) pixels (its pixel is pixel_spacing G / (G - 1) long).
    unit = (grid - 1) / (grid * p["pixel_spacing"])
    return (float(p["source_radius"]) * unit, float(p["detector_radius"]) * unit,
            float(p["detector_spacing"]) * unit, int(cells), grid, centre)


def deepinv_fan_geometry(angles_degrees, img_width, fan_parameters=None, circle=False):
    """The pnpdist 2D fan-beam geometry of deepinv.physics.Tomography(angles, img_width, circle=circle,
    fan_beam=True, fan_parameters=fan_parameters) on DeepInv's image layout. angles_degrees: degrees, or an
    int n for n angles over 180 degrees (DeepInv's rule); fan_parameters: DeepInv's dict (pixel_spacing,
    source_radius, detector_radius, n_detector_pixels, detector_spacing; the missing keys take DeepInv
    0.5.0's defaults: 0.5 / img_width, 57.5, 57.5, 258, 0.077; another key raises ValueError).

    Lengths are in pixels (the geometry's pixel_size is 1). DeepInv maps its lengths onto the G-pixel grid it
    samples (G = ceil(sqrt(2) img_width), the zero-padded image, with circle=False; img_width with
    circle=True) by 2 / (G pixel_spacing) while the grid's pixels are 2 / (G - 1) apart: one of its length
    units is (G - 1) / (G pixel_spacing) pixels. At angle t (radians) the source is source_radius from the
    rotation centre along (-cos t, sin t) in pnpdist's frame (x along the columns, y along the rows from row
    0), the flat detector's centre detector_radius along (cos t, -sin t) and its n_detector_pixels cells
    detector_spacing apart along (sin t, cos t), centred; the rotation centre is DeepInv's, half a pixel off
    the image centre where G - img_width is odd (see deepinv_parallel_geometry). With circle=True compose
    with deepinv_circle_mask(img_width), as for the parallel beam.

    Scale: DeepInv sums its samples one pixel apart along the central ray's direction, not along each ray,
    so its value for cell j is the line integral times cos(gamma_j), gamma_j the cell's fan angle:
    deepinv_fan_weights gives these factors. Interpolation differs as for the parallel beam (bilinear
    against Joseph): the sinograms agree to interpolation accuracy (docs/python.md)."""
    import numpy as np
    import pnpdist
    img_width = _width(img_width)
    theta = _deepinv_angles(angles_degrees)
    source, detector, spacing, cells, _, centre = _fan_parameters(img_width, fan_parameters, circle)
    c, s = np.cos(theta), np.sin(theta)
    vectors = np.stack([-source * c + centre, source * s + centre, detector * c + centre, -detector * s + centre,
                        spacing * s, spacing * c], axis=1)
    return pnpdist.Geometry2D.from_vectors("fan", vectors, cells, (img_width, img_width))


def deepinv_fan_weights(img_width, fan_parameters=None, circle=False):
    """cos(gamma_j) of the cells of deepinv_fan_geometry(angles, img_width, fan_parameters, circle): DeepInv's
    fan-beam sinogram is pnpdist's multiplied by these factors (float64, shape (n_detector_pixels,), the same
    for every view), to interpolation accuracy. gamma_j is the angle between cell j's ray and the central
    ray: cos(gamma_j) = (R_s + R_d) / sqrt((R_s + R_d)^2 + u_j^2), u_j the cell's offset on the detector."""
    import numpy as np
    source, detector, spacing, cells, _, _ = _fan_parameters(img_width, fan_parameters, circle)
    u = (np.arange(cells) - (cells - 1) / 2) * spacing
    return (source + detector) / np.sqrt((source + detector) ** 2 + u ** 2)


def deepinv_circle_mask(img_width, dtype="float32"):
    """DeepInv's circle=True mask of a W x W image as an array of 0 and 1 of the dtype: 1 where the pixel centre
    lies within (W - 1) / 2 pixels of the image centre, computed as DeepInv does (in float32: x^2 + y^2 <= 1
    with x, y = 2 i / (W - 1) - 1), so that the same pixels are kept. DeepInv multiplies the image by it before
    projecting (and its adjoint after back projecting): Tomography(deepinv_parallel_geometry(angles, W,
    circle=True), mask=deepinv_circle_mask(W)) is the same operator up to the interpolation."""
    import numpy as np
    img_width = _width(img_width)
    r = np.float32(2.0) * np.arange(img_width, dtype=np.float32) / np.float32(img_width - 1) - np.float32(1.0)
    return ((r[:, None] ** 2 + r[None, :] ** 2) <= np.float32(1.0)).astype(dtype)


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
                self.operator_norm = _spectral_norm(op, mask=getattr(self, "_mask_array", None))

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

    def _spectral_norm(op, iterations=50, mask=None):
        """The spectral norm of op (of op times the diagonal mask where one is given), power method."""
        x = np.random.default_rng(0).standard_normal(op.domain_shape).astype(op.dtype)
        norm = 0.0
        for _ in range(iterations):
            x /= np.linalg.norm(x)
            x = op.adjoint(op.forward(x if mask is None else x * mask))
            if mask is not None:
                x *= mask
            norm = math.sqrt(float(np.linalg.norm(x)))
        return norm

    class Tomography(Physics):
        """Joseph's projector of a pnpdist Geometry2D (parallel or fan) or Geometry3D (parallel or cone) as a
        DeepInv physics: x (B, C, H, W) -> y (B, C, views, detector_cols), or x (B, C, D, H, W) ->
        y (B, C, views, detector_rows, detector_cols). projector: a Geometry2D / Geometry3D (a projector of
        `dtype` is made) or a JosephProjector2D / 3D. normalize: see Physics (DeepInv's Tomography
        default is True, here False: pnpdist's projections are line integrals in the geometry's units).
        mask: None, or an array of the image's shape (numpy or torch, finite) by which every image is
        multiplied before projecting: A = P M, A_adjoint = M P^T, A_adjoint_A = M (P^T P) (M x) in one
        normal() call, fbp(y) masked too; deepinv_circle_mask gives DeepInv's circle=True mask."""

        def __init__(self, projector, dtype="float32", normalize=False, mask=None, **kwargs):
            if isinstance(projector, pnpdist.Geometry2D):
                projector = pnpdist.JosephProjector2D(projector, dtype=dtype)
            elif isinstance(projector, pnpdist.Geometry3D):
                projector = pnpdist.JosephProjector3D(projector, dtype=dtype)
            elif not isinstance(projector, (pnpdist.JosephProjector2D, pnpdist.JosephProjector3D,
                                            pnpdist.StackedOperator)):
                raise TypeError("pnpdist.deepinv.Tomography: projector must be a Geometry2D, Geometry3D, "
                                f"JosephProjector2D, JosephProjector3D or StackedOperator of them, got "
                                f"{type(projector).__name__}")
            self._mask_array = None
            if mask is not None:
                if isinstance(mask, torch.Tensor):
                    mask = mask.detach().cpu().numpy()
                m = np.asarray(mask)
                if m.dtype.kind not in "biuf":
                    raise TypeError(f"pnpdist.deepinv.Tomography: mask must be a numeric array, got dtype {m.dtype}")
                if m.shape != tuple(projector.domain_shape):
                    raise ValueError(f"pnpdist.deepinv.Tomography: mask must have the image's shape "
                                     f"{tuple(projector.domain_shape)}, got {m.shape}")
                m = m.astype(projector.dtype)
                if not np.all(np.isfinite(m)):
                    raise ValueError("pnpdist.deepinv.Tomography: mask must be finite")
                self._mask_array = m
            super().__init__(projector, normalize=normalize, **kwargs)
            self.mask = None if self._mask_array is None else torch.from_numpy(self._mask_array)

        def A(self, x, **kwargs):
            return super().A(x if self.mask is None else self._masked(x, "x"), **kwargs)

        def A_adjoint(self, y, **kwargs):
            x = super().A_adjoint(y, **kwargs)
            return x if self.mask is None else x * self.mask

        def A_adjoint_A(self, x, **kwargs):
            if self.mask is None:
                return super().A_adjoint_A(x, **kwargs)
            return super().A_adjoint_A(self._masked(x, "x"), **kwargs) * self.mask

        def _masked(self, x, name):
            check_tensor(x, self.x_pattern, self.op.dtype, name)  # before broadcasting can hide a wrong shape
            return x * self.mask

        def fbp(self, y):
            """pnpdist's FBP (Ram-Lak; FDK for cone beams) of y (B, C, *range), an estimate of x: y is multiplied
            by operator_norm first where normalize=True (A = P / operator_norm), and the result by the mask."""
            op = self.op
            if not hasattr(op, "geometry"):
                raise TypeError("pnpdist.deepinv.Tomography.fbp needs a single projector (it has a geometry)")
            check_tensor(y, self.y_pattern, op.dtype, "y")
            recon = pnpdist.fbp if isinstance(op, pnpdist.JosephProjector2D) else pnpdist.fdk
            ys = (y.detach() * self.operator_norm).contiguous().numpy().reshape((-1,) + tuple(op.range_shape))
            xs = [recon(op.geometry, s) for s in ys]
            out = torch.from_numpy(np.stack(xs)).reshape(tuple(y.shape[:2]) + tuple(op.domain_shape))
            return out if self.mask is None else out * self.mask

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
