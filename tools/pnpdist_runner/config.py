"""Loading, validation and expansion of a runner config.

A config has the benchmark's shape:

    dataset:  [ {<dataset name>: {<dataset keys>}} ]
    solver:   [ {PnP: {<solver keys>}} ]
    slurm_gres, slurm_ntasks_per_node, slurm_nodes, distribute_physics, ...: [[row], [row], ...]
    max-runs: 10

Every problem found is reported (all of them, not only the first) as "<file>: <where>: <key>: <problem>".
The expansion is rows x init_method, in that order, capped by max-runs.

Config keys map to the example's flags; the type, bounds and choices of their values come from the example
itself (`<example> --options-json`, options.py), so that the keys (config_keys.py) do not repeat the examples'
option declarations. Keys with a meaning of their own (files that must exist, the list of init methods, the
execution grid) keep their own checks, in config_keys.py.
"""

from __future__ import annotations

import dataclasses
import os
from typing import Any, Callable

import yaml

from . import options
from .config_keys import (DATASETS, GRID_OPTIONAL_DEFAULTS, GRID_REQUIRED, SOLVER_KEYS, TOP_LEVEL_CHECKS,
                          TOP_LEVEL_KEYS, boolean, check_key, extent, integer, parse_gres, show)
from .options import BadValue as _Bad


class ConfigError(Exception):
    """A config that cannot be run; `messages` lists every problem, each naming the key (and row)."""

    def __init__(self, messages: list[str]):
        self.messages = list(messages)
        super().__init__("\n".join(self.messages))


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
                      f"got {show(value)}")
        return None
    (name, params), = entries[0].items()
    if params is None:
        params = {}
    if not isinstance(params, dict):
        errors.append(f"{where}: {name}: expected a mapping of keys, got {show(params)}")
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
                           f"got {show(data)}"])
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
    for key, check in TOP_LEVEL_CHECKS.items():
        if key in data:
            try:
                top[key] = check(data[key])
            except _Bad as e:
                errors.append(f"{where}: {key}: {e}, got {show(data[key])}")

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
                    dataset[key] = check_key(*keys[key], value, schema)
                except _Bad as e:
                    errors.append(f"{where}: dataset {name}: {key}: {e}, got {show(value)}")
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
                    solver[key] = check_key(*SOLVER_KEYS[key][:2], value, schema)
                except _Bad as e:
                    errors.append(f"{where}: solver PnP: {key}: {e}, got {show(value)}")
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
            errors.append(f"{where}: execution grid: expected a non-empty list of rows, got {show(table)}")
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
        errors.append(f"{where}: expected a list of {len(columns)} values ({', '.join(columns)}), got {show(values)}")
        return None
    if len(values) != len(columns):
        errors.append(f"{where}: expected {len(columns)} values ({', '.join(columns)}), got {len(values)}: "
                      f"{show(values)}")
        return None
    checks: dict[str, Callable[[Any], Any]] = {
        "slurm_gres": parse_gres,
        "slurm_ntasks_per_node": integer(1),
        "slurm_nodes": integer(1),
        "distribute_physics": boolean,
        "distribute_denoiser": boolean,
        "patch_size": extent(dims),
        "overlap": extent(dims),
        "max_batch_size": integer(0),
    }
    normalised: dict[str, Any] = dict(GRID_OPTIONAL_DEFAULTS)
    gres: tuple[str | None, int] = (None, 0)
    count = len(errors)
    for column, value in zip(columns, values):
        try:
            result = checks[column](value) if column in checks else check_key(*SOLVER_KEYS[column][:2], value, schema)
        except _Bad as e:
            errors.append(f"{where}: {column}: {e}, got {show(value)}")
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
        errors.append(f"{where}: distribute_denoiser: true needs tiles: patch_size > 0, got {show(patch)}")
    if any(p > 0 for p in patches):
        if any(p == 0 for p in patches):
            errors.append(f"{where}: patch_size: {show(patch)} mixes 0 (whole image) with tile sizes")
        elif any(o > p for o, p in zip(overlaps, patches)):
            errors.append(f"{where}: overlap: {show(overlap)} exceeds patch_size {show(patch)}")
    if len(errors) != count:
        return None
    return Row(number=number, columns=normalised, gres=gres[0], gpus_per_node=gres[1], ntasks_per_node=ntasks,
               nodes=normalised["slurm_nodes"])
