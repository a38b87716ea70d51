"""Adapters to other ecosystems' trainers and tools (`trl`: TRL's GRPOTrainer)."""
