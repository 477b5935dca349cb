"""plotly.js for the dashboard: a copy installed by a package, found when the dashboard is written and inlined
into the page (nothing is fetched when the page is opened). Looked for, in this order:

  $PNPDIST_PLOTLY_JS                              an explicit file (when set, nothing else is tried)
  <plotly>/package_data/plotly.min.js             PyPI's plotly package, importable by this Python
  /usr/share/python3-plotly/plotly.js             Debian's python3-plotly (scripts/install_dependencies.sh)

No copy found is an error naming the package to install: the page is never written without its plots.
"""

from __future__ import annotations

import importlib.util
import os

ENVIRONMENT = "PNPDIST_PLOTLY_JS"
DEBIAN = "/usr/share/python3-plotly/plotly.js"
INSTALL_HINT = ("install Debian's python3-plotly (apt-get install python3-plotly, as scripts/install_dependencies.sh "
                f"does: it ships {DEBIAN}) or PyPI's plotly for this Python (pip install plotly: "
                f"plotly/package_data/plotly.min.js), or set {ENVIRONMENT} to a plotly.js file")


class PlotlyNotFound(Exception):
    pass


def _pypi() -> str | None:
    """PyPI's plotly/package_data/plotly.min.js, without importing plotly (Debian's plotly has no package_data)."""
    try:
        spec = importlib.util.find_spec("plotly")
    except (ImportError, ValueError):
        return None
    for folder in (spec.submodule_search_locations or []) if spec else []:
        path = os.path.join(folder, "package_data", "plotly.min.js")
        if os.path.isfile(path):
            return path
    return None


def find() -> str:
    """The path of plotly.js; PlotlyNotFound says what to install."""
    explicit = os.environ.get(ENVIRONMENT)
    if explicit:
        if not os.path.isfile(explicit):
            raise PlotlyNotFound(f"{ENVIRONMENT}={explicit}: no such file (it should name a plotly.js file)")
        return explicit
    for path in (_pypi(), DEBIAN):
        if path and os.path.isfile(path):
            return path
    raise PlotlyNotFound(f"plotly.js not found, which the dashboard inlines: {INSTALL_HINT}")


def script() -> str:
    """plotly.js's source, safe inside <script>...</script>."""
    with open(find(), encoding="utf-8") as f:
        return f.read().replace("</script", "<\\/script")
