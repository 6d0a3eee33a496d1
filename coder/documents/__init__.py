"""Good-practice documents: extract text -> passages -> embed -> code (type, sections, questions,
priorities) -> batch over a folder -> search -> review in Label Studio.
"""
