"""Tests for pipelines.io.key_store: versioned key files, private modes, refused keys."""

import os
import secrets
import stat
from pathlib import Path

import pytest

from pipelines.errors import SettingsError, UsageError
from pipelines.io.key_store import key_store
from pipelines.settings import Settings

ENV = "ZONGZHI_TEST_PSEUDONYM_KEY"


def _settings(var: Path) -> Settings:
    raw = {
        "pseudonymization": {
            "key_env": ENV,
            "key_dir": "secrets/pseudonym_keys",
            "legacy_key_file": "secrets/pseudonym.key",
        }
    }
    return Settings(raw=raw, root=var, var=var)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(autouse=True)
def no_env(monkeypatch):
    monkeypatch.delenv(ENV, raising=False)


def test_a_new_store_gets_version_1_in_private_files(tmp_path):
    store = key_store(_settings(tmp_path))
    with pytest.raises(SettingsError, match=r"no pseudonymization key in .*pseudonym_keys; set "):
        store.chain()
    chain = store.chain(create=True)
    assert chain.version == 1 and len(chain.key(1)) == 32
    assert store.versions() == [1]
    assert _mode(store.path(1)) == 0o600
    assert _mode(store.folder) == 0o700 and _mode(store.folder.parent) == 0o700
    assert store.chain().keys == chain.keys  # read back the same


def test_versions_are_added_never_overwritten(tmp_path):
    store = key_store(_settings(tmp_path))
    first = store.chain(create=True)
    assert store.add_version() == 2
    chain = store.chain()
    assert chain.version == 2 and chain.key(1) == first.key(1) and chain.key(2) != chain.key(1)
    assert sorted(p.name for p in store.folder.iterdir()) == ["v1.key", "v2.key"]


def test_the_key_file_of_before_versions_becomes_version_1(tmp_path):
    legacy = tmp_path / "secrets" / "pseudonym.key"
    legacy.parent.mkdir()
    hex_key = secrets.token_hex(32)
    legacy.write_text(hex_key + "\n")
    os.chmod(legacy, 0o644)
    store = key_store(_settings(tmp_path))
    chain = store.chain()
    assert chain.version == 1 and chain.key(1) == bytes.fromhex(hex_key)
    assert not legacy.exists() and _mode(store.path(1)) == 0o600


def test_a_short_legacy_key_is_refused(tmp_path):
    legacy = tmp_path / "secrets" / "pseudonym.key"
    legacy.parent.mkdir()
    legacy.write_text(secrets.token_hex(16))  # 16 bytes: accepted before
    with pytest.raises(SettingsError, match=r"v1\.key is 16 bytes long, but at least 32 random"):
        key_store(_settings(tmp_path)).chain()


def test_readable_key_files_and_gaps_are_refused(tmp_path):
    store = key_store(_settings(tmp_path))
    store.chain(create=True)
    os.chmod(store.path(1), 0o644)
    with pytest.raises(SettingsError, match=r"v1\.key has mode 644, but other users must not"):
        store.chain()
    os.chmod(store.path(1), 0o600)
    os.chmod(store.folder, 0o755)
    with pytest.raises(SettingsError, match=r"pseudonym_keys has mode 755.*chmod 700"):
        store.chain()
    os.chmod(store.folder, 0o700)
    store.path(3).write_text(secrets.token_hex(32))
    with pytest.raises(SettingsError, match=r"are versions \[1, 3\], but must be 1\.\.n"):
        store.chain()


def test_keys_from_the_environment(tmp_path, monkeypatch):
    store = key_store(_settings(tmp_path))
    k1, k2 = secrets.token_hex(32), secrets.token_hex(32)
    monkeypatch.setenv(ENV, f"{k1},{k2}")
    chain = store.chain()
    assert chain.keys == (bytes.fromhex(k1), bytes.fromhex(k2))
    with pytest.raises(UsageError, match=rf"come from {ENV}; append a new key there"):
        store.add_version()
    # A passphrase of 16 bytes passed before; now it is refused.
    monkeypatch.setenv(ENV, "sixteen-byte-key")
    with pytest.raises(SettingsError, match=rf"^{ENV} key v1 is not hex digits"):
        store.chain()
    monkeypatch.setenv(ENV, "00112233445566778899aabbccddeeff")
    with pytest.raises(SettingsError, match=rf"^{ENV} key v1 is 16 bytes long"):
        store.chain()
