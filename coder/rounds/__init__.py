"""Each new round: retrain on accepted codes (promote only a better model), audit human codes, watch drift,
and order the review queue by report impact.
"""
