"""Letters produced by the workflow: the event log as the queue, the register, the audit chain, reprints,
the post-room batch, and both ways a letter can fail to be produced (it stays pending, the others do not).

Letters are rendered in this process (``workers=1``) except in the tests marked slow, which use a pool.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DatabaseError

from dfg.errors import InvalidInput, NotFound, PermissionDenied
from dfg.letters.contracts import LETTER_KINDS
from dfg.letters.render import load_envelope_window, longdate
from dfg.paths import letter_templates_dir
from dfg.services import letter_batch, letter_contexts, letter_queue
from dfg.services.assessment import record_feasibility
from dfg.services.audit import verify_audit
from dfg.services.case_history import history
from dfg.services.case_opening import NewPerson, PostalAddress, set_postal_address
from dfg.services.cases import advance
from dfg.services.letter_batch import pending_letters, render_pending
from dfg.services.letter_register import letter_pdf, list_letters, reprint
from dfg.services.post_room import print_batch
from dfg.store.database import Database
from dfg.store.models import LETTERS
from dfg.workflow.actor import Actor
from dfg.workflow.guards import TriggerInput
from tests.conftest import approve, take_step
from tests.letters.letter_pdfs import MM, flat_text, reader, text_runs

# When the letters are produced: the letter date, and the start of every review window they print.
NOW = datetime(2026, 4, 20, 9, 30, tzinfo=UTC)

MAIN_PATH = (
    ("accept_referral", "officer", date(2026, 1, 7)),
    ("record_assessment", "ot", date(2026, 2, 10)),
    ("complete_test_of_resources", "officer", date(2026, 3, 2)),
    ("receive_application", "officer", date(2026, 3, 16)),
    ("validate_application", "officer", date(2026, 3, 20)),
    ("approve", "approver", date(2026, 4, 1)),
    ("order_works", "officer", date(2026, 4, 10)),
)
GRANT = 8_450_00
STEP_DATES = {
    "acknowledgement": date(2026, 1, 7),
    "test_of_resources_result": date(2026, 3, 2),
    "valid_application_received": date(2026, 3, 20),
    "approval_notice": date(2026, 4, 1),
}


def walk(db: Database, cast: dict[str, Actor], reference: str, until: str) -> None:
    """Take the main path's steps up to and including ``until``."""
    for trigger, who, on in MAIN_PATH:
        if trigger == "approve":
            approve(db, cast, reference, GRANT, on=on, by=who)
        else:
            take_step(db, cast, reference, trigger, who, TriggerInput(on=on))
        if trigger == until:
            return


@pytest.fixture
def case(open_sample: Callable[..., str]) -> str:
    """A case referred by the county OT (the acknowledgement says who referred)."""
    return open_sample(referral_source="county OT")


def render(db: Database, actor: Actor) -> letter_batch.RenderReport:
    return render_pending(db, actor, workers=1, now=NOW)


def by_kind(report: letter_batch.RenderReport) -> dict[str, letter_queue.LetterRecord]:
    return {letter.kind: letter for letter in report.produced}


def assert_address_in_window(pdf: bytes, lines: list[str]) -> None:
    """Every line of the address starts and ends inside the envelope window of page 1."""
    window = load_envelope_window()
    height = float(reader(pdf).pages[0].mediabox.height)
    left, right = window.left * MM, (window.left + window.width) * MM
    top, bottom = height - window.top * MM, height - (window.top + window.height) * MM
    found = {run.text: run for run in text_runs(pdf) if run.page == 1 and run.text in lines}
    assert sorted(found) == sorted(lines)
    for run in found.values():
        assert left <= run.x and run.x + 0.6 * run.size * len(run.text) <= right, run.text
        assert bottom <= run.y and run.y + 0.7 * run.size <= top, run.text


# ---------------------------------------------------------------------- producing letters


def test_walked_case_letters_show_the_case_and_enter_the_audit_chain(
    db: Database, cast: dict[str, Actor], case: str
) -> None:
    walk(db, cast, case, until="order_works")
    report = render(db, cast["officer"])
    produced = by_kind(report)
    assert sorted(produced) == [
        "acknowledgement", "approval_notice", "test_of_resources_result", "valid_application_received",
    ]  # fmt: skip
    texts = {kind: flat_text(letter_pdf(db, cast["officer"], letter.id)) for kind, letter in produced.items()}
    for kind, letter_text in texts.items():
        for fact in ("Mrs Margaret Holt", "12 Mill Lane", "WS11 1AA", case, "Dear Mrs Holt"):
            assert fact in letter_text, f"{kind} does not show {fact!r}"
        # dated its step's date, not the day it was produced
        assert f"Date: {longdate(STEP_DATES[kind])}" in letter_text and "20 April 2026" not in letter_text
        # who took the step signs its letter
        signer = "Approver" if kind == "approval_notice" else "Officer"
        assert f"Please ask for: {signer}" in letter_text
    assert "5 January 2026" in texts["acknowledgement"]  # the referral date
    assert "from county OT" in texts["acknowledgement"]
    assert "18 February 2026" in texts["acknowledgement"]  # 30 working days: the stage 1 target
    assert "£10,199.45" in texts["test_of_resources_result"]
    assert "£156.25" in texts["test_of_resources_result"]  # a line of the workings
    assert "30 March 2026" in texts["test_of_resources_result"]  # query by: the window from its step
    assert "England rates in force from 2 October 2008" in texts["test_of_resources_result"]
    assert "20 March 2026" in texts["valid_application_received"]
    assert "20 September 2026" in texts["valid_application_received"]  # decision due: 6 months

    for letter in produced.values():
        pdf = letter_pdf(db, cast["officer"], letter.id)
        assert letter.sha256 == hashlib.sha256(pdf).hexdigest()
        assert letter.recipient_role == "applicant" and letter.created_by == "officer"
        assert len(letter.template_version) == 64
        assert_address_in_window(pdf, ["Mrs Margaret Holt", "12 Mill Lane", "Cannock", "WS11 1AA"])
    events = [e for e in history(db, cast["officer"], case) if e.kind == "letter_produced"]
    said = {json.loads(e.payload)["letter"]: json.loads(e.payload) for e in events}
    assert {number: p["sha256"] for number, p in said.items()} == {x.id: x.sha256 for x in produced.values()}
    assert verify_audit(db, cast["manager"]).problems == ()

    # The works order goes to the contractor, whose address is not on the register: it waits, saying so;
    # nothing else is pending.
    assert [(p.kind, p.reason) for p in report.waiting] == [
        (
            "works_order",
            "Castle Adaptations has no address on the contractor register (record it with "
            '\'dfg contractor update "Castle Adaptations" --address "..."\')',
        )
    ]
    assert report.failed == ()


def test_a_second_run_renders_nothing(db: Database, cast: dict[str, Actor], case: str) -> None:
    walk(db, cast, case, until="accept_referral")
    assert [x.kind for x in render(db, cast["officer"]).produced] == ["acknowledgement"]
    again = render(db, cast["officer"])
    assert (again.produced, again.waiting, again.failed) == ((), (), ())
    assert pending_letters(db, cast["officer"]) == []
    assert [x.kind for x in list_letters(db, cast["officer"], case)] == ["acknowledgement"]


def test_two_runs_at_once_make_each_letter_once(
    db: Database, cast: dict[str, Actor], case: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    walk(db, cast, case, until="accept_referral")
    read_before = letter_batch.read_queue(
        db, cast["officer"]
    )  # a second run read the queue before the first recorded
    first = render(db, cast["officer"])
    monkeypatch.setattr(letter_batch, "read_queue", lambda db, actor, reference=None: read_before)
    second = render(db, cast["officer"])
    assert (len(first.produced), second.produced, second.failed) == (1, (), ())
    assert len(list_letters(db, cast["officer"], case)) == 1
    assert [e.kind for e in history(db, cast["officer"], case)].count("letter_produced") == 1


def test_the_step_and_its_letter_are_separate_transactions(
    db: Database, cast: dict[str, Actor], case: str
) -> None:
    # The step is recorded at once, its letter queued: nothing is rendered inside a transition.
    result = advance(db, cast["officer"], case, "accept_referral")
    assert result.letters == ("acknowledgement",)
    assert [(p.kind, p.trigger, p.reason) for p in pending_letters(db, cast["officer"], case)] == [
        ("acknowledgement", "accept_referral", None)
    ]
    assert list_letters(db, cast["officer"], case) == []


def test_letters_are_scoped_to_the_users_district(
    db: Database, cast: dict[str, Actor], case: str, open_sample: Callable[..., str]
) -> None:
    walk(db, cast, case, until="accept_referral")
    theirs = open_sample("LIC", by="lichfield", referral_source="self-referral")
    advance(db, cast["lichfield"], theirs, "accept_referral")
    assert [p.reference for p in pending_letters(db, cast["lichfield"])] == [theirs]
    report = render(db, cast["lichfield"])
    assert [x.reference for x in report.produced] == [theirs]
    assert "we received a referral from you" in flat_text(
        letter_pdf(db, cast["lichfield"], report.produced[0].id)
    )
    with pytest.raises(PermissionDenied):
        letter_pdf(db, cast["officer"], report.produced[0].id)
    with pytest.raises(PermissionDenied, match="needs the role"):
        render_pending(db, cast["ot"], workers=1)


def test_the_whole_queue_says_whom_each_letter_is_to_and_is_for_those_who_produce(
    db: Database, cast: dict[str, Actor], case: str
) -> None:
    walk(db, cast, case, until="accept_referral")
    [pending] = pending_letters(db, cast["officer"])
    assert (pending.title, pending.recipient_name) == ("We have received your referral", "Mrs Margaret Holt")
    # the OT may see a case's own pending letters, not the district's queue
    assert [p.kind for p in pending_letters(db, cast["ot"], case)] == ["acknowledgement"]
    with pytest.raises(PermissionDenied, match="needs the role"):
        pending_letters(db, cast["ot"])


def test_a_limited_run_renders_the_oldest_and_says_how_many_are_left(
    db: Database, cast: dict[str, Actor], open_sample: Callable[..., str]
) -> None:
    cases = [open_sample() for _ in range(3)]
    for reference in cases:
        advance(db, cast["officer"], reference, "accept_referral")
    first = render_pending(db, cast["officer"], workers=1, now=NOW, limit=2)
    assert ([x.reference for x in first.produced], first.left) == (cases[:2], 1)
    assert [p.reference for p in pending_letters(db, cast["officer"])] == cases[2:]
    last = render_pending(db, cast["officer"], workers=1, now=NOW, limit=2)
    assert ([x.reference for x in last.produced], last.left) == (cases[2:], 0)


def test_large_print_follows_the_persons_communication_needs(
    db: Database, cast: dict[str, Actor], open_sample: Callable[..., str]
) -> None:
    applicant = NewPerson(title="Mr", given_name="Keith", family_name="Salt", is_applicant=True,
                          is_disabled_occupant=True, communication_needs="large_print")  # fmt: skip
    reference = open_sample(referral_source="county OT", people=(applicant,))
    advance(db, cast["officer"], reference, "accept_referral")
    letter = render(db, cast["officer"]).produced[0]
    pdf = letter_pdf(db, cast["officer"], letter.id)
    dear = [run for run in text_runs(pdf) if run.text.startswith("Dear Mr Salt")]
    assert dear and dear[0].size >= 15.99
    assert_address_in_window(pdf, ["Mr Keith Salt", "12 Mill Lane", "Cannock", "WS11 1AA"])


def test_closures_withdrawals_and_holds_give_their_reasons(
    db: Database, cast: dict[str, Actor], case: str, open_sample: Callable[..., str]
) -> None:
    review = date.today() + timedelta(days=30)
    advance(db, cast["officer"], case, "hold",
            TriggerInput(code="hospital", reason="Admitted to Royal Stoke", review_date=review))  # fmt: skip
    cancelled = open_sample(referral_source="county OT")
    advance(db, cast["officer"], cancelled, "cancel",
            TriggerInput(code="no_response", reason="Three letters unanswered"))  # fmt: skip
    withdrawn = open_sample(referral_source="county OT")
    advance(db, cast["officer"], withdrawn, "withdraw", TriggerInput(reason="Moving to sheltered housing"))
    produced = {x.reference: x for x in render(db, cast["officer"]).produced}
    texts = {ref: flat_text(letter_pdf(db, cast["officer"], x.id)) for ref, x in produced.items()}
    assert produced[case].kind == "hold_notice"
    assert "Applicant in hospital. Admitted to Royal Stoke." in texts[case]
    assert longdate(review) in texts[case]
    assert "when you know when you will be home" in texts[case]
    assert produced[cancelled].kind == "closure_notice"
    assert "No response from the applicant. Three letters unanswered." in texts[cancelled]
    assert produced[withdrawn].kind == "withdrawal_notice"
    assert "Moving to sheltered housing." in texts[withdrawn]


def test_refusal_states_each_statutory_finding(db: Database, cast: dict[str, Actor], case: str) -> None:
    walk(db, cast, case, until="validate_application")
    render(db, cast["officer"])
    advance(db, cast["approver"], case, "refuse",
            TriggerInput(on=date(2026, 4, 2), code="not_reasonable_practicable",
                         reason="The stair cannot take a lift; we offered a through-floor lift instead"))  # fmt: skip
    letter = render(db, cast["officer"]).produced[0]
    assert letter.kind == "refusal_notice"
    letter_text = flat_text(letter_pdf(db, cast["officer"], letter.id))
    assert "on 2 April 2026 we refused your application" in letter_text
    assert "1. Is the work for a purpose the grant can pay for? Yes." in letter_text
    assert "Access to, or provision of, a room used or usable for sleeping" in letter_text  # purpose d
    assert "Cannot climb the stairs or step into the bath safely." in letter_text  # the OT's reasons
    assert "No. Not reasonable and practicable. The stair cannot take a lift" in letter_text
    assert "Date: 2 April 2026" in letter_text  # dated the decision, though produced on 20 April
    assert "by 30 April 2026" in letter_text  # the review window runs from the decision


# ---------------------------------------------------------------------- failure 1: the context cannot be built


def test_letters_missing_case_data_wait_with_a_reason_naming_it(
    db: Database, cast: dict[str, Actor], open_sample: Callable[..., str]
) -> None:
    landlord = open_sample(referral_source="county OT", tenure="landlord")
    advance(db, cast["officer"], landlord, "accept_referral")
    refused = open_sample(referral_source="county OT")
    walk(db, cast, refused, until="validate_application")
    advance(db, cast["approver"], refused, "refuse",
            TriggerInput(code="works_begun", reason="The shower was fitted before we decided"))  # fmt: skip
    report = render(db, cast["officer"])
    waiting = {(p.reference, p.kind): p.reason for p in report.waiting}
    assert "landlord, whose postal address is not recorded" in str(waiting[(landlord, "acknowledgement")])
    assert "no feasibility finding (reasonable and practicable) is recorded" in str(
        waiting[(refused, "refusal_notice")]
    )
    # They are still pending, with the same reasons, and the case's other letters were produced.
    assert {(p.reference, p.kind): p.reason for p in pending_letters(db, cast["officer"])} == waiting
    assert {x.kind for x in report.produced} == {
        "acknowledgement", "test_of_resources_result", "valid_application_received",
    }  # fmt: skip

    # Once the case holds the finding, the next run produces the refusal notice.
    record_feasibility(db, cast["technical"], refused, decided_on=date(2026, 3, 25),
                       reasonable_and_practicable=True, reasons="The bathroom floor takes a shower tray")  # fmt: skip
    later = render(db, cast["officer"])
    assert [(x.reference, x.kind) for x in later.produced] == [(refused, "refusal_notice")]
    letter_text = flat_text(letter_pdf(db, cast["officer"], later.produced[0].id))
    assert "The shower was fitted before we decided" in letter_text
    assert "The bathroom floor takes a shower tray" in letter_text

    # Once the landlord's own address is recorded, their letter is produced, addressed there.
    set_postal_address(
        db, cast["officer"], landlord, PostalAddress("4 Market Street", "Lichfield", "ws13 6lq")
    )
    last = render(db, cast["officer"])
    assert [(x.reference, x.kind) for x in last.produced] == [(landlord, "acknowledgement")]
    assert not last.waiting
    letter_text = flat_text(letter_pdf(db, cast["officer"], last.produced[0].id))
    assert "4 Market Street Lichfield WS13 6LQ" in letter_text
    assert "Mill Lane" not in letter_text.split("Dear")[0]  # not to the home to be adapted


def test_an_acknowledgement_without_a_recorded_referral_source_names_nobody(
    db: Database, cast: dict[str, Actor], open_sample: Callable[..., str]
) -> None:
    unreferred, referred = open_sample(), open_sample(referral_source="county OT")
    for reference in (unreferred, referred):
        advance(db, cast["officer"], reference, "accept_referral")
    produced = {x.reference: x for x in render(db, cast["officer"]).produced}
    unreferred_text = flat_text(letter_pdf(db, cast["officer"], produced[unreferred].id))
    referred_text = flat_text(letter_pdf(db, cast["officer"], produced[referred].id))
    assert "we received a referral for a Disabled Facilities Grant" in unreferred_text
    assert "we received a referral from county OT for a Disabled Facilities Grant" in referred_text


# ---------------------------------------------------------------------- failure 2: rendering fails


@pytest.fixture
def broken_templates(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Letter templates where the test of resources letter names a field its context does not have."""
    folder = tmp_path / "letter_templates"
    shutil.copytree(letter_templates_dir(), folder)
    broken = folder / "test_of_resources_result.html"
    broken.write_text(broken.read_text().replace("{% endblock %}", "{{ no_such_field }}{% endblock %}"))
    monkeypatch.setenv("DFG_LETTER_TEMPLATES", str(folder))
    letter_templates_dir.cache_clear()
    yield
    monkeypatch.undo()
    letter_templates_dir.cache_clear()


def _fails_then_recovers(db: Database, cast: dict[str, Actor], cases: list[str], workers: int) -> None:
    report = render_pending(db, cast["officer"], workers=workers, now=NOW)
    assert [(x.reference, x.kind) for x in report.failed] == [
        (reference, "test_of_resources_result") for reference in cases
    ]
    assert all("no_such_field" in str(x.reason) for x in report.failed)
    assert sorted((x.reference, x.kind) for x in report.produced) == sorted(
        (reference, kind) for reference in cases for kind in ("acknowledgement", "valid_application_received")
    )
    with pytest.raises(Exception, match=r"failed and stay pending; the first, .* test_of_resources_result"):
        report.raise_if_failed()
    assert [p.kind for p in pending_letters(db, cast["officer"])] == ["test_of_resources_result"] * len(cases)
    assert verify_audit(db, cast["manager"]).problems == ()


def test_a_rendering_error_leaves_that_letter_pending_and_loses_no_other(
    db: Database, cast: dict[str, Actor], case: str, broken_templates: None
) -> None:
    walk(db, cast, case, until="validate_application")
    _fails_then_recovers(db, cast, [case], workers=1)


def test_after_the_template_is_mended_the_next_run_produces_it(
    db: Database, cast: dict[str, Actor], case: str, broken_templates: None
) -> None:
    walk(db, cast, case, until="complete_test_of_resources")
    assert [x.kind for x in render(db, cast["officer"]).failed] == ["test_of_resources_result"]
    letter_templates_dir.cache_clear()
    (letter_templates_dir() / "test_of_resources_result.html").write_text(
        (Path(__file__).parents[1] / "letter_templates" / "test_of_resources_result.html").read_text()
    )
    assert [x.kind for x in render(db, cast["officer"]).produced] == ["test_of_resources_result"]


@pytest.mark.slow
def test_a_rendering_error_in_a_worker_process_loses_no_other_letter(
    db: Database, cast: dict[str, Actor], open_sample: Callable[..., str], broken_templates: None
) -> None:
    cases = [open_sample(referral_source="county OT") for _ in range(2)]
    for reference in cases:
        walk(db, cast, reference, until="validate_application")
    _fails_then_recovers(db, cast, cases, workers=2)


# ---------------------------------------------------------------------- the register


def test_a_reprint_is_a_copy_recorded_with_copy_of(db: Database, cast: dict[str, Actor], case: str) -> None:
    walk(db, cast, case, until="complete_test_of_resources")
    original = by_kind(render(db, cast["officer"]))["test_of_resources_result"]
    copy = reprint(db, cast["officer"], original.id, now=NOW + timedelta(days=3))
    assert (copy.copy_of, copy.kind, copy.event_id) == (original.id, original.kind, original.event_id)
    assert copy.id != original.id and copy.created_at == NOW + timedelta(days=3)
    copy_pdf, original_pdf = (
        letter_pdf(db, cast["officer"], copy.id),
        letter_pdf(db, cast["officer"], original.id),
    )
    assert copy.sha256 == hashlib.sha256(copy_pdf).hexdigest() != original.sha256
    assert all("COPY" in page.extract_text() for page in reader(copy_pdf).pages)
    # The same letter as the original, dated as it was: only the COPY marks differ.
    assert " ".join(flat_text(copy_pdf).replace("COPY", " ").split()) == flat_text(original_pdf)
    # A copy of the copy is another copy of the original, byte for byte the same.
    again = reprint(db, cast["officer"], copy.id)
    assert (again.copy_of, again.sha256) == (original.id, copy.sha256)
    events = [
        json.loads(e.payload) for e in history(db, cast["officer"], case) if e.kind == "letter_produced"
    ]
    assert [(e["letter"], e.get("copy_of"), e["sha256"]) for e in events[-2:]] == [
        (copy.id, original.id, copy.sha256),
        (again.id, original.id, copy.sha256),
    ]
    assert verify_audit(db, cast["manager"]).problems == ()
    assert pending_letters(db, cast["officer"]) == []  # copies never count as the original
    with pytest.raises(PermissionDenied):
        reprint(db, cast["ot"], original.id)
    with pytest.raises(NotFound, match="no letter 999"):
        reprint(db, cast["officer"], 999)


def test_the_post_room_batch_merges_the_letters_since_a_day(
    db: Database, cast: dict[str, Actor], case: str
) -> None:
    walk(db, cast, case, until="complete_test_of_resources")
    produced = render(db, cast["officer"]).produced
    merged = reader(print_batch(db, cast["officer"], NOW.date()))
    pages = [len(reader(letter_pdf(db, cast["officer"], x.id)).pages) for x in produced]
    assert len(merged.pages) == sum(pages)
    assert "We have received your referral" in merged.pages[0].extract_text()
    with pytest.raises(NotFound, match="no letters were produced on or after 21/04/2026"):
        print_batch(db, cast["officer"], NOW.date() + timedelta(days=1))


def test_the_register_is_append_only(db: Database, cast: dict[str, Actor], case: str) -> None:
    walk(db, cast, case, until="accept_referral")
    letter = render(db, cast["officer"]).produced[0]
    for sql in ("UPDATE letters SET sha256 = 'x'", "DELETE FROM letters"):
        with pytest.raises(DatabaseError), db.write_engine.begin() as connection:
            connection.execute(text(sql))
    with db.read_connection() as connection:
        assert connection.scalar(select(LETTERS.c.sha256)) == letter.sha256


def test_a_letter_the_case_cannot_show_any_more_cannot_be_reprinted(
    db: Database, cast: dict[str, Actor], case: str
) -> None:
    walk(db, cast, case, until="accept_referral")
    letter = render(db, cast["officer"]).produced[0]
    with db.write_engine.begin() as connection:
        connection.execute(text("UPDATE cases SET tenure = 'landlord'"))  # whose address is not recorded
    with pytest.raises(InvalidInput, match=f"letter {letter.id} cannot be reprinted: .*postal address"):
        reprint(db, cast["officer"], letter.id)


def test_every_kind_of_letter_has_a_builder() -> None:
    # A new kind of letter needs a way to be made from the case, or a reason why it waits.
    assert sorted(letter_contexts._BUILDERS) == sorted(LETTER_KINDS)
