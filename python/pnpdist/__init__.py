"""pnpdist from Python: 2D and 3D CT projectors, blurs, the DRUNet denoiser, FBP / SIRT / CGLS, PnP, learned
primal-dual, metrics and phantoms of the C++ library, on numpy arrays and CPU torch tensors without copies.

Arrays are passed as they are: C-contiguous, on the CPU, of the dtype and shape the callee states. Anything
else raises TypeError (not an array, wrong device or dtype) or ValueError (wrong shape, not contiguous,
read-only output), naming the argument and what it must be; nothing is converted or copied implicitly.
Errors of the library itself are pnpdist.Error subclasses (DimensionMismatch and InvalidArgument are also
ValueErrors, IoError an OSError, NotCompiled a NotImplementedError).

PyTorch autograd functions of the linear operators are in pnpdist.torch (imported on demand); 2D and 3D geometries
from ASTRA Toolbox dicts come from geometry_from_astra (pnpdist.astra).
"""

from ._pnpdist import (
    __version__,
    # errors
    Error,
    DimensionMismatch,
    InvalidArgument,
    IoError,
    NotCompiled,
    NumericalError,
    CudaError,
    MpiError,
    # executors
    Executor,
    set_num_threads,
    get_num_threads,
    default_executor,
    # operators
    LinearOperator,
    Geometry2D,
    parallel_beam_2d,
    fan_beam_2d,
    JosephProjector2D,
    Geometry3D,
    parallel_beam_3d,
    cone_beam,
    JosephProjector3D,
    gaussian_psf,
    Blur,
    CircularBlurStack,
    StackedOperator,
    split_views,
    # reconstruction
    fbp,
    fdk,
    sirt,
    cgls,
    # Plug-and-Play
    pnp,
    ProximalGradient,
    HalfQuadraticSplitting,
    ADMM,
    # denoiser
    DRUNet,
    DRUNetBackward,
    DRUNetTape,
    infer_drunet_config,
    # learned reconstruction
    LearnedPrimalDual,
    ellipse_geometry,
    ellipse_phantom,
    # metrics and phantoms
    psnr,
    ssim,
    shepp_logan,
    shepp_logan_sinogram,
)
from .astra import geometry_from_astra

__all__ = [name for name in dir() if not name.startswith("_")]
