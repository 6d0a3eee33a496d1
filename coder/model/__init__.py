"""Proposing codes: embed answers, classify them, calibrate the confidence, route auto or review, save.

The flow inside: embed.py (sentence embeddings, cached) -> classify.py (stance x question heads) ->
calibrate.py (isotonic confidence) -> route.py / guarantee.py (thresholds) -> pipeline.py (train, suggest,
evaluate) -> store.py (skops files, manifest, registry).
"""
