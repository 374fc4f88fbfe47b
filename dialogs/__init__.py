"""Pure conversation logic: domain types, the text catalogue and the dialog engine.

Nothing here imports platform, Redis or HTTP code; the engine takes a state and an inbound
message and returns the new state, the outbound messages and the effects to carry out.
"""
