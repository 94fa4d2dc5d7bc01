"""Fixtures shared by the feature tests: the Miyun district and a contract context.

``town_rows`` reads ``shared/data/miyun_towns.csv`` and skips when it is
missing, so every test that needs the real towns (``miyun``) skips with it.
The contract fixtures build a two-town district in memory and need no data;
``bases`` are a valid envelope of each channel in it.
"""

import copy
import csv

import pytest

from features.bd09 import wgs84_to_bd09
from features.district_builder import build_district
from features.gcj02 import wgs84_to_gcj02
from features.normalization import NormalizationContext

from .contract_reference import KEY, TOWNS
from .miyun_reference import MIYUN_ARGS, TOWNS_CSV


@pytest.fixture(scope="module")
def town_rows():
    if not TOWNS_CSV.exists():
        pytest.skip(f"shared reference data not found at {TOWNS_CSV}")
    with TOWNS_CSV.open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def miyun(town_rows):
    return build_district(town_rows, **MIYUN_ARGS)


@pytest.fixture(scope="module")
def ctx():
    district = build_district(
        TOWNS,
        code="110118",
        name="密云区",
        seed=3,
        villages_per_town=2,
        cell_size_m=1000,
        origin_lon=116.55,
        origin_lat=40.15,
        max_village_distance_m=5000,
        n_cameras=2,
        n_lpr_sites=1,
        n_gas_stations=1,
    )
    return NormalizationContext(district=district, key=KEY, max_future_skew_s=3600)


@pytest.fixture()
def village(ctx):
    return ctx.district.villages[0]


@pytest.fixture()
def grid_event(village):
    lon, lat = wgs84_to_gcj02(village.lon, village.lat)
    return {
        "schema_version": 1,
        "event_id": "grid-1",
        "source": "grid",
        "category": "public_order.fight",
        "event_time": "2026-11-27T09:15:00+08:00",
        "report_time": "2026-11-27T09:17:00+08:00",
        "location": {"lon": lon, "lat": lat, "crs": "GCJ02"},
        "persons": [
            {
                "role": "party",
                "name": "张伟",
                "id_number": "11010519491231002X",
                "phone": "13800138000",
            }
        ],
        "vehicles": [{"role": "involved", "plate": "京A12345"}],
        "attributes": {
            "reporter_id": "G0001",
            "description": "两人在市场门口争吵, 联系电话13912345678",
        },
    }


@pytest.fixture()
def bases(village, grid_event):
    hotline = copy.deepcopy(grid_event)
    lon, lat = wgs84_to_bd09(village.lon, village.lat)
    hotline.update(
        source="hotline",
        category="hotline.transport",
        location={"lon": lon, "lat": lat, "crs": "BD09"},
        attributes={"ticket_no": "12345-1", "text": "公交站牌损坏"},
    )
    video = copy.deepcopy(grid_event)
    video.update(
        source="video",
        category="video.plate_read",
        persons=[],
        location={"lon": village.lon, "lat": village.lat, "crs": "WGS84"},
        attributes={
            "device_id": "LPR-1-L1",
            "site_id": "LPR-1",
            "device_kind": "lpr",
            "lane": 1,
            "confidence": 0.97,
        },
    )
    return [("grid", grid_event), ("hotline", hotline), ("video", video)]
