"""The model-based user simulator, against the project's fake OpenAI-compatible HTTP server."""

from __future__ import annotations

import copy

import pytest

from agentgym.core.errors import EndpointError, InfraError
from agentgym.core.types import Message
from agentgym.policies.openai import Backoff, OpenAIPolicy
from agentgym.users import SimulatedUser, UserSimulatorError, opening
from agentgym.users.simulator import GOODBYE, GREETING, STOP
from tests.fakes.openai_server import error, text, tool_call

INSTRUCTION = "You are Mina Ito, user id mina_ito_1234. You want to add one checked bag to reservation ABC123."
FACTS = {"date of birth": "1987-04-12"}


def policy(server) -> OpenAIPolicy:
    return OpenAIPolicy("fake-model", base_url=server.base_url, max_retries=1,
                        backoff=Backoff(initial=0.01, maximum=0.02))


def user(server, **kwargs) -> SimulatedUser:
    return SimulatedUser(policy(server), INSTRUCTION, FACTS, **kwargs)


async def test_the_opening_comes_from_the_model_prompted_with_the_hidden_instruction(openai_server):
    openai_server.push(text("Hi, I'd like to add a bag to my reservation."))
    sim = user(openai_server)
    assert await opening(sim) == "Hi, I'd like to add a bag to my reservation."
    (request,) = openai_server.requests
    system, greeting = request["messages"]
    assert system["role"] == "system" and INSTRUCTION in system["content"]
    assert "date of birth: 1987-04-12" in system["content"] and STOP in system["content"]
    assert "only when the agent asks" in system["content"] and "Do not tell the agent how to do its job" in system["content"]
    assert greeting == {"role": "user", "content": GREETING}
    assert "tools" not in request  # the simulator gets no tools


async def test_it_sees_only_what_the_agent_says_and_ends_with_the_stop_token(openai_server):
    openai_server.push(text("It's 1987-04-12."), text(f"Great, thanks! {STOP}"))
    sim = user(openai_server)
    conversation = [
        Message(role="system", content="the agent's policy"),
        Message(role="user", content="I want to add a bag."),
        Message(role="assistant", content="Let me look.", tool_calls=[]),
        Message(role="tool", content='{"secret": "tool result"}', tool_call_id="c1", name="get_user_details"),
        Message(role="user", content="[environment] Please continue by calling one of the tools."),
        Message(role="assistant", content="What is your date of birth?"),
    ]
    reply, done = await sim.respond("What is your date of birth?", conversation)
    assert (reply, done) == ("It's 1987-04-12.", False)
    sent = openai_server.requests[-1]["messages"]
    assert [m["role"] for m in sent] == ["system", "user", "assistant", "user"]
    assert sent[2]["content"] == "I want to add a bag."
    assert sent[3]["content"] == "Let me look.\n\nWhat is your date of birth?"  # the agent wrote twice
    assert "secret" not in str(sent) and "[environment]" not in str(sent)
    reply, done = await sim.respond("Done: the bag is added.", conversation)
    assert (reply, done) == ("Great, thanks!", True)
    openai_server.push(text(STOP))
    assert await sim.respond("Anything else?", conversation) == (GOODBYE, True)


async def test_empty_and_tool_call_replies_are_retried_and_recorded(openai_server):
    openai_server.push(text(""), tool_call("cancel_reservation", {"reservation_id": "ABC123"}), text("Yes, go ahead."))
    sim = user(openai_server)
    assert await sim.respond("Shall I add the bag?", []) == ("Yes, go ahead.", False)
    record = sim.record()
    assert record["prompt"] == sim.prompt and record["simulator"] == "openai:fake-model"
    assert [t.get("problem") for t in record["turns"]] == [
        "an empty reply", "it called tools instead of writing a message", None]
    assert record["turns"][-1] == {"agent": "Shall I add the bag?", "reply": "Yes, go ahead.", "attempt": 3}


async def test_a_simulator_that_never_gives_a_usable_reply_is_an_infrastructure_error(openai_server):
    openai_server.push(text("   "), text(""), text("\n"))
    with pytest.raises(UserSimulatorError, match="no usable reply in 3 tries: an empty reply") as err:
        await user(openai_server).respond("Hello?", [])
    assert isinstance(err.value, InfraError)
    openai_server.push(text(f"Hi {STOP}"), text(f"{STOP}"))
    with pytest.raises(UserSimulatorError, match="ended the conversation before it began"):
        await user(openai_server, max_attempts=2).opening()


async def test_a_dead_or_broken_endpoint_is_an_infrastructure_error(openai_server):
    openai_server.push(error(500), error(503))
    with pytest.raises(EndpointError):
        await user(openai_server).respond("Hello?", [])

    class Broken:
        name = "broken"

        def act(self, observation, tools):
            raise KeyError("boom")

    with pytest.raises(UserSimulatorError, match="broken failed: KeyError"):
        await SimulatedUser(Broken(), INSTRUCTION).respond("Hello?", [])


async def test_a_flood_from_the_agent_is_cut_before_the_simulator_sees_it(openai_server):
    openai_server.push(text("Sorry, what?"))
    sim = user(openai_server, max_agent_chars=100)
    flood = "x" * 100_000
    await sim.respond(flood, [Message(role="user", content="I want a bag."), Message(role="assistant", content=flood)])
    sent = openai_server.requests[-1]["messages"][-1]["content"]
    assert len(sent) < 120 and sent.endswith("[...]")
    assert len(sim.record()["turns"][0]["agent"]) < 120


def test_a_copy_shares_the_policy_and_keeps_its_own_transcript(openai_server):
    sim = user(openai_server)
    sim.transcript.append({"agent": "a", "reply": "b", "attempt": 1})
    twin = copy.deepcopy(sim)
    assert twin.policy is sim.policy and twin.transcript == sim.transcript
    twin.transcript.append({"agent": "c", "reply": "d", "attempt": 1})
    assert len(sim.transcript) == 1


def test_bad_settings_are_refused():
    with pytest.raises(ValueError, match="max_attempts"):
        SimulatedUser(object(), INSTRUCTION, max_attempts=0)
