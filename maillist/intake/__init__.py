"""What writes a report's effects: the one door every report comes in by (`door`), the ledger
that records each once, the effects on members and counts, and the bounce-storm guard."""
