"""The label-free shift monitor and its stored reference."""
