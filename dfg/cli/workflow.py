"""dfg workflow: check the workflow definition and draw it (no case is touched unless asked)."""

from __future__ import annotations

from pathlib import Path

import click

from dfg.cli.command import Context, pass_context, write_output


@click.group()
def workflow() -> None:
    """The workflow definition: check it and draw it."""


@workflow.command("lint")
@click.option(
    "--file", "path", type=click.Path(exists=True, dir_okay=False, path_type=Path), help="Lint this file."
)
@pass_context
def workflow_lint(context: Context, path: Path | None) -> None:
    """Check workflow definitions: unknown states, guards, roles, clocks, reason codes and letters;
    unreachable states; open states with no way out; the reminder policy's clocks and letters; and the
    local policy files, each district's own naming a district of the installation (the database's, or
    workflows/districts.toml without one) and changing only what is the council's to set.
    Exits 11 if there are problems."""
    from dfg.errors import ConfigurationError
    from dfg.workflow.definition import all_definitions, load_definition
    from dfg.workflow.lint import lint

    definitions = [load_definition(path)] if path else list(all_definitions().values())
    failed = 0
    for definition in definitions:
        problems = lint(definition)
        for problem in problems:
            click.echo(f"{definition.path.name}: {problem}")
        failed += len(problems)
        click.echo(f"{definition.key}: {len(problems) or 'no'} problem(s)", err=True)
    if path is None:  # the reminder policy names clocks and letters of the shipped workflow
        from dfg.workflow.lint import reminder_problems

        problems = reminder_problems()
        for problem in problems:
            click.echo(f"reminders: {problem}")
        failed += len(problems)
        click.echo(f"reminders: {len(problems) or 'no'} problem(s)", err=True)
        from dfg.paths import workflows_dir
        from dfg.services.users import installation_districts
        from dfg.workflow.policy_lint import policy_problems

        districts, read_from = installation_districts(context.db_option)
        problems = policy_problems(workflows_dir(), districts)
        for problem in problems:
            click.echo(f"policy: {problem}")
        failed += len(problems)
        click.echo(f"policy: {len(problems) or 'no'} problem(s); districts from {read_from}", err=True)
    if failed:
        what = "the workflow definition" + ("" if path else " or its policy files")
        raise ConfigurationError(f"{failed} problem(s) in {what}")


@workflow.command("diagram")
@click.option("--case", "reference", help="Highlight this case's path and current state.")
@click.option(
    "--output", type=click.Path(dir_okay=False, path_type=Path), help="Write to a file (default: stdout)."
)
@pass_context
def workflow_diagram(context: Context, reference: str | None, output: Path | None) -> None:
    """Draw the workflow as a Mermaid state diagram (paste it into any Markdown that renders Mermaid).

    \b
    Examples:
      dfg workflow diagram --output docs/workflow.md
      dfg workflow diagram --case CAN-2026-0001
    """
    from dfg.workflow.definition import current_definition
    from dfg.workflow.diagram import mermaid

    if reference:
        from dfg.services.case_history import case_path

        definition, path, state = case_path(context.database(), context.actor(), reference)
        text = mermaid(definition, path=path, current=state)
    else:
        text = mermaid(current_definition())
    if output:
        write_output(output, f"```mermaid\n{text}```\n")
        click.echo(f"wrote {output}", err=True)
    else:
        click.echo(text, nl=False)
