"""Per-task reports: does sharing help, which coefficients matter, and can the
predictions be trusted."""
