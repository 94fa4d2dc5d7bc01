"""Run the planners' notebooks headless and export them: `zongzhi report`, `zongzhi notebook`.

A notebook in ``notebooks/`` is executed by papermill with its parameters,
in the project's own kernel (this venv's Python, the checkout on its path),
then exported to HTML without the code (nbconvert) and printed to PDF by
headless Debian Chromium. The executed notebook is kept beside them, so a
planner can open it and see every number's computation.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

from features.district import District
from models.monthly_report import MonthSpan, parse_month
from pipelines.errors import ServiceError, UsageError
from pipelines.io.platform_state import load_district
from pipelines.settings import Settings

__all__ = ["NOTEBOOKS", "run_notebook", "monthly_report", "checked_month", "checked_town"]

#: The notebooks that can be run, by name (``notebooks/<name>.ipynb``).
NOTEBOOKS = ("monthly_report", "trend_analysis")
CHROMIUM = os.environ.get("ZONGZHI_CHROMIUM", "/usr/bin/chromium")
#: How long one notebook may run.
NOTEBOOK_TIMEOUT_S = 900


def checked_month(month: str) -> MonthSpan:
    """The month ``YYYY-MM``, or a :class:`UsageError` naming it and what is allowed."""
    try:
        return parse_month(month)
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def checked_town(district: District, town: str | None) -> str | None:
    """The town code, or a :class:`UsageError` naming it and what is allowed."""
    if town is None:
        return None
    codes = [t.code for t in district.towns]
    if town not in codes:
        raise UsageError(
            f"--town {town!r} is not a town of {district.name}; allowed: one of "
            f"{', '.join(codes[:3])}, ... ({len(codes)} towns; `zongzhi jurisdictions check` lists them)"
        )
    return town


def _kernel_env(settings: Settings) -> dict:
    """What the kernel's environment adds to this process's: the checkout, inline figures."""
    return {
        "PYTHONPATH": os.pathsep.join(
            p for p in (str(settings.root), os.environ.get("PYTHONPATH", "")) if p
        ),
        # Figures go into the notebook (and so into the HTML), whatever the caller uses.
        "MPLBACKEND": "module://matplotlib_inline.backend_inline",
    }


def _html(executed: Path, html: Path) -> None:
    import nbformat
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(
        exclude_input=True, exclude_input_prompt=True, exclude_output_prompt=True
    )
    body, _ = exporter.from_notebook_node(nbformat.read(executed, as_version=4))
    html.write_text(body, encoding="utf-8")


def _pdf(html: Path, pdf: Path) -> None:
    if not Path(CHROMIUM).exists():
        raise ServiceError(
            f"{CHROMIUM} is missing: `bash infra/browser.sh ensure` installs Debian's chromium"
        )
    pdf.unlink(missing_ok=True)  # an older print must not pass for this one
    proc = subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-pdf-header-footer",
            f"--print-to-pdf={pdf}",
            html.resolve().as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    if proc.returncode != 0 or not pdf.exists() or pdf.stat().st_size == 0:
        raise ServiceError(f"printing {html.name} to PDF failed: {proc.stderr.strip()[-300:]}")


def run_notebook(settings: Settings, name: str, out: Path, parameters: dict, stem: str) -> dict:
    """Execute ``notebooks/<name>.ipynb`` into ``out`` as ``<stem>.ipynb/.html/.pdf``."""
    import papermill

    if name not in NOTEBOOKS:
        raise UsageError(f"notebook {name!r} is not one of: {', '.join(NOTEBOOKS)}")
    out.mkdir(parents=True, exist_ok=True)
    source = settings.root / "notebooks" / f"{name}.ipynb"
    executed, html, pdf, summary = (
        out / f"{stem}{suffix}" for suffix in (".ipynb", ".html", ".pdf", ".json")
    )
    started = time.monotonic()
    env = _kernel_env(settings)
    saved = dict(os.environ)
    os.environ.update(env)  # the kernel inherits this process's environment
    try:
        papermill.execute_notebook(
            str(source),
            str(executed),
            parameters={**parameters, "summary_file": str(summary)},
            kernel_name="python3",
            cwd=str(settings.root),
            progress_bar=False,
            execution_timeout=NOTEBOOK_TIMEOUT_S,
            log_output=False,
        )
    except papermill.PapermillExecutionError as exc:
        raise ServiceError(
            f"notebook {name} failed in cell {exc.exec_count}: {exc.ename}: {exc.evalue} "
            f"(the executed notebook is {executed})"
        ) from None
    finally:
        os.environ.clear()
        os.environ.update(saved)
    executed_s = time.monotonic() - started
    _html(executed, html)
    _pdf(html, pdf)
    return {
        "notebook": str(executed),
        "html": str(html),
        "pdf": str(pdf),
        "summary": str(summary),
        "execute_seconds": round(executed_s, 2),
        "seconds": round(time.monotonic() - started, 2),
    }


def monthly_report(
    settings: Settings, month: str, town: str | None, out: Path, lake: Path | None = None
) -> dict:
    """Write the monthly report of ``month`` (and ``town``) into ``out``; what it wrote and said."""
    span = checked_month(month)
    town = checked_town(load_district(settings), town)
    stem = f"monthly_report_{span.month}_{town or 'district'}"
    report = run_notebook(
        settings,
        "monthly_report",
        out,
        {"month": span.month, "town": town, "lake": str(lake) if lake else None},
        stem,
    )
    figures = json.loads(Path(report["summary"]).read_text(encoding="utf-8"))
    return {
        **report,
        "month": span.month,
        "town": town,
        "headline": figures["headline"],
        "narrative": figures["narrative"],
    }
