import pytest

from features.hotline_classes import hotline_classes
from features.taxonomy import CATEGORIES_BY_SOURCE, category_label

SEVEN = {
    "城乡建设": "hotline.urban_rural_construction",
    "劳动和社会保障": "hotline.labour_social_security",
    "教育文体": "hotline.education_culture_sports",
    "卫生计生": "hotline.health_family_planning",
    "交通运输": "hotline.transport",
    "商贸旅游": "hotline.commerce_tourism",
    "环境保护": "hotline.environmental_protection",
}


def test_the_seven_classes_cover_every_hotline_category_once():
    classes = hotline_classes({"classes": SEVEN})
    assert set(classes.values()) == CATEGORIES_BY_SOURCE["hotline"]
    # Each class is the category's own Chinese label.
    assert all(category_label(c) == label for label, c in classes.items())


def test_a_category_left_out_is_named():
    partial = {k: v for k, v in SEVEN.items() if k != "交通运输"}
    with pytest.raises(ValueError, match=r"no class maps to .*hotline\.transport"):
        hotline_classes({"classes": partial})


def test_two_classes_on_one_category_are_named():
    doubled = {**SEVEN, "公共交通": "hotline.transport"}
    with pytest.raises(
        ValueError, match="'交通运输' and '公共交通' both map to 'hotline.transport'"
    ):
        hotline_classes({"classes": doubled})


@pytest.mark.parametrize("bad", [None, [], {"classes": ["城乡建设"]}, {"other": {}}])
def test_a_file_without_a_classes_mapping_is_refused(bad):
    with pytest.raises(ValueError, match="'classes:' mapping"):
        hotline_classes(bad)
