"""The trained hotline router with the platform's classes and departments: what `classify` and the stream use.

:func:`load_platform_router` reads the artifact's card
(``hotline_routing.artifact`` under the state folder), checks that the
declared classes file maps every label it predicts, and takes each
category's department from its work-order rule. The
:class:`PlatformRouter` it returns loads the model itself (verified against
its card) only on first use, and leaves it behind when pickled: the
normalization job ships it to its Python workers as a few hundred bytes,
and each worker loads the model once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from features.hotline_classes import message_routing
from features.taxonomy import CATEGORIES_BY_SOURCE
from models.hotline_routing import HotlineRouter, chinese_share, clean_message
from pipelines.errors import SettingsError
from pipelines.io.platform_state import load_hotline_classes, load_work_order_rules
from pipelines.io.router_artifact import CARD_FILE, load_card, load_router
from pipelines.settings import Settings

__all__ = ["PlatformRouter", "has_router", "load_platform_router", "router_folder"]

_KEYS = ["artifact", "classes_file", "min_chinese_share"]


@dataclass
class PlatformRouter:
    """A router artifact, its card, and the platform's names for what it predicts.

    ``route_text(text)`` gives one message's routing as an event records it:
    the model version, the router's class (``label``), its probability, the
    category and department, and whether (and why) a dispatcher should read
    it.
    """

    folder: Path
    card: dict
    categories: dict[str, str]
    departments: dict[str, str]
    min_chinese_share: float
    _router: HotlineRouter | None = field(default=None, repr=False, compare=False)

    @property
    def version(self) -> str:
        """The model version events routed by it carry."""
        return str(self.card["version"])

    @property
    def router(self) -> HotlineRouter:
        """The fitted router, loaded and verified on first use."""
        if self._router is None:
            router, card = load_router(self.folder)
            if card.get("version") != self.version:
                raise SettingsError(
                    f"hotline router {self.folder} changed from {self.version} to "
                    f"{card.get('version')} while a job was using it: restart the job"
                )
            self._router = router
        return self._router

    def route_text(self, text: object) -> dict:
        """One message's routing, as the normalized event carries it."""
        clean = clean_message(text)
        result = self.router.route_one(clean) if clean else None
        return {
            "model_version": self.version,
            **message_routing(
                result,
                chinese_share(clean),
                self.min_chinese_share,
                self.categories,
                self.departments,
            ),
        }

    def __getstate__(self) -> dict:
        return {**self.__dict__, "_router": None}


def router_folder(settings: Settings) -> Path:
    """Where ``zongzhi train classifier`` writes the router: ``hotline_routing.artifact`` under the state folder."""
    return settings.var / settings.section("hotline_routing", _KEYS)["artifact"]


def load_platform_router(settings: Settings, folder: Path | None = None) -> PlatformRouter:
    """The router at ``folder`` (by default the platform's), with its classes and departments.

    Raises :class:`SettingsError` in one line when there is no usable
    artifact there or it predicts a class the classes file does not map.
    """
    section = settings.section("hotline_routing", _KEYS)
    folder = folder or router_folder(settings)
    card = load_card(folder)
    classes = load_hotline_classes(settings)
    unmapped = sorted(set(card["labels"]) - set(classes))
    if unmapped:
        raise SettingsError(
            f"router {card['version']} predicts {unmapped}, which {section['classes_file']} "
            "does not map to a category: map them, or run `zongzhi train classifier`"
        )
    rules = load_work_order_rules(settings)
    departments = {c: rules.rule_for(c).department for c in CATEGORIES_BY_SOURCE["hotline"]}
    return PlatformRouter(
        folder=folder,
        card=card,
        categories=classes,
        departments=departments,
        min_chinese_share=float(section["min_chinese_share"]),
    )


def has_router(folder: Path) -> bool:
    """Whether a router has been trained into ``folder`` (its card is there)."""
    return (folder / CARD_FILE).is_file()
