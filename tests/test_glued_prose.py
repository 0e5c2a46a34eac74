"""A glued table dump (cells run together, as in ../shared/real/docs/pingtan_2021.txt) whose row splits
several ways: the total the report states in its own prose may choose the split, only when exactly one
split ends in it. The documents are the real pingtan dump, and the same dump with one row's figures and
the sentence that states them changed (a row of single-digit cells under a two-digit total)."""

from __future__ import annotations

from pipelines.extract import extract

from .conftest import REAL

PINGTAN = (REAL / "docs" / "pingtan_2021.txt").read_text(encoding="utf-8")
COLUMNS = ("natural_person", "commercial", "research", "social_welfare", "legal_service", "other_org", "total")


def record(text: str) -> dict:
    return extract(text.encode("utf-8"), name="pingtan.txt")


def changed(received: str, figures: str) -> str:
    """The pingtan dump saying it received ``received`` applications, its 本年新收 row glued as ``figures``."""
    assert PINGTAN.count("共收到70件申请") == 1 and PINGTAN.count("数量640020470") == 1
    return PINGTAN.replace("共收到70件申请", f"共收到{received}件申请").replace("数量640020470", f"数量{figures}")


def test_the_prose_total_chooses_the_one_split_that_ends_in_it():
    # 82000010 splits three ways into seven cells; only 8|2|0|0|0|0|10 ends in the 10 the text states
    out = record(changed("10", "82000010"))
    assert out["applications"]["new_received"] == dict(zip(COLUMNS, (8, 2, 0, 0, 0, 0, 10)))
    assert any("new_received" in w and "the 10 the report states" in w for w in out["warnings"])


def test_a_prose_total_that_fits_no_split_chooses_nothing():
    out = record(changed("11", "82000010"))
    assert "new_received" not in out["applications"]
    assert any("new_received" in w and "none of them ends in the 11" in w for w in out["warnings"])


def test_a_prose_total_that_fits_several_splits_chooses_nothing():
    # the real report: 收到70件, and 640020470 ends in 70 three ways (64|0|0|2|0|4, 6|40|0|2|0|4, 6|4|0|0|20|4)
    out = record(PINGTAN)
    assert "new_received" not in out["applications"] and "total_processed" not in out["applications"]
    assert any("new_received" in w and "more than one of them ends in the 70" in w for w in out["warnings"])


def test_two_different_totals_in_the_prose_choose_nothing():
    text = changed("10", "82000010").replace("及时依法依规办结69件", "及时依法依规办结69件，另收到12件申请")
    out = record(text)
    assert "new_received" not in out["applications"]
