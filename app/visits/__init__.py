"""Visits: who comes to an experiment, site access, training, safety, the guesthouse, and what follows the experiment."""
