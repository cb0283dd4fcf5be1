"""Plan rules, location models, solving and compliance checks."""
