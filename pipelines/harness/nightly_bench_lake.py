"""The synthetic lake of ``zongzhi bench nightly``: N events in the lake's own schema, fast.

The events are written with pyarrow from pools of identities whose tokens
and match keys are hashed once (so that writing 10 million events takes
seconds, not the hour the contract would need): residents of every village
mentioned with or without their ID, callers by phone, plate reads of a
long-tailed fleet at the district's LPR sites, over ``days`` days. A few
residents offend (a suspect in 30 % of their mentions as a party, others in
0.2 %), so that the person risk model is fitted as on a real night.
"""

from __future__ import annotations

import shutil
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from features.lake_schema import EVENTS_SCHEMA, partition_folder
from features.local_time import DISTRICT_TZ
from features.taxonomy import CATEGORIES_BY_SOURCE, PLATE_READ
from pipelines.io.platform_state import load_district, pseudonym_key
from pipelines.settings import Settings

__all__ = ["START", "write_synthetic_lake"]

#: The first day of the synthetic lake (district time).
START = datetime(2026, 11, 2, tzinfo=DISTRICT_TZ)
_RESIDENTS_PER_VILLAGE = 40
_FLEET = 20_000
_PLATE_READ_SHARE = 0.3
#: Residents who offend, and how often a party mention of theirs (of anyone
#: else's) is a suspect's: the risk model has both outcomes to learn from.
_OFFENDER_SHARE = 0.05
_SUSPECT_RATE = {True: 0.3, False: 0.002}


def _pool_persons(district, key: bytes, rng) -> tuple[pa.Table, np.ndarray]:
    """Every resident's person entries: full, name and phone, phone only, name only."""
    import random

    from features.identity import fake_id_number, fake_phone
    from features.person_keys import person_key_tokens
    from features.pseudonymize import pseudonymize
    from pipelines.harness.simulator.texts import fake_name

    r = random.Random(int(rng.integers(1 << 30)))
    rows, village_of = [], []
    for v, _village in enumerate(district.villages):
        for _ in range(_RESIDENTS_PER_VILLAGE):
            name, pid, phone = fake_name(r), fake_id_number(r, region_code="110118"), fake_phone(r)
            tokens = {
                "id_hash": pseudonymize(pid, "id_number", key),
                "name_hash": pseudonymize(name, "name", key),
                "phone_hash": pseudonymize(phone, "phone", key),
                **person_key_tokens(name, phone, key),
            }
            for variant in ("full", "name_phone", "phone", "name"):
                entry = {"role": "caller" if variant == "phone" else "party", **tokens}
                if variant != "full":
                    entry["id_hash"] = None
                if variant == "phone":
                    entry["name_hash"] = entry["name_sound_hash"] = None
                if variant == "name":
                    entry["phone_hash"], entry["phone_deletion_hashes"] = None, []
                rows.append(entry)
                village_of.append(v)
    person_type = EVENTS_SCHEMA.field("persons").type.value_type
    return pa.Table.from_pylist(rows, schema=pa.schema(list(person_type))), np.array(village_of)


def _pool_plates(key: bytes, rng) -> pa.Table:
    import random

    from features.identity import fake_plate
    from features.plate_keys import plate_key_tokens
    from features.pseudonymize import pseudonymize

    r = random.Random(int(rng.integers(1 << 30)))
    plates = sorted({fake_plate(r, "京") for _ in range(int(_FLEET * 1.1))})[:_FLEET]
    rows = [
        {
            "role": "observed",
            "plate_hash": pseudonymize(p, "plate", key),
            **plate_key_tokens(p, key),
        }
        for p in plates
    ]
    vehicle_type = EVENTS_SCHEMA.field("vehicles").type.value_type
    return pa.Table.from_pylist(rows, schema=pa.schema(list(vehicle_type)))


def _lists(
    pool: pa.Table, counts: np.ndarray, picks: np.ndarray, roles: np.ndarray | None = None
) -> pa.ListArray:
    taken = pool.take(pa.array(picks, type=pa.int64()))
    if roles is not None:
        taken = taken.set_column(
            taken.schema.get_field_index("role"), "role", pa.array(roles, type=pa.string())
        )
    struct = pa.StructArray.from_arrays(
        [c.combine_chunks() for c in taken.columns], fields=list(pool.schema)
    )
    offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int32)
    return pa.ListArray.from_arrays(pa.array(offsets), struct)


def write_synthetic_lake(
    settings: Settings, table: Path, events: int, days: int, seed: int = 3, files_per_day: int = 4
) -> dict:
    """Write ``events`` synthetic normalized events over ``days`` days; return counts."""
    from jobs.nightly.cell_universe import cell_places

    rng = np.random.default_rng(seed)
    district = load_district(settings)
    key = pseudonym_key(settings)
    persons_pool, village_of_entry = _pool_persons(district, key, rng)
    plates_pool = _pool_plates(key, rng)
    villages = district.villages
    places = cell_places(district)
    places = places[places["town_code"] != ""].reset_index(drop=True)
    # Each cell belongs to its nearest village.
    vx = np.array([v.lon for v in villages]), np.array([v.lat for v in villages])
    nearest = np.argmin(
        (places["lon"].to_numpy()[:, None] - vx[0]) ** 2
        + (places["lat"].to_numpy()[:, None] - vx[1]) ** 2,
        axis=1,
    )
    entries_of_village = [np.flatnonzero(village_of_entry == v) for v in range(len(villages))]
    # An entry's resident is its index // 4 (four variants each).
    offender = rng.random(len(persons_pool) // 4 + 1) < _OFFENDER_SHARE
    suspect_rate = np.where(
        offender[np.arange(len(persons_pool)) // 4], _SUSPECT_RATE[True], _SUSPECT_RATE[False]
    )
    pool_roles = np.array(persons_pool.column("role").to_pylist(), dtype=object)
    sites = district.sites_of_kind("lpr")
    fleet_weight = 1.0 / (np.arange(len(plates_pool)) + 50.0)
    fleet_weight /= fleet_weight.sum()
    shutil.rmtree(table, ignore_errors=True)
    per_day = np.full(days, events // days)
    per_day[: events % days] += 1
    day0 = int(START.timestamp() * 1000)
    incident_categories = sorted(c for s in ("grid", "hotline") for c in CATEGORIES_BY_SOURCE[s])
    counts = {"events": 0, "person_mentions": 0, "plate_reads": 0}
    for d in range(days):
        date = (START + timedelta(days=d)).date().isoformat()
        folder = table / partition_folder(date)
        folder.mkdir(parents=True)
        for part, n in enumerate(np.array_split(np.arange(per_day[d]), files_per_day)):
            n = len(n)
            reads = rng.random(n) < _PLATE_READ_SHARE
            cell = rng.integers(len(places), size=n)
            village = nearest[cell]
            n_persons = np.where(reads, 0, rng.choice([0, 1, 1, 2, 3], size=n))
            person_picks = (
                np.concatenate(
                    [
                        rng.choice(entries_of_village[v], size=k)
                        for v, k in zip(village, n_persons)
                        if k
                    ]
                )
                if n_persons.sum()
                else np.array([], dtype=int)
            )
            plate_picks = rng.choice(len(plates_pool), size=int(reads.sum()), p=fleet_weight)
            site = rng.integers(len(sites), size=n)
            category = np.where(
                reads,
                PLATE_READ,
                np.array(incident_categories)[rng.integers(len(incident_categories), size=n)],
            )
            source = np.where(
                reads,
                "video",
                np.where(np.char.startswith(category.astype(str), "hotline"), "hotline", "grid"),
            )
            t = day0 + d * 86_400_000 + rng.integers(86_400_000, size=n)
            ids = pc.binary_join_element_wise(
                f"bench-{date}-{part}-", pa.array(np.arange(n)).cast(pa.string()), ""
            )
            site_ids = np.array([s.site_id for s in sites])[site]
            attributes = pc.binary_join_element_wise(
                '{"site_id":"', pa.array(np.where(reads, site_ids, "")), '"}', ""
            )
            columns = {
                "event_id": ids,
                "schema_version": pa.array(np.ones(n, np.int32)),
                "source": pa.array(source),
                "category": pa.array(category),
                "category_group": pa.array(np.char.partition(category.astype(str), ".")[:, 0]),
                "event_time_ms": pa.array(t),
                "report_time_ms": pa.array(t),
                "event_date": pa.array(np.full(n, date)),
                "lon": pa.array(places["lon"].to_numpy()[cell]),
                "lat": pa.array(places["lat"].to_numpy()[cell]),
                "reported_crs": pa.array(np.full(n, "WGS84")),
                "cell_id": pa.array(places["cell_id"].to_numpy()[cell]),
                "district_code": pa.array(np.full(n, district.code)),
                "town_code": pa.array(places["town_code"].to_numpy()[cell]),
                "town_name": pa.array(places["town_name"].to_numpy()[cell]),
                "village_code": pa.array(np.array([v.code for v in villages])[village]),
                "village_name": pa.array(np.array([v.name for v in villages])[village]),
                "persons": _lists(
                    persons_pool,
                    n_persons,
                    person_picks,
                    np.where(
                        (pool_roles[person_picks] == "party")
                        & (rng.random(len(person_picks)) < suspect_rate[person_picks]),
                        "suspect",
                        pool_roles[person_picks],
                    ),
                ),
                "vehicles": _lists(plates_pool, reads.astype(int), plate_picks),
                "attributes_json": attributes,
                "kafka_partition": pa.array(np.zeros(n, np.int32)),
                "kafka_offset": pa.array(np.arange(n, dtype=np.int64)),
            }
            frame = pa.table(
                [columns[f.name].cast(f.type) for f in EVENTS_SCHEMA], schema=EVENTS_SCHEMA
            )
            pq.write_table(frame, folder / f"part-{part}.parquet", compression="zstd")
            counts["events"] += n
            counts["person_mentions"] += int(n_persons.sum())
            counts["plate_reads"] += int(reads.sum())
    return counts
