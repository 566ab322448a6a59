"""The clickbait example: is a news headline clickbait or not?

`data/` holds a small hand-written sample (honeypots, training tasks, a seed training set, two
batches of new headlines, a held-out test set) and `configs/` the Toloka-shaped project, pool,
training pool and simulated-crowd configs. `make demo` runs the whole flow on them.
"""
