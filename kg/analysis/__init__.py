"""Dependency chains, circular flows, exposure (DebtRank), gains, the domino, scenarios and the audit."""
