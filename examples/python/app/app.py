"""Tiny componentize-py app whose top level does real work, so init matters.

Everything at module level runs during pre-initialization (componentize-py's
own component-init step, or compsnap's `init` call).  After the snapshot the
`GREETINGS` table, the decoded JSON and the imported modules are already in
linear memory, and `hello` only does a dict lookup and a format.
"""

import json
import hashlib
import textwrap

import wit_world

_CONFIG = json.loads(
    """
    {
      "greetings": {"en": "Hello", "fr": "Bonjour", "de": "Hallo", "es": "Hola"},
      "default": "en",
      "punctuation": "!"
    }
    """
)

# Some real work at init time: a table of 256 digests keyed by byte value.
_DIGESTS = {i: hashlib.sha256(bytes([i])).hexdigest()[:8] for i in range(256)}

GREETINGS = {lang: text for lang, text in _CONFIG["greetings"].items()}
INIT_MARK = textwrap.shorten("initialized at build time", width=40)


class WitWorld(wit_world.WitWorld):
    def hello(self, name: str) -> str:
        lang, _, who = name.rpartition(":")
        greeting = GREETINGS.get(lang or _CONFIG["default"], GREETINGS["en"])
        tag = _DIGESTS[len(who) % 256]
        return f"{greeting}, {who}{_CONFIG['punctuation']} [{tag}]"
