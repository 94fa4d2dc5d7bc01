import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.feature_extraction.text import TfidfVectorizer

from features.char_ngrams import CharNgramTfidf, ngram_code

TRAIN = [
    "小区物业乱收停车费",
    "老旧小区加装电梯  问题",
    "Bus 12 is late\t\tagain",
    "医院乱收费。医院乱收费。医生态度恶劣",
    "😀 表情 😀",
]
# Texts in the shapes real messages take: Chinese, Latin, digits, runs of blanks, emoji.
TEXTS = st.lists(
    st.text(
        alphabet=st.sampled_from(list("小区物业医院电梯收费。 \t\nABab12😀é")),
        max_size=60,
    ),
    min_size=1,
    max_size=8,
)


def _reference(ngram_range, min_df=1):
    return TfidfVectorizer(
        analyzer="char", ngram_range=ngram_range, min_df=min_df, sublinear_tf=True
    ).fit(TRAIN)


@pytest.mark.parametrize("ngram_range", [(1, 1), (1, 2), (1, 3), (2, 3), (3, 3), (2, 4)])
@settings(max_examples=40, deadline=None)
@given(texts=TEXTS)
def test_the_matrix_is_scikit_learns(ngram_range, texts):
    fast = CharNgramTfidf(ngram_range=ngram_range).fit(TRAIN).transform(texts)
    reference = _reference(ngram_range).transform(texts)
    assert fast.shape == reference.shape
    assert fast.nnz == reference.nnz
    assert abs(fast - reference).max() < 1e-12 if fast.nnz else True


@pytest.mark.parametrize("ngram_range", [(1, 2), (1, 3), (2, 4)])
@settings(max_examples=40, deadline=None)
@given(texts=TEXTS)
def test_one_texts_row_is_its_row_of_the_matrix(ngram_range, texts):
    vectorizer = CharNgramTfidf(ngram_range=ngram_range).fit(TRAIN)
    matrix = vectorizer.transform(texts)
    for i, text in enumerate(texts):
        columns, weights = vectorizer.row(text)
        expected = matrix.getrow(i)
        expected.sort_indices()
        np.testing.assert_array_equal(columns, expected.indices)
        np.testing.assert_allclose(weights, expected.data, rtol=0, atol=1e-12)


def test_min_df_and_the_vocabulary_are_scikit_learns():
    fast = CharNgramTfidf(ngram_range=(1, 2), min_df=2).fit(TRAIN)
    reference = _reference((1, 2), min_df=2)
    assert list(fast.get_feature_names_out()) == list(reference.get_feature_names_out())
    np.testing.assert_array_equal(fast.idf_, reference.idf_)


def test_a_text_of_unseen_or_no_characters_is_a_zero_row():
    vectorizer = CharNgramTfidf().fit(TRAIN)
    rows = vectorizer.transform(["", "ZZZ", "Ω"])
    assert rows.shape == (3, vectorizer.idf_.size)
    assert rows.nnz == 0


def test_ngrams_of_different_lengths_never_share_a_code():
    assert ngram_code("\0a") != ngram_code("a")
    assert ngram_code("\0\0a") != ngram_code("\0a")
    assert ngram_code("\U0010ffff" * 3) < 2**64
