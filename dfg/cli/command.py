"""What every ``dfg`` command is built from: the context (database and acting user), the shared options,
text and JSON output, and the turning of every error into one line on stderr and its exit code.

``dfg --help`` and ``dfg --version`` import this module and nothing of the library, so everything of the
library it needs is imported where it is used.
"""

from __future__ import annotations

import gc
import os
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from datetime import date
from importlib import import_module
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple, NoReturn, TypeVar

import click

if TYPE_CHECKING:
    from dfg.errors import DfgError
    from dfg.presentation import Cell
    from dfg.services.database import Database
    from dfg.services.progress import Progress
    from dfg.workflow.actor import Actor

CommandT = TypeVar("CommandT", bound=Callable[..., Any])


class Spelled(click.Choice[str]):
    """A choice of the engine's codes (``non_urgent``) that also takes them as the program prints them
    (``non-urgent``), in any case."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        if isinstance(value, str):
            value = value.strip().lower().replace("-", "_").replace(" ", "_")
        return str(super().convert(value, param, ctx))


#: Priorities, as options take them.
PRIORITY = Spelled(["urgent", "non_urgent"])

#: A record's number (an estimate, a letter, a calculation): what the database's integer keys can hold.
RECORD_ID = click.IntRange(1, 2**63 - 1)
_NO_SUCH_COMMAND: Any = getattr(click.exceptions, "NoSuchCommand", None)


class DfgGroup(click.Group):
    """Turns every error into one line on stderr and a stable exit code; never a traceback."""

    def main(self, *args: Any, **kwargs: Any) -> NoReturn:
        kwargs["standalone_mode"] = False
        start_up()
        try:
            _check_text(args[0] if args else kwargs.get("args"))
            result = super().main(*args, **kwargs)
        except click.UsageError as error:
            hint = f" (see '{error.ctx.command_path} --help')" if error.ctx else ""
            _fail(error.format_message() + hint, error.exit_code)
        except click.ClickException as error:
            _fail(error.format_message(), error.exit_code)
        except click.Abort:
            _fail("aborted", 1)
        except Exception as error:
            known = _engine_error(error)
            if known is not None:
                _fail(known.message, known.exit_code)
            if os.environ.get("DFG_DEBUG"):  # a bug: one line, and the traceback only when asked for
                raise
            _fail(f"unexpected error ({_unexpected(error)}); set DFG_DEBUG=1 to see where", 70)
        finally:
            at_work()
            gc.unfreeze()  # a command run inside a longer process (the tests) leaves nothing behind
        sys.exit(result if isinstance(result, int) else 0)


# Starting a command imports several hundred thousand objects (SQLAlchemy, the tables, the workflow) and
# none of them is garbage, yet the cyclic collector runs over and over while they are made: about a seventh
# of the CPU of a short command such as `dfg case show`. So the collector is off while a command imports
# what it needs, and back on, with everything made so far set aside (gc.freeze), once it starts work.


def start_up() -> None:
    """Before a command imports what it needs: no collection of cycles."""
    gc.disable()


def at_work() -> None:
    """When a command starts work on data (it opens the database): the collector on again, and what
    start-up made set aside, so the collections of a long command never walk it."""
    if not gc.isenabled():
        gc.freeze()
        gc.enable()


def _check_text(args: Sequence[str] | None) -> None:
    """Every argument must be text: bytes that are not UTF-8 (which Python carries as lone surrogates) or
    a NUL cannot be stored, printed or used as a file name, so they are refused before anything runs."""
    for number, arg in enumerate(sys.argv[1:] if args is None else args, start=1):
        problem = "holds a NUL character" if "\x00" in arg else None
        try:
            arg.encode("utf-8")
        except UnicodeEncodeError:
            problem = "is not UTF-8 text"
        if problem:  # the library only now: --help and --version import nothing of it
            from dfg.errors import InvalidInput

            raise InvalidInput(f"argument {number} {problem}")


def _engine_error(error: Exception) -> DfgError | None:
    """The engine's own error, or the one a refusal of the database (busy, unreachable) stands for."""
    from dfg.errors import DfgError

    if isinstance(error, DfgError):
        return error

    if "sqlalchemy" not in sys.modules:  # no database was opened, so no driver can have refused
        return None
    from dfg.services.database import engine_error

    return engine_error(error)


def _unexpected(error: Exception) -> str:
    """A bug in one line. A database error's text holds its SQL and the values bound to it, which can be
    personal data, so of those only the kind is shown."""
    if type(error).__module__.split(".")[0] in ("sqlalchemy", "psycopg", "sqlite3"):
        return type(error).__name__
    return f"{type(error).__name__}: {error}"


def _fail(message: str, code: int) -> NoReturn:
    click.echo(f"dfg: {one_line(message)}", err=True)
    sys.exit(code)


def one_line(message: str) -> str:
    """A message as one line of plain text: a value it quotes from the user may hold a newline or a
    terminal's control sequence, which would split the line (or recolour the terminal), so those are
    shown escaped, as Python writes them."""
    if message.isprintable():
        return message
    return "".join(c if c.isprintable() else ascii(c)[1:-1] for c in message)


class GroupEntry(NamedTuple):
    """Where a command group of the root lives, and the one line of help the root lists it with."""

    module: str
    attribute: str
    short_help: str


class LazyGroup(DfgGroup):
    """The root: its command groups are imported only when one is run or its help is asked for, so
    ``dfg --help`` and ``dfg --version`` load no group at all."""

    def __init__(self, *args: Any, groups: Mapping[str, GroupEntry], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.groups = dict(groups)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*self.groups, *super().list_commands(ctx)})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        entry = self.groups.get(cmd_name)
        if entry is None:
            return super().get_command(ctx, cmd_name)
        command = getattr(import_module(entry.module), entry.attribute)
        assert isinstance(command, click.Command)
        return command

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        try:
            return super().resolve_command(ctx, args)
        except click.UsageError as error:
            # click suggests the nearest command from those it holds, and the root holds none until one
            # is loaded: suggest from the table instead (click 8.4 and later make suggestions at all)
            if _NO_SUCH_COMMAND is None or not isinstance(error, _NO_SUCH_COMMAND):
                raise
            raise _NO_SUCH_COMMAND(
                error.command_name, possibilities=self.list_commands(ctx), ctx=ctx
            ) from None

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # Click's own listing, with each group's line from the table instead of importing the group.
        names = self.list_commands(ctx)
        limit = formatter.width - 6 - max(map(len, names))
        rows = [(name, self._short_help(ctx, name, limit)) for name in names]
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def _short_help(self, ctx: click.Context, name: str, limit: int) -> str:
        entry = self.groups.get(name)
        command = click.Command(name, help=entry.short_help) if entry else self.get_command(ctx, name)
        return "" if command is None else command.get_short_help_str(limit)


class Context:
    """What every command shares: the database and the acting user, both opened only when asked for."""

    def __init__(self, db: str | None, username: str | None) -> None:
        self.db_option = db
        self.username = username
        self._database: Database | None = None
        self._actor: Actor | None = None

    def database(self, *, check: bool = True) -> Database:
        if self._database is None:
            from dfg.services.database import open_database

            self._database = open_database(self.db_option, check=check)
            at_work()
            click.get_current_context().call_on_close(self._database.dispose)
        return self._database

    def actor(self) -> Actor:
        """The user this command acts as, proven by the account or login running it (see
        dfg.services.identity); on a demo database chosen freely, which is said once."""
        if self._actor is None:
            from dfg.services.identity import prove_actor

            proof = prove_actor(self.database(), self.username)
            if not proof.proven:
                click.echo(f"dfg: demo database: acting as {proof.actor.username} without proof", err=True)
            self._actor = proof.actor
        return self._actor


pass_context = click.make_pass_decorator(Context)


def json_option(function: CommandT) -> CommandT:
    return click.option("--json", "as_json", is_flag=True, help="Print JSON on stdout instead of text.")(
        function
    )


def emit_json(data: Any) -> None:
    import json  # not for --help

    click.echo(json.dumps(data, indent=2, ensure_ascii=False))


@contextmanager
def progress_bar(label: str) -> Iterator[Progress]:
    """What a long action reports its progress to: on a terminal, a bar on stderr with the count, the
    rate and the time left; on a pipe or a file, nothing (a log or a scheduler's mail stays clean)."""
    if not sys.stderr.isatty():
        from dfg.services.progress import unwatched

        yield unwatched
        return
    started = time.monotonic()
    bars: list[Any] = []

    def rate_and_time_left(_: object) -> str | None:
        # worked out here: click's own estimate waits a second between updates, and shows no rate
        done, elapsed = (bars[0].pos if bars else 0), time.monotonic() - started
        if not done or elapsed <= 0:
            return None
        per_second = done / elapsed
        left = round((bars[0].length - done) / per_second)
        return f"{per_second:.1f}/s, {left // 3600:02}:{left // 60 % 60:02}:{left % 60:02} left"

    with ExitStack() as stack:

        def update(done: int, total: int) -> None:
            if not bars:  # the length is known only once the action has read its work
                bar = click.progressbar(
                    length=total,
                    label=label,
                    file=sys.stderr,
                    show_pos=True,
                    show_percent=True,
                    show_eta=False,
                    item_show_func=rate_and_time_left,
                )
                bars.append(stack.enter_context(bar))
            bars[0].update(done)

        yield update


def write_output(path: Path, content: bytes | str, *, private: bool = False) -> None:
    """Write a file the user named (a PDF, a diagram); a folder that does not exist or may not be written
    to is their mistake, said in one line. A ``private`` file (personal data) is readable by its owner only."""
    import os

    from dfg.errors import InvalidInput

    data = content.encode() if isinstance(content, str) else content
    try:
        if private:
            with os.fdopen(os.open(path, os.O_CREAT | os.O_TRUNC | os.O_WRONLY, 0o600), "wb") as file:
                os.fchmod(file.fileno(), 0o600)  # one that existed keeps its mode otherwise
                file.write(data)
        else:
            path.write_bytes(data)
    except OSError as error:
        raise InvalidInput(f"cannot write {path}: {error.strerror}") from None


def writable_file(_ctx: click.Context, param: click.Parameter, value: Path | None) -> Path | None:
    """An output file whose folder exists and may be written to, checked before the command reads anything
    (a list read is on the access record, which a file refused afterwards would leave behind)."""
    if value is None:
        return None
    folder = value.parent if str(value.parent) else Path(".")
    from dfg.errors import InvalidInput  # as every other refused output file: exit 8

    option = param.opts[0] if param.opts else "FILE"
    if len(os.fsencode(value.name)) > 255:
        raise InvalidInput(f"{option} {value.name[:40]}...: the file name is too long")
    if not os.path.isdir(folder) or not os.access(folder, os.W_OK | os.X_OK):  # never raises
        raise InvalidInput(f"cannot write {value}: {folder} is not a folder you may write to")
    return value


def sheet_options(function: CommandT) -> CommandT:
    """--csv FILE and --xlsx FILE: the list written for a spreadsheet instead of printed."""
    path = click.Path(dir_okay=False, path_type=Path)
    function = click.option("--xlsx", "xlsx_file", type=path, metavar="FILE", callback=writable_file,
                            help="Write the list as an Excel workbook (readable by you only).")(function)  # fmt: skip
    return click.option("--csv", "csv_file", type=path, metavar="FILE", callback=writable_file,
                        help="Write the list as CSV for a spreadsheet (readable by you only).")(function)  # fmt: skip


def write_sheets(
    title: str,
    headers: Sequence[str],
    rows: Sequence[Sequence[Cell]],
    *,
    csv_file: Path | None,
    xlsx_file: Path | None,
) -> bool:
    """Write a list to the spreadsheet files asked for, owner-only (the lists hold personal data), and say
    so on stderr; False if none was asked for, so the command prints it instead."""
    from dfg.presentation import sheet_csv, sheet_xlsx

    written: list[tuple[Path, bytes]] = []
    if csv_file is not None:  # with a byte-order mark, or Excel reads UTF-8 as its own code page
        written.append((csv_file, sheet_csv(headers, rows).encode("utf-8-sig")))
    if xlsx_file is not None:
        written.append((xlsx_file, sheet_xlsx(title, headers, rows)))
    for path, content in written:
        write_output(path, content, private=True)
        click.echo(f"{path}: {len(rows)} row(s)", err=True)
    return csv_file is not None or xlsx_file is not None


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """Plain aligned columns: reads in a terminal and pastes into an email (any value; None prints blank)."""
    from dfg.presentation import text_table

    return text_table(headers, [[str(c) if c is not None else "" for c in row] for row in rows])


def split_person_name(name: str, option: str) -> tuple[str, str]:
    """A person's name as typed ('Margaret Holt') as their given and family names."""
    from dfg.errors import InvalidInput
    from dfg.services.people import split_name

    split = split_name(name)
    if split is None:
        raise InvalidInput(f"{option}: give a first name and a family name, e.g. 'Margaret Holt'")
    return split[1], split[2]


def optional_date(text: str | None, field: str) -> date | None:
    """A date option as typed (2026-03-31 or 31/03/2026), or None if it was not given."""
    if text is None:
        return None
    from dfg.rules.dates import parse_date

    return parse_date(text, field=field)


def show_date(value: date | None) -> str:
    return "" if value is None else f"{value:%d/%m/%Y}"


def show_iso_date(iso: str) -> str:
    """A date from a view's JSON (2026-07-24) as an officer reads it (24/07/2026)."""
    return show_date(date.fromisoformat(iso))


def report_step(result: Any, as_json: bool) -> None:
    """Print a step taken on a case (a trigger fired, or a record that moved it): from where to where, on
    which day, and the letters it asked for."""
    if as_json:
        emit_json(result.as_dict())
        return
    moved = (
        f"{result.from_state} -> {result.to_state}"
        if result.from_state != result.to_state
        else result.to_state
    )
    click.echo(f"{result.reference}: {result.trigger} ({moved}) on {show_date(result.effective_date)}")
    if result.letters:
        click.echo(f"letters: {', '.join(result.letters)}", err=True)
