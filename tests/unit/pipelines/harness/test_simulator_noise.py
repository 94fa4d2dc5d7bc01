"""The simulator's identity noise: typos and misreads in the values, the truth beside them."""

import json
import random
from datetime import timedelta

import pytest

from pipelines.harness.simulator import DistrictSimulator

from .simulator_checks import MONDAY, small_district


@pytest.fixture(scope="module")
def district():
    return small_district()


# ---------------------------------------------------------------- identity noise


def test_every_entry_has_its_truth_and_no_truth_reaches_the_value(district):
    sim = DistrictSimulator(
        district,
        seed=8,
        events_per_hour=800,
        n_rings=2,
        identity_noise={"name_typo": 0.5, "phone_typo": 0.5, "plate_misread": 0.5},
    )
    records = list(sim.records(MONDAY + timedelta(hours=8), timedelta(hours=6)))
    typos = misreads = 0
    for record in records:
        raw = json.loads(record.value)
        assert '"_id"' not in record.value
        assert len(record.truth["persons"]) == len(raw["persons"])
        assert len(record.truth["vehicles"]) == len(raw["vehicles"])
        for person, true_id in zip(raw["persons"], record.truth["persons"]):
            # An unknown suspect (no name, phone or ID) is nobody in particular.
            assert (true_id is None) == (set(person) == {"role"})
            if "id_number" in person:
                assert person["id_number"] == true_id  # an ID is never damaged
            else:
                typos += 1
        for vehicle, plate in zip(raw["vehicles"], record.truth["vehicles"]):
            misreads += vehicle["plate"] != plate
    assert typos > 0 and misreads > 0


def test_noise_leaves_the_events_themselves_unchanged(district):
    def events(noise):
        sim = DistrictSimulator(district, seed=8, events_per_hour=800, identity_noise=noise)
        return [
            (r.key, r.event_time_ms, json.loads(r.value)["category"])
            for r in sim.records(MONDAY + timedelta(hours=8), timedelta(hours=3))
        ]

    assert events(None) == events({"name_typo": 1.0, "phone_typo": 1.0, "plate_misread": 1.0})


def test_homophone_typos_keep_the_name_sound():
    from features.person_keys import name_sound
    from pipelines.harness.simulator.noise import IdentityNoise
    from pipelines.harness.simulator.texts import fake_name

    rng = random.Random(4)
    noise = IdentityNoise(random.Random(5), name_typo=1.0, phone_typo=0.0, plate_misread=0.0)
    for _ in range(300):
        name = fake_name(rng)
        persons, _, _ = noise.apply(
            [{"role": "party", "name": name, "_id": "x"}], [], plate_read=False
        )
        assert name_sound(persons[0]["name"]) == name_sound(name), (name, persons[0]["name"])


def test_bad_noise_rates_are_refused():
    from pipelines.harness.simulator.noise import IdentityNoise

    with pytest.raises(ValueError, match="plate_misread=1.5 must be a rate"):
        IdentityNoise(random.Random(0), name_typo=0, phone_typo=0, plate_misread=1.5)
