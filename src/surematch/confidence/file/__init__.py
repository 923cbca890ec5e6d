"""The calibration file (calibration.json) and the user's own scores file."""
