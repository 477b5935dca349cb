"""Array exchange and errors: zero-copy in/out, the documented TypeError / ValueError for wrong arrays, and
library errors as pnpdist.Error subclasses without C++ source paths."""

import numpy as np
import pytest

import pnpdist
from conftest import parallel_geometry


@pytest.fixture
def projector():
    return pnpdist.JosephProjector2D(parallel_geometry(16, 8, 20))


def test_shapes_and_dtype(projector):
    assert projector.domain_shape == (16, 16)
    assert projector.range_shape == (8, 20)
    assert projector.dtype == np.float32
    y = projector.forward(np.ones((16, 16), np.float32))
    assert y.shape == (8, 20) and y.dtype == np.float32 and y.flags.c_contiguous


def test_out_is_written_in_place(projector):
    x = np.ones((16, 16), np.float32)
    out = np.full((8, 20), np.nan, np.float32)
    result = projector.forward(x, out=out)
    assert result is out
    assert np.array_equal(out, projector.forward(x))


def test_new_arrays_own_their_memory(projector):
    y = projector.forward(np.ones((16, 16), np.float32))
    assert not y.flags.owndata and y.base is not None  # a view of the library's tensor, kept alive by the array
    del projector
    assert np.isfinite(y).all()


def test_wrong_shape_names_argument_and_expected_shape(projector):
    with pytest.raises(ValueError, match=r"x must have shape \(16, 16\).*got \(16, 15\)"):
        projector.forward(np.zeros((16, 15), np.float32))
    with pytest.raises(ValueError, match=r"y must have shape \(8, 20\)"):
        projector.adjoint(np.zeros((20, 8), np.float32))
    with pytest.raises(ValueError, match=r"out must have shape \(8, 20\)"):
        projector.forward(np.zeros((16, 16), np.float32), out=np.zeros((8, 19), np.float32))


def test_wrong_dtype_is_not_converted(projector):
    with pytest.raises(TypeError, match="x must have dtype float32, got float64"):
        projector.forward(np.zeros((16, 16)))
    with pytest.raises(TypeError, match="x must have dtype float32, got int64"):
        projector.forward(np.zeros((16, 16), np.int64))
    with pytest.raises(TypeError, match="out must have dtype float32"):
        projector.forward(np.zeros((16, 16), np.float32), out=np.zeros((8, 20)))


def test_non_arrays_and_non_contiguous_arrays(projector):
    with pytest.raises(TypeError, match="x must be an array"):
        projector.forward([[0.0] * 16] * 16)
    with pytest.raises(ValueError, match="x must be C-contiguous"):
        projector.forward(np.zeros((16, 16), np.float32).T)
    with pytest.raises(ValueError, match="x must be C-contiguous"):
        projector.forward(np.zeros((16, 32), np.float32)[:, ::2])


def test_read_only_and_overlapping_outputs(projector):
    out = np.zeros((8, 20), np.float32)
    out.flags.writeable = False
    with pytest.raises(ValueError, match="out is read-only"):
        projector.forward(np.zeros((16, 16), np.float32), out=out)
    x = np.zeros((16, 16), np.float32)
    x.flags.writeable = False  # read-only inputs are fine
    projector.forward(x)
    blur = pnpdist.Blur(np.ones((3, 3), np.float32) / 9, (8, 8))
    z = np.zeros((8, 8), np.float32)
    with pytest.raises(ValueError, match="overlap"):
        blur.forward(z, out=z)


def test_library_errors_are_mapped():
    assert issubclass(pnpdist.DimensionMismatch, pnpdist.Error)
    assert issubclass(pnpdist.DimensionMismatch, ValueError)
    assert issubclass(pnpdist.IoError, OSError)
    with pytest.raises(pnpdist.InvalidArgument) as info:
        pnpdist.parallel_beam_2d([0.0], 0, (8, 8))
    assert "detector_cols must be >= 1" in str(info.value)
    assert ".hpp" not in str(info.value)
    with pytest.raises(pnpdist.IoError) as info:
        pnpdist.DRUNet("/nonexistent/weights.safetensors")
    assert ".hpp" not in str(info.value)
    with pytest.raises(pnpdist.DimensionMismatch):
        pnpdist.Blur(np.ones((9, 9), np.float32), (8, 8))


def test_executor():
    e = pnpdist.Executor(threads=1)
    assert e.threads == 1 and e.concurrency == 1 and e.name in ("openmp", "serial")
    op = pnpdist.JosephProjector2D(parallel_geometry(16, 8, 20), executor=e)
    assert op.threads == 1
    x = np.random.default_rng(1).standard_normal((16, 16)).astype(np.float32)
    two = pnpdist.JosephProjector2D(parallel_geometry(16, 8, 20), executor=pnpdist.Executor(2))
    assert np.array_equal(op.forward(x), two.forward(x))  # deterministic for any thread count
    with pytest.raises(ValueError):
        pnpdist.Executor(-1)
