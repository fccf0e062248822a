"""Corridor: one shared system for the Middle Corridor (Trans-Caspian International Transport Route).

The package is split by domain (``corridor.network``, and later routing, customs, tracking ...) with a
thin command-line layer in ``corridor.cli``. Domain packages never import the CLI or web layers.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("corridor")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
