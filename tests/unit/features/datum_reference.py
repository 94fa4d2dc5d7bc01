"""Published reference pairs for the datum tests (GCJ-02, BD-09, to_wgs84).

Reference pairs come from other public implementations of the same de-facto
formulas; each is annotated with its source:

* [coordtransform] wandergis/coordtransform, ``test/app.js`` (the same
  numbers are asserted in hutool's ``CoordinateUtilTest``), input
  (116.404, 39.915), results printed to full double precision.
* [eviltransform] googollee/eviltransform, ``python/test.py`` /
  ``go/transform_test.go`` ``TESTS``: WGS84 -> GCJ02 pairs for Shanghai,
  Shenzhen and Beijing (given there as lat, lng; reordered to lon, lat).
* [gcoord] hujiulong/gcoord, ``test/unit/crs/{WGS84,GCJ02,BD09}.spec.ts``,
  input (123, 45), values given to 7-8 decimals.  gcoord's GCJ02 -> WGS84
  iterates only to a 1e-6 degree residual, so those comparisons use 1e-6.
"""

import pytest

# [coordtransform] test/app.js, input (116.404, 39.915).
COORDTRANSFORM_IN = (116.404, 39.915)
COORDTRANSFORM_WGS_TO_GCJ = (116.41024449916938, 39.91640428150164)
COORDTRANSFORM_GCJ_TO_BD = (116.41036949371029, 39.92133699351021)
COORDTRANSFORM_BD_TO_GCJ = (116.39762729119315, 39.90865673957631)
# coordtransform's gcj02towgs84 is the one-step approximation g - delta(g).
COORDTRANSFORM_GCJ_TO_WGS_ONE_STEP = (116.39775550083061, 39.91359571849836)

# [eviltransform] TESTS: (wgs lon, wgs lat, gcj lon, gcj lat).
EVILTRANSFORM_PAIRS = [
    pytest.param(121.5272106, 31.1774276, 121.531541859215, 31.17530398364597, id="shanghai"),
    pytest.param(113.912316, 22.543847, 113.9171764808363, 22.540796131694766, id="shenzhen"),
    pytest.param(116.377817, 39.911954, 116.38404722455657, 39.91334545536069, id="beijing"),
]

# [gcoord] input (123, 45).
GCOORD_IN = (123.0, 45.0)


def miyun_grid():
    """21 x 21 points, 0.05 deg apart, centred on Miyun (116.8, 40.4)."""
    return [(116.3 + 0.05 * i, 39.9 + 0.05 * j) for i in range(21) for j in range(21)]
