"""The web dashboard: static pages served by the API app (map, route planner, shipments).

Third-party front-end code (Leaflet) is installed from npm at build time into ``static/vendor``
by ``python3 dev.py run``/``test``; country outlines are a data file made by
``scripts/build_country_outlines.py`` from Natural Earth (public domain) via the world-atlas package.
"""

from pathlib import Path

STATIC_DIR = Path(__file__).parent / "static"
