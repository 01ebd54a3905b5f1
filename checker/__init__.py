"""The formal side of tinnhiem: IR → Z3, the property catalog, proofs and replayed counterexamples.

Takes a :class:`dsl.ir.Policy`; produces, for every property, proved / refuted (with a concrete
roster row and tally, replayed through the compiled evaluator) / unknown. See ``docs/properties.md``.
"""
