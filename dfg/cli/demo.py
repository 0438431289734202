"""dfg demo: a demonstration database built through the same services as live use."""

from __future__ import annotations

import os
from pathlib import Path

import click

from dfg.cli.command import at_work, progress_bar, write_output


@click.command("demo")
@click.option(
    "--db", "demo_db", default="dfg-demo.sqlite", show_default=True, help="Where to create the demo."
)
@click.option(
    "--cases",
    "per_district",
    default=6,
    show_default=True,
    type=click.IntRange(1, 1000),
    help="Cases per district.",
)
@click.option("--seed", default=2026, show_default=True, help="Random seed: the same seed, the same demo.")
@click.option("--pdf", "pdf", default="dfg-demo-pipeline.pdf", show_default=True,
              type=click.Path(dir_okay=False, path_type=Path), help="Where to write the pipeline report as PDF.")  # fmt: skip
def demo(demo_db: str, per_district: int, seed: int, pdf: Path) -> None:
    """Create a demonstration database: the eight Staffordshire districts, a user for each role, and
    cases walked through the workflow by those users; then print the pipeline and write it as PDF.

    The demo file (its own --db, never the main --db or DFG_DB, so a real database is never replaced) is
    replaced if it exists. Afterwards, try for example:

    \b
      export DFG_DB=dfg-demo.sqlite DFG_USER=can.officer
      dfg case list
      dfg case actions CAN-2026-0001
    """
    from dfg.services.database import open_database
    from dfg.services.demo import run_demo
    from dfg.services.sign_in import DEMO_PASSWORD

    path = Path(demo_db)
    if "://" not in demo_db:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    database = open_database(demo_db, check=False)
    at_work()
    try:
        with progress_bar("Walking demo cases") as progress:
            summary = run_demo(database, per_district=per_district, seed=seed, progress=progress)
        click.echo(summary.as_text())
        write_output(pdf, summary.pipeline.as_pdf())
        click.echo(f"\nThe pipeline report is in {pdf}.", err=True)
    finally:
        database.dispose()
    shown = demo_db if "://" in demo_db else os.fspath(path)
    click.echo(f"\nThe demo database is {shown}. Try: dfg --db {shown} --as can.officer case list", err=True)
    click.echo(
        f"In a browser: dfg --db {shown} serve, then sign in as can.officer (or ot.county, approver, manager, "
        f"admin) with the password {DEMO_PASSWORD}",
        err=True,
    )
