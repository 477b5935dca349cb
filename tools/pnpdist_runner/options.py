"""The examples' options as data: what an example prints for --options-json (schema pnpdist.options/1, written by
OptionTable::schema in examples/example_options.hpp), and the checks of config values derived from it.

The runner maps its config keys to example flags (config.py); the type, bounds and choices of every value come
from here, so the runner does not repeat what the examples already declare.
"""

from __future__ import annotations

import json
import math
import re
import subprocess
from typing import Any, Callable

SCHEMA = "pnpdist.options/1"


class BadValue(Exception):
    """A value that does not fit: the message says what was expected."""


class SchemaError(Exception):
    """The example's option schema could not be read."""


def load_schema(exe: str) -> dict[str, dict[str, Any]]:
    """{flag: option} from `exe --options-json`; raises SchemaError naming the program and the problem."""
    try:
        done = subprocess.run([exe, "--options-json"], capture_output=True, text=True, timeout=60, check=False)
    except OSError as e:
        raise SchemaError(f"cannot run {exe} --options-json: {e.strerror or e}") from None
    except subprocess.TimeoutExpired:
        raise SchemaError(f"{exe} --options-json did not answer within 60 s") from None
    if done.returncode != 0:
        detail = done.stderr.strip().splitlines()[-1] if done.stderr.strip() else f"exit code {done.returncode}"
        raise SchemaError(f"{exe} --options-json failed: {detail}")
    try:
        data = json.loads(done.stdout)
    except json.JSONDecodeError as e:
        raise SchemaError(f"{exe} --options-json: not JSON ({e})") from None
    if not isinstance(data, dict) or data.get("schema") != SCHEMA or not isinstance(data.get("options"), list):
        raise SchemaError(f"{exe} --options-json: expected schema {SCHEMA} with a list of options")
    return {option["flag"]: option for option in data["options"]}


def _bounds(option: dict[str, Any]) -> str:
    low, high = option.get("minimum"), option.get("maximum")
    if high is None:
        return f">= {low:g}" if isinstance(low, float) else f">= {low}"
    return f"in [{low:g}, {high:g}]" if isinstance(low, float) else f"in [{low}, {high}]"


def _integer(option: dict[str, Any], value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise BadValue(f"expected an integer {_bounds(option)}")
    if value < option.get("minimum", value) or value > option.get("maximum", value):
        raise BadValue(f"expected an integer {_bounds(option)}")
    return value


def _number(option: dict[str, Any], value: Any) -> float:
    # YAML 1.1 reads 1e-2 (no dot) as a string: take scientific notation written that way as the number.
    if isinstance(value, str) and re.fullmatch(r"[-+]?(\d+\.?\d*|\.\d+)[eE][-+]?\d+", value):
        value = float(value)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise BadValue(f"expected a number {_bounds(option)}")
    if value < option.get("minimum", value) or value > option.get("maximum", value):
        raise BadValue(f"expected a number {_bounds(option)}")
    return float(value)


def _choice(option: dict[str, Any], value: Any) -> str:
    if not isinstance(value, str) or value not in option["choices"]:
        raise BadValue("expected one of " + ", ".join(option["choices"]))
    return value


def _boolean(_: dict[str, Any], value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    raise BadValue("expected true or false")


def _integer_list(option: dict[str, Any], value: Any) -> int | list[int]:
    length = option["length"]
    what = f"expected an integer or a list of {length} integers >= {option.get('minimum', 0)}"
    values = value if isinstance(value, list) else [value]
    if len(values) not in (1, length) or any(isinstance(v, bool) or not isinstance(v, int) for v in values):
        raise BadValue(what)
    if any(v < option.get("minimum", 0) for v in values):
        raise BadValue(what)
    return list(values) if isinstance(value, list) else value


def _text(_: dict[str, Any], value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, (str, int, float)) or value == "":
        raise BadValue("expected a non-empty value")
    return value


_CHECKS: dict[str, Callable[[dict[str, Any], Any], Any]] = {
    "integer": _integer, "number": _number, "choice": _choice, "boolean": _boolean, "integer_list": _integer_list,
    "text": _text,
}


def check(option: dict[str, Any], value: Any) -> Any:
    """`value` normalised for `option` (an entry of the schema); raises BadValue saying what was expected."""
    kind = option.get("type")
    if kind not in _CHECKS:
        raise BadValue(f"the example's option {option.get('flag')} takes no value from a config (type {kind})")
    return _CHECKS[kind](option, value)
