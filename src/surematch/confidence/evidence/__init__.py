"""Match evidence: what the calibrator reads about a query's candidates besides similarity."""
