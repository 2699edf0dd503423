"""Visits and site access: who comes to an experiment (on site or remote), their site-access
clearance, training and the experiment's safety sign-off, combined in one checklist per visitor;
and what follows: the guesthouse (guesthouse/), experiment reports and publications (outcomes/).

Owns: visits, visit invitations, access rules, training courses and records, experiment
safety. Builds on scheduling (experiments) and must not be imported by lower domains: it
reacts to them through events (ExperimentCancelled). Citizenship and emergency contacts are
sensitive: never in audit values, e-mail bodies, API answers or exports, and erased by a job.
"""
