"""Loading, validation and expansion of a runner config.

A config has the benchmark's shape:

    dataset:  [ {<dataset name>: {<dataset keys>}} ]
    solver:   [ {PnP: {<solver keys>}} ]
    slurm_gres, slurm_ntasks_per_node, slurm_nodes, distribute_physics, ...: [[row], [row], ...]
    max-runs: 10

Every problem found is reported (all of them, not only the first) as "<file>: <where>: <key>: <problem>".
The expansion is rows x init_method, in that order, capped by max-runs.

Config keys map to the example's flags; the type, bounds and choices of their values come from the example
itself (`<example> --options-json`, options.py), so that this file names the keys but does not repeat the
examples' option declarations. Keys with a meaning of their own here (files that must exist, the list of init
methods, the execution grid) keep their own checks.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
from typing import Any, Callable

import yaml

from . import options
from .options import BadValue as _Bad


class ConfigError(Exception):
    """A config that cannot be run; `messages` lists every problem, each naming the key (and row)."""

    def __init__(self, messages: list[str]):
        self.messages = list(messages)
        super().__init__("\n".join(self.messages))


# ---------------------------------------------------------------------------------------------------------
# Value checkers: each returns the normalised value or raises _Bad(description of what was expected).


def _show(value: Any) -> str:
    if isinstance(value, str):
        return repr(value)
    try:
        return json.dumps(value)
    except (TypeError, ValueError):
        return repr(value)


# Keys without a flag take the same kinds of value as the examples' options: options.check with a declaration
# of their own, so that the wording and the rules (true/false or 0/1, no bool for an integer) are the same.


def _int(minimum: int) -> Callable[[Any], int]:
    return lambda value: options.check({"type": "integer", "minimum": minimum}, value)


def _bool(value: Any) -> bool:
    return options.check({"type": "boolean"}, value)


def _choice(*choices: str) -> Callable[[Any], str]:
    return lambda value: options.check({"type": "choice", "choices": list(choices)}, value)


def _string(value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise _Bad("expected a non-empty string")
    return value


def _step(value: Any, _: dict[str, Any]) -> float | str:
    """A number > 0 or 'auto' (--step takes text: the example reads either)."""
    if value == "auto":
        return "auto"
    try:
        step = options.check({"type": "number", "minimum": 0.0}, value)
    except _Bad:
        step = 0.0
    if step <= 0:
        raise _Bad("expected a number > 0 or 'auto'")
    return step


def _init_methods(value: Any, option: dict[str, Any]) -> list[str]:
    """A list of the example's --init choices (one run each), or one of them."""
    items = [value] if isinstance(value, str) else value
    what = "expected a non-empty list of " + ", ".join(option["choices"])
    if not isinstance(items, list) or not items:
        raise _Bad(what)
    for item in items:
        if item not in option["choices"]:
            raise _Bad(what)
    if len(set(items)) != len(items):
        raise _Bad("expected a list without repeated entries")
    return list(items)


def _slice_axes(value: Any, _: dict[str, Any]) -> str:
    """The letters d, h and w, each at most once, or none: the inflated 3D network (tomography_3d --slice-axes)."""
    if value == "none" or (isinstance(value, str) and value and all(c in "dhw" for c in value)
                           and len(set(value)) == len(value)):
        return value
    raise _Bad("expected the letters d, h and w (depth, height, width), each at most once, e.g. 'dhw', or none "
               "(the 2D weights inflated to 3D)")


def _slurm_time(value: Any) -> str:
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return str(value)  # minutes, as Slurm reads a bare number
    if isinstance(value, str) and re.fullmatch(r"(\d+-)?\d+(:\d{2}){0,2}", value):
        return value
    raise _Bad("expected minutes (an integer) or a time like 01:30:00 or 1-00:00:00")


def _path(value: Any, _: dict[str, Any] | None = None) -> str:
    """A file path, relative paths taken from the current directory; the file must exist."""
    path = os.path.abspath(_string(value))
    if not os.path.isfile(path):
        raise _Bad(f"file not found: {path}")
    return path


def _directory(value: Any, _: dict[str, Any] | None = None) -> str:
    """A directory path, relative paths taken from the current directory; the directory must exist."""
    path = os.path.abspath(_string(value))
    if not os.path.isdir(path):
        raise _Bad(f"directory not found: {path}")
    return path


# A key's check: None = the example's declaration of its flag (options.check); else a function (value, the
# flag's schema entry or None) -> normalised value for what the runner itself gives a meaning to.
KeyCheck = Callable[[Any, Any], Any] | None


def _without_flag(check: Callable[[Any], Any]) -> Callable[[Any, Any], Any]:
    return lambda value, _: check(value)


# Dataset name -> (example program, {key: (check, flag or None)}). Keys left out take the example's defaults
# (the benchmark's full-size values). `img_size` and `image_size` are synonyms.
_COMMON_DATASET_KEYS: dict[str, tuple[KeyCheck, str | None]] = {
    "img_size": (None, "--size"),
    "image_size": (None, "--size"),
    "num_operators": (None, "--operators"),
    "noise_level": (None, "--noise"),
    "seed": (None, "--seed"),
}
DATASETS: dict[str, tuple[str, int, dict[str, tuple[KeyCheck, str | None]]]] = {
    # name: (example, patch dimensions, keys)
    "highres_color_image": ("highres_deblur", 2, {
        **_COMMON_DATASET_KEYS,
        "image": (_path, "--image"),
        # The data fidelity: clipped measurements (the default with fused blurs) or DeepInv's Gaussian one.
        "data_model": (None, "--data-model"),
    }),
    "tomography_2d": ("tomography_2d", 2, {
        **_COMMON_DATASET_KEYS,
        "num_angles": (None, "--angles"),
        # The learned primal-dual training setup (docs/learned.md): geometry, ellipse test phantom, relative noise.
        "geometry": (None, "--geometry"),
        "phantom": (None, "--phantom"),
        "phantom_index": (None, "--phantom-index"),
        "relative_noise": (None, "--relative-noise"),
        "accept_geometry_mismatch": (None, "--accept-geometry-mismatch"),
    }),
    "tomography_3d": ("tomography_3d", 3, {
        **_COMMON_DATASET_KEYS,
        "num_projections": (None, "--projections"),
        "geometry_type": (_without_flag(_choice("conebeam")), None),
        "use_dataset_sinogram": (_without_flag(_bool), None),
        "detector": (None, "--detector"),
        "voxel_size": (None, "--voxel-size"),
        "projections_file": (_path, "--projections-file"),
        "vectors_file": (_path, "--vectors-file"),
        # A raw scan directory (docs/scanner_data.md): read, preprocessed and centred by the example.
        "scan_directory": (_directory, "--dataset"),
        "scan_binning": (None, "--dataset-binning"),
        "centre_of_rotation": (None, "--centre-of-rotation"),
        # The volume prior: the 2D DRUNet on the slices along these axes (d, h, w; docs/drunet.md).
        "slice_axes": (_slice_axes, "--slice-axes"),
    }),
}

# PnP solver keys: (check, flag or None, may be a grid column).
SOLVER_KEYS: dict[str, tuple[KeyCheck, str | None, bool]] = {
    # pnp (the PnP solve) or lpd (learned primal-dual, tomography_2d only: one rank, no tiles).
    "method": (None, "--method", True),
    "algorithm": (None, "--algorithm", True),
    "denoiser": (None, "--denoiser", True),
    "denoiser_sigma": (None, "--sigma", True),
    "step_size": (_step, "--step", True),
    "step_factor": (None, "--step-factor", True),
    "denoiser_lambda_relaxation": (None, "--relaxation", True),
    "denoiser_damping": (None, "--damping", True),
    "sigma_start": (None, "--sigma-start", True),
    "schedule_iterations": (None, "--schedule-iterations", True),
    "data_weight": (None, "--data-weight", True),
    "admm_penalty": (None, "--penalty", True),
    "cg_iterations": (None, "--cg-iterations", True),
    "cg_tolerance": (None, "--cg-tolerance", True),
    "tolerance": (None, "--tolerance", True),
    "residual_tolerance": (None, "--residual-tolerance", True),
    "init_method": (_init_methods, "--init", False),
    "max_iter": (None, "--iterations", True),
    "weights": (_path, "--weights", True),
    "tv_iterations": (None, "--tv-iterations", True),
    "baselines": (None, "--baselines", False),
    "progress_timeout": (None, "--progress-timeout", False),
    "checkpoint_every": (_without_flag(_int(0)), None, True),
}


def _check_key(check: KeyCheck, flag: str | None, value: Any, schema: dict[str, dict[str, Any]]) -> Any:
    """`value` of a key mapped to `flag`, checked by `check` or by the example's declaration of the flag."""
    option = schema.get(flag) if flag else None
    if flag and option is None:
        raise _Bad(f"the example has no option {flag} (a build older than this runner? rebuild it)")
    if check is not None:
        return check(value, option)
    return options.check(option, value)

# The execution grid's columns (slurm_nodes may be left out: 1).
GRID_REQUIRED = ("slurm_gres", "slurm_ntasks_per_node", "distribute_physics", "distribute_denoiser", "patch_size",
                 "overlap", "max_batch_size")
GRID_OPTIONAL_DEFAULTS = {"slurm_nodes": 1}

TOP_LEVEL_KEYS = {
    "dataset": "a list with one {name: {keys}} entry",
    "solver": "a list with one {PnP: {keys}} entry",
    "max-runs": "an integer >= 1",
    "slurm_time": "the Slurm time limit per row (default 01:00:00)",
    "slurm_partition": "a Slurm partition",
    "slurm_account": "a Slurm account",
    "slurm_cpus_per_task": "CPUs per rank on Slurm (default: --cores / slurm_ntasks_per_node)",
}
_TOP_LEVEL_CHECKS: dict[str, Callable[[Any], Any]] = {
    "max-runs": _int(1),
    "slurm_time": _slurm_time,
    "slurm_partition": _string,
    "slurm_account": _string,
    "slurm_cpus_per_task": _int(1),
}


def _gres(value: Any) -> tuple[str | None, int]:
    """'cpu' (or 'none'/null): no generic resource; 'gpu:N' or 'gpu:TYPE:N': N GPUs per node."""
    if value is None or value in ("cpu", "none", ""):
        return None, 0
    if isinstance(value, str):
        match = re.fullmatch(r"gpu(?::([A-Za-z0-9_.-]+))?:(\d+)", value)
        if match and int(match.group(2)) > 0:
            return value, int(match.group(2))
    raise _Bad("expected 'cpu', 'gpu:N' or 'gpu:TYPE:N' with N >= 1")


def _extent(dims: int) -> Callable[[Any], int | list[int]]:
    what = f"expected an integer or a list of {dims} integers"

    def check(value: Any) -> int | list[int]:
        if isinstance(value, int) and not isinstance(value, bool):
            if value < 0:
                raise _Bad(what + " >= 0")
            return value
        if (isinstance(value, list) and len(value) == dims
                and all(isinstance(v, int) and not isinstance(v, bool) for v in value)):
            if any(v < 0 for v in value):
                raise _Bad(what + " >= 0")
            return list(value)
        raise _Bad(what)

    return check


# ---------------------------------------------------------------------------------------------------------
# The validated config and its runs.


@dataclasses.dataclass
class Row:
    """One row of the execution grid (1-based `number`), values normalised."""

    number: int
    columns: dict[str, Any]          # every column of the row, slurm_nodes included
    gres: str | None                 # the --gres value, None for CPU rows
    gpus_per_node: int
    ntasks_per_node: int
    nodes: int

    @property
    def ranks(self) -> int:
        return self.ntasks_per_node * self.nodes


@dataclasses.dataclass
class Run:
    """One program execution: a grid row with one init method."""

    index: int                       # 1-based position in the full expansion (stable under --only/max-runs)
    row: Row
    init_method: str
    solver: dict[str, Any]           # solver keys after the row's overrides
    flags: list[str]                 # example flags, without --threads and --output-dir

    @property
    def name(self) -> str:
        return f"run_{self.index:03d}"


@dataclasses.dataclass
class Config:
    path: str
    stem: str
    dataset_name: str
    example: str
    dataset: dict[str, Any]
    solver: dict[str, Any]
    grid_columns: list[str]
    rows: list[Row]
    max_runs: int | None
    slurm: dict[str, Any]

    def expand(self, max_runs: int | None = None, only_row: int | None = None) -> tuple[list[Run], int]:
        """The runs (rows x init_method; only row `only_row` (1-based) when given; then capped by max_runs or
        the config's max-runs) and their number before the cap. Run names number the full expansion."""
        if only_row is not None and not 1 <= only_row <= len(self.rows):
            raise ConfigError([f"{self.path}: --only {only_row}: the execution grid has rows 1 to {len(self.rows)}"])
        runs: list[Run] = []
        for row in self.rows:
            solver = dict(self.solver)
            for column in self.grid_columns:
                if column in SOLVER_KEYS:
                    solver[column] = row.columns[column]
            for init in solver["init_method"]:
                runs.append(Run(len(runs) + 1, row, init, solver, _flags(self, row, solver, init)))
        if only_row is not None:
            runs = [run for run in runs if run.row.number == only_row]
        total = len(runs)
        cap = max_runs if max_runs is not None else self.max_runs
        if cap is not None:
            runs = runs[:cap]
        return runs, total


def _flag_value(value: Any) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, list):
        return ",".join(str(v) for v in value)
    if isinstance(value, float):
        return repr(value)
    return str(value)


def _flags(config: Config, row: Row, solver: dict[str, Any], init: str) -> list[str]:
    flags: list[str] = []
    keys = DATASETS[config.dataset_name][2]
    for key, value in config.dataset.items():
        flag = keys[key][1]
        if flag is not None:
            flags += [flag, _flag_value(value)]
    for key, value in solver.items():
        flag = SOLVER_KEYS[key][1]
        if key == "init_method":
            flags += ["--init", init]
        elif flag is not None:
            flags += [flag, _flag_value(value)]
    c = row.columns
    flags += ["--distribute-physics", _flag_value(c["distribute_physics"]),
              "--distribute-denoiser", _flag_value(c["distribute_denoiser"]),
              "--patch-size", _flag_value(c["patch_size"]),
              "--overlap", _flag_value(c["overlap"]),
              "--max-batch-size", _flag_value(c["max_batch_size"])]
    return flags


# ---------------------------------------------------------------------------------------------------------
# Loading.


class _UniqueKeyLoader(yaml.SafeLoader):
    """A SafeLoader that refuses repeated keys in a mapping (PyYAML keeps the last one silently)."""


def _construct_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode, deep: bool = False) -> dict:
    seen: set = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(None, None, f"repeated key {key!r}", key_node.start_mark)
        seen.add(key)
    return loader.construct_mapping(node, deep=deep)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


SchemaOf = Callable[[str], dict[str, dict[str, Any]]]


def load_config(path: str, schema_of: SchemaOf) -> Config:
    """Reads and validates `path`; raises ConfigError listing every problem. schema_of(example) gives the example's
    options ({flag: option}, options.load_schema) or raises options.SchemaError."""
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except OSError as e:
        raise ConfigError([f"{path}: cannot read: {e.strerror}"]) from None
    try:
        data = yaml.load(text, Loader=_UniqueKeyLoader)
    except yaml.YAMLError as e:
        raise ConfigError([f"{path}: not valid YAML: {e}"]) from None
    return validate_config(data, path, schema_of)


def _single_entry(value: Any, where: str, errors: list[str]) -> tuple[str, dict] | None:
    """The (name, params) of a `[ {name: {params}} ]` section (a bare {name: {params}} mapping is accepted)."""
    entries = value if isinstance(value, list) else [value]
    if len(entries) != 1 or not isinstance(entries[0], dict) or len(entries[0]) != 1:
        errors.append(f"{where}: expected a list with exactly one entry of the form {{name: {{keys}}}}, "
                      f"got {_show(value)}")
        return None
    (name, params), = entries[0].items()
    if params is None:
        params = {}
    if not isinstance(params, dict):
        errors.append(f"{where}: {name}: expected a mapping of keys, got {_show(params)}")
        return None
    return str(name), params


def _control_character(text: str) -> str | None:
    """The first control character of `text` (C0, DEL, C1, line and paragraph separators) as repr, or None."""
    for c in text:
        if ord(c) < 32 or 127 <= ord(c) < 160 or c in "\u2028\u2029":
            return repr(c)
    return None


def _reject_control_characters(value: Any, where: str, errors: list[str]) -> None:
    """Reports every key or string value under `value` holding a control character: no value of a config may
    hold one (a newline in a Slurm script would start a new shell line)."""
    if isinstance(value, dict):
        for key, item in value.items():
            name = str(key)
            bad = _control_character(name)
            if bad:
                errors.append(f"{where}: key {name!r} contains the control character {bad}, which no key may hold")
                continue
            _reject_control_characters(item, f"{where}: {name}", errors)
    elif isinstance(value, list):
        for item in value:
            _reject_control_characters(item, where, errors)
    elif isinstance(value, str):
        bad = _control_character(value)
        if bad:
            errors.append(f"{where}: {value!r} contains the control character {bad}, which no config value may "
                          "hold")


def validate_config(data: Any, path: str, schema_of: SchemaOf) -> Config:
    errors: list[str] = []
    where = path
    if not isinstance(data, dict):
        raise ConfigError([f"{where}: expected a mapping with dataset, solver and the execution grid, "
                           f"got {_show(data)}"])
    _reject_control_characters(data, where, errors)
    if errors:
        raise ConfigError(errors)

    grid_keys = [k for k in data if isinstance(k, str) and "," in k]
    for key in data:
        if key in TOP_LEVEL_KEYS or key in grid_keys:
            continue
        errors.append(f"{where}: {key}: unknown key (known: {', '.join(TOP_LEVEL_KEYS)} and the execution grid "
                      f"'{', '.join(GRID_REQUIRED)}: [...]')")
    for key in ("dataset", "solver"):
        if key not in data:
            errors.append(f"{where}: {key}: missing")

    top: dict[str, Any] = {}
    for key, check in _TOP_LEVEL_CHECKS.items():
        if key in data:
            try:
                top[key] = check(data[key])
            except _Bad as e:
                errors.append(f"{where}: {key}: {e}, got {_show(data[key])}")

    # Dataset.
    dataset_name, example, dims, dataset = None, None, 2, {}
    schema: dict[str, dict[str, Any]] | None = None
    entry = _single_entry(data["dataset"], f"{where}: dataset", errors) if "dataset" in data else None
    if entry:
        name, params = entry
        if name not in DATASETS:
            errors.append(f"{where}: dataset: {name}: unknown dataset (known: {', '.join(DATASETS)})")
        else:
            dataset_name = name
            example, dims, keys = DATASETS[name]
            try:
                schema = schema_of(example)
            except options.SchemaError as e:
                raise ConfigError(errors + [f"{where}: dataset {name}: the options of {example}: {e}"]) from None
            for key, value in params.items():
                if key not in keys:
                    errors.append(f"{where}: dataset {name}: {key}: unknown key (known: {', '.join(keys)})")
                    continue
                try:
                    dataset[key] = _check_key(*keys[key], value, schema)
                except _Bad as e:
                    errors.append(f"{where}: dataset {name}: {key}: {e}, got {_show(value)}")
            if "img_size" in params and "image_size" in params:
                errors.append(f"{where}: dataset {name}: image_size: given together with its synonym img_size")
            if name == "tomography_3d":
                real = dataset.get("use_dataset_sinogram", False)
                for key in ("projections_file", "vectors_file"):
                    if real and key not in params:
                        errors.append(f"{where}: dataset {name}: {key}: missing (use_dataset_sinogram is true)")
                    if not real and key in params:
                        errors.append(f"{where}: dataset {name}: {key}: given but use_dataset_sinogram is not true")
                if real and "scan_directory" in params:
                    errors.append(f"{where}: dataset {name}: scan_directory: given together with use_dataset_sinogram "
                                  "(a raw scan replaces the projections file)")
                for key in ("scan_binning", "centre_of_rotation"):
                    if key in params and "scan_directory" not in params:
                        errors.append(f"{where}: dataset {name}: {key}: given without scan_directory")

    # Solver (its keys are checked against the example of the dataset; without a dataset they are not checked).
    solver: dict[str, Any] = {}
    entry = _single_entry(data["solver"], f"{where}: solver", errors) if "solver" in data else None
    if entry:
        name, params = entry
        if name != "PnP":
            errors.append(f"{where}: solver: {name}: unknown solver (known: PnP)")
        else:
            for key, value in params.items():
                if key not in SOLVER_KEYS:
                    errors.append(f"{where}: solver PnP: {key}: unknown key (known: {', '.join(SOLVER_KEYS)})")
                    continue
                if schema is None:
                    continue  # no example to check against: the dataset's error is reported
                try:
                    solver[key] = _check_key(*SOLVER_KEYS[key][:2], value, schema)
                except _Bad as e:
                    errors.append(f"{where}: solver PnP: {key}: {e}, got {_show(value)}")
            solver.setdefault("init_method", ["zeros"])

    # Execution grid.
    columns: list[str] = []
    rows: list[Row] = []
    if len(grid_keys) > 1:
        errors.append(f"{where}: more than one execution grid key: " + "; ".join(repr(k) for k in grid_keys))
    elif not grid_keys:
        errors.append(f"{where}: the execution grid is missing: '{', '.join(GRID_REQUIRED)}: [[...], ...]'")
    else:
        key = grid_keys[0]
        columns = [c.strip() for c in key.split(",")]
        column_errors = len(errors)
        for column in columns:
            if columns.count(column) > 1:
                errors.append(f"{where}: execution grid: {column}: column named twice")
                break
        for column in columns:
            if column in GRID_REQUIRED or column in GRID_OPTIONAL_DEFAULTS:
                continue
            if column in SOLVER_KEYS and SOLVER_KEYS[column][2]:
                continue
            grid_solver = [k for k, v in SOLVER_KEYS.items() if v[2]]
            errors.append(f"{where}: execution grid: {column}: unknown column (known: "
                          f"{', '.join(GRID_REQUIRED + tuple(GRID_OPTIONAL_DEFAULTS))} and the solver keys "
                          f"{', '.join(grid_solver)})")
        for column in GRID_REQUIRED:
            if column not in columns:
                errors.append(f"{where}: execution grid: {column}: missing column")
        table = data[key]
        if not isinstance(table, list) or not table:
            errors.append(f"{where}: execution grid: expected a non-empty list of rows, got {_show(table)}")
        elif len(errors) == column_errors and schema is not None:
            for number, values in enumerate(table, start=1):
                row_where = f"{where}: execution grid row {number}"
                row = _validate_row(values, number, columns, dims, schema, row_where, errors)
                if row is None:
                    continue
                rows.append(row)
                operators = dataset.get("num_operators")
                if row.columns["distribute_physics"] and operators is not None and row.ranks > operators:
                    errors.append(f"{row_where}: distribute_physics: {row.ranks} ranks but num_operators is "
                                  f"{operators} (every rank needs at least one operator)")

    if errors:
        raise ConfigError(errors)
    assert dataset_name is not None and example is not None
    config = Config(path=path, stem=os.path.splitext(os.path.basename(path))[0], dataset_name=dataset_name,
                    example=example, dataset=dataset, solver=solver, grid_columns=columns, rows=rows,
                    max_runs=top.get("max-runs"),
                    slurm={k: v for k, v in top.items() if k.startswith("slurm_")})
    return config


def _validate_row(values: Any, number: int, columns: list[str], dims: int, schema: dict[str, dict[str, Any]],
                  where: str, errors: list[str]) -> Row | None:
    if not isinstance(values, list):
        errors.append(f"{where}: expected a list of {len(columns)} values ({', '.join(columns)}), got {_show(values)}")
        return None
    if len(values) != len(columns):
        errors.append(f"{where}: expected {len(columns)} values ({', '.join(columns)}), got {len(values)}: "
                      f"{_show(values)}")
        return None
    checks: dict[str, Callable[[Any], Any]] = {
        "slurm_gres": _gres,
        "slurm_ntasks_per_node": _int(1),
        "slurm_nodes": _int(1),
        "distribute_physics": _bool,
        "distribute_denoiser": _bool,
        "patch_size": _extent(dims),
        "overlap": _extent(dims),
        "max_batch_size": _int(0),
    }
    normalised: dict[str, Any] = dict(GRID_OPTIONAL_DEFAULTS)
    gres: tuple[str | None, int] = (None, 0)
    count = len(errors)
    for column, value in zip(columns, values):
        try:
            result = checks[column](value) if column in checks else _check_key(*SOLVER_KEYS[column][:2], value, schema)
        except _Bad as e:
            errors.append(f"{where}: {column}: {e}, got {_show(value)}")
            continue
        if column == "slurm_gres":
            gres = result
            normalised[column] = value if value is not None else "cpu"
        else:
            normalised[column] = result
    if len(errors) != count:
        return None
    ntasks = normalised["slurm_ntasks_per_node"]
    if gres[0] is not None and gres[1] != ntasks:
        errors.append(f"{where}: slurm_ntasks_per_node: {ntasks} ranks per node but slurm_gres {gres[0]!r} gives "
                      f"{gres[1]} GPUs per node (one rank per GPU)")
    patch, overlap = normalised["patch_size"], normalised["overlap"]
    patches = patch if isinstance(patch, list) else [patch] * dims
    overlaps = overlap if isinstance(overlap, list) else [overlap] * dims
    if normalised["distribute_denoiser"] and not any(p > 0 for p in patches):
        errors.append(f"{where}: distribute_denoiser: true needs tiles: patch_size > 0, got {_show(patch)}")
    if any(p > 0 for p in patches):
        if any(p == 0 for p in patches):
            errors.append(f"{where}: patch_size: {_show(patch)} mixes 0 (whole image) with tile sizes")
        elif any(o > p for o, p in zip(overlaps, patches)):
            errors.append(f"{where}: overlap: {_show(overlap)} exceeds patch_size {_show(patch)}")
    if len(errors) != count:
        return None
    return Row(number=number, columns=normalised, gres=gres[0], gpus_per_node=gres[1], ntasks_per_node=ntasks,
               nodes=normalised["slurm_nodes"])
