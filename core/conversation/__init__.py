"""The conversation layer: ``BotService`` for every platform, on top of the generation pipeline.

It decides what a message is (a request, a question, an answer to the bot's own question, a follow-up)
before anything can be charged, remembers the questions it asked (``questions``, ``desk``) and the
user's recent generations (``thread``).
"""
