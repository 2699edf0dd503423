"""Accounts: people, their roles (with optional scope), log-in and personal access tokens.

Owns the `users`, `role_assignments` and `api_tokens` tables. The lowest domain: it imports
only `app.core` and `app.extensions`, never another domain.
"""
