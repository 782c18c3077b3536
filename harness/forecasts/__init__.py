"""Taking forecasts in: prediction files, the hash-chained ledger, the extrapolation track, blindness."""
