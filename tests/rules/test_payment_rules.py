"""The payment rules: interim payments for work done within the cap, the final payment, ceased entitlement;
and the property that no sequence of actions pays more than the approved assistance."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dfg.errors import DfgError, GuardFailed, InvalidInput
from dfg.rules.payments import (
    MoneyPosition,
    check_interim,
    decided_amount,
    entitlement_from,
    final_payment,
    interim_cap_pence,
)

CAP = Decimal("0.90")


def test_the_interim_cap_rounds_down_to_the_penny() -> None:
    assert interim_cap_pence(8_450_00, CAP) == 7_605_00
    assert interim_cap_pence(1_01, CAP) == 90  # 90.9p: never round up past the cap


def test_interim_payments_at_the_boundaries() -> None:
    position = MoneyPosition(approved_pence=10_000_00, paid_pence=1_000_00)
    check_interim(position, 8_000_00, 9_000_00, CAP)  # exactly 90% and exactly the work done
    with pytest.raises(InvalidInput, match="more than 90% of the approved"):
        check_interim(position, 8_000_01, 10_000_00, CAP)
    with pytest.raises(InvalidInput, match="only for work done"):
        check_interim(position, 2_000_01, 3_000_00, CAP)
    for amount in (0, -1):
        with pytest.raises(InvalidInput, match=r"more than £0\.00"):
            check_interim(position, amount, 3_000_00, CAP)
    with pytest.raises(InvalidInput, match="cannot be negative"):
        check_interim(position, 1, -1, CAP)


def test_the_final_payment_pays_exactly_what_is_left() -> None:
    assert final_payment(MoneyPosition(approved_pence=8_450_00, paid_pence=7_605_00)) == 845_00
    with pytest.raises(GuardFailed, match="nothing is left to pay"):
        final_payment(MoneyPosition(approved_pence=8_450_00, paid_pence=8_450_00))


def test_ceased_entitlement_stops_payment_until_decided() -> None:
    ceased = MoneyPosition(approved_pence=10_000_00, paid_pence=2_000_00, entitlement_ceased=True)
    with pytest.raises(GuardFailed, match="entitlement ceased"):
        check_interim(ceased, 1_00, 5_000_00, CAP)
    with pytest.raises(GuardFailed, match="entitlement ceased"):
        final_payment(ceased)
    assert decided_amount(ceased, "all", None) == 10_000_00
    assert decided_amount(ceased, "part", 3_000_00) == 3_000_00
    with pytest.raises(InvalidInput, match="needs the --amount"):
        decided_amount(ceased, "part", None)
    with pytest.raises(InvalidInput, match="only for paying part"):
        decided_amount(ceased, "all", 5_00)
    with pytest.raises(InvalidInput, match="less than all of it"):
        decided_amount(ceased, "part", 10_000_00)
    decided = MoneyPosition(10_000_00, 2_000_00, entitlement_ceased=True, payable_limit_pence=3_000_00)
    check_interim(decided, 1_000_00, 3_000_00, CAP)  # up to the decided amount, whatever the cap
    with pytest.raises(InvalidInput, match="the council decided to pay"):
        check_interim(decided, 1_000_01, 5_000_00, CAP)
    assert final_payment(decided) == 1_000_00


def test_paying_none_after_a_payment_is_refused() -> None:
    paid = MoneyPosition(approved_pence=10_000_00, paid_pence=2_000_00, entitlement_ceased=True)
    with pytest.raises(InvalidInput, match="already paid"):
        decided_amount(paid, "none", None)
    assert decided_amount(MoneyPosition(10_000_00, 0, entitlement_ceased=True), "none", None) == 0


# Actions on an approved case: (kind, amount, work done) with pounds kept small so sequences collide.
_pence = st.integers(min_value=-2_000_00, max_value=12_000_00)
_action = st.one_of(
    st.tuples(st.just("interim"), _pence, _pence),
    st.tuples(st.just("vary"), _pence, st.just(0)),
    st.tuples(st.just("final"), st.just(0), st.just(0)),
    st.tuples(st.just("cease"), st.just(0), st.just(0)),
    st.tuples(st.sampled_from(["all", "part", "none"]), _pence, st.just(0)),
)


@settings(max_examples=400, deadline=None)
@given(approved=st.integers(min_value=0, max_value=30_000_00), actions=st.lists(_action, max_size=25))
def test_no_sequence_of_actions_pays_more_than_the_approved_assistance(
    approved: int, actions: list[tuple[str, int, int]]
) -> None:
    """Whatever order interim payments, variations, final payments and ceased-entitlement decisions come
    in, and whatever the amounts, every payment the rules allow keeps the total within the approved
    assistance (and within the amount decided, once entitlement has ceased)."""
    position = MoneyPosition(approved_pence=approved, paid_pence=0)
    for kind, amount, work_done in actions:
        try:
            if kind == "interim":
                check_interim(position, amount, work_done, CAP)
                position = MoneyPosition(position.approved_pence, position.paid_pence + amount,
                                         position.entitlement_ceased, position.payable_limit_pence)  # fmt: skip
            elif kind == "final":
                position = MoneyPosition(position.approved_pence, position.paid_pence + final_payment(position),
                                         position.entitlement_ceased, position.payable_limit_pence)  # fmt: skip
            elif kind == "vary":  # the approval service refuses a variation below what is paid
                if position.approved_pence + amount >= max(position.paid_pence, 0):
                    position = MoneyPosition(position.approved_pence + amount, position.paid_pence,
                                             position.entitlement_ceased, position.payable_limit_pence)  # fmt: skip
            elif kind == "cease":
                position = MoneyPosition(position.approved_pence, position.paid_pence, True, None)
            elif position.entitlement_ceased and position.payable_limit_pence is None:
                limit = decided_amount(position, kind, amount if kind == "part" else None)
                position = MoneyPosition(position.approved_pence, position.paid_pence, True, limit)
        except DfgError:
            continue
        assert 0 <= position.paid_pence <= position.approved_pence
        if position.payable_limit_pence is not None:
            assert position.paid_pence <= position.payable_limit_pence


def test_entitlement_from_the_events_in_order() -> None:
    ceased = ("entitlement_ceased", {})
    assert entitlement_from([]) == (False, None)
    assert entitlement_from([ceased]) == (True, None)
    decided = ("ceased_entitlement_decided", {"payable_pence": 2_400_00})
    assert entitlement_from([ceased, decided]) == (True, 2_400_00)
    assert entitlement_from([ceased, decided, ceased]) == (True, None)  # ceasing again needs a new decision
