"""The reference backend: the suggestion office's case system behind the bot's contract.

It stores records and their status history, lets staff move a suggestion through its
statuses, invite the resident (约请) and ask follow-up questions, and pushes those events to
the bot. A district can replace it with its own system by pointing BACKEND_URL elsewhere.
"""
