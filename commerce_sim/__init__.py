"""The embedded commerce world: a seeded, vectorized simulation of an online shop.

It plays the shop's source systems (they export daily batches into the landing zone) and the
commerce systems agents act on (pricing engine, purchasing, promotions, content, messaging). Its
ground truth is sealed: only evaluation code may read ``commerce_sim.truth``.
"""
