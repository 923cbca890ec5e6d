"""Metrics of probabilities and scores: calibration error, ROC, thresholds, percentages."""
