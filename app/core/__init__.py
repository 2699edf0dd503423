"""The shared kernel: the declarative base and column types, the transaction boundary,
domain errors, permissions, domain events, the audit log, settings, the e-mail outbox and
job requests.

It owns no facility concept and imports no domain package; everything above builds on it.
"""
