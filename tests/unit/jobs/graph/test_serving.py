from jobs.graph.serving import serving_shape_changed

COMPANIONS = [
    ("as_of", "string"),
    ("vehicle_a", "string"),
    ("co_occurrences", "bigint"),
    ("expected", "double"),
    ("companion", "boolean"),
]


def test_no_table_yet_is_not_a_change():
    assert not serving_shape_changed([], COMPANIONS)


def test_the_same_columns_holding_the_same_kinds_are_kept():
    table = [
        ("as_of", "text"),
        ("vehicle_a", "text"),
        ("co_occurrences", "bigint"),
        ("expected", "double precision"),
        ("companion", "boolean"),
    ]
    assert not serving_shape_changed(table, COMPANIONS)


def test_integer_width_and_float_width_do_not_matter():
    table = [
        ("as_of", "character varying"),
        ("vehicle_a", "text"),
        ("co_occurrences", "integer"),
        ("expected", "real"),
        ("companion", "boolean"),
    ]
    assert not serving_shape_changed(table, COMPANIONS)


def test_text_written_into_integer_columns_is_a_change():
    # What an empty night's frame left behind: its text columns typed as integers.
    table = [
        ("as_of", "integer"),
        ("vehicle_a", "integer"),
        ("co_occurrences", "bigint"),
        ("expected", "double precision"),
        ("companion", "boolean"),
    ]
    assert serving_shape_changed(table, COMPANIONS)


def test_renamed_reordered_or_missing_columns_are_a_change():
    table = [
        ("as_of", "text"),
        ("vehicle_a", "text"),
        ("co_occurrences", "bigint"),
        ("expected", "double precision"),
        ("companion", "boolean"),
    ]
    assert serving_shape_changed(table[1:], COMPANIONS)
    assert serving_shape_changed([table[1], table[0], *table[2:]], COMPANIONS)
    assert serving_shape_changed([*table[:-1], ("is_companion", "boolean")], COMPANIONS)


def test_arrays_and_types_unknown_to_either_side_match():
    assert not serving_shape_changed([("persons", "ARRAY")], [("persons", "array<string>")])
    assert not serving_shape_changed([("where", "USER-DEFINED")], [("where", "string")])
    assert serving_shape_changed([("persons", "ARRAY")], [("persons", "string")])
