"""Text cleaning, defined once: what a control character is, which code points are invisible, and
the cleaners built on them.

* A **control character** is C0 (U+0000–U+001F), DEL (U+007F) or C1 (U+0080–U+009F).
* An **invisible** code point can hide or reorder text (a prompt-injection vector): soft hyphen,
  combining grapheme joiner, Arabic letter mark, Hangul fillers, Khmer inherent vowels, Mongolian
  variation selectors and vowel separator, zero-width and bidi controls (U+200B–200F, U+202A–202E,
  U+2060–206F), variation selectors, BOM, interlinear annotation, musical formatting, and Unicode tag
  characters (U+E0000–E0FFF).
"""

from __future__ import annotations

import re

CONTROL_CLASS = "\x00-\x1f\x7f-\x9f"
"""The control characters, as the inside of a regular-expression character class."""
_CONTROL = re.compile(f"[{CONTROL_CLASS}]")
_CONTROL_BUT_LAYOUT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_CONTROL_RUNS = re.compile(f"[{CONTROL_CLASS}]+")
_WHITESPACE_RUNS = re.compile(r"\s+")
INVISIBLE = re.compile(
    "[\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u202a-\u202e\u2060-\u206f"
    "\u3164\ufe00-\ufe0f\ufeff\uffa0\ufff0-\ufffb\U0001d173-\U0001d17a\U000e0000-\U000e0fff]"
)
"""The invisible code points (see the module docstring)."""
_LINE_SEPARATORS = re.compile("[\u2028\u2029]")
_ESCAPED = re.compile(f"{_CONTROL.pattern}|{INVISIBLE.pattern}|[\u2028\u2029]")
ELLIPSIS = "…"


def is_control(char: str) -> bool:
    """True for a control character (C0, DEL or C1)."""
    return _CONTROL.fullmatch(char) is not None


def has_control(text: str) -> bool:
    """True when ``text`` holds a control character, line breaks and tabs included."""
    return _CONTROL.search(text) is not None


def strip_invisible(text: str) -> str:
    """``text`` without invisible code points; U+2028/2029 (line and paragraph separators) become newlines."""
    return _LINE_SEPARATORS.sub("\n", INVISIBLE.sub("", text))


def clean_text(text: str) -> str:
    """``text`` without invisible code points and without control characters other than tab, newline
    and carriage return (for text the server writes itself, such as prompts built from arguments)."""
    return _CONTROL_BUT_LAYOUT.sub("", strip_invisible(text))


def escape_control(text: str) -> str:
    """``text`` with every control character (line breaks included) and invisible code point written as
    a Python escape (``\\n``, ``\\x1b``, ``\\u202e``): one line, no terminal escape sequences, nothing
    hidden, and what was there still readable (for log lines carrying names from outside)."""
    return _ESCAPED.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)


def one_line(text: str, limit: int) -> str:
    """``text`` on one line (control characters and whitespace runs become one space), invisible code
    points removed, at most ``limit`` characters (cut with an ellipsis). Redact before calling this:
    a cut can leave a secret's prefix that no longer matches the whole secret."""
    text = _WHITESPACE_RUNS.sub(" ", _CONTROL_RUNS.sub(" ", strip_invisible(text))).strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + ELLIPSIS
