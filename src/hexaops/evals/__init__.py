"""Evaluation harness: scenario suites on the sandbox, checkers, scores, reports."""
