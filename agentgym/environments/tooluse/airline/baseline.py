"""A fixed scripted baseline for the airline: keyword rules, no model, no hidden task data.

    agentgym eval tooluse/Airline-v0 --policy agentgym.environments.tooluse.airline.baseline:KeywordAgent

It asks for the date of birth, authenticates, then finds every request in the user's first
message by its wording and carries each one out with the tools, in order; it tells the user what
the tools said (a tool's refusal included) and ends. What it does not do is what the higher
difficulty levels add: it does every request it finds, even one asked for only on a condition,
and it has no rule for requests the policy forbids beyond passing on a tool's error. So its
success falls as the level rises (bench/difficulty.py measures it).
"""

from __future__ import annotations

import json
import re
from collections.abc import Generator
from typing import Any

from agentgym.core.types import Action, Observation, Task, ToolCall, ToolSpec
from agentgym.environments.tooluse.airline.data import BAG_FEE_CENTS, FREE_BAGS, INSURANCE_CENTS
from agentgym.policies._episode import EpisodeSlot

Script = Generator[Action, Observation, None]
DATE = r"\d{4}-\d\d-\d\d"
RID = r"[A-Z0-9]{6}"
PATTERNS = {  # request -> its wording in the user's message
    "fare": rf"lowest economy fare I could book from .*? \((\w{{3}})\) to .*? \((\w{{3}})\) on ({DATE})",
    "balance": r"balance of my (gift card|travel certificate)",
    "status": rf"Is my flight (AG\d+) on ({DATE}) on time",
    "quote": rf"cost to add (\d) checked bag\(s\) to reservation ({RID})",
    "cancel": rf"[Cc]ancel (?:my )?(?:whole )?(?:business class )?reservation ({RID})([^.]*)",
    "move": rf"move my (?:\w{{3}} to \w{{3}} )?flight (AG\d+)(?: on reservation ({RID}))? from ({DATE}) to ({DATE})"
            r"(?:.*?settle the fare difference with my ([^.]+))?",
    "upgrade": rf"upgrade reservation ({RID}) to (basic economy|economy|business) and pay the difference with my ([^.]+)",
    "bags": rf"Please add (\d) checked bag\(s\) to reservation ({RID}) and pay any fee with my ([^.]+)",
    "fix": rf"correct the date of birth of (.+?) on reservation ({RID}): it should be ({DATE})",
    "compensate": rf"My flight (AG\d+) on {DATE} \(reservation ({RID})\) was (cancelled|delayed)",
    "book": rf"book me a one-way (economy|business) trip from .*? \((\w{{3}})\) to .*? \((\w{{3}})\) on ({DATE}).*?"
            r"(with|without) travel insurance\. Pay with my ([^.]+)",
    "insurance": rf"add travel insurance to reservation ({RID})",
}


def call(name: str, **arguments: Any) -> Action:
    return Action(tool_calls=[ToolCall(name=name, arguments=arguments)])


def result(observation: Observation) -> tuple[Any, str | None]:
    """The last tool result, decoded, or the error it reports."""
    content = observation.messages[-1].content or ""
    if content.startswith("Error: "):
        return None, content[len("Error: "):]
    try:
        return json.loads(content), None
    except json.JSONDecodeError:
        return content, None


def requests_in(text: str) -> list[tuple[str, re.Match]]:
    found = [(m.start(), kind, m) for kind, pattern in PATTERNS.items() for m in re.finditer(pattern, text)]
    return [(kind, m) for _, kind, m in sorted(found, key=lambda f: f[0])]


class KeywordAgent:
    """The baseline policy (see the module docstring)."""

    def __init__(self) -> None:
        self.name = "airline-keywords"
        self._script: EpisodeSlot[list[Script]] = EpisodeSlot(self.name)

    def begin(self, task: Task, seed: int | None, sample: int) -> None:
        self._script.set([])  # started on the first turn, from what the user says

    def act(self, observation: Observation, tools: list[ToolSpec]) -> Action:
        holder = self._script.get()
        try:
            if not holder:
                opening = next(m.content or "" for m in observation.messages if m.role == "user")
                holder.append(self._run(opening))
                return next(holder[0])
            return holder[0].send(observation)
        except StopIteration:
            return Action(content="Goodbye.")

    # ---- the script ----------------------------------------------------------------------------

    def _run(self, instruction: str) -> Script:
        user_id = re.search(r"user id (\S+?)\.", instruction)
        obs = yield Action(content="Could you tell me your date of birth?")
        dob = re.search(DATE, obs.messages[-1].content or "")
        if not (user_id and dob):
            yield Action(content="I'm sorry, I cannot help without your user id and date of birth.")
            return
        obs = yield call("authenticate_user", user_id=user_id.group(1), date_of_birth=dob.group(0))
        obs = yield call("get_user_details", user_id=user_id.group(1))
        user, _ = result(obs)
        notes: list[str] = []
        for kind, match in requests_in(instruction):
            note = yield from getattr(self, f"_{kind}")(match, user)
            notes.append(note)
            if kind == "cancel" and "already departed" in note and "human" in instruction:
                yield Action(content=f"{note} Shall I transfer you to a human agent?")
                yield call("transfer_to_human_agents", summary=note)
                return
        yield Action(content=" ".join(notes) or "I'm sorry, I cannot help with that.")

    @staticmethod
    def _method(user: dict, text: str) -> str:
        for method_id, m in user["payment_methods"].items():
            if m["last_four"] in text if m["source"] == "credit_card" else m["source"].replace("_", " ") in text:
                return method_id
        return next(iter(user["payment_methods"]))

    def _fare(self, m: re.Match, user: dict) -> Generator[Action, Observation, str]:
        flights, error = result((yield call("search_direct_flights", origin=m[1], destination=m[2], date=m[3])))
        fares = [f["cabins"]["economy"]["price"] for f in flights or [] if f["status"] == "scheduled"
                 and f["cabins"]["economy"]["available_seats"] > 0]
        return f"The lowest economy fare is ${min(fares):.2f}." if fares else f"I found no fare: {error}"

    def _balance(self, m: re.Match, user: dict) -> Generator[Action, Observation, str]:
        source = m[1].replace("travel ", "").replace(" ", "_")
        cards = [c for c in user["payment_methods"].values() if c["source"] == source]
        return f"Your {m[1]} balance is ${cards[0]['balance']:.2f}." if cards else f"You have no {m[1]}."
        yield  # a generator, like every handler

    def _status(self, m: re.Match, user: dict) -> Generator[Action, Observation, str]:
        status, error = result((yield call("get_flight_status", flight_number=m[1], date=m[2])))
        said = {"scheduled": "scheduled and on time"}.get(status["status"], status["status"]) if status else error
        return f"Flight {m[1]} on {m[2]} is {said}."

    def _quote(self, m: re.Match, user: dict) -> Generator[Action, Observation, str]:
        r, error = result((yield call("get_reservation_details", reservation_id=m[2])))
        if r is None:
            return f"I could not look up reservation {m[2]}: {error}"
        free = FREE_BAGS[user["membership"]][r["cabin"]] * len(r["passengers"])
        nonfree = max(r["nonfree_baggages"], r["total_baggages"] + int(m[1]) - free)
        return f"Adding {m[1]} bag(s) would cost ${(nonfree - r['nonfree_baggages']) * BAG_FEE_CENTS / 100:.2f}."

    def _cancel(self, m: re.Match, user: dict) -> Generator[Action, Observation, str]:
        why = m[2].lower()
        reason = ("health" if " ill" in why else "weather" if "storm" in why else
                  "airline cancelled flight" if "you cancelled" in why else "change of plan")
        r, error = result((yield call("cancel_reservation", reservation_id=m[1], reason=reason)))
        if r is None:
            return f"I could not cancel reservation {m[1]}: {error}."
        refund = sum(p["amount"] for p in r["payment_history"] if p["transaction_type"] == "refund")
        return f"Reservation {m[1]} is cancelled; ${refund:.2f} is refunded."

    def _move(self, m: re.Match, user: dict) -> Generator[Action, Observation, str]:
        rid = m[2] or next((x for x in user["reservations"] if x), "")
        r, error = result((yield call("get_reservation_details", reservation_id=rid)))
        if r is None:
            return f"I could not change the flight: {error}."
        flights = [{"flight_number": f["flight_number"], "date": m[4] if f["flight_number"] == m[1] else f["date"]}
                   for f in r["flights"]]
        paid = len(r["payment_history"])
        r, error = result((yield call("update_reservation_flights", reservation_id=rid, flights=flights,
                                      payment_method_id=self._method(user, m[5] or ""))))
        return self._charged(r, paid, f"Flight {m[1]} now departs on {m[4]}", error)

    @staticmethod
    def _charged(r: dict | None, before: int, done: str, error: str | None) -> str:
        if r is None:
            return f"I could not do that: {error}."
        new = r["payment_history"][before:]
        return f"{done}; ${sum(p['amount'] for p in new):.2f} is {'charged' if not new or new[0]['transaction_type'] == 'payment' else 'refunded'}."

    def _upgrade(self, m: re.Match, user: dict) -> Generator[Action, Observation, str]:
        r, _ = result((yield call("get_reservation_details", reservation_id=m[1])))
        before = len(r["payment_history"]) if r else 0
        r, error = result((yield call("update_reservation_cabin", reservation_id=m[1], cabin=m[2].replace(" ", "_"),
                                      payment_method_id=self._method(user, m[3]))))
        return self._charged(r, before, f"Reservation {m[1]} is now {m[2]}", error)

    def _bags(self, m: re.Match, user: dict) -> Generator[Action, Observation, str]:
        r, error = result((yield call("get_reservation_details", reservation_id=m[2])))
        if r is None:
            return f"I could not add the bags: {error}."
        before = len(r["payment_history"])
        r, error = result((yield call("update_reservation_baggages", reservation_id=m[2],
                                      total_baggages=r["total_baggages"] + int(m[1]),
                                      payment_method_id=self._method(user, m[3]))))
        return self._charged(r, before, f"Reservation {m[2]} has {m[1]} more bag(s)", error)

    def _fix(self, m: re.Match, user: dict) -> Generator[Action, Observation, str]:
        r, error = result((yield call("get_reservation_details", reservation_id=m[2])))
        if r is None:
            return f"I could not correct it: {error}."
        people = [dict(p, date_of_birth=m[3]) if f"{p['first_name']} {p['last_name']}" == m[1] else p
                  for p in r["passengers"]]
        r, error = result((yield call("update_reservation_passengers", reservation_id=m[2], passengers=people)))
        return f"The date of birth of {m[1]} is now {m[3]}." if r else f"I could not correct it: {error}."

    def _compensate(self, m: re.Match, user: dict) -> Generator[Action, Observation, str]:
        r, error = result((yield call("issue_compensation_certificate", reservation_id=m[2], reason=f"{m[3]} flight")))
        return f"You get a travel certificate of ${r['balance']:.2f}." if r else f"I cannot compensate you: {error}."

    def _book(self, m: re.Match, user: dict) -> Generator[Action, Observation, str]:
        cabin, insurance = m[1], m[5] == "with"
        flights, error = result((yield call("search_direct_flights", origin=m[2], destination=m[3], date=m[4])))
        offers = sorted((f["cabins"][cabin]["price"], f["flight_number"]) for f in flights or []
                        if f["status"] == "scheduled" and f["cabins"][cabin]["available_seats"] > 0)
        if not offers:
            return f"I found no flight to book: {error or 'none has seats'}."
        price, number = offers[0]
        total = round(price + (INSURANCE_CENTS / 100 if insurance else 0), 2)
        name = user["name"].split(" ", 1)
        r, error = result((yield call(
            "book_reservation", origin=m[2], destination=m[3], trip_type="one_way", cabin=cabin,
            flights=[{"flight_number": number, "date": m[4]}],
            passengers=[{"first_name": name[0], "last_name": name[1], "date_of_birth": user["date_of_birth"]}],
            payment_methods=[{"payment_method_id": self._method(user, m[6]), "amount": total}],
            total_baggages=0, insurance=insurance)))
        return f"Reservation {r['reservation_id']} is booked; ${total:.2f} is charged." if r else f"I could not book: {error}."

    def _insurance(self, m: re.Match, user: dict) -> Generator[Action, Observation, str]:
        return "I'm sorry, I cannot do that."
        yield
