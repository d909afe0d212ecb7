"""Slow, obviously-correct references in pure Python integers: the RNG core (splitmix64,
xoroshiro128+, the stream layout of ``fastinit/kernels/rng.py``) and the values of the uniform fill.
Tests compare the kernels against these element by element."""
M64 = (1 << 64) - 1
BLOCK, LANES = 4096, 16


def mix64(z: int) -> int:
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
    return z ^ (z >> 31)


def splitmix64(x: int, n: int) -> list[int]:
    out = []
    for _ in range(n):
        x = (x + 0x9E3779B97F4A7C15) & M64
        out.append(mix64(x))
    return out


def rotl(x: int, k: int) -> int:
    return ((x << k) | (x >> (64 - k))) & M64


def xoroshiro128p(s0: int, s1: int, n: int) -> list[int]:
    out = []
    for _ in range(n):
        out.append((s0 + s1) & M64)
        s1 ^= s0
        s0, s1 = rotl(s0, 55) ^ s1 ^ ((s1 << 14) & M64), rotl(s1, 36)
    return out


def stream_outputs(seed: int, stream: int, n: int) -> list[int]:
    """The first ``n`` outputs of stream number ``stream`` (= block * LANES + lane)."""
    s0, s1 = splitmix64(seed ^ mix64(stream), 2)
    return xoroshiro128p(s0, s1, n)


def element_stream(i: int) -> tuple[int, int]:
    """(stream number, position in the stream) of flat element ``i``."""
    block, j = divmod(i, BLOCK)
    return block * LANES + j % LANES, j // LANES
