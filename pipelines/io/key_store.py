"""The pseudonymization key store: one key file per version under ``var/secrets/``.

Layout (``pseudonymization.key_dir``, relative to ``ZONGZHI_VAR``)::

    secrets/            mode 700
      pseudonym_keys/   mode 700
        v1.key          mode 600, 64 hex digits (32 random bytes)
        v2.key          ...

Versions are consecutive from 1; the highest is the current one. A key
file or folder that other users can read or write is refused (as ``ssh``
refuses a readable private key), and so is a key of fewer than 32 random
bytes (:func:`features.key_chain.load_key`). The environment variable
``pseudonymization.key_env``, when set, replaces the store: the keys in hex,
oldest first, separated by commas; such keys are rotated by the operator,
not by ``zongzhi keys rotate``.

A key file of the time before versions (``pseudonymization.legacy_key_file``)
becomes version 1 the first time the store is opened.
"""

from __future__ import annotations

import os
import re
import secrets
import stat
from pathlib import Path

from features.key_chain import MIN_KEY_BYTES, KeyChain, key_chain, load_key
from pipelines.errors import SettingsError, UsageError
from pipelines.settings import Settings

__all__ = ["KeyStore", "key_store"]

_VERSION_FILE = re.compile(r"v([1-9][0-9]*)\.key")


class KeyStore:
    """The versioned keys named by the settings; reads and writes nothing until asked."""

    def __init__(self, folder: Path, legacy_file: Path | None, env_name: str):
        self.folder = Path(folder)
        self.legacy_file = legacy_file
        self.env_name = env_name

    # --- reading -------------------------------------------------------------
    @property
    def from_environment(self) -> bool:
        """Whether the keys come from the environment variable instead of the files."""
        return bool(os.environ.get(self.env_name))

    def versions(self) -> list[int]:
        """The versions of the key files, in order; refuses a gap."""
        if not self.folder.is_dir():
            return []
        found = sorted(
            int(m.group(1))
            for m in (_VERSION_FILE.fullmatch(p.name) for p in self.folder.iterdir())
            if m
        )
        if found != list(range(1, len(found) + 1)):
            raise SettingsError(
                f"pseudonymization key files in {self.folder} are versions {found}, but must be "
                "1..n without a gap; restore the missing key file from the backup"
            )
        return found

    def path(self, version: int) -> Path:
        """The file of a key version."""
        return self.folder / f"v{version}.key"

    def chain(self, create: bool = False) -> KeyChain:
        """Every key, oldest first; with ``create``, a store without keys gets version 1."""
        try:
            return self._chain(create)
        except ValueError as exc:  # a refused key: the configuration is wrong
            raise SettingsError(str(exc)) from None

    def _chain(self, create: bool) -> KeyChain:
        env = os.environ.get(self.env_name)
        if env:
            parts = env.split(",")
            return key_chain(
                [load_key(p, f"{self.env_name} key v{i}") for i, p in enumerate(parts, start=1)]
            )
        self._adopt_legacy()
        versions = self.versions()
        if not versions:
            if not create:
                raise SettingsError(
                    f"no pseudonymization key in {self.folder}; set {self.env_name} or run "
                    "`zongzhi infra up`"
                )
            self.add_version()
            versions = self.versions()
        self._check_private(self.folder)
        keys = []
        for version in versions:
            path = self.path(version)
            self._check_private(path)
            keys.append(load_key(path.read_text(), f"pseudonymization key file {path}"))
        return key_chain(keys)

    # --- writing -------------------------------------------------------------
    def add_version(self) -> int:
        """Write a new random key as the next version (mode 600, never overwriting); its version."""
        if self.from_environment:
            raise UsageError(
                f"the pseudonymization keys come from {self.env_name}; append a new key "
                "there (comma-separated, `openssl rand -hex 32`) instead"
            )
        self._make_private_folder()
        version = len(self.versions()) + 1
        path = self.path(version)
        aside = self.folder / f".v{version}.key.tmp"
        fd = os.open(aside, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_hex(MIN_KEY_BYTES) + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        # A link fails if the version exists (two rotations at once): never overwrite a key.
        try:
            os.link(aside, path)
        except FileExistsError:
            raise SettingsError(
                f"pseudonymization key {path} appeared while writing it; another rotation "
                "ran at the same time; check `zongzhi keys status`"
            ) from None
        finally:
            os.unlink(aside)
        return version

    # --- helpers -------------------------------------------------------------
    def _make_private_folder(self) -> None:
        for folder in (self.folder.parent, self.folder):
            folder.mkdir(mode=0o700, parents=True, exist_ok=True)
            os.chmod(folder, 0o700)

    def _adopt_legacy(self) -> None:
        legacy = self.legacy_file
        if legacy is None or not legacy.is_file() or self.versions():
            return
        self._make_private_folder()
        os.chmod(legacy, 0o600)
        os.replace(legacy, self.path(1))

    @staticmethod
    def _check_private(path: Path) -> None:
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077:
            fix = "700" if path.is_dir() else "600"
            raise SettingsError(
                f"pseudonymization key path {path} has mode {mode:o}, but other users must "
                f"not reach it; run `chmod {fix} {path}`"
            )


def key_store(settings: Settings) -> KeyStore:
    """The key store the ``pseudonymization:`` section names."""
    p = settings.section("pseudonymization", ("key_env", "key_dir"))
    legacy = dict(p).get("legacy_key_file")
    return KeyStore(
        folder=settings.var / p["key_dir"],
        legacy_file=settings.var / legacy if legacy else None,
        env_name=p["key_env"],
    )
