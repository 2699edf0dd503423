"""What follows an experiment: its report (due after the end, written here or uploaded as a
PDF, reminders, overdue ones shown on the review pages of the PI's next proposals) and the
publications that came of it (by DOI, linked to proposals and instruments, exportable).

Builds on scheduling (experiments) and proposals (teams); fills page slots of the proposal
page and the review pages instead of being imported by them (DESIGN.md §4 rule 6). Must not
be imported by lower domains; services never import Flask's request machinery.
"""
