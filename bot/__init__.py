"""Clinical and business logic of the clonus triage assistant (no Rasa imports)."""
