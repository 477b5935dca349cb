#!/usr/bin/env python3
"""--options-json of the examples (OptionTable::schema, examples/example_options.hpp): the options as data that
the runner checks its configs against (tools/pnpdist_runner/options.py). For every program given:

  - the schema is pnpdist.options/1 and lists exactly the options --help lists, each with a key, a type and a
    default that satisfies its own bounds and choices;
  - the schema tells the truth: a value just outside an integer's or a number's bounds, and a choice that is not
    listed, are refused by the program (exit code 2, the message names the option), before anything runs.

  test_options_json.py <example> [<example> ...]
"""

import json
import re
import subprocess
import sys
import unittest

PROGRAMS: list[str] = []


def run(argv: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run(argv, capture_output=True, text=True, timeout=120)


class OptionsJson(unittest.TestCase):
    def schema(self, program: str) -> dict:
        done = run([program, "--options-json"])
        self.assertEqual(done.returncode, 0, done.stderr)
        return json.loads(done.stdout)

    def test_schema_lists_the_options_of_help_with_consistent_defaults(self):
        for program in PROGRAMS:
            with self.subTest(program=program):
                schema = self.schema(program)
                self.assertEqual(schema["schema"], "pnpdist.options/1")
                flags = [o["flag"] for o in schema["options"]]
                help_text = run([program, "--help"]).stdout
                listed = set(re.findall(r"^  (--[a-z0-9-]+)", help_text, flags=re.M)) - {"--help", "--options-json"}
                self.assertEqual(set(flags), listed)
                self.assertEqual(len(flags), len(set(flags)))
                for o in schema["options"]:
                    self.assertEqual(o["key"], o["flag"][2:].replace("-", "_"))
                    default = o["default"]
                    if o["type"] in ("integer", "number"):
                        self.assertGreaterEqual(default, o["minimum"], o["flag"])
                        self.assertLessEqual(default, o.get("maximum", default), o["flag"])
                    elif o["type"] == "choice":
                        self.assertIn(default, o["choices"], o["flag"])
                    elif o["type"] == "boolean":
                        self.assertIn(default, (True, False), o["flag"])
                    elif o["type"] == "integer_list":
                        values = default if isinstance(default, list) else [default]
                        self.assertIn(len(values), (1, o["length"]), o["flag"])
                    elif o["type"] == "number_list":
                        self.assertIsInstance(default, list, o["flag"])
                        for value in default:
                            self.assertGreaterEqual(value, o["minimum"], o["flag"])
                            self.assertLessEqual(value, o.get("maximum", value), o["flag"])
                    else:
                        self.assertIn(o["type"], ("text", "flag"), o["flag"])

    def test_values_outside_the_declared_bounds_and_choices_are_refused(self):
        for program in PROGRAMS:
            for o in self.schema(program)["options"]:
                bad = []
                if o["type"] == "integer":
                    bad.append(str(o["minimum"] - 1))
                    if "maximum" in o:
                        bad.append(str(o["maximum"] + 1))
                elif o["type"] == "number":
                    bad.append(repr(o["minimum"] - max(1e-3, abs(o["minimum"]) * 1e-3)))
                    if "maximum" in o:
                        bad.append(repr(o["maximum"] + max(1e-3, abs(o["maximum"]) * 1e-3)))
                elif o["type"] == "choice":
                    bad.append("not-a-choice")
                elif o["type"] == "number_list":
                    bad.append("1,not-a-number")
                for value in bad:
                    with self.subTest(program=program, option=o["flag"], value=value):
                        done = run([program, o["flag"], value])
                        self.assertEqual(done.returncode, 2, done.stderr)
                        self.assertIn(o["flag"], done.stderr)


if __name__ == "__main__":
    PROGRAMS[:] = sys.argv[1:]
    if not PROGRAMS:
        sys.exit("usage: test_options_json.py <example> [<example> ...]")
    unittest.main(argv=sys.argv[:1], verbosity=2)
