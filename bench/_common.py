"""Helpers shared by the benchmark scripts (timing and rounding of the JSON figures)."""
import gc
import time


def timed(fn):
    "(seconds, result) of one call, after a garbage collection."
    gc.collect()
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def ratio(a, b):
    return None if a is None or b is None or b == 0 else a / b


def rnd(x, nd=4):
    return None if x is None else round(x, nd)
