"""The Label Studio layer every review queue uses: the local server, the SDK client, projects, and the
sync of tasks and annotations (one copy for answers and documents).
"""
