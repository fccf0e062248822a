"""Query parameters: lists, patterns, limits and refusals follow the REST binding."""

from datetime import UTC, datetime

import pytest

from corridor.tracking.errors import TrackingError
from corridor.tracking.query import MAX_VALUES, decode_token, encode_token, parse


def test_pipe_lists_and_cbv_spellings():
    spec = parse({"EQ_bizStep": "urn:epcglobal:cbv:bizstep:departing|arriving", "EQ_action": "ADD"})
    assert spec.equals == {"biz_step": ("departing", "arriving"), "action": ("ADD",)}


def test_idpat_and_star_patterns():
    spec = parse({"MATCH_epc": "urn:epc:idpat:sgtin:4012345.011111.*|urn:epc:id:bic:CRDU*"})
    (match,) = spec.matches
    assert match.prefixes == ("urn:epc:id:sgtin:4012345.011111.", "urn:epc:id:bic:CRDU")
    assert match.roles == ("epc",)
    any_epc = parse({"MATCH_anyEPC": "urn:x"}).matches[0]
    assert set(any_epc.roles) == {"epc", "parentID", "inputEPC", "outputEPC"}


def test_typed_business_transactions():
    spec = parse({"EQ_bizTransaction_urn:epcglobal:cbv:btt:po": "urn:po:1"})
    assert spec.matches[0].roles == ("bizTransaction:po",)


def test_order_and_limits():
    spec = parse({"orderBy": "eventTime", "orderDirection": "DESC", "eventCountLimit": "5"})
    assert (spec.order_by, spec.descending, spec.event_count_limit) == ("event_time", True, 5)


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"MATCH_epc": "|".join(f"urn:e:{i}" for i in range(1000))}, "MATCH_epc"),
        ({"GE_eventTime": "9999-12-31T23:59:59-14:00"}, "GE_eventTime"),
        ({"LT_eventTime": "0001-01-01T00:00:00+14:00"}, "LT_eventTime"),
        ({"EQ_whatever": "x"}, "EQ_whatever"),
        ({"orderBy": "colour"}, "orderBy"),
        ({"eventCountLimit": "0"}, "eventCountLimit"),
    ],
)
def test_refused(params, field):
    with pytest.raises(TrackingError) as caught:
        parse(params)
    assert caught.value.field == field


def test_time_bounds_accept_the_corridor_years():
    ((_, _, moment),) = parse({"GE_eventTime": "2026-03-03T08:00:00+04:00"}).times
    assert moment == datetime(2026, 3, 3, 4, tzinfo=UTC)


def test_page_tokens_round_trip_and_forgeries_fail():
    token = encode_token(("i", 42), b"k")
    assert decode_token(token, b"k") == ("i", 42)
    for forged in ("", "abc", "aTo5OTk5OTk5OTk5OTk5OTk5OTk5OTk5", token[:-2] + "xx", "ö"):
        with pytest.raises(TrackingError):
            decode_token(forged, b"k")
    assert MAX_VALUES < 1000
