"""Tests for features.geography: every name callers import still resolves.

The cells, the district model and the builder are tested in
``test_cell_grid.py``, ``test_district.py`` and ``test_district_builder.py``.
"""

import pytest

from features import cell_grid, district, district_builder, geography, local_projection

HOMES = {
    "EARTH_RADIUS_M": local_projection,
    "TOWN_KINDS": district,
    "VILLAGE_KINDS": district,
    "SITE_KINDS": district,
    "Town": district,
    "Village": district,
    "Jurisdiction": district,
    "Site": district,
    "CellGrid": cell_grid,
    "District": district,
    "build_district": district_builder,
}


def test_all_lists_exactly_the_re_exported_names():
    assert sorted(geography.__all__) == sorted(HOMES)


@pytest.mark.parametrize("name", sorted(HOMES))
def test_each_name_is_the_object_of_its_home_module(name):
    assert getattr(geography, name) is getattr(HOMES[name], name)
