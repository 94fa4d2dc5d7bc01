"""Reference values for the geography tests, worked out independently of the code."""

import math
from pathlib import Path

TOWNS_CSV = Path(__file__).resolve().parents[4] / "shared" / "data" / "miyun_towns.csv"

# Metres per degree of latitude on the sphere of radius 6 371 008.8 m, and
# the cosine of the grid origin latitude, worked out by hand:
#   6371008.8 * pi / 180 = 111195.0802...;  cos(40.15 deg) = 0.7643590...
M_PER_DEG = 111195.08023353292
COS_ORIGIN = 0.7643590058228538

MIYUN_ARGS = dict(
    code="110118",
    name="密云区",
    seed=20180601,
    villages_per_town=6,
    cell_size_m=1000,
    origin_lon=116.55,
    origin_lat=40.15,
    max_village_distance_m=9000,
)


def haversine_m(lon1, lat1, lon2, lat2):
    """Great-circle distance in metres on the sphere of radius 6 371 008.8 m."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371008.8 * math.asin(math.sqrt(a))
