"""Action and learning layers: agents, coordinator, guard-rail policy, dispatcher, audit, outcomes.

Built by the action and learning issues; nothing here may reach a commerce system without a
passing guard-rail verdict.
"""
