"""The district and the pseudonymization key, built from what the settings name.

Settings only read files; this module turns what they read into domain
objects (:class:`features.geography.District`, key bytes), so that the
settings module stays a leaf that imports nothing of the domain.
"""

from __future__ import annotations

from features.geography import District, build_district
from features.pseudonymize import load_key
from pipelines.settings import Settings

__all__ = ["load_district", "pseudonym_key"]


def load_district(settings: Settings) -> District:
    """The district the configuration declares, with its towns, villages and cells."""
    d = settings.section("district")
    return build_district(
        settings.town_rows(),
        code=d["code"],
        name=d["name"],
        seed=int(d["seed"]),
        villages_per_town=int(d["villages_per_town"]),
        cell_size_m=float(d["cell_size_m"]),
        origin_lon=float(d["origin_lon"]),
        origin_lat=float(d["origin_lat"]),
        max_village_distance_m=float(d["max_village_distance_m"]),
    )


def pseudonym_key(settings: Settings, create: bool = False) -> bytes:
    """The key of the keyed hash that pseudonymizes personal data.

    With ``create``, a missing key file is made first (see
    :meth:`pipelines.settings.Settings.pseudonym_secret`).
    """
    return load_key(settings.pseudonym_secret(create=create))
