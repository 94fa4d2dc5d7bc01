"""The ACLs infra/kafka.sh grants, from the principals' roles in the config."""

import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
CONFIG = ROOT / "infra" / "config" / "zongzhi.yaml"
RAW = ("zz.raw.grid", "zz.raw.hotline", "zz.raw.video")


def _grants(tmp_path) -> list[str]:
    out = subprocess.run(
        ["bash", str(ROOT / "infra" / "kafka.sh"), "acls"],
        env={
            "PATH": "/usr/bin:/bin",
            "HOME": str(tmp_path),
            "ZONGZHI_CONFIG": str(CONFIG),
            "ZONGZHI_VAR": str(tmp_path / "var"),
        },
        capture_output=True,
        text=True,
        check=True,
    )
    return out.stdout.splitlines()


def test_only_the_normalizer_reads_the_raw_topics(tmp_path):
    grants = _grants(tmp_path)
    readers = {
        line.split()[1] for line in grants if "--operation Read" in line and line.split()[-1] in RAW
    }
    assert readers == {"User:normalizer"}


def test_only_ingest_writes_the_raw_topics_and_platform_only_describes_them(tmp_path):
    grants = _grants(tmp_path)
    raw = [line for line in grants if line.split()[-1] in RAW]
    assert sorted(raw) == sorted(
        [
            f"--allow-principal User:ingest --operation Write --operation Describe --topic {t}"
            for t in RAW
        ]
        + [
            f"--allow-principal User:normalizer --operation Read --operation Describe --topic {t}"
            for t in RAW
        ]
        + [f"--allow-principal User:platform --operation Describe --topic {t}" for t in RAW]
    )


def test_flink_producers_may_use_transactional_ids_under_the_prefix(tmp_path):
    grants = _grants(tmp_path)
    assert [line.split()[1] for line in grants if "--transactional-id zongzhi " in line] == [
        "User:normalizer",
        "User:platform",
    ]
