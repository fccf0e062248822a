# Shortcuts for dev.py, which does the real work (and needs nothing but Python 3.11+).
.PHONY: run test setup network-data
run:
	python3 dev.py run
test:
	python3 dev.py test
setup:
	python3 dev.py setup
# Recompute link distances and geometry from OpenStreetMap and searoute (needs the geodata extra).
network-data:
	python3 -m venv .venv-geodata && .venv-geodata/bin/pip install -q -e '.[geodata]'
	.venv-geodata/bin/python scripts/build_network_geometry.py
