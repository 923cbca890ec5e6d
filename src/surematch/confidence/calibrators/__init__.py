"""Calibrators: a score (and evidence) to a probability, fitted and saved as JSON."""
