"""The guesthouse: rooms, beds and nights; `rooming` is the pure bed-assignment core."""
