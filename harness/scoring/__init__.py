"""Scoring: the proper scoring rules, the table that describes every score, scores.parquet, and the two rankings
(per ladder: ``ranking.rank_ladder``; across ladders: ``standings.standings``)."""
