"""Adversarial landing batches and the invariants the boundary must keep on them.

``plan`` draws batches for any source: clean rows that the contract and the suites accept, written
in every form the contract allows (the value that must load is known), plus damage of every kind the
boundary must catch (the row or batch that must not load is known). ``write`` lands them as files,
``oracle`` checks a validation result against the plan, and ``bench`` runs many batches through the
same ``validate_source`` the ingest asset calls. The property-based tests drive ``plan`` with
Hypothesis; the long run (``run_boundary_bench``) drives it with a seeded ``random.Random``.
Nothing here reads the simulated world: the batches are synthetic.
"""
