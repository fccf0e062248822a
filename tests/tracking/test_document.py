"""Bad bytes are refused at the edge with the place named, never passed on to break a read."""

import pytest

from corridor.tracking.document import parse
from corridor.tracking.errors import TrackingError


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        (b'{"a": NaN}', "not JSON"),
        (b'{"a": Infinity}', "not JSON"),
        (b'{"a": 1e309}', "not JSON"),
        (b'{"a": "\\ud800"}', "not JSON"),
        (b'{"a": [' + b"[" * 935 + b"]" * 935 + b"]}", "nested deeper"),
        (b"{oops", "not JSON"),
    ],
)
def test_refused(raw, words):
    with pytest.raises(TrackingError) as caught:
        parse(raw)
    assert caught.value.code == "invalid"
    assert words in caught.value.reason


def test_depth_limit_is_exact():
    ok = b"[" * 10 + b"]" * 10
    assert parse(ok, max_depth=10) is not None
    with pytest.raises(TrackingError) as caught:
        parse(b"[" * 11 + b"]" * 11, max_depth=10)
    assert caught.value.field == "$" + "[0]" * 10


def test_ordinary_document_passes():
    assert parse(b'{"eventList": [{"x": 1.5, "y": "caf\\u00e9"}]}') == {
        "eventList": [{"x": 1.5, "y": "café"}]
    }
