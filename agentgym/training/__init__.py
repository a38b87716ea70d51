"""Training on agentgym envs: step-level credit (GiGPO anchor states, step rewards, PRM progress)
and a compact RL loop with DAPO's options (`trainer.py`, `agentgym train`); a tiny model and
tokenizer built in code for CPU runs (`tiny.py`). TRL's GRPOTrainer integration lives in
agentgym.integrations.trl. Nothing here imports torch until a module that needs it is used.
"""
