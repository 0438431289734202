"""Letter contracts: for each kind of letter, who it goes to and what it must show.

A contract names the fields of the letter's context (see :mod:`dfg.letters.context`) that the template
must print, as paths: ``calculation.grant``, ``calculation.works[].how_calculated`` (each item of a
list), ``next_steps[]`` (the items themselves). Some duties are fixed wording rather than data (a works
order must say the contract is between the applicant and the contractor), so a contract may also name
phrases the template text must contain.

:func:`check_template` reads a template's source without rendering it: it parses it with Jinja2, follows
``extends``, ``include`` and macro calls, and lists every required field the template never prints and
every required phrase it never says. The workflow linter and the test suite fail on any problem, so a
template edit cannot silently drop a statutory duty (the content of an approval notice, s.34 of the
Housing Grants, Construction and Regeneration Act 1996).
"""

from __future__ import annotations

import dataclasses
import re
import typing
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType, NoneType, UnionType
from typing import Any, Literal

import jinja2
from jinja2 import nodes

from dfg.errors import InvalidInput
from dfg.letters import context as c
from dfg.paths import letter_templates_dir

RecipientType = Literal["applicant", "contractor"]

#: Shown by every letter, through ``base.html``.
COMMON_FIELDS: tuple[str, ...] = (
    "recipient.name",
    "recipient.address_lines[]",
    "recipient.postcode",
    "branding.name",
    "branding.phone",
    "branding.email",
    "case_reference",
    "letter_date",
    "officer.name",
)


@dataclass(frozen=True)
class LetterContract:
    """What one kind of letter is and must show."""

    #: The template's name without ``.html``, and the name workflow definitions use.
    kind: str
    #: The document title (PDF title and the letter's heading).
    title: str
    recipient: RecipientType
    #: The context class a render of this kind takes.
    context_type: type[c.LetterContext]
    #: Paths of context fields the template must print, besides :data:`COMMON_FIELDS`.
    required_fields: tuple[str, ...]
    #: Fixed wording the template must contain (matched case-insensitively, spaces collapsed).
    required_phrases: tuple[str, ...] = ()
    #: Made from a reminder the daily tick queues (``workflows/policy/reminders.toml``), not from a step of
    #: the workflow: only these kinds may be named there.
    reminder: bool = False

    @property
    def all_required_fields(self) -> tuple[str, ...]:
        """:data:`COMMON_FIELDS` and this kind's own."""
        return COMMON_FIELDS + self.required_fields


_REVIEW = ("review_by", "branding.complaints_web")
_OMBUDSMAN = ("Local Government and Social Care Ombudsman",)

_CONTRACTS: tuple[LetterContract, ...] = (
    LetterContract(
        "acknowledgement",
        "We have received your referral",
        "applicant",
        c.Acknowledgement,
        ("referral_date", "referred_by", "next_contact_by"),
        ("What happens next",),
    ),
    LetterContract(
        "assessment_appointment",
        "Your home assessment appointment",
        "applicant",
        c.AssessmentAppointment,
        ("appointment_at", "assessor_name", "assessor_role", "location", "rearrange_phone"),
    ),
    LetterContract(
        "assessment_cancellation",
        "Your home assessment visit is cancelled",
        "applicant",
        c.AssessmentCancellation,
        ("appointment_at", "assessor_name", "rearrange_phone"),
    ),
    LetterContract(
        "test_of_resources_result",
        "The result of your test of resources",
        "applicant",
        c.TestOfResourcesResult,
        (
            "outcome_summary",
            "contribution",
            "workings[].label",
            "workings[].amount",
            "workings[].figure",
            "workings[].basis",
            "rates_version",
            "query_by",
        ),
        ("If you think this is wrong",),
    ),
    LetterContract(
        "request_for_information",
        "We need more information from you",
        "applicant",
        c.RequestForInformation,
        ("items[].what", "items[].why", "reply_by"),
    ),
    LetterContract(
        "valid_application_received",
        "We have your complete application",
        "applicant",
        c.ValidApplicationReceived,
        ("valid_application_date", "decision_due", "decision_period"),
    ),
    LetterContract(
        "approval_notice",
        "Your Disabled Facilities Grant is approved",
        "applicant",
        c.ApprovalNotice,
        (
            "approval_date",
            "calculation.works[].description",
            "calculation.works[].amount",
            "calculation.works[].how_calculated",
            "calculation.works_expense",
            "calculation.charges[].description",
            "calculation.charges[].amount",
            "calculation.charges[].how_calculated",
            "calculation.charges_expense",
            "calculation.estimated_expense",
            "calculation.contribution",
            "calculation.contribution_basis",
            "calculation.grant",
            "calculation.grant_basis",
            "deferred_payment_date",
            "contractor_name",
            "direct_payment",
            "completion_due",
            "completion_period",
            "conditions[]",
            "disabled_occupant_name",
            "grant_condition_years",
            "land_charge_amount",
            "land_charge_years",
            "land_charge_threshold",
            "assistance[].label",
            "assistance[].amount",
            "assistance[].how_calculated",
            "assistance[].conditions",
            "assistance[].repayment",
            "total_assistance",
            "applicant_funds",
            "applicant_pays",
            *_REVIEW,
        ),
        _OMBUDSMAN,  # the completion period is a field (completion_period), from the clock policy
    ),
    LetterContract(
        "refusal_notice",
        "Your grant application is refused",
        "applicant",
        c.RefusalNotice,
        (
            "decision_date",
            "valid_application_date",
            "purpose.reasons",
            "necessary_and_appropriate.reasons",
            "reasonable_and_practicable.reasons",
            "other_reasons[]",
            *_REVIEW,
        ),
        ("necessary and appropriate", "reasonable and practicable", *_OMBUDSMAN),
    ),
    LetterContract(
        "reapproval_variation",
        "Your grant has changed",
        "applicant",
        c.ReapprovalVariation,
        (
            "original_approval_date",
            "reapproval_date",
            "reason",
            "changes[].description",
            "changes[].amount",
            "changes[].how_calculated",
            "previous_grant",
            "calculation.works[].description",
            "calculation.works[].amount",
            "calculation.works[].how_calculated",
            "calculation.works_expense",
            "calculation.charges[].description",
            "calculation.charges[].amount",
            "calculation.charges[].how_calculated",
            "calculation.charges_expense",
            "calculation.estimated_expense",
            "calculation.contribution",
            "calculation.contribution_basis",
            "calculation.grant",
            "calculation.grant_basis",
            "completion_due",
            *_REVIEW,
        ),
        _OMBUDSMAN,
    ),
    LetterContract(
        "works_order",
        "Works order",
        "contractor",
        c.WorksOrder,
        (
            "order_number",
            "applicant_name",
            "site_address[]",
            "estimate_reference",
            "works[].description",
            "works[].amount",
            "order_total",
            "start_from",
            "complete_by",
            "invoice_to",
            "interim_limit_percent",
        ),
        ("contract for the works is between", "own labour"),
    ),
    LetterContract(
        "variation_order",
        "Variation order",
        "contractor",
        c.VariationOrder,
        (
            "order_number",
            "variation_number",
            "applicant_name",
            "site_address[]",
            "changes[].description",
            "changes[].amount",
            "change_total",
            "previous_order_total",
            "new_order_total",
            "reason",
            "authorised_by",
            "authorised_by_role",
            "authorised_on",
            "countersigned_by",
        ),
    ),
    LetterContract(
        # An interim payment, or the final one: the letter says which (payment_name).
        "interim_payment",
        "Remittance advice",
        "contractor",
        c.InterimPayment,
        (
            "order_number",
            "applicant_name",
            "site_address[]",
            "payment_name",
            "payment_number",
            "invoice_reference",
            "valuation_amount",
            "valuation_date",
            "valued_by",
            "previous_payments",
            "retained",
            "amount",
            "payment_date",
            "payment_reference",
        ),
    ),
    LetterContract(
        # Queued by the daily tick ahead of the completion due date (workflows/policy/reminders.toml).
        "completion_reminder",
        "Reminder: the date the work must be finished by",
        "contractor",
        c.CompletionReminder,
        (
            "order_number",
            "applicant_name",
            "site_address[]",
            "ordered_on",
            "complete_by",
        ),
        ("ask for an extension",),
        reminder=True,
    ),
    LetterContract(
        "completion_certified",
        "Your adaptation work is complete",
        "applicant",
        c.CompletionCertified,
        (
            "certified_date",
            "grant_paid",
            "paid_to",
            "grant_condition_end",
            "disabled_occupant_name",
            "land_charge_amount",
            "land_charge_expiry",
        ),
    ),
    LetterContract(
        "land_charge_notice",
        "A land charge on your home",
        "applicant",
        c.LandChargeNotice,
        (
            "property_address[]",
            "grant",
            "land_charge_amount",
            "land_charge_threshold",
            "certified_date",
            "registered_on",
            "expiry",
        ),
        ("If you sell your home",),
    ),
    LetterContract(
        "hold_notice",
        "We have put your case on hold",
        "applicant",
        c.HoldNotice,
        ("hold_date", "reason", "review_date", "next_steps[]"),
    ),
    LetterContract(
        "withdrawal_notice",
        "Your application has been withdrawn",
        "applicant",
        c.WithdrawalNotice,
        ("withdrawal_date", "reason", "next_steps[]"),
    ),
    LetterContract(
        "closure_notice",
        "We have closed your case",
        "applicant",
        c.ClosureNotice,
        ("closure_date", "reason", "next_steps[]"),
    ),
    LetterContract(
        "repayment_demand",
        "Repayment of your Disabled Facilities Grant",
        "applicant",
        c.RepaymentDemand,
        (
            "property_address[]",
            "certified_date",
            "grant",
            "event",
            "event_date",
            "basis",
            "discretion_considered",
            "amount",
            "pay_by",
            "payment_reference",
            *_REVIEW,
        ),
        _OMBUDSMAN,
    ),
)

#: Every letter kind's contract, by kind.
CONTRACTS: Mapping[str, LetterContract] = MappingProxyType({k.kind: k for k in _CONTRACTS})

#: Every letter kind, in the order of the case lifecycle.
LETTER_KINDS: tuple[str, ...] = tuple(CONTRACTS)


def contract_for(kind: str) -> LetterContract:
    """The contract of ``kind``; :class:`InvalidInput` naming the known kinds if there is none."""
    try:
        return CONTRACTS[kind]
    except KeyError:
        raise InvalidInput(f"unknown letter kind {kind!r}; known: {', '.join(LETTER_KINDS)}") from None


# --------------------------------------------------------------------------------------------------------
# Static checking of templates


def check_template(kind: str, *, templates_dir: Path | None = None) -> list[str]:
    """Problems with ``kind``'s template, as sentences; an empty list when it shows all it must.

    Reads ``<templates_dir>/<kind>.html`` (default: :func:`dfg.paths.letter_templates_dir`), with the
    templates it extends, includes and imports macros from. A field counts as shown when the template
    prints it (``{{ ... }}``), not when it only tests it (``{% if %}``). Also reports a contract whose
    field paths do not exist in its context class, so a typo in a contract cannot pass unnoticed.
    """
    contract = contract_for(kind)
    problems = [
        f"{kind}: contract names {path!r}, which is not a field of {contract.context_type.__name__}"
        for path in contract.all_required_fields
        if not _path_exists(contract.context_type, path)
    ]
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(templates_dir or letter_templates_dir()))
    try:
        found = _TemplateReader(env).read(f"{kind}.html")
    except jinja2.TemplateNotFound as exc:
        return [*problems, f"{kind}: template {exc.name} not found"]
    except jinja2.TemplateSyntaxError as exc:
        return [*problems, f"{kind}: syntax error in {exc.name} line {exc.lineno}: {exc.message}"]
    for path in contract.all_required_fields:
        if not found.prints(path):
            problems.append(f"{kind}: template does not show required field {path!r}")
    for phrase in contract.required_phrases:
        if _normalise(phrase) not in found.text:
            problems.append(f"{kind}: template does not say {phrase!r}")
    return problems


def _normalise(text: str) -> str:
    return " ".join(text.split()).casefold()


def _unwrap_optional(annotation: Any) -> Any:
    """``X | None`` → ``X``."""
    if isinstance(annotation, UnionType) or typing.get_origin(annotation) is typing.Union:
        members = [a for a in typing.get_args(annotation) if a is not NoneType]
        if len(members) == 1:
            return members[0]
    return annotation


def _attribute_type(owner: Any, name: str) -> Any:
    """The annotated type of a dataclass field or property, or None when ``owner`` has no such attribute."""
    if not (isinstance(owner, type) and dataclasses.is_dataclass(owner)):
        return None
    if name in {f.name for f in dataclasses.fields(owner)}:
        return _unwrap_optional(typing.get_type_hints(owner)[name])
    attribute = getattr(owner, name, None)
    if isinstance(attribute, property) and attribute.fget is not None:
        return _unwrap_optional(typing.get_type_hints(attribute.fget)["return"])
    return None


def _path_exists(context_type: type, path: str) -> bool:
    """Whether ``path`` (``a.b[].c``) names something in ``context_type``."""
    current: Any = context_type
    for part in path.split("."):
        name, is_list = (part[:-2], True) if part.endswith("[]") else (part, False)
        current = _attribute_type(current, name)
        if current is None:
            return False
        if is_list:
            if typing.get_origin(current) is not tuple:
                return False
            current = typing.get_args(current)[0]
    return True


@dataclass
class _Found:
    """What a template prints, and the text it says."""

    printed: set[str] = dataclasses.field(default_factory=set)
    text: str = ""

    def prints(self, path: str) -> bool:
        # A whole list printed at once (``{{ lines|join(", ") }}``) shows each of its items.
        return path in self.printed or (path.endswith("[]") and path[:-2] in self.printed)


Scope = Mapping[str, str]

_ITEM_FILTERS = frozenset({"list", "sort", "reverse", "selectattr", "rejectattr", "unique", "default"})

_TAGS = re.compile(r"<[^>]*>")
_HEAD_TAGS = re.compile(r"</?head\b", re.IGNORECASE)


class _TemplateReader:
    """Walks a template's syntax tree, resolving names through loops, ``set`` and macro parameters."""

    def __init__(self, env: jinja2.Environment) -> None:
        self.env = env
        self.found = _Found()
        self.macros: dict[str, nodes.Macro] = {}
        self.texts: list[str] = []
        self._active_macros: set[str] = set()  # guards against recursive macros
        self.in_head = False

    def read(self, name: str) -> _Found:
        self._read_template(name, {}, overridden=frozenset())
        self.found.text = " \x00 ".join(self.texts)
        return self.found

    def _parse(self, name: str) -> nodes.Template:
        source, filename, _ = self.env.loader.get_source(self.env, name)  # type: ignore[union-attr]
        return self.env.parse(source, name, filename)

    def _read_template(self, name: str, scope: Scope, overridden: frozenset[str]) -> None:
        tree = self._parse(name)
        for macro in tree.find_all(nodes.Macro):
            self.macros.setdefault(macro.name, macro)
        blocks = frozenset(b.name for b in tree.find_all(nodes.Block))
        self._statements(tree.body, dict(scope), overridden)
        for extends in tree.find_all(nodes.Extends):
            if isinstance(extends.template, nodes.Const):
                # The child's blocks replace the parent's: the parent's versions are never shown.
                self._read_template(extends.template.value, scope, overridden | blocks)

    def _statements(
        self, body: Iterable[nodes.Node], scope: dict[str, str], overridden: frozenset[str]
    ) -> None:
        for node in body:
            self._statement(node, scope, overridden)

    def _statement(self, node: nodes.Node, scope: dict[str, str], overridden: frozenset[str]) -> None:
        if isinstance(node, nodes.Output):
            for child in node.nodes:
                if isinstance(child, nodes.TemplateData):
                    # What is in <head> (title, metadata) is not shown on the page.
                    for tag in _HEAD_TAGS.findall(child.data):
                        self.in_head = not tag.startswith("</")
                    if not self.in_head:
                        self.texts.append(_normalise(_TAGS.sub(" ", child.data)))
                elif not self.in_head:
                    self._printed(child, scope, overridden)
        elif isinstance(node, nodes.For):
            inner = dict(scope)
            source = self._path(node.iter, scope)
            for target in _names(node.target):
                if source is not None:
                    inner[target] = f"{source}[]"
            self._statements(node.body, inner, overridden)
            self._statements(node.else_, scope, overridden)
        elif isinstance(node, nodes.If):
            self._statements(node.body, scope, overridden)
            for elif_ in node.elif_:
                self._statement(elif_, scope, overridden)
            self._statements(node.else_, scope, overridden)
        elif isinstance(node, nodes.Assign):
            path = self._path(node.node, scope)
            for target in _names(node.target):
                if path is not None:
                    scope[target] = path
        elif isinstance(node, nodes.With):
            inner = dict(scope)
            for target_node, value in zip(node.targets, node.values, strict=True):
                path = self._path(value, scope)
                for name in _names(target_node):
                    if path is not None:
                        inner[name] = path
            self._statements(node.body, inner, overridden)
        elif isinstance(node, nodes.Block):
            if node.name not in overridden:
                self._statements(node.body, scope, overridden)
        elif isinstance(node, nodes.Include):
            if isinstance(node.template, nodes.Const):
                self._read_template(node.template.value, scope, overridden)
        elif isinstance(node, nodes.FromImport | nodes.Import):
            if isinstance(node.template, nodes.Const):
                for macro in self._parse(node.template.value).find_all(nodes.Macro):
                    self.macros.setdefault(macro.name, macro)
        elif isinstance(node, nodes.CallBlock):
            self._printed(node.call, scope, overridden)
            self._statements(node.body, scope, overridden)
        elif isinstance(node, nodes.Macro | nodes.Extends):
            pass  # macros are read where they are called; extends after the child's own body
        else:
            for inner_node in node.iter_child_nodes():
                self._statement(inner_node, scope, overridden)

    def _path(self, expr: nodes.Node, scope: Scope) -> str | None:
        """The context path an expression stands for: ``item.amount`` in a loop over works → ``works[].amount``."""
        if isinstance(expr, nodes.Name):
            return scope.get(expr.name, expr.name)
        if isinstance(expr, nodes.Getattr):
            base = self._path(expr.node, scope)
            return None if base is None else f"{base}.{expr.attr}"
        if isinstance(expr, nodes.Getitem) and isinstance(expr.arg, nodes.Const):
            base = self._path(expr.node, scope)
            if base is None:
                return None
            return f"{base}[]" if isinstance(expr.arg.value, int) else f"{base}.{expr.arg.value}"
        if isinstance(expr, nodes.Filter) and expr.name in _ITEM_FILTERS and expr.node is not None:
            # These keep the items: a loop over ``works|sort(...)`` is a loop over the works.
            return self._path(expr.node, scope)
        return None

    def _printed(self, expr: nodes.Node, scope: Scope, overridden: frozenset[str]) -> None:
        """Record the paths an expression inside ``{{ }}`` prints."""
        path = (
            self._path(expr, scope) if isinstance(expr, nodes.Name | nodes.Getattr | nodes.Getitem) else None
        )
        if path is not None:
            self.found.printed.add(path)
            if isinstance(expr, nodes.Getitem):
                self._printed(expr.arg, scope, overridden)
            return
        if isinstance(expr, nodes.CondExpr):
            # The test decides which branch prints; it is not itself shown.
            self._printed(expr.expr1, scope, overridden)
            if expr.expr2 is not None:
                self._printed(expr.expr2, scope, overridden)
            return
        if isinstance(expr, nodes.Test):
            return
        if (
            isinstance(expr, nodes.Call)
            and isinstance(expr.node, nodes.Name)
            and expr.node.name in self.macros
        ):
            self._call_macro(self.macros[expr.node.name], expr, scope, overridden)
            return
        for child in expr.iter_child_nodes():
            self._printed(child, scope, overridden)

    def _call_macro(
        self, macro: nodes.Macro, call: nodes.Call, scope: Scope, overridden: frozenset[str]
    ) -> None:
        if macro.name in self._active_macros:
            return
        inner: dict[str, str] = {}
        params = [arg.name for arg in macro.args]
        bound = list(zip(params, call.args, strict=False)) + [(kw.key, kw.value) for kw in call.kwargs]
        for name, value in bound:
            path = self._path(value, scope)
            if path is not None:
                inner[name] = path
            else:
                self._printed(value, scope, overridden)
        self._active_macros.add(macro.name)
        try:
            self._statements(macro.body, inner, overridden)
        finally:
            self._active_macros.discard(macro.name)


def _names(target: nodes.Node) -> Iterator[str]:
    if isinstance(target, nodes.Name):
        yield target.name
    elif isinstance(target, nodes.Tuple):
        for item in target.items:
            yield from _names(item)
