"""The proration arithmetic shared by credits (downgrades) and breach true-ups (over-use).

Three rooms, each pure (no database, no floats):
- `arithmetic`: the value of a share of a payment (seat, usage, bundle allocation), over-use
  charges, rounding to the currency's minor unit;
- `calendar`: billing cycles, `add_months`, `billing_period` and the fractions of a period;
- `wording`: money and fractions as people read them, and explanations written when read.

Convention: periods are [start, end) in whole days; a change takes effect at the start of its
effective date.
"""
