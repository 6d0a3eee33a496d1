"""The person-by-person update round: split updates into person records, extract counts and dates, code."""
