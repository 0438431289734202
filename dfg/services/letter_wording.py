"""How a letter words the figures it explains: in the reader's words, from the recorded figures.

The grant calculation and the test of resources record an officer's working beside each figure (which
policy file set a fee, the order of cap and deduction, "relevant person 1"): that is the audit trail, and
the officer's screens show it. A letter is read by the applicant, so it says the same sums in plain
English, built from the recorded numbers rather than from the officer's text: no file names, policy
keys or internal phrases.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from fractions import Fraction
from typing import Any, Literal

from dfg.letters import context as c
from dfg.letters.render import longdate
from dfg.rules.grant import LANDLORD_FACTORS, LandlordDecision
from dfg.rules.means_test import TraceLine, format_factor
from dfg.rules.money import format_pounds as pounds
from dfg.services.letter_sources import sentence

# ------------------------------------------------------------------------------ the grant calculation

#: What an older calculation's charge working ends with (before the figures were recorded apart): the
#: policy file it came from, which a reader has no use for.
_POLICY_FILE = re.compile(r",? per [\w.-]+\.toml$")


def charge_how(charge: Mapping[str, Any], works_pence: int) -> str:
    """How a fee or charge was worked out: a share of the works, or the fee as estimated, and the policy's
    limit when it applied."""
    if "percent_of_works" not in charge:  # recorded before the figures were kept apart: its own words
        how = _POLICY_FILE.sub("", str(charge["how_calculated"]))
        return sentence(how[:1].upper() + how[1:])
    percent, capped = charge["percent_of_works"], charge["capped_at_pence"]
    how = f"{percent} of the cost of the works, {pounds(works_pence)}" if percent else "The fee as estimated"
    if capped is not None:
        how += f", limited to {pounds(capped)}, the most our policy allows"
    return sentence(how)


def grant_how(figures: Mapping[str, Any], landlord: LandlordDecision | None = None) -> str:
    """How the grant follows from the total cost, the contribution and the maximum grant (or, on a
    landlord's application, the council's decision on it), or which funding line paid instead of it,
    with every discretionary line the calculation paid."""
    parts = [_landlords_how(landlord, figures) if landlord else _mandatory_how(figures)]
    parts += [
        f"{line['label']}: {assistance_how(line, figures)}"
        for line in figures["funding"]
        if line["applies"] and line["amount_pence"]
    ]
    return " ".join(sentence(p) for p in parts)


def _landlords_how(decision: LandlordDecision, figures: Mapping[str, Any]) -> str:
    """s.31: on a landlord's application the council decides the amount, having regard to the rent."""
    weighed = " and ".join(
        LANDLORD_FACTORS[code][:1].lower() + LANDLORD_FACTORS[code][1:] for code in decision.factors
    )
    return (
        f"As this is a landlord's application, we decided the amount of the grant on "
        f"{longdate(decision.decided_on)} under section 31 of the Housing Grants, Construction and "
        f"Regeneration Act 1996, having regard to {weighed}: {pounds(figures['grant_pence'])}"
    )


def _mandatory_how(figures: Mapping[str, Any]) -> str:
    expense, contribution = figures["estimated_expense_pence"], figures["contribution_pence"]
    maximum, grant = figures["maximum_grant_pence"], figures["grant_pence"]
    route = figures["route"]
    if route != "mandatory":
        instead = next((f["label"] for f in figures["funding"] if f["code"] == route), "other assistance")
        return f"The {instead[:1].lower() + instead[1:]} pays for the work instead of the grant"
    cap = pounds(maximum)
    if figures["cap_order"] == "cap_then_deduct" and expense > maximum:
        start = f"The total cost, {pounds(expense)}, is more than the maximum grant of {cap}"
        if grant == 0:
            return f"{start}, and your contribution, {pounds(contribution)}, is at least that, so no grant is due"
        return f"{start}: {cap} less your contribution, {pounds(contribution)}, is {pounds(grant)}"
    net = expense - contribution
    said = f"The total cost, {pounds(expense)}, less your contribution, {pounds(contribution)}"
    if net <= 0:
        return f"Your contribution, {pounds(contribution)}, is at least the total cost, so no grant is due"
    if net > maximum:
        return f"{said}, is {pounds(net)}: more than the maximum grant, so your grant is {cap}"
    return f"{said}, is {pounds(grant)}. The maximum grant is {cap}"


def assistance_how(line: Mapping[str, Any], figures: Mapping[str, Any]) -> str:
    """How one discretionary funding line's amount was worked out, from its recorded figures."""
    amount, cap = pounds(int(line["amount_pence"])), pounds(int(line["cap_pence"]))
    contribution = " less your contribution" if line["means_tested"] else ""
    if line["kind"] == "top_up":
        above = figures["estimated_expense_pence"] - figures["maximum_grant_pence"]
        return (
            f"The cost above the maximum grant, {pounds(max(0, above))}{contribution}, up to {cap}: {amount}"
        )
    return (
        f"The total cost, {pounds(figures['estimated_expense_pence'])}{contribution}, up to {cap}: "
        f"{amount}. It takes the place of the mandatory grant"
    )


# ------------------------------------------------------------------------------ the test of resources

#: How each outcome of a test of resources reads, and the kind of outcome the letter names.
OUTCOME_SUMMARY: Mapping[str, tuple[Literal["passported", "child", "landlord", "assessed"], str]] = {
    "passported": (
        "passported",
        "You, or your partner, get a benefit that means you do not need to pay anything towards the work.",
    ),
    "child_exempt": (
        "child",
        "The grant is for a disabled child or young person, so there is no test of your income and savings "
        "and you do not need to pay anything towards the work.",
    ),
    "landlord": ("landlord", "A landlord's application is not means-tested."),
    "nil": (
        "assessed",
        "We assessed your income and savings. You do not need to pay anything towards the work.",
    ),
    "assessed": (
        "assessed",
        "We assessed your income and savings. You need to pay part of the cost of the work.",
    ),
}


#: The relevant persons of a test of resources, as the reader is: the applicant, and their partner.
_PERSON = re.compile(r"relevant person ([12])( receives)?")
_WHO = {"1": ("you", " receive"), "2": ("your partner", " receives")}
#: Whose an income is, at the end of its label: "State pension, relevant person 2".
_WHOSE = re.compile(r", relevant person ([12])$")
#: A rule the reader can look up is cited (a regulation or schedule); a council's own note is not.
_CITED = ("reg. ", "Sch. ")


def _as_reader(text: str) -> str:
    def who(found: re.Match[str]) -> str:
        person, verb = _WHO[found[1]]
        return person + (verb if found[2] else "")

    return _PERSON.sub(who, text).replace("contribution nil", "you do not pay anything")


def working_line(line: TraceLine, loan_factor: Fraction | None) -> c.WorkingLine:
    """One line of the test of resources for the letter: money in the amount column; the loan factor, or
    a finding with no money (a premium not applied), as a figure or a note beside its label.

    The working is the officer's, with the relevant persons named as the reader is ("you", "your
    partner") and the rule cited only when it is one of the regulations.
    """
    label = _WHOSE.sub(lambda found: f" ({_WHO[found[1]][0]})", line.step)
    if line.rate_key == "passport.universal_credit":
        # The officer's working quotes the council's setting and its provenance: say what it means.
        passported = line.step == "Passported"
        basis = (
            "You, or your partner, get Universal Credit, which we treat as a benefit that means you do "
            "not pay anything"
            if passported
            else "We do not treat Universal Credit as a benefit that means you do not pay anything, so we "
            "assessed your income and savings"
        )
    else:
        basis = _as_reader(line.working)
        if line.rule.startswith(_CITED):
            basis += f" ({line.rule})"
    basis = sentence(basis[:1].upper() + basis[1:])
    if line.pence is not None:
        return c.WorkingLine(label=label, amount=line.pence, basis=basis)
    if (line.rate_key or "").startswith("loan_factor.") and loan_factor is not None:
        return c.WorkingLine(label=label, figure=format_factor(loan_factor), basis=basis)
    return c.WorkingLine(label=label, basis=basis)
