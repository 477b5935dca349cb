"""Type stubs of the extension: _pnpdist.pyi and py.typed beside it in the built package, valid Python, declaring
the bound classes and functions with the signatures docs/python.md documents, array arguments typed ArrayLike
(numpy.ndarray | torch.Tensor) and array results numpy.ndarray, dtypes, executors, PnP algorithms and observers
by their own types, the string options as Literals of exactly the values the bindings accept, and no C++ or
nanobind names. Where mypy can be imported, it type-checks a usage example
against the stub: the right calls pass and each wrong one is reported on its line."""

import ast
import builtins
import pathlib
import re
import textwrap

import numpy as np
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
    assert parameters(method(operator, "normal")) == [("x", None), ("out", "None")]
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
    assert annotations(method(operator, "normal")) == {"x": "ArrayLike", "out": "ArrayLike | None",
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
                                                     "data_range": "float", "executor": "Executor | None",
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


def test_stub_types_options(stub):
    """dtype, executor, the PnP algorithm and observer and the stacked operators have their own types, and no
    parameter or result anywhere is typed object."""
    _, tree = stub
    classes, functions = top_level(tree)
    aliases = {node.target.id: ast.unparse(node.value) for node in tree.body
               if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name)}
    assert aliases["DTypeLike"] == ("Literal['float32', 'float64'] | type[numpy.float32] | type[numpy.float64] | "
                                    "numpy.dtype[numpy.float32] | numpy.dtype[numpy.float64]")
    assert aliases["PnPAlgorithm"] == "ProximalGradient | HalfQuadraticSplitting | ADMM"
    assert aliases["PnPObserver"] == "Callable[[dict[str, float], numpy.ndarray], object]"
    for name in ("JosephProjector2D", "JosephProjector3D", "DRUNetBackward"):
        init = annotations(method(classes[name], "__init__"))
        assert (init["dtype"], init["executor"]) == ("DTypeLike", "Executor | None"), name
    for name in ("gaussian_psf", "shepp_logan"):
        for overload in functions[name]:
            assert annotations(overload)["dtype"] == "DTypeLike", name
    pnp = annotations(functions["pnp"][0])
    assert (pnp["algorithm"], pnp["observer"]) == ("PnPAlgorithm", "PnPObserver | None")
    assert (pnp["checkpoint"], pnp["checkpoint_every"]) == ("str | os.PathLike | None", "int")
    assert parameters(functions["pnp"][0])[-2:] == [("checkpoint", "None"), ("checkpoint_every", "0")]
    assert annotations(method(classes["StackedOperator"], "__init__"))["operators"] == "Sequence[LinearOperator]"
    assert annotations(method(classes["LinearOperator"], "dtype"))["return"] == "numpy.dtype"
    untyped = [(name, parameter) for name, function in every_function(tree)
               for parameter, annotation in annotations(function).items() if "object" in annotation.split("[")[0]]
    assert untyped == []


# The string options: (function in the stub, parameter) -> a call of the binding with that value, and the
# read-only property (class.name) giving the value back where there is one. Each is a Literal in the stub.
def option_calls():
    angles = [0.0, 1.0, 2.0]
    g2 = {"parallel": pnpdist.parallel_beam_2d(angles, 6, (4, 4)),
          "fan": pnpdist.fan_beam_2d(angles, 8, 16.0, 8.0, (4, 4))}
    g3 = {"parallel": pnpdist.parallel_beam_3d(angles, (4, 4), (4, 4, 4)),
          "cone": pnpdist.cone_beam(angles, (4, 4), 16.0, 8.0, (4, 4, 4))}
    psf = np.ones((3, 3), np.float32) / 9
    a = pnpdist.JosephProjector2D(g2["parallel"])
    return {
        ("Blur.__init__", "boundary"): (lambda v: pnpdist.Blur(psf, (8, 8), boundary=v), "Blur.boundary"),
        ("Blur.__init__", "method"): (lambda v: pnpdist.Blur(psf, (8, 8), method=v), "Blur.method"),
        ("fbp", "filter"): (lambda v: pnpdist.fbp(g2["parallel"], np.ones((3, 6), np.float32), filter=v), None),
        ("fdk", "filter"): (lambda v: pnpdist.fdk(g3["cone"], np.ones((3, 4, 4), np.float32), filter=v), None),
        ("Geometry2D.from_vectors", "beam"): (
            lambda v: pnpdist.Geometry2D.from_vectors(v, g2.get(v, g2["parallel"]).vectors, 8, (4, 4)),
            "Geometry2D.beam"),
        ("Geometry3D.from_vectors", "beam"): (
            lambda v: pnpdist.Geometry3D.from_vectors(v, g3.get(v, g3["parallel"]).vectors, (4, 4), (4, 4, 4)),
            "Geometry3D.beam"),
        ("StackedOperator.__init__", "layout"): (lambda v: pnpdist.StackedOperator([a, a], layout=v),
                                                 "StackedOperator.layout"),
        ("ellipse_geometry", "beam"): (lambda v: pnpdist.ellipse_geometry(8, 3, beam=v), None),
        ("ellipse_phantom", "split"): (lambda v: pnpdist.ellipse_phantom(0, split=v, size=8), None),
    }


def literal_values(annotation):
    """The values of a Literal[...] annotation (source text), or None for any other annotation."""
    node = ast.parse(annotation, mode="eval").body
    if not (isinstance(node, ast.Subscript) and ast.unparse(node.value) == "Literal"):
        return None
    items = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
    assert all(isinstance(item, ast.Constant) and isinstance(item.value, str) for item in items), annotation
    return [item.value for item in items]


def test_string_options_are_literals_of_exactly_the_accepted_values(stub):
    """Each string option is typed Literal[...] in the stub, and its values are the ones the binding accepts:
    each listed value runs (and a property gives it back), and any other raises ValueError whose message names
    the accepted values, which must be the listed ones in the same order."""
    _, tree = stub
    literals, results = {}, {}
    for name, function in every_function(tree):
        for parameter, annotation in annotations(function).items():
            values = literal_values(annotation)
            if values is None:
                continue
            if parameter == "return":
                results[name] = values
            else:
                assert literals.setdefault((name, parameter), values) == values, (name, parameter)
    calls = option_calls()
    assert set(literals) == set(calls)
    # No string option is left a plain str.
    plain = [(name, parameter) for name, function in every_function(tree)
             for parameter, annotation in annotations(function).items()
             if parameter in {"boundary", "method", "filter", "beam", "layout"} and annotation == "str"]
    assert plain == []
    for (name, parameter), (call, prop) in calls.items():
        values = literals[(name, parameter)]
        if prop is not None:
            assert results[prop] == values, prop
        for value in values:
            made = call(value)
            if prop is not None:
                assert getattr(made, prop.split(".")[1]) == value, (prop, value)
        with pytest.raises(ValueError) as refused:
            call("no_such_option")
        message = str(refused.value)
        assert message.startswith(f"{parameter} must be "), message
        assert message.endswith(", got 'no_such_option'"), message
        named = re.findall(r"'([^']*)'", message[:message.index(", got ")])
        assert named == values, (name, parameter, message)


# A usage example for mypy: every call of GOOD is right, every line of BAD has one wrong argument, which the
# bindings also refuse at run time (TypeError). The stub is narrower than the run-time check in one respect: dtype
# spellings other than the ones DTypeLike lists ('f4', 'double', float) run but are not in the stub.
GOOD = """
    from typing import Any
    import numpy as np
    import pnpdist

    g = pnpdist.parallel_beam_2d(np.linspace(0.0, 3.0, 8), 24, (16, 16))
    A = pnpdist.JosephProjector2D(g, dtype="float64", executor=pnpdist.Executor(threads=2))
    B = pnpdist.JosephProjector2D(g, np.float32)
    C = pnpdist.JosephProjector2D(g, dtype=A.dtype, executor=None)
    D = pnpdist.JosephProjector2D(g, dtype=np.dtype(np.float64))
    psf = pnpdist.gaussian_psf(1.0, dtype="float64")
    x = pnpdist.shepp_logan((16, 16), dtype=np.float32)
    stack = pnpdist.StackedOperator([A, C, D], layout="concatenate")
    net = pnpdist.DRUNet("drunet_gray.safetensors", executor=pnpdist.default_executor())
    y = B(x)

    def observer(record: dict[str, float], iterate: np.ndarray) -> None:
        print(record["psnr"], iterate.shape)

    def stop_flag(record: dict[str, Any], iterate: np.ndarray) -> bool:
        return record["iteration"] > 3

    pnpdist.pnp(B, y, net, pnpdist.ADMM(), observer=observer)
    pnpdist.pnp(B, y, net, pnpdist.ProximalGradient(), observer=stop_flag)
    pnpdist.pnp(B, y, net, pnpdist.HalfQuadraticSplitting(), observer=lambda record, iterate: None)
    pnpdist.pnp(B, y, net, pnpdist.ADMM(), checkpoint="run.ckpt", checkpoint_every=5)
    pnpdist.psnr(x, x, executor=pnpdist.Executor())
    blur = pnpdist.Blur(psf, (16, 16), boundary="same", method="direct")
    x_fbp = pnpdist.fbp(g, y, filter="hann")
    fan = pnpdist.Geometry2D.from_vectors("fan", g.vectors, 24, (16, 16))
    flat = pnpdist.StackedOperator([A, C], layout="flat")
    boundary: str = blur.boundary
"""
BAD = [
    'pnpdist.JosephProjector2D(g, dtype="float16")',
    "pnpdist.JosephProjector2D(g, dtype=np.int32)",
    "pnpdist.JosephProjector2D(g, executor=4)",
    "pnpdist.shepp_logan((16, 16), executor=pnpdist.Executor)",
    'pnpdist.gaussian_psf(1.0, dtype="float16")',
    'pnpdist.pnp(B, y, net, "admm")',
    "pnpdist.pnp(B, y, net, pnpdist.ADMM, observer=observer)",
    "pnpdist.pnp(B, y, net, pnpdist.ADMM(), observer=lambda record: None)",
    "pnpdist.pnp(B, y, net, pnpdist.ADMM(), observer=print_nothing)",
    "pnpdist.pnp(B, y, net, pnpdist.ADMM(), checkpoint=5, checkpoint_every=1)",
    "pnpdist.StackedOperator([A, g])",
]
# Wrong values of string options (Literal types in the stub): refused at run time with ValueError.
BAD_VALUES = [
    'pnpdist.Blur(psf, (16, 16), boundary="wrap")',
    'pnpdist.Blur(psf, (16, 16), method="FFT")',
    'pnpdist.fbp(g, y, filter="ramp")',
    'pnpdist.Geometry2D.from_vectors("cone", g.vectors, 24, (16, 16))',
    'pnpdist.StackedOperator([A, C], layout="concat")',
]


def test_mypy_accepts_the_right_types_and_reports_wrong_ones(tmp_path, monkeypatch):
    api = pytest.importorskip("mypy.api", reason="mypy is not installed (the stub is checked without it above)")
    lines = textwrap.dedent(GOOD).splitlines()
    lines += ["def print_nothing() -> None: ...", ""]
    first_bad = len(lines) + 1
    lines += BAD + BAD_VALUES
    (tmp_path / "usage.py").write_text("\n".join(lines) + "\n")
    # mypy reads the package from the directory that holds it (PYTHONPATH is not its search path); torch is not
    # analysed (torch.Tensor is then Any), which keeps the check to a few seconds.
    (tmp_path / "mypy.ini").write_text("[mypy]\nfollow_imports = silent\n[mypy-torch.*]\nfollow_imports = skip\n")
    monkeypatch.setenv("MYPYPATH", str(PACKAGE.parent))
    stdout, stderr, status = api.run(["--config-file", str(tmp_path / "mypy.ini"), "--cache-dir",
                                      str(tmp_path / "cache"), "--no-error-summary", "--hide-error-context",
                                      str(tmp_path / "usage.py")])
    assert stderr == ""
    reported = {}
    for line in stdout.splitlines():
        path, number, kind, message = line.split(":", 3)
        if kind.strip() == "error":
            reported.setdefault(int(number), []).append(message.strip())
    wrong = {first_bad + i: call for i, call in enumerate(BAD + BAD_VALUES)}
    assert {n: m for n, m in reported.items() if n not in wrong} == {}, "right calls reported"
    assert [call for n, call in wrong.items() if n not in reported] == [], "wrong calls not reported"
    assert status == 1


def test_the_wrong_calls_fail_at_run_time():
    """Each call BAD and BAD_VALUES report is also refused by the bindings: the stub rejects no call that runs."""
    from conftest import WEIGHTS

    g = pnpdist.parallel_beam_2d(np.linspace(0.0, 3.0, 8), 24, (16, 16))
    namespace = {"pnpdist": pnpdist, "np": np, "g": g, "A": pnpdist.JosephProjector2D(g, "float64"),
                 "B": pnpdist.JosephProjector2D(g), "net": pnpdist.DRUNet(str(WEIGHTS / "drunet_gray.safetensors")),
                 "observer": lambda record, iterate: None, "print_nothing": lambda: None}
    namespace["y"] = namespace["B"](pnpdist.shepp_logan((16, 16)))
    namespace.update(C=namespace["A"], psf=pnpdist.gaussian_psf(1.0, dtype="float64"))
    for call in BAD:
        with pytest.raises(TypeError):
            eval(call, namespace)
    for call in BAD_VALUES:
        with pytest.raises(ValueError, match="must be '"):
            eval(call, namespace)
    with pytest.raises(TypeError, match="executor must be a pnpdist.Executor or None, got int"):
        pnpdist.JosephProjector2D(g, executor=4)


def test_mpi_stub_declares_every_name_pnpdist_mpi_imports():
    """pnpdist/mpi.py imports private functions of _pnpdist_mpi; its stub must declare them (and the public ones), so
    that a type checker resolves the package's own import. Only where the MPI extension is built."""
    stub_file = PACKAGE / "_pnpdist_mpi.pyi"
    if not stub_file.is_file():
        pytest.skip("pnpdist built without its MPI component: no _pnpdist_mpi.pyi")
    tree = ast.parse(stub_file.read_text(), filename=str(stub_file))
    declared = {node.name for node in tree.body if isinstance(node, (ast.FunctionDef, ast.ClassDef))}
    declared |= {node.target.id for node in tree.body if isinstance(node, ast.AnnAssign)}
    source = ast.parse((PACKAGE / "mpi.py").read_text())
    imported = {alias.name for node in ast.walk(source)
                if isinstance(node, ast.ImportFrom) and node.module == "_pnpdist_mpi" and node.level == 1
                for alias in node.names}
    assert {"_duplicate", "_world_handle", "world"} <= imported
    assert imported <= declared, f"_pnpdist_mpi.pyi lacks {sorted(imported - declared)}"
