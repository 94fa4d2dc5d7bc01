"""How people and cameras get identities wrong, with the truth kept aside.

Payload builders mark each person entry with its resident's ID number under
the hidden key ``_id``. Before a record is written, :class:`IdentityNoise`
removes that key into the record's truth and damages some entries the way
the channels do:

* a person mention **without an ID number** gets its name typed with a
  homophone (``name_typo``) or its phone with one wrong digit
  (``phone_typo``);
* a **plate read** is misread (``plate_misread``): a confusable character
  (0/O/D/Q, 8/B, 1/I, 2/Z, 5/S), the province, or a dropped character.

The truth (``{"persons": [ID numbers], "vehicles": [true plates]}``, in
entry order) never enters the record's value; evaluations read it from
:attr:`~pipelines.harness.simulator.records.SimulatedRecord.truth`.

Examples
--------
>>> import random
>>> noise = IdentityNoise(random.Random(1), name_typo=1.0, phone_typo=0.0, plate_misread=1.0)
>>> persons, vehicles, truth = noise.apply(
...     [{"role": "party", "name": "张伟", "_id": "X1"}],
...     [{"role": "observed", "plate": "京A12345"}], plate_read=True)
>>> persons[0]["name"] != "张伟", "_id" in persons[0], truth["persons"]
(True, False, ['X1'])
>>> vehicles[0]["plate"] != "京A12345", truth["vehicles"]
(True, ['京A12345'])
"""

from __future__ import annotations

import random

__all__ = ["HOMOPHONES", "IdentityNoise"]

#: Characters of the simulator's names and a character that sounds the same.
HOMOPHONES = {
    "伟": "玮",
    "芳": "方",
    "娜": "纳",
    "敏": "民",
    "静": "靖",
    "丽": "莉",
    "强": "墙",
    "磊": "垒",
    "军": "君",
    "洋": "阳",
    "勇": "永",
    "艳": "燕",
    "杰": "洁",
    "娟": "捐",
    "涛": "滔",
    "明": "鸣",
    "超": "朝",
    "英": "鹰",
    "霞": "侠",
    "平": "萍",
    "刚": "钢",
    "国": "果",
    "华": "画",
    "兰": "蓝",
    "凤": "奉",
    "海": "还",
    "鹏": "朋",
    "文": "闻",
    "梅": "媒",
    "庆": "磬",
    "红": "宏",
    "波": "播",
    "宇": "雨",
    "浩": "号",
    "晨": "辰",
    "欣": "新",
    "新": "欣",
    "德": "得",
    "胜": "圣",
    "福": "富",
    "王": "汪",
    "李": "理",
    "张": "章",
    "刘": "留",
    "陈": "晨",
    "杨": "阳",
    "黄": "皇",
    "周": "洲",
    "吴": "无",
    "徐": "许",
    "许": "徐",
    "孙": "荪",
}
_CONFUSABLE = {
    "0": "O",
    "O": "0",
    "D": "0",
    "Q": "0",
    "8": "B",
    "B": "8",
    "1": "I",
    "2": "Z",
    "Z": "2",
    "5": "S",
    "S": "5",
}
_OTHER_PROVINCE = {"京": "津", "津": "京", "冀": "京"}


class IdentityNoise:
    """Damage identities at the given rates; keep the truth (see the module docstring)."""

    def __init__(
        self, rng: random.Random, *, name_typo: float, phone_typo: float, plate_misread: float
    ):
        for name, rate in (
            ("name_typo", name_typo),
            ("phone_typo", phone_typo),
            ("plate_misread", plate_misread),
        ):
            if not (isinstance(rate, (int, float)) and 0.0 <= rate <= 1.0):
                raise ValueError(f"{name}={rate!r} must be a rate in [0, 1]")
        self._rng = rng
        self.name_typo, self.phone_typo, self.plate_misread = name_typo, phone_typo, plate_misread

    def _name(self, name: str) -> str:
        positions = [i for i, c in enumerate(name) if c in HOMOPHONES]
        if not positions:
            return name
        i = self._rng.choice(positions)
        return name[:i] + HOMOPHONES[name[i]] + name[i + 1 :]

    def _phone(self, phone: str) -> str:
        i = self._rng.randrange(3, len(phone))  # keep the carrier prefix
        digit = self._rng.choice([d for d in "0123456789" if d != phone[i]])
        return phone[:i] + digit + phone[i + 1 :]

    def _plate(self, plate: str) -> str:
        how = self._rng.random()
        swappable = [i for i in range(2, len(plate)) if plate[i] in _CONFUSABLE]
        if how < 0.6 and swappable:
            i = self._rng.choice(swappable)
            return plate[:i] + _CONFUSABLE[plate[i]] + plate[i + 1 :]
        if how < 0.8 and plate[0] in _OTHER_PROVINCE:
            return _OTHER_PROVINCE[plate[0]] + plate[1:]
        i = self._rng.randrange(2, len(plate))
        return plate[:i] + plate[i + 1 :]

    def apply(self, persons: list, vehicles: list, *, plate_read: bool):
        """Damaged copies of the entries, and their truth."""
        out_persons, true_ids = [], []
        for person in persons:
            entry = {k: v for k, v in person.items() if k != "_id"}
            true_ids.append(person.get("_id"))
            if "id_number" not in entry:
                if "name" in entry and self._rng.random() < self.name_typo:
                    entry["name"] = self._name(entry["name"])
                if "phone" in entry and self._rng.random() < self.phone_typo:
                    entry["phone"] = self._phone(entry["phone"])
            out_persons.append(entry)
        out_vehicles, true_plates = [], []
        for vehicle in vehicles:
            entry = dict(vehicle)
            true_plates.append(vehicle.get("plate"))
            if plate_read and self._rng.random() < self.plate_misread:
                entry["plate"] = self._plate(entry["plate"])
            out_vehicles.append(entry)
        return out_persons, out_vehicles, {"persons": true_ids, "vehicles": true_plates}
