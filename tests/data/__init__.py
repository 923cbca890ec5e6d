"""Tests for surematch.data (a package so its test module names cannot clash with others)."""
