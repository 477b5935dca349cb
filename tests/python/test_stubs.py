"""Type stubs of the extension: _pnpdist.pyi and py.typed beside it in the built package, valid Python, declaring
the bound classes and functions with the signatures docs/python.md documents, array arguments typed ArrayLike
(numpy.ndarray | torch.Tensor) and array results numpy.ndarray, and no C++ or nanobind names."""

import ast
import builtins
import pathlib

import pytest

import pnpdist
import pnpdist._pnpdist as extension

PACKAGE = pathlib.Path(pnpdist.__file__).resolve().parent
STUB = PACKAGE / "_pnpdist.pyi"


@pytest.fixture(scope="module")
def stub():
    assert STUB.is_file(), f"no type stub at {STUB}"
    assert (PACKAGE / "py.typed").is_file(), "no py.typed marker beside the package"
    text = STUB.read_text()
    return text, ast.parse(text, filename=str(STUB))


def top_level(tree):
    classes = {node.name: node for node in tree.body if isinstance(node, ast.ClassDef)}
    functions = {}
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            functions.setdefault(node.name, []).append(node)
    return classes, functions


def parameters(function):
    """[(name, default source or None)] of a def, without self."""
    args = function.args
    names = [a.arg for a in args.args if a.arg != "self"]
    defaults = [None] * (len(args.args) - len(args.defaults)) + [ast.unparse(d) for d in args.defaults]
    defaults = defaults[len(args.args) - len(names):]
    return list(zip(names, defaults))


def annotations(function):
    """{parameter name: annotation source} of a def, and "return" for the result."""
    args = function.args
    result = {a.arg: ast.unparse(a.annotation) for a in args.args + args.kwonlyargs if a.annotation is not None}
    if function.returns is not None:
        result["return"] = ast.unparse(function.returns)
    return result


def every_function(tree):
    """(qualified name, def) of every function and method of the stub."""
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            yield node.name, node
        elif isinstance(node, ast.ClassDef):
            for member in node.body:
                if isinstance(member, ast.FunctionDef):
                    yield f"{node.name}.{member.name}", member


def method(cls, name):
    return next(node for node in cls.body if isinstance(node, ast.FunctionDef) and node.name == name)


def test_stub_declares_every_public_name(stub):
    _, tree = stub
    classes, functions = top_level(tree)
    public = {name for name in dir(extension) if not name.startswith("_")}
    assert public - set(classes) - set(functions) == set()
    for error, bases in {"Error": ["RuntimeError"], "DimensionMismatch": ["Error", "ValueError"],
                         "InvalidArgument": ["Error", "ValueError"], "IoError": ["Error", "OSError"],
                         "NotCompiled": ["Error", "NotImplementedError"]}.items():
        assert [ast.unparse(b) for b in classes[error].bases] == bases
        assert all(issubclass(getattr(pnpdist, error), getattr(builtins, b, None) or getattr(pnpdist, b))
                   for b in bases)
    for operator in ("JosephProjector2D", "JosephProjector3D", "Blur", "StackedOperator", "CircularBlurStack"):
        assert [ast.unparse(b) for b in classes[operator].bases] == ["LinearOperator"]


def test_stub_signatures_are_the_documented_ones(stub):
    _, tree = stub
    classes, functions = top_level(tree)
    constructors = {
        "Executor": [("threads", "0")],
        "JosephProjector2D": [("geometry", None), ("dtype", "'float32'"), ("executor", "None")],
        "JosephProjector3D": [("geometry", None), ("dtype", "'float32'"), ("executor", "None")],
        "Blur": [("psf", None), ("shape", None), ("boundary", "'circular'"), ("method", "'direct'"),
                 ("executor", "None")],
        "StackedOperator": [("operators", None), ("layout", "'concatenate'")],
        "CircularBlurStack": [("psfs", None), ("shape", None), ("measurements", "None"), ("executor", "None")],
        "DRUNet": [("path", None), ("dim", "2"), ("tile", "None"), ("overlap", "32"), ("tile_batch", "0"),
                   ("executor", "None")],
        "DRUNetBackward": [("path", None), ("dtype", "'float32'"), ("executor", "None")],
    }
    for name, expected in constructors.items():
        assert parameters(method(classes[name], "__init__")) == expected, name
    operator = classes["LinearOperator"]
    assert parameters(method(operator, "forward")) == [("x", None), ("out", "None")]
    assert parameters(method(operator, "adjoint")) == [("y", None), ("out", "None")]
    for name in ("forward", "adjoint", "__call__"):
        assert ast.unparse(method(operator, name).returns) == "numpy.ndarray", name
    assert parameters(method(classes["DRUNet"], "denoise")) == [("x", None), ("sigma", None), ("out", "None")]
    leading = {
        "parallel_beam_2d": ["angles", "detector_cols", "image_shape"],
        "fan_beam_2d": ["angles", "detector_cols", "source_origin", "origin_detector", "image_shape"],
        "parallel_beam_3d": ["angles", "detector_shape", "volume_shape"],
        "cone_beam": ["angles", "detector_shape", "source_origin", "origin_detector", "volume_shape"],
        "fbp": ["geometry", "sinogram", "filter"],
        "fdk": ["geometry", "projections", "filter"],
        "sirt": ["operator", "y", "iterations"],
        "cgls": ["operator", "y", "iterations"],
        "pnp": ["operator", "y", "denoiser", "algorithm", "iterations", "x0", "clip"],
        "psnr": ["x", "reference", "data_range"],
        "ssim": ["x", "reference", "data_range"],
        "gaussian_psf": ["sigma", "sigma_2", "angle"],
        "shepp_logan": ["shape", "dtype", "supersampling"],
        "shepp_logan_sinogram": ["geometry"],
        "infer_drunet_config": ["path"],
        "split_views": ["geometry", "parts"],
    }
    for name, names in leading.items():
        for overload in functions[name]:
            assert [n for n, _ in parameters(overload)][:len(names)] == names, name
    returns = {"parallel_beam_2d": "Geometry2D", "cone_beam": "Geometry3D", "psnr": "float", "sirt": "dict"}
    for name, annotation in returns.items():
        assert ast.unparse(functions[name][0].returns) == annotation
    # Docstrings are kept (help() and IDEs show them).
    assert ast.get_docstring(classes["JosephProjector2D"]).startswith("Joseph's projector")


def test_stub_names_no_cpp_or_nanobind_types(stub):
    text, _ = stub
    for fragment in ("std::", "pnpdist::", "nanobind", "nb::", "basic_string", "capsule"):
        assert fragment not in text, fragment


# Parameters that take arrays, wherever they appear.
ARRAY_PARAMETERS = {"x", "y", "z", "out", "psf", "sinogram", "projections", "reference", "vectors", "grad_y", "x0",
                    "truth", "measurements"}


def test_stub_types_arrays(stub):
    _, tree = stub
    classes, functions = top_level(tree)
    # The alias is declared once, at the top, as the union of the array types take_array accepts.
    aliases = {node.target.id: node for node in tree.body
               if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name)}
    assert ast.unparse(aliases["ArrayLike"].annotation) == "TypeAlias"
    assert ast.unparse(aliases["ArrayLike"].value) == "numpy.ndarray | torch.Tensor"
    imported = {alias.name for node in tree.body if isinstance(node, ast.Import) for alias in node.names}
    assert {"numpy", "torch"} <= imported
    # Representative signatures, exactly.
    operator = classes["LinearOperator"]
    assert annotations(method(operator, "forward")) == {"x": "ArrayLike", "out": "ArrayLike | None",
                                                        "return": "numpy.ndarray"}
    assert annotations(method(operator, "adjoint")) == {"y": "ArrayLike", "out": "ArrayLike | None",
                                                        "return": "numpy.ndarray"}
    assert annotations(method(classes["Blur"], "__init__"))["psf"] == "ArrayLike"
    stack = classes["CircularBlurStack"]
    assert annotations(method(stack, "__init__"))["psfs"] == "Sequence[ArrayLike]"
    assert annotations(method(stack, "proximal"))["return"] == "numpy.ndarray"
    denoise = annotations(method(classes["DRUNet"], "denoise"))
    assert (denoise["x"], denoise["out"], denoise["return"]) == ("ArrayLike", "ArrayLike | None", "numpy.ndarray")
    assert annotations(method(classes["DRUNetBackward"], "backward"))["grad_y"] == "ArrayLike"
    for metric in ("psnr", "ssim"):
        assert annotations(functions[metric][0]) == {"x": "ArrayLike", "reference": "ArrayLike",
                                                     "data_range": "float", "executor": "object | None",
                                                     "return": "float"}, metric
    assert annotations(functions["fbp"][0])["sinogram"] == "ArrayLike"
    assert annotations(functions["pnp"][0])["x0"] == "ArrayLike | None"
    for name in ("fbp", "fdk", "gaussian_psf", "shepp_logan", "shepp_logan_sinogram"):
        for overload in functions[name]:
            assert annotations(overload)["return"] == "numpy.ndarray", name
    assert annotations(method(classes["Geometry2D"], "vectors"))["return"] == "numpy.ndarray"
    for name in ("parallel_beam_2d", "fan_beam_2d", "parallel_beam_3d", "cone_beam"):
        assert annotations(functions[name][0])["angles"] == "numpy.ndarray | Sequence[float]", name
    # No array parameter anywhere is left untyped (object).
    untyped = [(name, parameter) for name, function in every_function(tree)
               for parameter, annotation in annotations(function).items()
               if parameter in ARRAY_PARAMETERS and "object" in annotation]
    assert untyped == []
