"""Taking forecasts in: prediction files, the hash-chained ledger, the tracks and what they reveal, blindness."""
