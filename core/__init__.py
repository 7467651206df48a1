"""imabot's domain: intents, catalog, credit rules, jobs and the UX state machine.

Nothing in this package imports an edge library (httpx, discord, lark_oapi, aiosqlite, av).
"""
