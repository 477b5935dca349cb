"""The keys of a runner config and the checks of their values (pnpdist_runner/config.py validates a config with
them): the datasets and the example each runs, the PnP solver keys, the execution grid's columns, and the value
checkers. A key mapped to an example flag is checked by the example's own declaration of the flag
(`<example> --options-json`, options.py); the checkers here are for keys with a meaning of their own.
"""

from __future__ import annotations

import json
import os
import re
from typing import Any, Callable

from . import options
from .options import BadValue as _Bad

# ---------------------------------------------------------------------------------------------------------
# Value checkers: each returns the normalised value or raises _Bad(description of what was expected).


def show(value: Any) -> str:
    if isinstance(value, str):
        return repr(value)
    try:
        return json.dumps(value)
    except (TypeError, ValueError):
        return repr(value)


# Keys without a flag take the same kinds of value as the examples' options: options.check with a declaration
# of their own, so that the wording and the rules (true/false or 0/1, no bool for an integer) are the same.


def integer(minimum: int) -> Callable[[Any], int]:
    return lambda value: options.check({"type": "integer", "minimum": minimum}, value)


def boolean(value: Any) -> bool:
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
        "use_dataset_sinogram": (_without_flag(boolean), None),
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
    "checkpoint_every": (_without_flag(integer(0)), None, True),
}


def check_key(check: KeyCheck, flag: str | None, value: Any, schema: dict[str, dict[str, Any]]) -> Any:
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
TOP_LEVEL_CHECKS: dict[str, Callable[[Any], Any]] = {
    "max-runs": integer(1),
    "slurm_time": _slurm_time,
    "slurm_partition": _string,
    "slurm_account": _string,
    "slurm_cpus_per_task": integer(1),
}


def parse_gres(value: Any) -> tuple[str | None, int]:
    """'cpu' (or 'none'/null): no generic resource; 'gpu:N' or 'gpu:TYPE:N': N GPUs per node."""
    if value is None or value in ("cpu", "none", ""):
        return None, 0
    if isinstance(value, str):
        match = re.fullmatch(r"gpu(?::([A-Za-z0-9_.-]+))?:(\d+)", value)
        if match and int(match.group(2)) > 0:
            return value, int(match.group(2))
    raise _Bad("expected 'cpu', 'gpu:N' or 'gpu:TYPE:N' with N >= 1")


def extent(dims: int) -> Callable[[Any], int | list[int]]:
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
