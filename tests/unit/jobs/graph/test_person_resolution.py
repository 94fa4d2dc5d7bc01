import pandas as pd
import pytest

from features.person_keys import person_key_tokens
from features.pseudonymize import pseudonymize
from jobs.graph.person_resolution import resolve_persons

KEY = b"0123456789abcdef"
WEIGHTS = {
    "phone": 9.0,
    "phone_near": 4.0,
    "name": 5.0,
    "name_sound": 3.0,
    "name_disagree": -6.0,
    "village": 4.0,
}


def _mention(key, id_number=None, name=None, phone=None, village=None):
    def token(v, kind):
        return pseudonymize(v, kind, KEY) if v else None

    return {
        "mention_key": key,
        "village_code": village,
        "id_hash": token(id_number, "id_number"),
        "name_hash": token(name, "name"),
        "phone_hash": token(phone, "phone"),
        **person_key_tokens(name, phone, KEY),
    }


def _resolve(*mentions):
    out = resolve_persons(pd.DataFrame(mentions), weights=WEIGHTS, threshold=9.0)
    return out.set_index("mention_key")


ID = "11010519491231002X"


def test_a_mention_without_id_joins_the_person_with_its_phone_and_name_sound():
    out = _resolve(
        _mention("a", ID, "张伟", "13800138000"), _mention("b", None, "张玮", "13800138000")
    )
    assert out.loc["b", "person_id"] == pseudonymize(ID, "id_number", KEY)
    assert out.loc["b", "evidence"] == "phone+name_sound"
    assert out.loc["b", "confidence"] == pytest.approx(1 / (1 + 2**-12), abs=1e-6)


def test_one_digit_off_phone_and_the_same_name_join():
    out = _resolve(
        _mention("a", ID, "张伟", "13800138000"), _mention("b", None, "张伟", "13800138001")
    )
    assert out.loc["b", "evidence"] == "phone_near+name"
    assert out.loc["b", "person_id"] == out.loc["a", "person_id"]


def test_a_shared_phone_with_another_name_or_a_common_name_alone_does_not_join():
    out = _resolve(
        _mention("a", ID, "张伟", "13800138000"),
        _mention("b", None, "李娜", "13800138000"),  # family phone
        _mention("c", None, "张伟", "13912345678"),
    )  # same name
    assert out.loc["b", "person_id"].startswith("anon:")
    assert out.loc["c", "person_id"].startswith("anon:")
    assert out.loc["b", "person_id"] != out.loc["c", "person_id"]


def test_mentions_without_id_group_among_themselves():
    out = _resolve(
        _mention("a", None, "王芳", "13700000001"),
        _mention("b", None, "王方", "13700000001"),
        _mention("c", None, "赵磊", "13600000002"),
    )
    assert out.loc["a", "person_id"] == out.loc["b", "person_id"] != out.loc["c", "person_id"]
    assert out.loc["a", "person_id"] == "anon:" + pseudonymize("13700000001", "phone", KEY)


def test_a_tie_between_two_persons_is_not_a_match():
    other = "110105194912310037"
    out = _resolve(
        _mention("a", ID, "张伟", "13800138000"),
        _mention("b", other, "张伟", "13800138000"),
        _mention("c", None, "张伟", "13800138000"),
    )
    assert out.loc["c", "person_id"].startswith("anon:")


def test_an_id_with_names_that_sound_different_is_flagged_not_split():
    out = _resolve(_mention("a", ID, "张伟", None), _mention("b", ID, "刘洋", None))
    assert out.loc["a", "person_id"] == out.loc["b", "person_id"]
    assert bool(out.loc["a", "contradictory"]) and bool(out.loc["b", "contradictory"])


def test_a_mention_with_nothing_to_match_on_has_no_person():
    out = _resolve(_mention("a", None, None, None))
    assert out.loc["a", "person_id"] is None and out.loc["a", "evidence"] == "no_identifier"


def test_bad_arguments_name_what_is_wrong():
    frame = pd.DataFrame([_mention("a", ID, "张伟", None)])
    with pytest.raises(ValueError, match="lack \\['phone_near'\\]"):
        resolve_persons(
            frame,
            weights={"phone": 1, "name": 1, "name_sound": 1, "village": 1, "name_disagree": -1},
            threshold=1,
        )
    with pytest.raises(ValueError, match="threshold=0"):
        resolve_persons(frame, weights=WEIGHTS, threshold=0)
    with pytest.raises(ValueError, match="lack columns \\['id_hash'\\]"):
        resolve_persons(frame.drop(columns="id_hash"), weights=WEIGHTS, threshold=9)


def test_a_name_joins_within_the_village_the_person_was_seen_in():
    out = _resolve(
        _mention("a", ID, "张伟", "13800138000", village="v1"),
        _mention("b", None, "张伟", None, village="v1"),  # name + village
        _mention("c", None, "张伟", None, village="v2"),  # name elsewhere
        _mention("d", None, None, "13800138000", village="v1"),
    )  # phone + village
    pid = pseudonymize(ID, "id_number", KEY)
    assert (out.loc["b", "person_id"], out.loc["b", "evidence"]) == (pid, "village+name")
    assert out.loc["c", "person_id"].startswith("anon:")
    assert (out.loc["d", "person_id"], out.loc["d", "evidence"]) == (pid, "village+phone")


def test_a_village_alone_identifies_nobody():
    out = _resolve(
        _mention("a", ID, "张伟", "13800138000", village="v1"),
        _mention("b", None, "李娜", None, village="v1"),
    )
    assert out.loc["b", "person_id"].startswith("anon:")


def test_a_joined_mention_lends_its_fields_to_the_next_pass():
    # b joins by phone + name sound and brings its village v2 along; c is the
    # same phone in v2, which only b's village ties to the person.
    out = _resolve(
        _mention("a", ID, "张伟", "13800138000", village="v1"),
        _mention("c", None, None, "13800138000", village="v2"),
        _mention("b", None, "张玮", "13800138000", village="v2"),
    )
    pid = pseudonymize(ID, "id_number", KEY)
    assert out.loc["b", "person_id"] == pid
    assert (out.loc["c", "person_id"], out.loc["c", "evidence"]) == (pid, "village+phone")


def test_a_phone_alone_joins_its_one_person():
    out = _resolve(
        _mention("a", ID, "张伟", "13800138000"), _mention("b", None, None, "13800138000")
    )
    assert (out.loc["b", "person_id"], out.loc["b", "evidence"]) == (
        pseudonymize(ID, "id_number", KEY),
        "phone",
    )
