"""The facility: its settings (name, host country, time zone, shift pattern, letterhead),
member contributions, instruments, cycles, the operating calendar (shutdowns, machine days,
operating-mode periods, per-instrument blocks stored as bookings) and capacity.

Owns the `facilities`, `member_contributions`, `instruments`, `cycles`, `operating_modes`,
`mode_periods`, `downtimes`, `bookings`, `capacity_overrides` and `capacity_commitments`
tables. Builds on `app.accounts` and `app.core`; never imports a higher domain (proposals,
reviews, scheduling…). `shifts.py` and `capacity.py` are pure: no Flask, no SQLAlchemy, no
`app.` imports.
"""
