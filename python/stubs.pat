# Pattern file of nanobind's stub generator (python -m nanobind.stubgen -p): the exception classes of
# src/errors.cpp are created with PyErr_NewException in the package's namespace ('pnpdist.Error'), which the
# generator does not declare on its own; their bases are the same as in errors.cpp.
^_pnpdist\.Error$:
    class Error(RuntimeError): ...
^_pnpdist\.DimensionMismatch$:
    class DimensionMismatch(Error, ValueError): ...
^_pnpdist\.InvalidArgument$:
    class InvalidArgument(Error, ValueError): ...
^_pnpdist\.IoError$:
    class IoError(Error, OSError): ...
^_pnpdist\.NotCompiled$:
    class NotCompiled(Error, NotImplementedError): ...
^_pnpdist\.NumericalError$:
    class NumericalError(Error, ArithmeticError): ...
^_pnpdist\.CudaError$:
    class CudaError(Error, RuntimeError): ...
^_pnpdist\.MpiError$:
    class MpiError(Error, RuntimeError): ...
# The type of array arguments (ArrayLike in the binding signatures, src/arrays.hpp): the arrays take_array accepts,
# numpy arrays and torch tensors (C-contiguous, on the CPU; checked at run time). Stub-only: no runtime name.
# The other stub-only aliases the signatures use: DTypeLike (dtype arguments, src/arrays.hpp: the spellings of
# float32 and float64 that parse_dtype accepts and docs/python.md names; the run-time check stays), PnPAlgorithm
# (pnp's algorithm, src/pnp.cpp) and PnPObserver (pnp's observer: called with the record dict, whose values are
# ints and floats, and a copy of the iterate; its result is ignored, hence object).
^_pnpdist\.__prefix__$:
    \from collections.abc import Callable
    \from typing import Literal, TypeAlias
    \import numpy
    \import torch
    ArrayLike: TypeAlias = numpy.ndarray | torch.Tensor
    DTypeLike: TypeAlias = Literal['float32', 'float64'] | type[numpy.float32] | type[numpy.float64] | numpy.dtype[numpy.float32] | numpy.dtype[numpy.float64]
    PnPAlgorithm: TypeAlias = ProximalGradient | HalfQuadraticSplitting | ADMM
    PnPObserver: TypeAlias = Callable[[dict[str, float], numpy.ndarray], object]
# The MPI extension's world() returns the main extension's Communicator (src/mpi_module.cpp).
^_pnpdist_mpi\.__prefix__$:
    \from ._pnpdist import Communicator
