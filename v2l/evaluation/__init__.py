"""Evaluation: the project's own judges and the measurements behind every reported bar."""
