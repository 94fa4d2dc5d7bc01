import pytest
import yaml

from features.hotline_classes import hotline_classes
from features.reply_units import ReplyUnit, reply_units, units_named, weak_label

UNITS = (
    ReplyUnit("住房和城乡建设", ("住建", "住房和城乡建设"), "城乡建设"),
    ReplyUnit("教育", ("教育局",), "教育文体"),
    ReplyUnit("街道和乡镇", ("街道", "乡镇"), None),
)


def test_units_are_listed_in_the_order_the_reply_first_names_them():
    reply = "您的留言已转A市教育局办理。\n\t\t街道将会同区住房和\n城乡建设局，教育局复查。"
    assert units_named(reply, UNITS) == ["教育", "街道和乡镇", "住房和城乡建设"]
    assert weak_label(units_named(reply, UNITS), UNITS) == "教育文体"


def test_a_reply_naming_only_units_without_a_class_gives_no_weak_label():
    named = units_named("街道已安排人员处理", UNITS)
    assert named == ["街道和乡镇"] and weak_label(named, UNITS) is None
    assert units_named("我局已收悉", UNITS) == [] and units_named(float("nan"), UNITS) == []


def test_the_declared_file_parses_and_every_class_it_names_is_the_router_s():
    with open("infra/config/hotline_classes.yaml", encoding="utf-8") as handle:
        mapping = yaml.safe_load(handle)
    units = reply_units(mapping, set(hotline_classes(mapping)))
    assert len(units) >= 10
    assert {u.label for u in units} - {None} == set(hotline_classes(mapping))


@pytest.mark.parametrize(
    ("spec", "named"),
    [
        ({"x": {"class": None}}, "needs 'class' \\(or null\\) and 'names'"),
        ({"x": {"class": None, "names": []}}, "names must be a list of non-empty words"),
        ({"x": {"class": None, "names": ["", "a"]}}, "names must be a list"),
        ({"x": {"class": "其他", "names": ["a"]}}, "class '其他' is not one of"),
    ],
)
def test_a_bad_unit_is_named(spec, named):
    with pytest.raises(ValueError, match=f"reply unit 'x'.*{named}|{named}"):
        reply_units({"reply_units": spec}, {"教育文体"})
