import csv
import io
import json

import geojson
import shapely.wkt
from shapely.geometry import shape

from corridor.network.export import to_csv, to_geojson


def test_geojson_is_a_valid_feature_collection_with_valid_geometries(network):
    collection = to_geojson(network)
    parsed = geojson.loads(json.dumps(collection))
    assert parsed.is_valid, parsed.errors()
    assert len(parsed["features"]) == len(network.nodes) + len(network.links)
    for feature in collection["features"]:
        geometry = shape(feature["geometry"])
        assert geometry.is_valid, feature["id"]
        assert not geometry.is_empty, feature["id"]
        lon, lat = geometry.coords[0]
        assert -180 <= lon <= 180
        assert -90 <= lat <= 90


def test_geojson_carries_every_attribute(network):
    features = {f["id"]: f for f in to_geojson(network)["features"]}
    kars = features["node/kars"]["properties"]
    assert kars["country"] == "TR"
    assert kars["kind"] == "rail_terminal"
    btk = features["link/kartsakhi-kars"]["properties"]
    assert btk["mode"] == "rail"
    assert btk["gauge_mm"] == 1435
    assert btk["border_crossing"] == "x-kartsakhi"
    assert btk["capacity_year"] == 5_000_000
    assert btk["capacity_source"] == "trend2024-btk"
    ferry = features["link/aktau_port-alat_port"]["properties"]
    assert "asco-aktau-alat-feeder" in ferry["services"].split(";")
    line = shape(features["link/aktau_port-alat_port"]["geometry"])
    # The Caspian crossing starts at Aktau and ends at Alat.
    assert line.coords[0] == (network.nodes["aktau_port"].lon, network.nodes["aktau_port"].lat)


def test_csv_has_a_row_per_feature_with_wkt(network):
    rows = list(csv.DictReader(io.StringIO(to_csv(network))))
    assert len(rows) == len(network.nodes) + len(network.links)
    kinds = {row["feature_type"] for row in rows}
    assert kinds == {"node", "link"}
    for row in rows:
        geometry = shapely.wkt.loads(row["wkt"])
        assert geometry.is_valid
        assert geometry.geom_type == ("Point" if row["feature_type"] == "node" else "LineString")
