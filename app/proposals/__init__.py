"""Proposals: calls for a cycle, proposals with their team, invitations, beamtime requests,
samples and the science case PDF.

It owns the proposal's status machine (`status.py`) and the affiliation snapshot of a team.
It builds on accounts (people, institutions) and facility (cycles, instruments, modes) and
must not import reviews, scheduling, visits or reports: those react to its events.
"""
