import pytest

from corridor.customs.identifiers import (
    check_container,
    check_currency,
    check_hs_code,
    iso6346_check_digit,
)


@pytest.mark.parametrize(
    ("number", "digit"), [("CSQU305438", 3), ("MSKU907032", 3), ("TGHU123456", 7)]
)
def test_iso6346_check_digits_of_published_examples(number, digit):
    # CSQU3054383 is the standard's own example; the others were computed by hand with the
    # ISO 6346 letter values (A=10, B=12, ... skipping multiples of 11) and weights 2^i.
    assert iso6346_check_digit(number) == digit


def test_container_numbers():
    assert check_container("csqu 305438-3") == "CSQU3054383"
    with pytest.raises(ValueError, match="wrong check digit 4 \\(expected 3\\)"):
        check_container("CSQU3054384")
    with pytest.raises(ValueError, match="not an ISO 6346"):
        check_container("CSQ3054383")


def test_hs_codes_against_the_nomenclature():
    assert check_hs_code("8471.30") == "847130"
    with pytest.raises(ValueError, match="not a 6-digit"):
        check_hs_code("8471")
    with pytest.raises(ValueError, match="not a subheading"):
        check_hs_code("010150")  # heading 0101 has 010121, 010129, 010130, 010190 only
    with pytest.raises(ValueError, match="reserved for national use"):
        check_hs_code("990100")


def test_currencies():
    assert check_currency("usd") == "USD"
    with pytest.raises(ValueError, match="ISO 4217"):
        check_currency("USX")
