"""Evaluation of school programmes that aim to close the FSM attainment gap (Extra Mile)."""
