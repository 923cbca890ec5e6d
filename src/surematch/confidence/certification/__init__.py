"""Certification: targets, the tests that certify triage bands, and the guarantee they state."""
