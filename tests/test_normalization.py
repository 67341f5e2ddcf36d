import pyarrow as pa
import pytest

from orchestration.normalization import to_e164, to_e164_arrow


@pytest.mark.parametrize("typed", [
    "06 12 34 56 78", "0612345678", "+33612345678", "+33 6 12 34 56 78",
    "0033 6-12-34-56-78", "06.12.34.56.78", "(0)6 12 34 56 78", " 06-12-34-56-78 ",
])
def test_french_mobile_formats_give_one_e164(typed):
    assert to_e164(typed) == "+33612345678"


@pytest.mark.parametrize("junk", ["0000000000", "", "   ", "abc", "12", None])
def test_placeholders_and_junk_are_not_phones(junk):
    assert to_e164(junk) is None


def test_arrow_udf_keeps_order_and_nulls():
    out = to_e164_arrow(pa.array(["0145678910", None, "bad", "0145678910"]))
    assert out.to_pylist() == ["+33145678910", None, None, "+33145678910"]
