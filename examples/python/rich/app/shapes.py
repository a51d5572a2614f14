"""Exported resources live in a module named after their interface: the
`constructor` symbol says module "shapes", protocol "Counter"."""

from wit_world.exports import shapes as s


class Counter(s.Counter):
    def __init__(self, start: int) -> None:
        self.n = start

    def incr(self) -> int:
        self.n += 1
        return self.n

    @classmethod
    def make(cls, n: int):
        return cls(n * 10)
