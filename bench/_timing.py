"Timing helper shared by the bench scripts"
import time

def best(fn, repeats:int=3):
    "Run `fn` once to warm up, then `repeats` times; return (best seconds, last result)"
    r = fn(); ts = []
    for _ in range(repeats):
        t = time.perf_counter(); r = fn(); ts.append(time.perf_counter() - t)
    return min(ts), r
