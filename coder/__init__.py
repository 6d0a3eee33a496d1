"""coder: propose Appendix 3a codes for free-text returns, review them in Label Studio, report."""

__version__ = "0.1.0"
