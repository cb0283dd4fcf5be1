"""Maps, exports and reports: how a plan is handed over."""
