"""`make bench`: each domain path timed beside a baseline measured in the same run.

The table has one row per benchmark. A row is one function in `bench/rows.py`, registered with
`@benchmark(...)`: it sets up its own state (untimed), times the domain path and a hand-written
baseline doing the same work, and returns both sets of samples. The runner gives every row a
fresh copy of a freshly migrated database, takes the best sample of each side, and prints the
table and saves it to bench-results/latest.json.
"""
