"""The scripted user's rules."""

from agentgym.users.scripted import DONE_REPLY, YES_REPLY, ScriptedUser

USER = ScriptedUser("Cancel my order #W1.", {"email": "a@example.com", "zip": "12345", "order": "#W1"})


def test_a_statement_ends_the_conversation():
    assert USER.respond("Your order is cancelled.") == (DONE_REPLY, True)
    assert USER.respond("It is cancelled. Is there anything else I can help you with?") == (DONE_REPLY, True)


def test_a_request_for_confirmation_gets_yes():
    assert USER.respond("I will cancel order #W1. Shall I proceed?") == (YES_REPLY, False)


def test_questions_about_facts_get_the_facts():
    reply, done = USER.respond("Could you give me your email address and zip code?")
    assert not done and "a@example.com" in reply and "12345" in reply and "#W1" not in reply


def test_other_questions_repeat_the_request():
    reply, done = USER.respond("What is your favourite color?")
    assert not done and "Cancel my order #W1." in reply
