"""The trained hotline router on disk: the model and its card, versioned.

A folder (``hotline_routing.artifact``, under the state folder) holds two
files:

* ``model.joblib``: the fitted :class:`models.hotline_routing.HotlineRouter`;
* ``card.json``: what it is: the artifact ``format``, the model ``version``,
  the label set, the parameters and flagging threshold, the training data's
  fingerprint, the cross-validated metrics, the scikit-learn version it was
  fitted with, and the SHA-256 of ``model.joblib``.

The version is derived from the data's fingerprint, the parameters and the
format, so the same data and settings always give the same version, and
events routed by a model can be traced to the data it learned from.

A pickled model is code: it is loaded only when the card's hash matches,
from the platform's own state folder (mode 700). An artifact of another
format or scikit-learn version is refused in one line, naming both and
what to run.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import joblib
import pandas as pd
import sklearn

from models.hotline_routing import HotlineRouter
from pipelines.errors import SettingsError
from pipelines.io.private_files import write_private_text

__all__ = [
    "CARD_FILE",
    "FORMAT",
    "data_fingerprint",
    "model_version",
    "save_router",
    "load_card",
    "load_router",
]

#: The artifact layout this code writes and reads.
FORMAT = 1
MODEL_FILE = "model.joblib"
CARD_FILE = "card.json"
_RETRAIN = "run `zongzhi train classifier`"


def data_fingerprint(messages: pd.DataFrame) -> str:
    """SHA-256 over the training rows (``title``, ``body``, ``label``), in order.

    >>> data_fingerprint(pd.DataFrame({"title": ["a"], "body": ["b"], "label": ["c"]}))[:12]
    'a7c80705666e'
    """
    digest = hashlib.sha256()
    for row in messages[["title", "body", "label"]].itertuples(index=False):
        digest.update(json.dumps(list(map(str, row)), ensure_ascii=False).encode("utf-8"))
        digest.update(b"\n")
    return digest.hexdigest()


def model_version(fingerprint: str, params: dict) -> str:
    """``hr<format>-<12 hex>``: the same data and parameters give the same version.

    >>> model_version("ab" * 32, {"C": 1.0})
    'hr1-5c405b031a8f'
    """
    text = json.dumps({"format": FORMAT, "data": fingerprint, "params": params}, sort_keys=True)
    return f"hr{FORMAT}-{hashlib.sha256(text.encode()).hexdigest()[:12]}"


def save_router(folder: Path, router: HotlineRouter, card: dict) -> dict:
    """Write ``router`` and its card (completed with format, hashes and versions); the card."""
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    model_path = folder / MODEL_FILE
    aside = folder / f".{MODEL_FILE}.tmp"
    joblib.dump(router, aside)
    aside.chmod(0o600)
    sha = hashlib.sha256(aside.read_bytes()).hexdigest()
    full = {
        **card,
        "format": FORMAT,
        "sklearn": sklearn.__version__,
        "model_sha256": sha,
        "labels": [str(c) for c in router.classes_],
    }
    os.replace(aside, model_path)
    write_private_text(folder / CARD_FILE, json.dumps(full, ensure_ascii=False, indent=2) + "\n")
    return full


def load_card(folder: Path) -> dict:
    """The card of the router at ``folder``, checked to be readable here; :class:`SettingsError` in one line if not."""
    card_path = folder / CARD_FILE
    try:
        card = json.loads(card_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SettingsError(f"no hotline router at {folder}: {_RETRAIN}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise SettingsError(f"{card_path} is not a router card ({exc}): {_RETRAIN}") from None
    found = card.get("format") if isinstance(card, dict) else None
    if found != FORMAT:
        raise SettingsError(
            f"hotline router {folder} is artifact format {found!r}; this version of zongzhi "
            f"reads format {FORMAT}: {_RETRAIN}"
        )
    if card.get("sklearn") != sklearn.__version__:
        raise SettingsError(
            f"hotline router {card.get('version')} was fitted with scikit-learn "
            f"{card.get('sklearn')}, this environment has {sklearn.__version__}: {_RETRAIN}"
        )
    return card


def load_router(folder: Path) -> tuple[HotlineRouter, dict]:
    """The router and its card; :class:`SettingsError` in one line when it is absent or unusable."""
    card = load_card(folder)
    try:
        blob = (folder / MODEL_FILE).read_bytes()
    except FileNotFoundError:
        raise SettingsError(f"{folder / MODEL_FILE} is missing: {_RETRAIN}") from None
    if hashlib.sha256(blob).hexdigest() != card.get("model_sha256"):
        raise SettingsError(
            f"{folder / MODEL_FILE} does not match its card's hash (changed after training?): "
            f"{_RETRAIN}"
        )
    router = joblib.load(folder / MODEL_FILE)
    if not isinstance(router, HotlineRouter):
        raise SettingsError(f"{folder / MODEL_FILE} holds a {type(router).__name__}: {_RETRAIN}")
    return router, card
