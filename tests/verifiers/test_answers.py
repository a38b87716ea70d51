"""Answer checking: the money reader, and the rules that fail hedging while honest answers pass."""

from decimal import Decimal

import pytest
from num2words import num2words

from agentgym.verifiers import Amount, AnswerKey, Phrase, money_mentions, output_present
from agentgym.verifiers.answers import SLACK, parse_amount


def amounts(text: str) -> list[str]:
    return [f"{m.value:.2f}" for m in money_mentions(text)]


@pytest.mark.parametrize(("text", "found"), [
    ("A refund of $1,234.50.", ["1234.50"]),
    ("That is $42.", ["42.00"]),
    ("You get 1234.5 dollars back.", ["1234.50"]),
    ("USD 42.5, or 42.50 USD", ["42.50", "42.50"]),
    ("It costs 19 dollars and 99 cents", ["19.99"]),
    ("fifty cents", ["0.50"]),
    ("forty-two dollars and fifty cents", ["42.50"]),
    ("two hundred and fifty-four dollars, forty-seven cents", ["254.47"]),
    ("three hundred and three dollars", ["303.00"]),
    ("Paid: 254.47", ["254.47"]),  # a bare number with two decimals is money
    ("Full-width \uff04\uff14\uff12\uff0e\uff15\uff10", ["42.50"]),
    # not money: whole numbers without a currency word, ids, zip codes, sizes, days, versions
    ("Order #W3626310 ships to 484 Cedar Street, Apt 3, Portland, OR 97236.", []),
    ("Your balance is 303. Size 11, 1000ml, card ending in 1339, 5-7 business days, v1.25.3", []),
])
def test_money_reader(text, found):
    assert amounts(text) == found


def test_money_values_compare_exactly():
    assert parse_amount("$42.5") == parse_amount("42.50 dollars") == Decimal("42.50")
    assert parse_amount("$42.50") != parse_amount("$42.51")
    with pytest.raises(ValueError, match="not one dollar amount"):
        parse_amount("forty")
    with pytest.raises(ValueError, match="not one dollar amount"):
        parse_amount("$1 or $2")


@pytest.mark.parametrize("text", ["either $10.00 or $20.00", "It is $10. Or maybe $20.", "$10/$20",
                                  "$10, $20, or $30", "$10 (possibly $20)"])
def test_alternatives_are_marked(text):
    assert any(m.alternative for m in money_mentions(text))


@pytest.mark.parametrize("text", ["Your refund is $42.50 of the $50.00 order.",
                                  "You can pay the $17.50 with your card, or use your gift card ($303.00).",
                                  "The price goes from $100.00 to $117.50."])
def test_honest_sentences_offer_no_alternatives(text):
    assert not any(m.alternative for m in money_mentions(text))


def test_phrases_match_whole_words_after_folding():
    assert output_present("not on your account", ["It is NOT  on your\naccount."])
    assert output_present("i've cancelled", ["I\u2019ve cancelled it"])
    assert not output_present("pending", ["It is not pendingx"])
    assert not output_present("is cancelled", ["Only pending orders can be cancelled."])


KEY = AnswerKey((Amount.of("$42.50"),), task_amounts=frozenset({Decimal("50.00"), Decimal("7.50")}))


@pytest.mark.parametrize("said", [
    ["Your refund is $42.50 of the $50.00 order."],
    ["Items: $20.00, $22.50. Shipping $7.50. You paid $42.50 in total, of the $50.00 limit."],
    ["The refund is $45.00.", "Sorry, I misread the order: the refund is $42.50, not $45.00."],  # a correction
    ["You get forty-two dollars and fifty cents back."],
    ["Refund: 42.50"],
])
def test_honest_answers_pass(said):
    verdict = KEY.check(said)
    assert verdict.ok, verdict


def every_amount(low_cents: int, high_cents: int, form=lambda c: f"${c / 100:,.2f}") -> list[str]:
    return [form(c) for c in range(low_cents, high_cents + 1)]


@pytest.mark.parametrize(("said", "why"), [
    ([", ".join(every_amount(1, 5000))], "different amounts said"),
    (["\n".join(every_amount(4200, 4300))], "different amounts said"),  # one per line
    ([f"Is it {a}?" for a in every_amount(4240, 4260)], "different amounts said"),  # over many messages
    ([", ".join(every_amount(4240, 4260, lambda c: f"{c / 100:.2f}"))], "different amounts said"),  # no $
    ([", ".join(every_amount(4240, 4260, lambda c: num2words(c / 100, to="currency", currency="USD")))],
     "different amounts said"),  # in words
    (["It is either $42.50 or $45.00."], "offered as alternatives"),
    (["It is $45.00.", "Or maybe $42.50."], "offered as alternatives"),
    (["$42.50/$45.00"], "offered as alternatives"),
])
def test_hedges_fail(said, why):
    verdict = KEY.check(said)
    assert not verdict.ok and verdict.facts_given == 0
    assert any(why in h for h in verdict.hedges), verdict.hedges


def test_the_bound_is_the_task_amounts_plus_slack():
    allowed = len(KEY.allowed)  # the required amount counts among them
    assert allowed == 3 and KEY.max_amounts == allowed + SLACK
    others = [f"${n}.00" for n in range(1, 20)]
    assert KEY.check(["$42.50 " + " ".join(others[:KEY.max_amounts - 1])]).ok
    assert not KEY.check(["$42.50 " + " ".join(others[:KEY.max_amounts])]).ok


def test_required_amounts_must_be_said_as_money():
    key = AnswerKey((Amount.of("$303.00"),))
    assert key.check(["Your balance is $303."]).ok
    assert not key.check(["Your balance is 303."]).ok  # a bare whole number is not an amount
    assert "missing amount $303.00" in key.check(["Your balance is $330."]).problems[0]


def test_a_task_without_amounts_still_bounds_them():
    key = AnswerKey((Phrase(("not on your account",)),), task_amounts=frozenset({Decimal("12.00")}))
    assert key.check(["Order #W1 ($12.00) is not on your account."]).ok
    stuffed = key.check([" ".join(every_amount(1, 100)) + " It is not on your account."])
    assert not stuffed.ok and stuffed.facts_given == 1 and not stuffed.plain


def test_closed_sets_and_contradictions():
    key = AnswerKey((Phrase(("delivered",), not_with=("processed",)),),
                    must_not_say=("is cancelled", "has been cancelled", "not on your account"))
    assert key.check(["Order #W1 is delivered; only pending orders can be cancelled."]).ok
    assert not key.check(["It is delivered or processed."]).ok
    claimed = key.check(["It is delivered, so I can't cancel it.", "Update: your order has been cancelled."])
    assert not claimed.ok and "contradicts the outcome" in claimed.hedges[0]
    assert not key.check(["It is delivered. Also, it is not on your account."]).ok
