import pytest

from corridor.simulation.results import diff, rank_bottlenecks, summarise, weighted_quantile


def test_weighted_quantile_by_hand():
    # values 1, 2, 10 with weights 1, 1, 2: half the weight is reached at 2, 90 % at 10
    assert weighted_quantile([10, 1, 2], [2, 1, 1], 0.5) == 2
    assert weighted_quantile([10, 1, 2], [2, 1, 1], 0.9) == 10
    assert weighted_quantile([10, 1, 2], [2, 1, 1], 0.1) == 1


def _result(util, delivered, p50):
    res = [
        {
            "resource": "vessels:a",
            "kind": "vessels",
            "id": "a",
            "servers": 1,
            "served": 3,
            "tonnes": 900.0,
            "utilisation": util,
            "mean_wait_h": 1.0,
        }
    ]
    return {
        "scenario": "s",
        "horizon_days": 10.0,
        "events": 100,
        "volume": {
            "demand_t": 1000.0,
            "delivered_t": delivered,
            "container_trains": 1.0,
            "wagon_trains": 1.0,
            "teu": 1.0,
            "wagons": 1.0,
            "trucks": 1.0,
            "waiting_end_t": 0.0,
        },
        "od": [
            {
                "flow": "f",
                "origin": "a",
                "destination": "b",
                "cargo": "wagon",
                "lots": 1,
                "delivered_t": delivered,
                "p10_d": 1.0,
                "p50_d": p50,
                "p90_d": 3.0,
            }
        ],
        "ports": [],
        "links": [],
        "resources": res,
        "bottlenecks": rank_bottlenecks(res),
        "stock": {"days": [1.0], "ports": {"p": [5.0]}},
    }


def test_bottleneck_capacity_and_headroom():
    b = rank_bottlenecks(_result(0.9, 900.0, 2.0)["resources"])[0]
    assert b["capacity_t"] == pytest.approx(1000.0)
    assert b["headroom"] == pytest.approx(1 / 0.9 - 1, abs=1e-4)


def test_summary_means_and_confidence_interval():
    s = summarise([_result(0.8, 800.0, 2.0), _result(0.9, 1000.0, 4.0)], [1, 2])
    assert s["replications"] == 2
    assert s["volume"]["delivered_t"] == 900.0
    # sd of (800, 1000) = 141.42; 1.96 * sd / sqrt(2) = 196.0
    assert s["volume"]["delivered_t_ci"] == pytest.approx(196.0, abs=0.01)
    assert s["od"][0]["p50_d"] == 3.0
    assert s["resources"][0]["utilisation"] == pytest.approx(0.85)
    assert s["events"] == 200
    one = summarise([_result(0.8, 800.0, 2.0)], [1])
    assert one["volume"]["delivered_t_ci"] is None


def test_diff_sets_two_summaries_side_by_side():
    a = summarise([_result(0.5, 800.0, 2.0)], [1])
    b = summarise([_result(0.9, 1000.0, 3.0)], [1])
    b["scenario"] = "t"
    d = diff(a, b)
    assert d["volume"]["delivered_t"] == {"a": 800.0, "b": 1000.0, "delta": 200.0, "pct": 25.0}
    assert d["od_p50_d"][0]["delta"] == 1.0
    assert d["utilisation"][0]["delta"] == pytest.approx(0.4)
