"""The ``dfg`` command: the root, which assembles the command groups of ``dfg/cli/``.

Each group lives in its own module there and is imported only when it is run (``dfg --help`` and
``dfg --version`` import none). Every command parses its options, calls one function in ``dfg.services``,
and prints the result as text or, with ``--json``, as JSON on stdout. Messages go to stderr. Every error
of the engine becomes one line on stderr and its stable exit code (see ``docs/exit-codes.md``).
"""

from __future__ import annotations

import click

from dfg import __version__
from dfg.cli.command import Context, GroupEntry, LazyGroup

# Every command of the root: where it lives and the line ``dfg --help`` lists it with (its help's first
# sentence; tests/test_cli_startup.py checks each against the command itself, so they cannot drift).
# fmt: off
GROUPS = {
    "assess": GroupEntry("dfg.cli.assess", "assess", "The OT's assessment and the technical officer's feasibility finding."),
    "audit": GroupEntry("dfg.cli.audit", "audit", "Check the audit trail."),
    "budget": GroupEntry("dfg.cli.budget", "budget", "Each district's budget per financial year and funding line: the allocation, what approvals have committed, what payments have spent, and the forecast."),
    "case": GroupEntry("dfg.cli.case", "case", "Open, read and advance cases."),
    "contractor": GroupEntry("dfg.cli.contractor", "contractor", "The contractor register: who may do the works, with their accreditation and status."),
    "db": GroupEntry("dfg.cli.db", "db", "Create, upgrade and inspect the database."),
    "demo": GroupEntry("dfg.cli.demo", "demo", "Create a demonstration database: the eight Staffordshire districts, a user for each role, and cases walked through the workflow by those users; then print the pipeline and write it as PDF."),
    "district": GroupEntry("dfg.cli.district", "district", "The district councils (housing authorities) whose cases this database holds."),
    "document": GroupEntry("dfg.cli.document", "document", "Documents kept on a case: the OT's report, photographs, quotes, invoices, plans."),
    "due": GroupEntry("dfg.cli.worklist", "due", "What is overdue or coming due, most urgent first, with the action that clears it."),
    "entitlement": GroupEntry("dfg.cli.entitlement", "entitlement", "Ceased entitlement between approval and the certified date (s.40, s.41): payments stop until an approver decides to pay all, part or none of what is due."),
    "estimate": GroupEntry("dfg.cli.estimate", "estimate", "Contractors' estimates on a case, the waiver of the two-estimates rule, and the one selected."),
    "grant": GroupEntry("dfg.cli.grant", "grant", "The grant: calculated from the works, the charges and the test of resources, then approved."),
    "import": GroupEntry("dfg.cli.imports", "import_group", "Open many cases at once from a spreadsheet (CSV or Excel), one row per case."),
    "land-charge": GroupEntry("dfg.cli.land_charge", "land_charge", "The local land charge on an owner's home, and the decision when the home is sold within its period."),
    "letters": GroupEntry("dfg.cli.letters", "letters", "Letters the workflow produces: render the queue, read the register, reprint, print for the post."),
    "means-test": GroupEntry("dfg.cli.means_test", "means_test", "The test of resources (Housing Renewal Grants Regulations 1996 as amended)."),
    "note": GroupEntry("dfg.cli.note", "note", "Notes and the contact log: calls, e-mails, visits and letters received on a case, with whom."),
    "pay": GroupEntry("dfg.cli.pay", "pay", "Money on a case: interim and final payments, invoices, the applicant's contribution."),
    "person": GroupEntry("dfg.cli.person", "person", "What the engine holds about a person: for a subject access request (UK GDPR Article 15)."),
    "report": GroupEntry("dfg.cli.report", "report", "Reports for managers: as text, --csv, --json, --xlsx FILE, or a printable PDF (--pdf FILE)."),
    "retention": GroupEntry("dfg.cli.retention", "retention", "Closed files due for disposal under the retention policy, and their disposal."),
    "serve": GroupEntry("dfg.cli.serve", "serve", "Run the browser application for officers, OTs and managers."),
    "tick": GroupEntry("dfg.cli.worklist", "tick", "Record every statutory or service deadline missed since the last run, once each, and queue the reminder letters workflows/policy/reminders.toml calls for (for a daily scheduler; running it twice records nothing new)."),
    "user": GroupEntry("dfg.cli.user", "user", "People who use the system, their roles and their districts."),
    "workflow": GroupEntry("dfg.cli.workflow", "workflow", "The workflow definition: check it and draw it."),
    "works": GroupEntry("dfg.cli.works", "works", "The works: variations, extensions of the completion period, completion checks."),
}
# fmt: on


@click.group(
    cls=LazyGroup,
    groups=GROUPS,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.option(
    "--db",
    envvar="DFG_DB",
    metavar="PATH|URL",
    help="The database: a SQLite file (default ./dfg.sqlite) or a URL such as "
    "postgresql+psycopg://user@host/dfg. Environment: DFG_DB.",
)
@click.option(
    "--as",
    "as_user",
    envvar="DFG_USER",
    metavar="USER",
    help="Act as this user, one of those your account or database login is mapped to. Environment: DFG_USER.",
)
@click.version_option(__version__, prog_name="dfg")
@click.pass_context
def main(ctx: click.Context, db: str | None, as_user: str | None) -> None:
    """Disabled Facilities Grant case workflow.

    Move adaptation cases from referral through OT assessment, test of resources, approval, works,
    completion and payment, with every step checked against the workflow and recorded in an
    audit trail.

    \b
    Start here:
      dfg demo                          a demonstration database with cases in every stage
      dfg db upgrade                    create or upgrade the database
      dfg --as jsmith case list         the cases you can see (or set DFG_USER=jsmith)
      dfg case actions CAN-2026-0001    what you may do next on a case, and why not
    """
    ctx.obj = Context(db, as_user)


if __name__ == "__main__":
    main(prog_name="dfg")
