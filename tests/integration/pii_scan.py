"""Planted personal data, and scans of every sink for it in clear.

The raw topics may hold clear personal data (for ``kafka.raw_retention_hours``);
nothing downstream of normalization may: not the normalized, dead-letter,
alerts or late topics, the lake, PostgreSQL, Superset's chart data or the
services' logs.

:func:`planted_records` makes a few dozen raw records that carry identifiers
in every shape :mod:`features.free_text_scrub` claims to handle, in every
place a record can carry them (free text, ``persons[]`` and ``vehicles[]``
fields, roles, ``event_id``, attribute names and values) and in malformed
records that must be dead-lettered. :data:`PLANTED` lists each identifier
with its canonical value and the forms it was written in; the scans look
for every one of those forms, also with separators removed, in the text of
each sink.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from features.identifier_patterns import NUMBER_SEPARATORS
from features.identity import ID_NUMBER_PATTERN, PHONE_PATTERN, PLATE_PATTERN

__all__ = [
    "PLANTED",
    "PlantedIdentifier",
    "PlantedRecord",
    "planted_records",
    "ScannedText",
    "find_in_clear",
    "topic_text",
    "lake_texts",
    "postgres_text",
    "chart_texts",
    "log_texts",
    "flink_log_text",
    "pattern_matches_in_strings",
]

# Grid and hotline records go to categories other than the surge's, and all
# to one village: they raise a few baselines a little, which can only make
# the detector quieter there. Video records are plate reads, which the
# hotspot job never scores (hotspot.excluded_categories).
GRID_CATEGORY = "environment.late_garbage_collection"
HOTLINE_CATEGORY = "hotline.commerce_tourism"
VIDEO_CATEGORY = "video.plate_read"


@dataclass(frozen=True)
class PlantedIdentifier:
    """One identifier put on the raw topics: its kind, canonical value, written forms."""

    kind: str
    canonical: str
    written: tuple[str, ...] = ()

    def needles(self) -> set[str]:
        """Every form to look for, folded (NFKC, case) as :func:`find_in_clear` folds text.

        The canonical value, each written form, and each of those with every
        separator removed (``139.1001.0001`` -> ``13910010001``); for a
        plate also its tail after the province character, which is what a
        misread of the province would leave.
        """
        forms = {self.canonical, *self.written}
        forms |= {_squeeze(f) for f in forms}
        if self.kind == "plate":
            forms |= {f[1:] for f in list(forms) if not f[:1].isascii()}
        return {_fold(f) for f in forms if len(_fold(f)) >= 2}


def _id(canonical, *written):
    return PlantedIdentifier("id_number", canonical, written)


def _phone(canonical, *written):
    return PlantedIdentifier("phone", canonical, written)


def _name(canonical, *written):
    return PlantedIdentifier("name", canonical, written)


def _plate(canonical, *written):
    return PlantedIdentifier("plate", canonical, written)


def _fullwidth(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


# Each identifier is written in one shape only, so that a leak names the shape.
ID_PLAIN = _id("110228198807153411")
ID_SPACES = _id("110228199003124521", "110228 19900312 4521")
ID_DASHES = _id("110228199201011237", "110228-1992-0101-1237")
ID_X_GLUED = _id("11022819920101100X", "证件号11022819920101100X号")
ID_OLD = _id("110228750612031")
ID_OLD_SPACES = _id("110228830620274", "110228 830620 274")
ID_FULLWIDTH = _id("110228197711085624", _fullwidth("110228197711085624"))
ID_IN_EVENT_ID = _id("110228198306202748")
ID_IN_ATTRIBUTE_NAME = _id("110228200102283187")
ID_HOTLINE = _id("110228196503041235", "110228-19650304-1235")
ID_TRUNCATED = _id("110228195909176055")
ID_BAD_BYTES = _id("110228199405057368")
ID_WRONG_TYPE = _id("110228197112308478")
ID_MISMATCH = _id("110228198601019583")
ID_LINE_BREAK = _id("110228199506071238", "110228199506\n071238")
ID_LOWER_X = _id("11022819800101123X", "11022819800101123x")
ID_SLASHES = _id("110228197305064426", "110228/19730506/4426")

PHONE_DOTS = _phone("13910010001", "139.1001.0001")
PHONE_SPACES = _phone("13910010002", "1391 001 0002")
PHONE_EM_DASH = _phone("13910010003", "139\u20141001\u20140003")
PHONE_PLUS86 = _phone("13910010004", "+86 139 1001 0004")
PHONE_FULLWIDTH = _phone("13910010005", _fullwidth("13910010005"))
PHONE_GLUED_LATIN = _phone("13910010006", "tel13910010006abc")
PHONE_GLUED_CJK = _phone("13910010007", "电话13910010007号")
PHONE_0086 = _phone("13910010010", "0086 139 1001 0010")
PHONE_PERSON = _phone("13910010009", "139-1001-0009")
PHONE_PERSON_PLUS86 = _phone("13910010020", "+86 139 1001 0020")
PHONE_LINE_BREAK = _phone("13910010031", "1391001\n0031")
PHONE_CRLF = _phone("13910010032", "139\r\n1001\r\n0032")
PHONE_SLASHES = _phone("13910010033", "139/1001/0033")
PHONE_UNDERSCORES = _phone("13910010034", "139_1001_0034")
PHONE_FINANCIAL = _phone("13910010035", "壹叁玖壹零零壹零零叁伍")
PHONE_FULLWIDTH_PLUS86 = _phone("13910010036", _fullwidth("+86 139 1001 0036"))
LANDLINE = _phone("01069512345", "010-6951 2345")
LANDLINE_EXT = _phone("01069512346", "(010)6951-2346转801")
PHONE_IN_EVENT_ID = _phone("13910010012")
PHONE_ATTRIBUTE_NAME = _phone("13910010013")
PHONE_UNDECLARED = _phone("13910010014")
PHONE_REPORTER_ID = _phone("13910010015")
PHONE_HOTLINE = _phone("13910010016")
PHONE_TICKET = _phone("13910010017")
PHONE_SITE_ID = _phone("13910010018")
PHONE_VEHICLE_ROLE = _phone("13910010019")
PHONE_PERSON_ROLE = _phone("13910010021")
PHONE_TRUNCATED = _phone("13910010022")
PHONE_BAD_BYTES = _phone("13910010023")
PHONE_WRONG_TYPE = _phone("13910010024", "139 1001 0024")
PHONE_UNKNOWN_CATEGORY = _phone("13910010025", "139 1001 0025")
PHONE_SURROGATE = _phone("13910010026")
PHONE_MISMATCH = _phone("13910010027")
PHONE_NUMERIC_ATTRIBUTE = _phone("13910010028")
PHONE_NUMERIC_PERSON = _phone("13910010029")

NAME_PERSON = _name("赵立新", "赵 立 新")
NAME_LABEL = _name("钱玉兰")
NAME_MISTER = _name("孙志强")
NAME_MADAM = _name("周美玲")
NAME_CONTACT = _name("吴建军")
NAME_WITNESS = _name("郑晓光")
NAME_ROLE = _name("李红梅")
NAME_HOTLINE = _name("韩雪梅")
NAME_TRUNCATED = _name("冯国栋")
NAME_BAD_BYTES = _name("褚秀英")
NAME_WRONG_TYPE = _name("卫东升")
NAME_UNKNOWN_CATEGORY = _name("蒋丽华")
NAME_NUMERAL_LABEL = _name("王一博")
NAME_NUMERAL_CONTACT = _name("孔三丰")
NAME_NUMERAL_MISTER = _name("钟二虎")
NAME_DOTTED = _name("约翰·史密斯")
NAME_SPACED = _name("魏秋菊", "魏 秋 菊")
NAME_LATIN_LABEL = _name("Zhang Weiming")
NAME_LATIN_CONTACT = _name("WANG Fangfang")
NAME_LATIN_ENGLISH = _name("Li Leilei")

PLATE_DOT = _plate("京N7X2Q9", "京N·7X2Q9", "京n 7x2q9")
PLATE_DEVICE = _plate("京Q5L8W2")
PLATE_SECOND = _plate("京H3K9M5", "京H·3K9M5")
PLATE_ROLE = _plate("京R6T4V8")
PLATE_TRUNCATED = _plate("京K2M7P3")
PLATE_LINE_BREAK = _plate("京M3K7T2", "京M\n3K7T2")

#: Every identifier the planted records carry.
PLANTED: tuple[PlantedIdentifier, ...] = tuple(
    v for k, v in dict(globals()).items() if isinstance(v, PlantedIdentifier) and k.isupper()
)


@dataclass(frozen=True)
class PlantedRecord:
    """A raw record as the ingest path sends it, and where it must end.

    Its fields are those of the simulator's records, so that
    :func:`pipelines.harness.simulator.produce.produce_records` sends it:
    ``source`` (the channel, whose raw topic it goes to), ``key``,
    ``value``, ``report_time_ms`` and ``malformed_kind``.
    """

    source: str
    key: str
    value: bytes
    report_time_ms: int
    #: The dead-letter reason code it must get, or None when it is normalized.
    expected_reason: str | None

    @property
    def malformed_kind(self) -> str | None:
        """What the producer counts it as: its expected dead-letter reason."""
        return self.expected_reason


def _iso(t: datetime) -> str:
    return t.isoformat(timespec="seconds")


def planted_records(start: datetime, village_lon: float, village_lat: float) -> list[PlantedRecord]:
    """The adversarial records, all at one village, in the first three hours of two days.

    ``start`` is timezone-aware; record ``i`` happens on day ``i % 2`` after
    it, in hour ``(i // 2) % 3``: the hours of the day that the detection
    scenario scores, whose baselines the records can only raise. The
    location is a WGS-84 village centre of the district, reported in each
    channel's own system.
    """
    from pipelines.harness.simulator.records import reported_location

    records: list[PlantedRecord] = []

    def event_time():
        i = len(records)
        return start + timedelta(days=i % 2, hours=(i // 2) % 3, minutes=5 + 7 * (i // 6))

    def envelope(channel, event_id, category, persons, vehicles, attributes):
        event = event_time()
        return {
            "schema_version": 1,
            "event_id": event_id,
            "source": channel,
            "category": category,
            "event_time": _iso(event),
            "report_time": _iso(event + timedelta(minutes=2)),
            "location": reported_location(channel, village_lon, village_lat),
            "persons": persons,
            "vehicles": vehicles,
            "attributes": attributes,
        }

    def add(channel, obj_or_bytes, expected=None, key=None):
        report_ms = int((event_time() + timedelta(minutes=2)).timestamp() * 1000)
        if isinstance(obj_or_bytes, dict):
            key = obj_or_bytes["event_id"]
            value = json.dumps(obj_or_bytes, ensure_ascii=False).encode("utf-8")
        else:
            value = obj_or_bytes
        records.append(PlantedRecord(channel, key, value, report_ms, expected))

    # --- valid records: normalized, every identifier scrubbed or hashed ----
    add(
        "grid",
        envelope(
            "grid",
            "grid-pii-0001",
            GRID_CATEGORY,
            [
                {
                    "role": "reporter",
                    "name": NAME_PERSON.canonical,
                    "phone": PHONE_PERSON.written[0],
                    "id_number": ID_PLAIN.canonical,
                }
            ],
            [],
            {
                "reporter_id": "G-0001",
                "description": (
                    f"{NAME_PERSON.canonical}反映：身份证号{ID_SPACES.written[0]}的住户"
                    f"（{ID_PLAIN.canonical}）门口垃圾三天未清运，手机{PHONE_DOTS.written[0]}，"
                    f"另一号码{PHONE_SPACES.written[0]}，本人电话{PHONE_PERSON.canonical}；"
                    f"{NAME_PERSON.written[0]}说要投诉。"
                ),
            },
        ),
    )
    add(
        "grid",
        envelope(
            "grid",
            "grid-pii-0002",
            GRID_CATEGORY,
            [{"role": NAME_ROLE.canonical, "phone": PHONE_PERSON_PLUS86.written[0]}],
            [],
            {
                "reporter_id": "G-0002",
                "description": (
                    f"垃圾站满了。联系{PHONE_EM_DASH.written[0]}或{PHONE_PLUS86.written[0]}，"
                    f"也可{PHONE_FULLWIDTH.written[0]}，{PHONE_GLUED_LATIN.written[0]}，"
                    f"{PHONE_GLUED_CJK.written[0]}，座机{LANDLINE.written[0]}，"
                    f"物业{LANDLINE_EXT.written[0]}，国际{PHONE_0086.written[0]}。"
                    f"换行的{PHONE_LINE_BREAK.written[0]}、{PHONE_CRLF.written[0]}，"
                    f"{PHONE_SLASHES.written[0]}，{PHONE_UNDERSCORES.written[0]}，"
                    f"大写{PHONE_FINANCIAL.written[0]}，{PHONE_FULLWIDTH_PLUS86.written[0]}；"
                    f"车牌{PLATE_LINE_BREAK.written[0]}。"
                ),
            },
        ),
    )
    add(
        "grid",
        envelope(
            "grid",
            "grid-pii-0003",
            GRID_CATEGORY,
            [{"role": "witness", "name": NAME_WITNESS.canonical, "id_number": ID_OLD.canonical}],
            [],
            {
                "reporter_id": "G-0003",
                "description": (
                    f"姓名：{NAME_LABEL.canonical}，住3号楼。现场有，{NAME_MISTER.canonical}先生"
                    f"、{NAME_MADAM.canonical}女士，联系人{NAME_CONTACT.canonical}，"
                    f"目击{NAME_WITNESS.canonical}。老身份证{ID_OLD.canonical}，"
                    f"旧证{ID_OLD_SPACES.written[0]}，新证{ID_DASHES.written[0]}，"
                    f"{ID_X_GLUED.written[0]}。证件{ID_LINE_BREAK.written[0]}，"
                    f"{ID_LOWER_X.written[0]}，{ID_SLASHES.written[0]}。\n"
                    f"姓名：{NAME_NUMERAL_LABEL.canonical}，联系人{NAME_NUMERAL_CONTACT.canonical}称"
                    f"{NAME_NUMERAL_MISTER.canonical}先生在场；姓名：{NAME_DOTTED.canonical}；"
                    f"姓名：{NAME_SPACED.written[0]}，男；姓名：{NAME_LATIN_LABEL.canonical}，"
                    f"联系人 {NAME_LATIN_CONTACT.canonical}称，name: {NAME_LATIN_ENGLISH.canonical}。"
                ),
            },
        ),
    )
    add(
        "grid",
        envelope(
            "grid",
            f"grid-pii-{PHONE_IN_EVENT_ID.canonical}-{ID_IN_EVENT_ID.canonical}",
            GRID_CATEGORY,
            [{"role": PHONE_PERSON_ROLE.canonical, "id_number": ID_FULLWIDTH.written[0]}],
            [],
            {
                "reporter_id": PHONE_REPORTER_ID.canonical,
                "description": "垃圾桶满溢。",
                PHONE_ATTRIBUTE_NAME.canonical: "备用电话",
                f"身份证{ID_IN_ATTRIBUTE_NAME.canonical}": "附注",
                "phone_backup": PHONE_UNDECLARED.canonical,
            },
        ),
    )
    add(
        "hotline",
        envelope(
            "hotline",
            "hotline-pii-0001",
            HOTLINE_CATEGORY,
            [{"role": "来电人", "name": NAME_HOTLINE.canonical, "phone": PHONE_HOTLINE.canonical}],
            [],
            {
                "ticket_no": f"12345-{PHONE_TICKET.canonical}",
                "text": (
                    f"我是{NAME_HOTLINE.canonical}，手机号{PHONE_HOTLINE.canonical}，"
                    f"身份证号码{ID_HOTLINE.written[0]}，反映商铺价格欺诈。"
                ),
            },
        ),
    )
    add(
        "video",
        envelope(
            "video",
            "video-pii-0001",
            VIDEO_CATEGORY,
            [],
            [{"role": "observed", "plate": PLATE_DOT.written[0]}],
            {
                "device_id": f"lpr-{PLATE_DEVICE.canonical}",
                "site_id": f"site-{PHONE_SITE_ID.canonical}",
                "device_kind": "lpr",
                "lane": PLATE_DOT.written[1],
                "confidence": 0.93,
            },
        ),
    )
    add(
        "video",
        envelope(
            "video",
            f"video-pii-{PLATE_SECOND.canonical}",
            VIDEO_CATEGORY,
            [],
            [
                {"role": PLATE_ROLE.canonical, "plate": PLATE_SECOND.written[0]},
                {"role": PHONE_VEHICLE_ROLE.canonical, "plate": PLATE_DOT.canonical},
            ],
            {
                "device_id": "lpr-0007",
                "site_id": "site-0007",
                "device_kind": "lpr",
                # A declared number that reads as a phone.
                "lane": int(PHONE_NUMERIC_ATTRIBUTE.canonical),
            },
        ),
    )
    # --- malformed records: dead-lettered, their raw text scrubbed ---------
    truncated = envelope(
        "grid",
        "grid-pii-trunc",
        GRID_CATEGORY,
        [
            {
                "role": "reporter",
                "name": NAME_TRUNCATED.canonical,
                "phone": PHONE_TRUNCATED.canonical,
                "id_number": ID_TRUNCATED.canonical,
            }
        ],
        [{"role": "involved", "plate": PLATE_TRUNCATED.canonical}],
        {"reporter_id": "G-0009", "description": f"{NAME_TRUNCATED.canonical}的车乱停"},
    )
    text = json.dumps(truncated, ensure_ascii=False)
    cut = text.index(PLATE_TRUNCATED.canonical) + len(PLATE_TRUNCATED.canonical)
    add("grid", text[: cut + 1].encode("utf-8"), "invalid_json", key="grid-pii-trunc")
    bad_bytes = (
        b'{"schema_version":1,"event_id":"hotline-pii-bytes","source":"hotline",'
        b'"attributes":{"ticket_no":"T-1","text":"\xff'
        + PHONE_BAD_BYTES.canonical.encode()
        + b"\xfe \xc3"
        + ID_BAD_BYTES.canonical.encode()
        + b"\xc3 \xe4\xb8"
        + ("姓名" + NAME_BAD_BYTES.canonical).encode("utf-8")
        + b'\x80"}}'
    )
    add("hotline", bad_bytes, "invalid_encoding", key="hotline-pii-bytes")
    wrong = envelope(
        "video",
        "video-pii-wrong",
        VIDEO_CATEGORY,
        [
            f"姓名：{NAME_WRONG_TYPE.canonical} {PHONE_WRONG_TYPE.written[0]} "
            f"{ID_WRONG_TYPE.canonical}",
            {"role": "caller", "phone": int(PHONE_NUMERIC_PERSON.canonical)},
        ],
        [],
        {"device_id": "lpr-0008", "site_id": "site-0008", "device_kind": "lpr"},
    )
    add("video", wrong, "wrong_type")
    unknown = envelope(
        "grid",
        "grid-pii-unknown",
        "public_order.ufo_sighting",
        [{"role": "caller", "name": NAME_UNKNOWN_CATEGORY.canonical}],
        [],
        {
            "reporter_id": "G-0010",
            "description": (
                f"{NAME_UNKNOWN_CATEGORY.canonical}说看到不明飞行物，"
                f"电话{PHONE_UNKNOWN_CATEGORY.written[0]}"
            ),
        },
    )
    add("grid", unknown, "unknown_category")
    surrogate = envelope(
        "grid",
        "grid-pii-surrogate",
        GRID_CATEGORY,
        [],
        [],
        {"reporter_id": "G-0011", "description": "SURROGATE"},
    )
    text = json.dumps(surrogate, ensure_ascii=True).replace(
        "SURROGATE", f"\\ud800电话{PHONE_SURROGATE.canonical}\\udfff"
    )
    add("grid", text.encode("utf-8"), "invalid_encoding", key="grid-pii-surrogate")
    # A grid record sent to the hotline topic.
    mismatch = envelope(
        "grid",
        "grid-pii-mismatch",
        GRID_CATEGORY,
        [{"role": "caller", "id_number": ID_MISMATCH.canonical}],
        [],
        {"reporter_id": "G-0012", "description": f"电话{PHONE_MISMATCH.canonical}"},
    )
    records.append(
        PlantedRecord(
            "hotline",
            mismatch["event_id"],
            json.dumps(mismatch, ensure_ascii=False).encode("utf-8"),
            int((event_time() + timedelta(minutes=2)).timestamp() * 1000),
            "source_mismatch",
        )
    )
    return records


# ---------------------------------------------------------------------------
# Scanning
# ---------------------------------------------------------------------------

_SEPARATORS = frozenset(NUMBER_SEPARATORS) | {"+"}
_SQUEEZE = {ord(c): None for c in _SEPARATORS}


# A line break inside a JSON string is written as an escape (``\\n``,
# ``\\u2028``): decoded before searching, so that ``1391001\\n0031`` is seen.
_JSON_BREAK_ESCAPE = re.compile(r"\\(?:[nrtfb]|u[0-9a-fA-F]{4})")
_SIMPLE_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", "f": "\f", "b": "\b"}


def _unescape_breaks(text: str) -> str:
    def decode(m):
        code = m.group()[1:]
        return _SIMPLE_ESCAPES.get(code) or chr(int(code[1:], 16))

    return _JSON_BREAK_ESCAPE.sub(decode, text)


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold()


def _squeeze(text: str) -> str:
    return unicodedata.normalize("NFKC", text).translate(_SQUEEZE)


@dataclass(frozen=True)
class ScannedText:
    """A text prepared once for many searches: JSON breaks decoded, folded, squeezed.

    ``folded`` is the text NFKC-folded and case-folded; ``squeezed`` the same
    with every number separator (line breaks too) removed.
    """

    folded: str
    squeezed: str

    @classmethod
    def of(cls, text: str) -> ScannedText:
        text = _unescape_breaks(text)
        return cls(_fold(text), _fold(_squeeze(text)))


def find_in_clear(text: str | ScannedText, identifiers=PLANTED, clear_values=()) -> list[str]:
    """Every planted identifier (any form) and clear value found in ``text``.

    The text's JSON escapes (``\\n``, ``\\u2028``) are decoded, it is folded
    (NFKC, so full-width digits are ASCII; case-folded) and searched as it
    is and with every number separator (line breaks too) removed; a text
    searched many times is prepared once (:class:`ScannedText`).
    ``clear_values`` are other identifiers in their canonical form (the
    simulator's), looked for as whole ASCII runs (a plate's tail after its
    province), since a token's hex digits could hold any short digit run.
    Returns one line per find: the form found and an excerpt around it.
    """
    scanned = text if isinstance(text, ScannedText) else ScannedText.of(text)
    found = []
    for identifier in identifiers:
        for needle in sorted(identifier.needles()):
            for where, haystack in (
                ("", scanned.folded),
                (" (separators removed)", scanned.squeezed),
            ):
                at = haystack.find(needle)
                if at >= 0:
                    excerpt = haystack[max(0, at - 40) : at + len(needle) + 40]
                    found.append(
                        f"{identifier.kind} {identifier.canonical} as {needle!r}{where}: "
                        f"…{excerpt}…"
                    )
                    break
            else:
                continue
            break
    if clear_values:
        tokens = set(re.findall(r"[0-9A-Za-z]+", scanned.folded))
        wanted = {(v if v.isascii() else v[1:]).casefold() for v in clear_values}
        found.extend(f"clear value {v!r}" for v in sorted(tokens & wanted))
    return found


def pattern_matches_in_strings(text: str) -> list[str]:
    """ID numbers, phones and plates the generic patterns find in the strings of JSON lines.

    Only string values and object keys are searched: a float's digits may
    read as a phone number. Lines that are not JSON are searched whole.
    """
    found = []
    for line in text.splitlines():
        try:
            strings = list(_strings(json.loads(line)))
        except ValueError:
            strings = [line]
        for s in strings:
            for pattern in (ID_NUMBER_PATTERN, PHONE_PATTERN, PLATE_PATTERN):
                found.extend(m.group(0) for m in pattern.finditer(s))
    return found


def _strings(obj):
    stack = [obj]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            yield item
        elif isinstance(item, dict):
            for k, v in item.items():
                yield k
                stack.append(v)
        elif isinstance(item, list):
            stack.extend(item)


def topic_text(settings, topic: str) -> str:
    """Keys, values and headers of every record of a topic, one record a line."""
    from .kafka_read import read_messages

    lines = []
    for message in read_messages(settings, topic):
        parts = [message.key() or b"", message.value() or b""]
        for name, value in message.headers() or []:
            parts += [name.encode(), value or b""]
        lines.append(" ".join(p.decode("utf-8", "replace") for p in parts))
    return "\n".join(lines)


def lake_texts(settings) -> dict[str, str]:
    """Every file under the lake folder as text, by path: Parquet rows as JSON lines."""
    import pyarrow.parquet as pq

    texts = {}
    root = Path(settings.lake)
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        if path.suffix == ".parquet":
            rows = pq.read_table(path).to_pylist()
            text = "\n".join(json.dumps(r, ensure_ascii=False, default=str) for r in rows)
        else:
            text = path.read_bytes().decode("utf-8", "replace")
        texts[str(path.relative_to(root))] = text
    return texts


def postgres_text(settings) -> dict[str, str]:
    """Every row of every table and view of the serving schema, as text, by table."""
    import psycopg2

    schema = settings.pg["schema"]
    texts = {}
    with psycopg2.connect(settings.pg_dsn()) as conn, conn.cursor() as cur:
        cur.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = %s",
            (schema,),
        )
        for (table,) in sorted(cur.fetchall()):
            cur.execute(f'SELECT t::text FROM {schema}."{table}" t')
            texts[table] = "\n".join(r[0] for r in cur.fetchall())
    conn.close()
    return texts


def chart_texts(api) -> dict[str, str | None]:
    """The data of every chart Superset holds, as JSON lines, by chart name.

    A chart whose table the serving schema does not have yet (the graph's,
    before the nightly graph job ran there) maps to None; any other failed
    query raises.
    """
    from pipelines.errors import ServiceError

    charts = api.get("/api/v1/chart/", q="(page_size:100)")["result"]
    texts = {}
    for chart in charts:
        try:
            rows = api.chart_data(chart["id"], force=True)
        except ServiceError as exc:
            if "does not exist" not in str(exc):
                raise
            texts[chart["slice_name"]] = None
            continue
        texts[chart["slice_name"]] = "\n".join(
            json.dumps(r, ensure_ascii=False, default=str) for r in rows
        )
    return texts


def flink_log_files() -> list[Path]:
    """The log files PyFlink's local cluster writes (rewritten by each job's JVM)."""
    import pyflink

    folder = Path(pyflink.__file__).parent / "log"
    return sorted(p for p in folder.glob("*") if p.is_file())


def flink_log_text() -> str:
    """The current content of PyFlink's logs; a job's log is gone when the next job starts."""
    return "\n".join(p.read_bytes().decode("utf-8", "replace") for p in flink_log_files())


def log_texts(settings, since: float) -> dict[str, str]:
    """The services' logs, by path.

    ``var/log`` (Kafka, Superset, the demo's jobs), PostgreSQL's server log,
    PyFlink's logs, and the Python UDF workers' boot logs that Flink leaves
    in the temporary folder (those modified since ``since``, epoch seconds;
    the folder is shared with other checkouts).
    """
    import hashlib
    import tempfile

    var = Path(settings.var)
    files = [p for p in (var / "log").rglob("*") if p.is_file()]
    digest = hashlib.sha256(str(var).encode()).hexdigest()[:12]
    for pg_log in (
        var / "postgres" / "postgres.log",
        Path("/var/lib/postgresql") / f"zongzhi-{digest}" / "postgres.log",
    ):
        if pg_log.is_file():
            files.append(pg_log)
    files += flink_log_files()
    for folder in Path(tempfile.gettempdir()).glob("python-dist-*"):
        files += [p for p in folder.glob("*.log") if p.stat().st_mtime >= since]
    return {str(p): p.read_bytes().decode("utf-8", "replace") for p in files}
