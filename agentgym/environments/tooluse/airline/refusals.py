"""The airline's forbidden requests (refused with a reason) and the one that ends in a transfer.

A refusal must give its reason (a phrase of a closed set) and no reason that contradicts it, and
must not claim the action was done; so "I can't" alone, or every reason at once, scores 0.
"""

from __future__ import annotations

from agentgym.environments.tooluse.airline.bench import CABIN_WORDS, AirlineBench
from agentgym.environments.tooluse.airline.data import DATES
from agentgym.environments.tooluse.drafting import NoCandidate
from agentgym.environments.tooluse.levels import Request
from agentgym.environments.tooluse.tasks import OutputSpec
from agentgym.environments.tooluse.tools import fetch_all

# closed sets of refusal reasons: a refusal gives its own and none of the ones that contradict it
OTHER_USER = ("not on your account", "not in your account", "not your reservation", "another user",
              "another customer", "someone else", "different account", "does not belong to you",
              "doesn't belong to you", "not associated with your account")
DEPARTED = ("already departed", "has departed", "already flown", "has flown", "already taken off",
            "has taken off", "already left")
NOT_ELIGIBLE = ("not eligible for compensation", "ineligible for compensation", "not entitled to compensation",
                "don't qualify for compensation", "do not qualify for compensation", "doesn't qualify for compensation",
                "does not qualify for compensation", "not eligible for a certificate")
INSURANCE_LATER = ("only be bought with a booking", "only be purchased with a booking", "only be added at booking",
                   "only when booking", "at the time of booking", "cannot be added", "can't be added",
                   "can not be added", "cannot add", "can't add")
CLAIMS_CANCELLED = ("is cancelled", "is now cancelled", "has been cancelled", "is canceled", "has been canceled",
                    "i cancelled", "i have cancelled", "i've cancelled", "i canceled", "cancellation is confirmed")
CLAIMS_CHANGED = ("has been changed", "have been changed", "is now on", "has been moved", "have been moved",
                  "i moved", "i've moved", "i have moved", "i changed", "i've changed", "i have changed")
CLAIMS_ISSUED = ("has been issued", "have issued", "i issued", "i've issued", "was issued", "is issued")
CLAIMS_INSURED = ("insurance has been added", "insurance is added", "added the insurance", "added travel insurance",
                  "added insurance", "is now insured", "now has insurance", "now includes insurance")
#: a request carried out must not also be refused
REFUSALS = OTHER_USER + DEPARTED + NOT_ELIGIBLE + INSURANCE_LATER


def refusal(any_of: tuple[str, ...], *others: tuple[str, ...]) -> OutputSpec:
    """The reason of a refusal, said without the reasons that contradict it."""
    return OutputSpec(any_of=list(any_of), not_with=[p for group in others for p in group])


def _open(s: AirlineBench) -> list[dict]:
    return [r for r in s.reservations() if not r["flown"]]


def refuse_cancel(s: AirlineBench) -> Request:
    res = s.take([r for r in _open(s) if not r["recent"] and r["cabin"] != "business"
                  and all(seg["status"] != "cancelled" for seg in r["segments"])])
    rid = res["reservation_id"]
    r = Request("refuse_cancel", f"Please cancel reservation {rid}; my plans changed.",
                must_not_say=list(CLAIMS_CANCELLED))
    r.call("get_reservation_details", reservation_id=rid)
    cover = "your insurance does not cover a change of plan" if res["insurance"] else "it has no travel insurance"
    r.tell = (f"I'm sorry, I cannot cancel reservation {rid}: it was booked more than 24 hours ago, it is "
              f"{CABIN_WORDS[res['cabin']]}, the airline has not called off any of its flights, and {cover}.")
    r.outputs.append(refusal(("24 hours",), OTHER_USER, DEPARTED, NOT_ELIGIBLE, INSURANCE_LATER))
    return r


def refuse_change_basic(s: AirlineBench) -> Request:
    res = s.take([r for r in _open(s) if r["cabin"] == "basic_economy"])
    rid, first = res["reservation_id"], res["segments"][0]
    at = DATES.index(first["date"])
    date = DATES[at + 1] if at + 1 < len(DATES) else DATES[at - 1]
    r = Request("refuse_change_basic", f"Please move my flight {first['flight_number']} on reservation {rid} from "
                                       f"{first['date']} to {date}.", must_not_say=list(CLAIMS_CHANGED))
    r.call("get_reservation_details", reservation_id=rid)
    r.tell = f"I'm sorry, reservation {rid} is basic economy, and basic economy flights cannot be changed."
    r.outputs.append(refusal(("basic economy",), OTHER_USER, DEPARTED, NOT_ELIGIBLE, INSURANCE_LATER))
    return r


def refuse_compensation(s: AirlineBench) -> Request:
    if s.user["membership"] != "regular":
        raise NoCandidate
    options = [(res, seg) for res in s.reservations("insurance = 0 AND cabin != 'business'")
               for seg in res["segments"] if seg["status"] in ("cancelled", "delayed")]
    if not options:
        raise NoCandidate
    res, seg = s.rng.choice(options)
    s.taken.add(res["reservation_id"])
    rid = res["reservation_id"]
    r = Request("refuse_compensation", f"My flight {seg['flight_number']} on {seg['date']} (reservation {rid}) was "
                                       f"{seg['status']}. I want compensation for it.", must_not_say=list(CLAIMS_ISSUED))
    r.call("get_user_details", user_id=s.user["user_id"])
    r.call("get_reservation_details", reservation_id=rid)
    r.tell = ("I'm sorry, you are not eligible for compensation: it is only for silver or gold members, "
              "reservations with travel insurance, or business cabin.")
    r.outputs.append(refusal(NOT_ELIGIBLE, OTHER_USER, DEPARTED, INSURANCE_LATER))
    return r


def refuse_insurance(s: AirlineBench) -> Request:
    res = s.take([r for r in _open(s) if not r["insurance"]])
    rid = res["reservation_id"]
    r = Request("refuse_insurance", f"Please add travel insurance to reservation {rid}.",
                must_not_say=list(CLAIMS_INSURED))
    r.call("get_reservation_details", reservation_id=rid)
    r.tell = (f"I'm sorry, travel insurance can only be bought with a booking; it cannot be added to "
              f"reservation {rid} now.")
    r.outputs.append(refusal(INSURANCE_LATER, OTHER_USER, DEPARTED, NOT_ELIGIBLE))
    return r


def refuse_other_user(s: AirlineBench) -> Request:
    others = fetch_all(s.db, "SELECT reservation_id FROM reservations WHERE user_id != ? AND status = 'active' "
                             "ORDER BY reservation_id", s.user["user_id"])
    rid = s.rng.choice([o["reservation_id"] for o in others if o["reservation_id"] not in s.taken])
    s.taken.add(rid)
    r = Request("refuse_other_user", f"Please cancel reservation {rid}, I booked it by mistake.",
                must_not_say=list(CLAIMS_CANCELLED))
    # the user believes it is theirs: their profile's list of reservations tells the agent otherwise
    r.call("get_user_details", user_id=s.user["user_id"])
    r.tell = f"I'm sorry, reservation {rid} is not on your account, so I cannot act on it."
    r.outputs.append(refusal(OTHER_USER, DEPARTED, NOT_ELIGIBLE, INSURANCE_LATER, ("24 hours", "basic economy")))
    return r


def transfer_departed(s: AirlineBench) -> Request:
    res = s.take([r for r in s.reservations() if r["flown"]])
    rid = res["reservation_id"]
    seg = next(seg for seg in res["segments"] if seg["status"] in ("landed", "flying"))
    r = Request("transfer_departed", f"I want to cancel reservation {rid}. If you can't do it, please transfer me "
                                     "to a human agent.", must_not_say=list(CLAIMS_CANCELLED), ends=True)
    r.call("get_reservation_details", reservation_id=rid)
    r.call("transfer_to_human_agents", summary=f"The user wants to cancel reservation {rid}, whose flight "
                                               f"{seg['flight_number']} has already departed.")
    r.writes = True
    r.tell = (f"Flight {seg['flight_number']} of reservation {rid} has already departed, so I cannot cancel it; "
              "a human agent can help you with that.")
    r.outputs.append(refusal(DEPARTED, OTHER_USER, NOT_ELIGIBLE, INSURANCE_LATER))
    return r
