"""Figures (seaborn / matplotlib): each function returns a matplotlib Figure."""
