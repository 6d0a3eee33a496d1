"""The answers' review loop: push suggestions to Label Studio, pull human codes into the store, accept
(human beats model), and the review's status.
"""
