"""The usual reports from accepted codes: definitions (YAML) -> tables -> charts, workbooks, pro-formas,
HTML -> build.py writes the whole folder.
"""
