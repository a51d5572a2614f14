"""The `rich` world: every kind of symbol componentize-py passes to init
(freestanding functions, a resource with constructor, method and static
function, results, a function returning nothing, records, variants, enums,
flags, options, tuples)."""

import json
from typing import List, Optional

import wit_world
from componentize_py_types import Err, Some
from wit_world.exports import shapes as s

TABLE = json.loads('{"k": [1, 2, 3]}')


class WitWorld(wit_world.WitWorld):
    def top(self, x: List[Optional[int]]) -> Optional[Some[Optional[int]]]:
        if not x:
            return None
        return Some(x[0])


class Shapes(wit_world.exports.Shapes):
    def describe(self, p, sh, c, f, o, t):
        if isinstance(sh, s.Shape_Nothing):
            raise Err("nothing")
        return f"{p.x},{p.y} {type(sh).__name__} {c.name} {int(f.value)} {o} {t} {TABLE['k']}"

    def ping(self) -> None:
        pass
