"""`tooluse/Airline-v0`: an airline's customer service over a per-episode SQLite database.

data.py (schema, seeded generator), tools.py (look-ups), writes.py and booking.py (writes with the
policy's rules enforced), policy.md (what the agent is told), requests.py and taskgen.py (tasks,
composed into conversations of 1..5 requests), env.py (the env)."""
