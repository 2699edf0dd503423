"""Background jobs: one APScheduler 3.11 process (`flask jobs run`), never inside web workers.

Jobs are declared in `registry.py` and are thin wrappers over services. On PostgreSQL the
process that holds an advisory lock on a dedicated connection is the only one that runs jobs;
on SQLite there is one host and no election.
"""
