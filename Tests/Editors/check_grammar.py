#!/usr/bin/env python3
"""Check the TextMate grammar of .nsi scripts against every sample script.

    python3 -m pip install textmate-grammar-python==0.6.1
    python3 Tests/Editors/check_grammar.py editors/vscode/syntaxes/nsi.tmLanguage.json .

Tokenizes every *.nsi under Samples/ (recursively) and
Tests/NSICheckTests/Fixtures/wellformed/ with the TextMate engine of the PyPI package
textmate-grammar-python, and fails (exit 1, one `file:line: problem` per finding) when:

- a begin/end rule (a string) is still open at the end of a line: no .nsi construct
  that the grammar opens with `begin` may span lines;
- any text of a sample is tokenized with an `invalid` scope;
- the tokens do not add up to the text of the line;
- one of the spot checks below does not get the scope it should.

It also checks that editors/vscode/package.json and language-configuration.json are
valid JSON and point at files that exist. Exit 77 (skipped) when the engine is not
installed.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import tempfile
from pathlib import Path

ENGINE = "textmate-grammar-python==0.6.1"

# Spot checks on the samples: (file, line, text on that line, which occurrence of it
# (1-based), a scope prefix that the text must have or None, one it must not have or
# None). The line is a number or, sturdier against edits of the samples, a string: the
# first line that contains it.
SAMPLE_CHECKS = [
    ("Samples/logit_lens.nsi", 1, "#", 1, "comment.line.number-sign", None),
    ("Samples/logit_lens.nsi", 1, "logit_lens", 1, "comment.line", None),
    ("Samples/logit_lens.nsi", "param prompt", "param", 1, "keyword.", None),
    ("Samples/logit_lens.nsi", "param prompt", "prompt", 1, "variable.parameter", None),
    ("Samples/logit_lens.nsi", "param prompt", "str", 1, "storage.type", None),
    ("Samples/logit_lens.nsi", "param prompt", '"The Eiffel', 1, "string.quoted.double", None),
    ("Samples/logit_lens.nsi", "param prompt", "city of", 1, "string.quoted.double", "keyword."),
    ("Samples/logit_lens.nsi", "trace prompt {", "trace", 1, "keyword.", None),
    ("Samples/logit_lens.nsi", "trace prompt {", "{", 1, "punctuation.section.block.begin", None),
    ("Samples/logit_lens.nsi", "for l in", "for", 1, "keyword.control", None),
    ("Samples/logit_lens.nsi", "for l in", "in", 1, "keyword.control", None),
    ("Samples/logit_lens.nsi", "for l in", "0", 1, "constant.numeric.integer", None),
    ("Samples/logit_lens.nsi", "for l in", "..<", 1, "keyword.operator.range", None),
    ("Samples/logit_lens.nsi", "for l in", "model", 1, "variable.language", None),
    ("Samples/logit_lens.nsi", "for l in", "num_layers", 1, "variable.other.member", None),
    ("Samples/logit_lens.nsi", "let h =", "let", 1, "keyword.", None),
    ("Samples/logit_lens.nsi", "let h =", "output", 1, "variable.other.member", None),
    ("Samples/logit_lens.nsi", "let h =", "-", 1, "keyword.operator.arithmetic", None),
    ("Samples/logit_lens.nsi", "save p_paris", "save", 1, "keyword.", None),
    ("Samples/logit_lens.nsi", "save p_paris", "lm_head", 1, "entity.name.function", None),
    ("Samples/logit_lens.nsi", "save p_paris", "softmax", 1, "entity.name.function", None),
    ("Samples/logit_lens.nsi", "save p_paris", "tok", 1, "support.function", None),
    ("Samples/logit_lens.nsi", "save p_paris", '" Paris"', 1, "string.quoted.double", None),
    ("Samples/logit_lens.nsi", "save top", "topk", 1, "entity.name.function", None),
    # `seed = 1` inside a call is an argument label, not the seed statement.
    ("Samples/causal_tracing.nsi", "seed = 1", "randn", 1, "support.function", None),
    ("Samples/causal_tracing.nsi", "seed = 1", "seed", 1, None, "keyword."),
    ("Samples/causal_tracing.nsi", "seed = 1", "seed", 1, "variable.parameter", None),
    ("Samples/causal_tracing.nsi", "invoke", "invoke", 1, "keyword.", None),
    ("Samples/causal_tracing.nsi", "+=", "+=", 1, "keyword.operator.assignment", None),
    ("Samples/steering.nsi", "generate", "generate", 1, "keyword.", None),
    ("Samples/steering.nsi", "generate", "max_tokens", 1, None, "keyword."),
    ("Samples/steering.nsi", "each step", "each", 1, "keyword.", None),
    ("Samples/steering.nsi", "each step", "step", 1, "keyword.", None),
    ("Samples/steering.nsi", "result.ids", "result", 1, "variable.language", None),
    ("Samples/attribution_patching.nsi", "backward", "backward", 1, "keyword.", None),
    ("Samples/attribution_patching.nsi", ".grad", "grad", 1, "variable.other.member", None),
    ("Samples/integrated_gradients.nsi", "0.5", "0.5", 1, "constant.numeric.float", None),
]

# Snippets for what the samples do not show. Each: (name, text, checks) with checks as
# above but without the file. They go through the open-scope check, not the `invalid`
# one (some are meant to be invalid).
SNIPPETS = [
    ("seed statement", "seed 42\nseed s\nlet seed = 3\nlet r = randn(3, seed = seed)\nseed = 4\n", [
        (1, "seed", 1, "keyword.", None),
        (1, "42", 1, "constant.numeric.integer", None),
        (2, "seed", 1, "keyword.", None),
        (3, "seed", 1, None, "keyword."),
        (4, "seed", 1, None, "keyword."),
        (4, "seed", 2, None, "keyword."),
        (5, "seed", 1, None, "keyword."),
    ]),
    ("numbers", "let a = 1e-3 + .5 + 2. + 2.5E+4 + 1_000 + 2.e5\nlet b = 2.abs()\nfor i in 0..<5 { ... }\nlet c = 12ab + 1e\n", [
        (1, "1e-3", 1, "constant.numeric.float", None),
        (1, ".5", 1, "constant.numeric.float", None),
        (1, "2.", 1, "constant.numeric.float", None),
        (1, "2.5E+4", 1, "constant.numeric.float", None),
        (1, "1_000", 1, "constant.numeric.integer", None),
        (1, "2.e5", 1, "constant.numeric.float", None),
        (2, "2", 1, "constant.numeric.integer", None),
        (2, "abs", 1, "entity.name.function", None),
        (3, "0", 1, "constant.numeric.integer", None),
        (3, "..<", 1, "keyword.operator.range", None),
        (3, "5", 1, "constant.numeric.integer", None),
        (3, "...", 1, "constant.language", None),
        (4, "12ab", 1, "invalid.illegal", None),
        (4, "1e", 1, "invalid.illegal", None),
    ]),
    ("strings", 'let s = "a\\"b\\n\\u{e9}" # "not a string\nlet t = "unterminated\nlet u = "bad \\q escape"\n', [
        (1, '\\"', 1, "constant.character.escape", None),
        (1, "\\n", 1, "constant.character.escape", None),
        (1, "\\u{e9}", 1, "constant.character.escape", None),
        (1, "# ", 1, "comment.line", None),
        (1, '"not', 1, "comment.line", "string."),
        (2, "unterminated", 1, "string.quoted.double", None),
        # The string of line 2 ends with its line.
        (3, "let", 1, "keyword.", "string."),
        (3, "\\q", 1, "invalid.illegal", None),
    ]),
    ("keywords after a dot", "save h = model.model.layers[0].output.grad\nlet x = t.step + a.in\nlet y = a and not b or true\nif x != 1 { skip model.layers[4] } else { backward m }\n", [
        (1, "model", 1, "variable.language", None),
        (1, "model", 2, "variable.other.member", "variable.language"),
        (2, "step", 1, "variable.other.member", "keyword."),
        (2, "in", 1, "variable.other.member", "keyword."),
        (3, "and", 1, "keyword.operator.logical", None),
        (3, "not", 1, "keyword.operator.logical", None),
        (3, "or", 1, "keyword.operator.logical", None),
        (3, "true", 1, "constant.language", None),
        (4, "if", 1, "keyword.control", None),
        (4, "!=", 1, "keyword.operator.comparison", None),
        (4, "skip", 1, "keyword.", None),
        (4, "else", 1, "keyword.control", None),
        (4, "backward", 1, "keyword.", None),
    ]),
    ("params and operators", "param v: f32[model.hidden_size] = zeros(576)\nparam n: i64[B, T]\nlet p = a ** 2 @ b % 3 / 2\nx -= 1; y *= 2\nlet w = a && b .. c\n", [
        (1, "f32", 1, "storage.type", None),
        (1, "hidden_size", 1, "variable.other.member", None),
        (1, "zeros", 1, "support.function", None),
        (2, "i64", 1, "storage.type", None),
        (3, "**", 1, "keyword.operator.arithmetic", None),
        (3, "@", 1, "keyword.operator", None),
        (3, "%", 1, "keyword.operator.arithmetic", None),
        (4, "-=", 1, "keyword.operator.assignment", None),
        (4, ";", 1, "punctuation.terminator", None),
        (4, "*=", 1, "keyword.operator.assignment", None),
        (5, "&&", 1, "invalid.illegal", None),
        (5, "..", 1, "invalid.illegal", None),
    ]),
]

WELLFORMED = "Tests/NSICheckTests/Fixtures/wellformed"


def load_engine():
    """The engine's LanguageParser and ContentBlockElement, or exit 77."""
    # textmate_grammar creates a `.textmate_cache` folder in the working directory when
    # imported: import it from a temporary one so that nothing is left in the repository.
    here = os.getcwd()
    with tempfile.TemporaryDirectory() as scratch:
        os.chdir(scratch)
        try:
            from textmate_grammar.elements import ContentBlockElement
            from textmate_grammar.parsers.base import LanguageParser
        except ImportError:
            print(f"check_grammar: skipped: the TextMate engine is not installed (python3 -m pip install {ENGINE})")
            sys.exit(77)
        finally:
            os.chdir(here)
    logging.getLogger("textmate_grammar").setLevel(logging.ERROR)
    return LanguageParser, ContentBlockElement


class Checker:
    def __init__(self, grammar_path: Path, root: Path):
        self.root = root
        self.problems: list[str] = []
        self.grammar = self.load_json(grammar_path)
        LanguageParser, self.block_type = load_engine()
        self.parser = LanguageParser(self.grammar) if self.grammar is not None else None

    def fail(self, where: str, problem: str) -> None:
        self.problems.append(f"{where}: {problem}")

    def load_json(self, path: Path):
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            self.fail(str(path), f"not valid JSON: {error}")
            return None

    def tokenize(self, text: str):
        """(tokens by line, begin/end elements) for a script; tokens are (column, text, scopes)."""
        element = self.parser.parse_string(text)
        lines: dict[int, list[tuple[int, str, list[str]]]] = {}
        blocks = []
        if element is None:
            return lines, blocks
        for (line, column), token_text, scopes in element.flatten():
            lines.setdefault(line, []).append((column, token_text, scopes))
        stack = list(element._subelements)
        while stack:
            item = stack.pop()
            if isinstance(item, self.block_type):
                blocks.append(item)
            stack.extend(item._subelements)
        return lines, blocks

    def check_script(self, name: str, text: str, allow_invalid: bool) -> dict:
        lines, blocks = self.tokenize(text)
        source_lines = text.split("\n")
        for block in sorted(blocks, key=lambda block: min(block.characters, default=(0, 0))):
            spanned = sorted({position[0] for position in block.characters})
            if spanned and spanned[0] != spanned[-1]:
                first = block.content.split("\n")[0]
                self.fail(f"{name}:{spanned[0] + 1}", f"`{block.token}` is still open at the end of the line "
                          f"(runs on to line {spanned[-1] + 1}): {first!r}")
        for number, line in enumerate(source_lines):
            tokens = lines.get(number, [])
            rebuilt = "".join(token_text for _, token_text, _ in tokens)
            if rebuilt != line.rstrip("\r") and rebuilt != line:
                self.fail(f"{name}:{number + 1}", f"the tokens {rebuilt!r} do not add up to the line {line!r}")
            if allow_invalid:
                continue
            for column, token_text, scopes in tokens:
                bad = [scope for scope in scopes if "invalid" in scope.split(".")]
                if bad:
                    self.fail(f"{name}:{number + 1}:{column + 1}", f"{token_text!r} is tokenized as {bad[0]}")
        return lines

    def spot_check(self, name: str, lines: dict, source_lines: list[str], check) -> None:
        line_number, needle, occurrence, want, refuse = check
        if isinstance(line_number, str):
            anchor = line_number
            line_number = next((n + 1 for n, line in enumerate(source_lines) if anchor in line), 0)
            if not line_number:
                self.fail(name, f"spot check: no line contains {anchor!r}")
                return
        where = f"{name}:{line_number}"
        if line_number > len(source_lines):
            self.fail(where, f"spot check: the file has only {len(source_lines)} lines")
            return
        line = source_lines[line_number - 1]
        column = -1
        for _ in range(occurrence):
            column = line.find(needle, column + 1)
            if column < 0:
                self.fail(where, f"spot check: {needle!r} (occurrence {occurrence}) is not on the line {line!r}")
                return
        for offset in range(len(needle)):
            scopes = scopes_at(lines.get(line_number - 1, []), column + offset)
            if want is not None and not any(scope.startswith(want) for scope in scopes):
                self.fail(f"{where}:{column + offset + 1}", f"{needle!r} should have a {want}* scope, has {scopes}")
                return
            if refuse is not None and any(scope.startswith(refuse) for scope in scopes):
                self.fail(f"{where}:{column + offset + 1}", f"{needle!r} should have no {refuse}* scope, has {scopes}")
                return

    def check_editor_files(self) -> None:
        folder = self.root / "editors" / "vscode"
        manifest = self.load_json(folder / "package.json")
        configuration = self.load_json(folder / "language-configuration.json")
        if manifest is None or configuration is None:
            return
        contributes = manifest.get("contributes", {})
        languages = [language for language in contributes.get("languages", []) if language.get("id") == "nsi"]
        grammars = [grammar for grammar in contributes.get("grammars", []) if grammar.get("language") == "nsi"]
        if not languages or ".nsi" not in languages[0].get("extensions", []):
            self.fail(str(folder / "package.json"), "contributes no language `nsi` with the extension `.nsi`")
        else:
            target = folder / languages[0].get("configuration", "")
            if not target.is_file():
                self.fail(str(folder / "package.json"), f"the language configuration {target} does not exist")
        if not grammars:
            self.fail(str(folder / "package.json"), "contributes no grammar for `nsi`")
        else:
            if not (folder / grammars[0].get("path", "")).is_file():
                self.fail(str(folder / "package.json"), f"the grammar {grammars[0].get('path')} does not exist")
            if self.grammar is not None and grammars[0].get("scopeName") != self.grammar.get("scopeName"):
                self.fail(str(folder / "package.json"), "the grammar's scopeName differs from the grammar file's")
        main = manifest.get("main")
        if not main or not (folder / main).is_file():
            self.fail(str(folder / "package.json"), f"main {main!r} does not exist")
        if configuration.get("comments", {}).get("lineComment") != "#":
            self.fail(str(folder / "language-configuration.json"), "the line comment is not `#`")


def scopes_at(tokens, column: int) -> list[str]:
    for start, token_text, scopes in tokens:
        if start <= column < start + len(token_text):
            return scopes
    return []


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        print("usage: check_grammar.py GRAMMAR.tmLanguage.json REPOSITORY_ROOT", file=sys.stderr)
        return 2
    grammar_path, root = Path(argv[1]), Path(argv[2])
    checker = Checker(grammar_path, root)
    checker.check_editor_files()
    if checker.parser is None:
        for problem in checker.problems:
            print(problem)
        return 1

    scripts = sorted((root / "Samples").rglob("*.nsi")) + sorted((root / WELLFORMED).glob("*.nsi"))
    if not scripts:
        checker.fail(str(root), f"no *.nsi under Samples/ or {WELLFORMED}/")
    line_count = 0
    tokenized: dict[str, tuple[dict, list[str]]] = {}
    for path in scripts:
        name = path.relative_to(root).as_posix()
        text = path.read_text(encoding="utf-8")
        lines = checker.check_script(name, text, allow_invalid=False)
        tokenized[name] = (lines, text.split("\n"))
        line_count += text.count("\n") + (0 if text.endswith("\n") or not text else 1)

    spot_checks = 0
    for name, *check in SAMPLE_CHECKS:
        if name not in tokenized:
            checker.fail(name, "spot check: the sample is missing")
            continue
        checker.spot_check(name, *tokenized[name], check)
        spot_checks += 1
    for title, text, checks in SNIPPETS:
        name = f"<snippet: {title}>"
        lines = checker.check_script(name, text, allow_invalid=True)
        for check in checks:
            checker.spot_check(name, lines, text.split("\n"), check)
            spot_checks += 1

    for problem in checker.problems:
        print(problem)
    status = "FAILED" if checker.problems else "OK"
    print(f"check_grammar: {len(scripts)} files, {line_count} lines tokenized, {spot_checks} spot checks, "
          f"{len(checker.problems)} problems: {status}")
    return 1 if checker.problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
