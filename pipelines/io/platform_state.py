"""The district and the pseudonymization keys, built from what the settings name.

Settings only read files; this module turns what they read into domain
objects (:class:`features.geography.District`, the
:class:`features.key_chain.KeyChain`), so that the settings module stays a
leaf that imports nothing of the domain.
"""

from __future__ import annotations

from features.geography import District, build_district
from features.key_chain import KeyChain
from pipelines.io.key_store import key_store
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


def pseudonym_key(settings: Settings, create: bool = False) -> KeyChain:
    """The keys that pseudonymize personal data, every version, oldest first.

    Tokens made with it carry its current version. With ``create``, an
    empty key store gets a random key of version 1 (see
    :class:`pipelines.io.key_store.KeyStore`); keys of fewer than 32 random
    bytes, from the files or the environment, are refused.
    """
    return key_store(settings).chain(create=create)
