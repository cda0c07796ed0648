"""The store (存储): the database engine, the typed models, the Alembic migrations and the audit log.

Integrity lives in the models' constraints; nothing here knows a round's rules or a screen.
"""
