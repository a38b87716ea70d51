"""The airline's request makers: what a user asks for, and the reference's part of the answer.

Each maker reads the bench's working copy (so it sees what earlier requests of the conversation
did), picks its facts with the bench's rng, and raises NoCandidate when the user has nothing it
needs. `KINDS` maps each kind to its maker and categories (see levels.py).
"""

from __future__ import annotations

from agentgym.core.types import Action
from agentgym.environments.tooluse.airline.bench import (
    CABIN_WORDS,
    AirlineBench,
    method_text,
    place,
)
from agentgym.environments.tooluse.airline.booking import booking_total, new_reservation_id
from agentgym.environments.tooluse.airline.data import BAG_FEE_CENTS, DATES, ROUTES, TODAY
from agentgym.environments.tooluse.airline.refusals import (
    CLAIMS_CANCELLED,
    REFUSALS,
    refuse_cancel,
    refuse_change_basic,
    refuse_compensation,
    refuse_insurance,
    refuse_other_user,
    transfer_departed,
)
from agentgym.environments.tooluse.airline.tools import free_bags
from agentgym.environments.tooluse.airline.writes import CERTIFICATE_CENTS, seat_price
from agentgym.environments.tooluse.drafting import NoCandidate, money
from agentgym.environments.tooluse.levels import CONFIRM, Request
from agentgym.environments.tooluse.tasks import OutputSpec


def future(s: AirlineBench, r: dict) -> bool:
    return not r["flown"]


# ---- reads -------------------------------------------------------------------------------------


def fare_quote(s: AirlineBench) -> Request:
    a, b = s.rng.choice(ROUTES)
    origin, destination = (a, b) if s.rng.random() < 0.5 else (b, a)
    date = s.rng.choice([d for d in DATES if d > TODAY])
    flights = s.bookable(origin, destination, date, "economy", 1)
    prices = sorted(f["price_cents"] for f in flights)
    if not prices or prices[1:2] == prices[:1]:
        raise NoCandidate  # none, or a tie: the cheapest flight must be one
    best = next(f for f in flights if f["price_cents"] == prices[0])
    r = Request("fare_quote", f"What is the lowest economy fare I could book from {place(origin)} to "
                              f"{place(destination)} on {date}?", value=("the lowest fare", prices[0]))
    r.call("search_direct_flights", origin=origin, destination=destination, date=date)
    r.tell = f"The lowest economy fare you can book from {origin} to {destination} on {date} is " \
             f"{money(prices[0])}, on flight {best['flight_number']}."
    r.amounts.append(money(prices[0]))
    return r


def card_balance(s: AirlineBench) -> Request:
    source = s.rng.choice(("gift_card", "certificate"))
    cards = s.methods(source)
    if len(cards) != 1:
        raise NoCandidate
    name = method_text(cards[0])
    r = Request("card_balance", f"What is the balance of my {name}?", value=(f"my {name} balance", cards[0]["balance_cents"]))
    r.call("get_user_details", user_id=s.user["user_id"])
    r.tell = f"Your {name} has a balance of {money(cards[0]['balance_cents'])}."
    r.amounts.append(money(cards[0]["balance_cents"]))
    return r


def flight_status(s: AirlineBench) -> Request:
    options = [(r, seg) for r in s.reservations() for seg in r["segments"]
               if seg["date"] >= TODAY and seg["status"] in ("scheduled", "delayed", "cancelled")]
    if not options:
        raise NoCandidate
    r_, seg = s.rng.choice(options)
    s.taken.add(r_["reservation_id"])
    words = {"scheduled": ("on time", "scheduled"), "delayed": ("delayed",), "cancelled": ("cancelled", "canceled")}
    said = {"scheduled": "scheduled and on time", "delayed": "delayed", "cancelled": "cancelled"}[seg["status"]]
    r = Request("flight_status", f"Is my flight {seg['flight_number']} on {seg['date']} on time?")
    r.call("get_flight_status", flight_number=seg["flight_number"], date=seg["date"])
    r.tell = f"Flight {seg['flight_number']} on {seg['date']} is {said}."
    others = [w for status, ws in words.items() if status != seg["status"] for w in ws if w != "scheduled"]
    r.outputs.append(OutputSpec(any_of=list(words[seg["status"]]), not_with=others))
    return r


def _bags_to_add(s: AirlineBench, res: dict) -> tuple[int, int]:
    """A number of bags to add that costs something, and its fee."""
    free = free_bags(s.user["membership"], res["cabin"], len(res["passengers"]))
    for k in s.rng.sample((1, 2, 3), 3):
        nonfree = max(res["nonfree_baggages"], res["total_baggages"] + k - free)
        if nonfree > res["nonfree_baggages"]:
            return k, (nonfree - res["nonfree_baggages"]) * BAG_FEE_CENTS
    raise NoCandidate


def bag_fee_quote(s: AirlineBench) -> Request:
    res = s.take([r for r in s.reservations() if future(s, r)])
    k, fee = _bags_to_add(s, res)
    rid = res["reservation_id"]
    r = Request("bag_fee_quote", f"How much would it cost to add {k} checked bag(s) to reservation {rid}? "
                                 "Don't add them, I only want the price.", value=("the fee for those bags", fee))
    r.call("get_user_details", user_id=s.user["user_id"])
    r.call("get_reservation_details", reservation_id=rid)
    r.tell = f"Adding {k} checked bag(s) to reservation {rid} would cost {money(fee)}."
    r.amounts.append(money(fee))
    return r


# ---- writes ------------------------------------------------------------------------------------


def _cancel(s: AirlineBench, kind: str, res: dict, reason: str, ask: str) -> Request:
    rid = res["reservation_id"]
    refund = s.net_paid(rid)
    r = Request(kind, ask, value=(f"the refund for {rid}", refund), must_not_say=list(REFUSALS))
    r.call("get_reservation_details", reservation_id=rid)
    r.write(f"I will cancel reservation {rid} (reason: {reason}) and refund {money(refund)} to the original "
            "payment method(s).", "cancel_reservation", reservation_id=rid, reason=reason)
    r.tell = f"Reservation {rid} is cancelled, and {money(refund)} goes back to the original payment method(s)."
    r.amounts.append(money(refund))
    return r


def cancel_recent(s: AirlineBench) -> Request:
    res = s.take([r for r in s.reservations() if r["recent"] and future(s, r)])
    return _cancel(s, "cancel_recent", res, "change of plan",
                   f"Please cancel reservation {res['reservation_id']}, which I booked earlier today; my plans changed.")


def cancel_business(s: AirlineBench) -> Request:
    res = s.take([r for r in s.reservations("cabin = 'business'") if not r["recent"] and future(s, r)])
    return _cancel(s, "cancel_business", res, "change of plan",
                   f"Please cancel my business class reservation {res['reservation_id']}; my plans changed.")


def cancel_insured(s: AirlineBench) -> Request:
    res = s.take([r for r in s.reservations("insurance = 1 AND cabin != 'business'") if not r["recent"]
                  and future(s, r) and all(seg["status"] != "cancelled" for seg in r["segments"])])
    reason = s.rng.choice(("health", "weather"))
    why = "I'm ill and cannot travel" if reason == "health" else "a big storm is forecast and I won't fly in it"
    return _cancel(s, "cancel_insured", res, reason, f"Please cancel reservation {res['reservation_id']}: {why}.")


def cancel_airline(s: AirlineBench) -> Request:
    res = s.take([r for r in s.reservations() if future(s, r) and any(seg["status"] == "cancelled" for seg in r["segments"])])
    seg = next(seg for seg in res["segments"] if seg["status"] == "cancelled")
    return _cancel(s, "cancel_airline", res, "airline cancelled flight",
                   f"Please cancel my whole reservation {res['reservation_id']}: you cancelled my flight "
                   f"{seg['flight_number']} on {seg['date']}.")


def _settle(amount: int) -> str:
    return "is charged to" if amount > 0 else "is refunded to"


def change_date(s: AirlineBench) -> Request:
    options = []
    for res in s.reservations("cabin != 'basic_economy'"):
        if res["flown"]:
            continue
        first = res["segments"][0]
        latest = res["segments"][1]["date"] if len(res["segments"]) > 1 else DATES[-1]
        for date in DATES:
            if date != first["date"] and date <= latest and abs(DATES.index(date) - DATES.index(first["date"])) <= 4:
                for f in s.bookable(first["origin"], first["destination"], date, res["cabin"], len(res["passengers"])):
                    if f["flight_number"] == first["flight_number"] and f["price_cents"] != first["price_cents"]:
                        options.append((res, date, f["price_cents"]))
    if not options:
        raise NoCandidate
    res, date, price = s.rng.choice(options)
    s.taken.add(res["reservation_id"])
    rid, first = res["reservation_id"], res["segments"][0]
    difference = (price - first["price_cents"]) * len(res["passengers"])
    payer = s.payer(difference)
    flights = [{"flight_number": seg["flight_number"], "date": date if seg["seq"] == 0 else seg["date"]}
               for seg in res["segments"]]
    r = Request("change_date", f"On reservation {rid}, please move my {first['origin']} to {first['destination']} flight "
                               f"{first['flight_number']} from {first['date']} to {date}, same flight number, and settle "
                               f"the fare difference with my {method_text(payer)}.",
                value=("the fare difference", abs(difference)), must_not_say=list(REFUSALS))
    r.call("get_user_details", user_id=s.user["user_id"])
    r.call("get_reservation_details", reservation_id=rid)
    r.call("search_direct_flights", origin=first["origin"], destination=first["destination"], date=date)
    r.write(f"I will move flight {first['flight_number']} of reservation {rid} to {date}; the fare difference of "
            f"{money(abs(difference))} {_settle(difference)} your {method_text(payer)}.",
            "update_reservation_flights", reservation_id=rid, flights=flights, payment_method_id=payer["payment_method_id"])
    r.tell = (f"Flight {first['flight_number']} of reservation {rid} now departs on {date}; the fare difference of "
              f"{money(abs(difference))} {_settle(difference)} your {method_text(payer)}.")
    r.amounts.append(money(abs(difference)))
    return r


def upgrade_cabin(s: AirlineBench) -> Request:
    target = {"basic_economy": "economy", "economy": "business"}
    options = []
    for res in s.reservations("cabin != 'business'"):
        new = target[res["cabin"]]
        n = len(res["passengers"])
        if not res["flown"] and all(s.bookable(seg["origin"], seg["destination"], seg["date"], new, n) and any(
                f["flight_number"] == seg["flight_number"] for f in s.bookable(seg["origin"], seg["destination"], seg["date"], new, n))
                for seg in res["segments"]):
            options.append(res)
    res = s.take(options)
    rid, new, n = res["reservation_id"], target[res["cabin"]], len(res["passengers"])
    difference = sum(seat_price(s.db, seg["flight_number"], seg["date"], new) - seg["price_cents"] for seg in res["segments"]) * n
    payer = s.payer(difference)
    r = Request("upgrade_cabin", f"Please upgrade reservation {rid} to {CABIN_WORDS[new]} and pay the difference "
                                 f"with my {method_text(payer)}.", value=("the upgrade price", abs(difference)),
                must_not_say=list(REFUSALS))
    r.call("get_user_details", user_id=s.user["user_id"])
    r.call("get_reservation_details", reservation_id=rid)
    for seg in res["segments"]:
        r.call("search_direct_flights", origin=seg["origin"], destination=seg["destination"], date=seg["date"])
    r.write(f"I will move reservation {rid} to {CABIN_WORDS[new]}; the difference of {money(abs(difference))} "
            f"{_settle(difference)} your {method_text(payer)}.", "update_reservation_cabin", reservation_id=rid,
            cabin=new, payment_method_id=payer["payment_method_id"])
    r.tell = f"Reservation {rid} is now {CABIN_WORDS[new]}; {money(abs(difference))} {_settle(difference)} your {method_text(payer)}."
    r.amounts.append(money(abs(difference)))
    return r


def add_bags(s: AirlineBench) -> Request:
    res = s.take([r for r in s.reservations() if future(s, r)])
    k, fee = _bags_to_add(s, res)
    rid = res["reservation_id"]
    payer = s.payer(fee)
    r = Request("add_bags", f"Please add {k} checked bag(s) to reservation {rid} and pay any fee with my "
                            f"{method_text(payer)}.", value=("the bag fee", fee), must_not_say=list(REFUSALS))
    r.call("get_user_details", user_id=s.user["user_id"])
    r.call("get_reservation_details", reservation_id=rid)
    r.write(f"I will add {k} checked bag(s) to reservation {rid}, for a total of {res['total_baggages'] + k}; "
            f"the fee of {money(fee)} is charged to your {method_text(payer)}.", "update_reservation_baggages",
            reservation_id=rid, total_baggages=res["total_baggages"] + k, payment_method_id=payer["payment_method_id"])
    r.tell = f"Reservation {rid} now has {res['total_baggages'] + k} checked bag(s); {money(fee)} is charged to your {method_text(payer)}."
    r.amounts.append(money(fee))
    return r


def fix_passenger(s: AirlineBench) -> Request:
    res = s.take([r for r in s.reservations() if future(s, r)])
    rid = res["reservation_id"]
    seq = s.rng.randrange(len(res["passengers"]))
    p = res["passengers"][seq]
    year, rest = p["date_of_birth"].split("-", 1)
    new_dob = f"{int(year) + s.rng.choice((-1, 1))}-{rest}"
    fixed = [dict(q, date_of_birth=new_dob) if i == seq else dict(q) for i, q in enumerate(res["passengers"])]
    name = f"{p['first_name']} {p['last_name']}"
    r = Request("fix_passenger", f"Please correct the date of birth of {name} on reservation {rid}: it should be "
                                 f"{new_dob}.", must_not_say=list(REFUSALS))
    r.call("get_reservation_details", reservation_id=rid)
    r.write(f"I will correct the date of birth of {name} on reservation {rid} to {new_dob}.",
            "update_reservation_passengers", reservation_id=rid, passengers=fixed)
    r.tell = f"The date of birth of {name} on reservation {rid} is now {new_dob}."
    return r


def _disrupted(s: AirlineBench, eligible: bool) -> tuple[dict, dict]:
    """A reservation with a cancelled or delayed flight, whose user is (or is not) eligible."""
    regular = s.user["membership"] == "regular"
    options = [(res, seg) for res in s.reservations() for seg in res["segments"]
               if seg["status"] in ("cancelled", "delayed")
               and (not regular or res["insurance"] or res["cabin"] == "business") == eligible
               and not s.compensated(res["reservation_id"])]
    if not options:
        raise NoCandidate
    res, seg = s.rng.choice(options)
    s.taken.add(res["reservation_id"])
    return res, seg


def compensate(s: AirlineBench) -> Request:
    res, seg = _disrupted(s, eligible=True)
    rid, status = res["reservation_id"], seg["status"]
    amount = CERTIFICATE_CENTS[f"{status} flight"] * len(res["passengers"])
    r = Request("compensate", f"My flight {seg['flight_number']} on {seg['date']} (reservation {rid}) was {status}, "
                              "and I'd like compensation for that.", value=("the compensation", amount),
                must_not_say=list(REFUSALS))
    r.call("get_user_details", user_id=s.user["user_id"])
    r.call("get_reservation_details", reservation_id=rid)
    r.write(f"I will issue a travel certificate of {money(amount)} for the {status} flight of reservation {rid}.",
            "issue_compensation_certificate", reservation_id=rid, reason=f"{status} flight")
    r.tell = f"A travel certificate of {money(amount)} for reservation {rid} is now in your account."
    r.amounts.append(money(amount))
    return r


def book_one_way(s: AirlineBench) -> Request:
    a, b = s.rng.choice(ROUTES)
    origin, destination = (a, b) if s.rng.random() < 0.5 else (b, a)
    date = s.rng.choice([d for d in DATES if d > TODAY][1:])
    cabin = s.rng.choice(("economy", "business"))
    flights = s.bookable(origin, destination, date, cabin, 1)
    prices = sorted(f["price_cents"] for f in flights)
    if not prices or prices[1:2] == prices[:1]:
        raise NoCandidate
    best = next(f for f in flights if f["price_cents"] == prices[0])
    insurance = s.rng.random() < 0.5
    total = booking_total([prices[0]], 1, insurance, 0)
    card = s.rng.choice(s.methods("credit_card"))
    u = s.user
    rid = new_reservation_id(s.db)
    s.taken.add(rid)  # the user cannot name it in their instruction
    r = Request("book_one_way", f"Please book me a one-way {CABIN_WORDS[cabin]} trip from {place(origin)} to "
                                f"{place(destination)} on {date}, on the cheapest {CABIN_WORDS[cabin]} flight that day, "
                                f"just for me, with no checked bags and {'with' if insurance else 'without'} travel "
                                f"insurance. Pay with my {method_text(card)}.",
                value=("the total of the booking", total), must_not_say=list(REFUSALS))
    r.call("search_direct_flights", origin=origin, destination=destination, date=date)
    r.call("get_user_details", user_id=u["user_id"])
    r.write(f"I will book flight {best['flight_number']} from {origin} to {destination} on {date} in "
            f"{CABIN_WORDS[cabin]} for you, {'with' if insurance else 'without'} insurance and no checked bags; "
            f"the total of {money(total)} is charged to your {method_text(card)}.", "book_reservation",
            origin=origin, destination=destination, trip_type="one_way", cabin=cabin,
            flights=[{"flight_number": best["flight_number"], "date": date}],
            passengers=[{"first_name": u["first_name"], "last_name": u["last_name"], "date_of_birth": u["date_of_birth"]}],
            payment_methods=[{"payment_method_id": card["payment_method_id"], "amount": total / 100}],
            total_baggages=0, insurance=insurance)
    r.tell = f"Reservation {rid} is booked on flight {best['flight_number']}; {money(total)} is charged to your {method_text(card)}."
    r.amounts.append(money(total))
    return r


def change_of_mind(s: AirlineBench) -> Request:
    """Asks to cancel, then (when asked to confirm) keeps the reservation and adds bags instead."""
    res = s.take([r for r in s.reservations() if future(s, r) and (r["recent"] or r["cabin"] == "business")])
    k, fee = _bags_to_add(s, res)
    rid = res["reservation_id"]
    card = s.rng.choice(s.methods("credit_card"))
    r = Request("change_of_mind", f"Please cancel reservation {rid}; my plans changed.",
                notes=(f"When the agent asks you to confirm cancelling reservation {rid}, change your mind: say "
                       f"you will keep it after all, and ask instead to add {k} checked bag(s) to it, paid with your "
                       f"{method_text(card)}."),
                must_not_say=list(CLAIMS_CANCELLED + REFUSALS))
    r.call("get_reservation_details", reservation_id=rid)
    r.steps.append(Action(content=f"I will cancel reservation {rid} and refund {money(s.net_paid(rid))}. {CONFIRM}"))
    r.call("get_user_details", user_id=s.user["user_id"])
    r.write(f"I will keep reservation {rid} and add {k} checked bag(s) for {money(fee)}, charged to your "
            f"{method_text(card)}.", "update_reservation_baggages", reservation_id=rid,
            total_baggages=res["total_baggages"] + k, payment_method_id=card["payment_method_id"])
    r.tell = f"Reservation {rid} stays booked with {res['total_baggages'] + k} checked bag(s); {money(fee)} is charged."
    r.amounts.append(money(fee))
    return r


# kind -> (maker, categories); see levels.py for what each category is used for
KINDS = {
    "fare_quote": (fare_quote, ("read", "value")),
    "card_balance": (card_balance, ("read", "value")),
    "flight_status": (flight_status, ("read",)),
    "bag_fee_quote": (bag_fee_quote, ("read", "value")),
    "cancel_recent": (cancel_recent, ("write", "value")),
    "cancel_business": (cancel_business, ("write", "value")),
    "cancel_insured": (cancel_insured, ("write", "value")),
    "cancel_airline": (cancel_airline, ("write", "value")),
    "change_date": (change_date, ("write", "value")),
    "upgrade_cabin": (upgrade_cabin, ("write", "value")),
    "add_bags": (add_bags, ("write", "value")),
    "fix_passenger": (fix_passenger, ("write",)),
    "compensate": (compensate, ("write", "value")),
    "book_one_way": (book_one_way, ("write", "value")),
    "refuse_cancel": (refuse_cancel, ("forbidden",)),
    "refuse_change_basic": (refuse_change_basic, ("forbidden",)),
    "refuse_compensation": (refuse_compensation, ("forbidden",)),
    "refuse_insurance": (refuse_insurance, ("forbidden",)),
    "refuse_other_user": (refuse_other_user, ("forbidden",)),
    "transfer_departed": (transfer_departed, ("ends",)),
    "change_of_mind": (change_of_mind, ("simulated",)),
}
