"""Unit tests for the lexer: tokens, indentation, continuation, literals, strings."""

from __future__ import annotations

import pytest

from simple_jit.diagnostics import DiagnosticBag, SourceFile
from simple_jit.syntax.lexer import tokenize
from simple_jit.syntax.tokens import Token


def lex(text: str) -> tuple[list[Token], list[str]]:
    diags = DiagnosticBag()
    toks = tokenize(text, diags)
    src = SourceFile("t", text)
    return toks, [d.render(src, snippet=False) for d in diags.items]


def kinds(text: str) -> list[str]:
    toks, errors = lex(text)
    assert errors == []
    return [t.kind for t in toks]


def values(text: str) -> list[object]:
    toks, errors = lex(text)
    assert errors == []
    return [t.value for t in toks if t.value is not None]


def errors_of(text: str) -> list[str]:
    return lex(text)[1]


# ---------------------------------------------------------------- basics


def test_simple_statement() -> None:
    assert kinds("val x = 1") == ["val", "NAME", "=", "INT", "NEWLINE", "EOF"]


def test_empty_and_blank_input() -> None:
    assert kinds("") == ["EOF"]
    assert kinds("\n\n   \n# only a comment\n") == ["EOF"]


def test_keywords_and_names() -> None:
    toks, _ = lex("fn val var if elif else while loop for in break continue return pass")
    assert [t.kind for t in toks[:-2]] == (
        [
            "fn",
            "val",
            "var",
            "if",
            "elif",
            "else",
            "while",
            "loop",
            "for",
            "in",
            "break",
            "continue",
            "return",
            "pass",
        ]
    )
    toks, _ = lex("true false nil and or not struct enum match case extern as")
    assert [t.kind for t in toks[:-2]] == (
        [
            "true",
            "false",
            "nil",
            "and",
            "or",
            "not",
            "struct",
            "enum",
            "match",
            "case",
            "extern",
            "as",
        ]
    )
    toks, _ = lex("_x x1 fnord print")
    assert [(t.kind, t.value) for t in toks[:-2]] == [
        ("NAME", "_x"),
        ("NAME", "x1"),
        ("NAME", "fnord"),
        ("NAME", "print"),
    ]


def test_operators_longest_match() -> None:
    text = ".. ..= ** -> << >> <= >= == != && || ?? += -= *= /= %= + - * / % & | ^ ~ ! < > = ( ) [ ] , : . ?"
    toks, errors = lex(text)
    assert errors == []
    assert [t.kind for t in toks[:-2]] == text.split()


def test_spans_are_offsets() -> None:
    toks, _ = lex("ab  + 12")
    assert [(t.start, t.end) for t in toks[:3]] == [(0, 2), (4, 5), (6, 8)]


def test_unknown_character_is_reported_and_lexing_continues() -> None:
    toks, errors = lex("a $ b { c")
    assert errors == [
        "t:1:3: error: unexpected character '$'",
        "t:1:7: error: unexpected character '{' (braces are only used in strings)",
    ]
    assert [t.kind for t in toks] == ["NAME", "NAME", "NAME", "NEWLINE", "EOF"]


# ------------------------------------------------------------- comments


def test_shebang_and_line_comments() -> None:
    assert kinds("#!/usr/bin/env simple\nx # c\n# d\n") == ["NAME", "NEWLINE", "EOF"]


def test_nested_block_comments() -> None:
    assert kinds("/* a /* b */ c */ x") == ["NAME", "NEWLINE", "EOF"]
    assert kinds("x /* one\n two */ y") == ["NAME", "NAME", "NEWLINE", "EOF"]


def test_block_comment_lines_are_blank() -> None:
    assert kinds("/* a\n  b */\nx\n") == ["NAME", "NEWLINE", "EOF"]


def test_unterminated_block_comment() -> None:
    assert errors_of("x\n/* a /* b */\n") == ["t:2:1: error: unterminated block comment"]


# ----------------------------------------------------------- indentation


def test_indent_dedent() -> None:
    text = "fn f():\n    a\n    if b:\n        c\n    d\ne\n"
    assert kinds(text) == [
        "fn",
        "NAME",
        "(",
        ")",
        ":",
        "NEWLINE",
        "INDENT",
        "NAME",
        "NEWLINE",
        "if",
        "NAME",
        ":",
        "NEWLINE",
        "INDENT",
        "NAME",
        "NEWLINE",
        "DEDENT",
        "NAME",
        "NEWLINE",
        "DEDENT",
        "NAME",
        "NEWLINE",
        "EOF",
    ]


def test_dedents_at_end_of_file() -> None:
    assert kinds("a:\n  b:\n    c") == [
        "NAME",
        ":",
        "NEWLINE",
        "INDENT",
        "NAME",
        ":",
        "NEWLINE",
        "INDENT",
        "NAME",
        "NEWLINE",
        "DEDENT",
        "DEDENT",
        "EOF",
    ]


def test_blank_and_comment_lines_do_not_count() -> None:
    text = "a:\n    b\n\n  # comment at another indentation\n\n    c\n"
    assert kinds(text) == [
        "NAME",
        ":",
        "NEWLINE",
        "INDENT",
        "NAME",
        "NEWLINE",
        "NAME",
        "NEWLINE",
        "DEDENT",
        "EOF",
    ]


def test_tab_counts_as_four_columns() -> None:
    assert kinds("a:\n\tb\n    c\n") == [
        "NAME",
        ":",
        "NEWLINE",
        "INDENT",
        "NAME",
        "NEWLINE",
        "NAME",
        "NEWLINE",
        "DEDENT",
        "EOF",
    ]


def test_crlf_line_endings() -> None:
    assert kinds("a:\r\n    b\r\n\r\nc\r\n") == (
        ["NAME", ":", "NEWLINE", "INDENT", "NAME", "NEWLINE", "DEDENT", "NAME", "NEWLINE", "EOF"]
    )


def test_inconsistent_dedent_is_an_error() -> None:
    toks, errors = lex("fn main():\n        print 1\n    print 2\n")
    assert errors == [
        "t:3:5: error: inconsistent dedent: does not match any outer indentation level"
    ]
    # Recovery keeps the line in the block: no DEDENT before `print 2`.
    assert [t.kind for t in toks].count("DEDENT") == 1


def test_dedent_token_span_is_end_of_previous_line() -> None:
    toks, _ = lex("a:\n    bb\nc\n")
    dedent = next(t for t in toks if t.kind == "DEDENT")
    assert (dedent.start, dedent.end) == (9, 9)


# ---------------------------------------------------------- continuation


def test_newlines_inside_brackets_are_ignored() -> None:
    assert kinds("f(1,\n      2)\n[3,\n4]") == (
        [
            "NAME",
            "(",
            "INT",
            ",",
            "INT",
            ")",
            "NEWLINE",
            "[",
            "INT",
            ",",
            "INT",
            "]",
            "NEWLINE",
            "EOF",
        ]
    )


@pytest.mark.parametrize(
    "op", ["+", "-", "*", "/", "%", "**", "&", "|", "^", "<<", ">>", "==", "!=", "<", "<=",
           ">", ">=", "and", "or", "&&", "||", "..", "..=", "??", ","]
)  # fmt: skip
def test_line_ending_with_binary_operator_continues(op: str) -> None:
    toks, errors = lex(f"x = a {op}\n        b\ny")
    assert errors == []
    assert [t.kind for t in toks] == [
        "NAME",
        "=",
        "NAME",
        op,
        "NAME",
        "NEWLINE",
        "NAME",
        "NEWLINE",
        "EOF",
    ]


def test_line_ending_with_generic_type_is_not_continued() -> None:
    # `>` closing type arguments ends the line unless the next one is deeper.
    assert kinds("struct S:\n    x: Box<i64>\n    y: i64\n") == [
        "struct",
        "NAME",
        ":",
        "NEWLINE",
        "INDENT",
        "NAME",
        ":",
        "NAME",
        "<",
        "NAME",
        ">",
        "NEWLINE",
        "NAME",
        ":",
        "NAME",
        "NEWLINE",
        "DEDENT",
        "EOF",
    ]
    assert kinds("x = a >\n    b\n") == ["NAME", "=", "NAME", ">", "NAME", "NEWLINE", "EOF"]
    assert kinds("x: A<B<C>>\ny\n") == [
        "NAME",
        ":",
        "NAME",
        "<",
        "NAME",
        "<",
        "NAME",
        ">>",
        "NEWLINE",
        "NAME",
        "NEWLINE",
        "EOF",
    ]


def test_backslash_continues_the_line() -> None:
    assert kinds("x = a \\\n    + b\n") == ["NAME", "=", "NAME", "+", "NAME", "NEWLINE", "EOF"]
    assert kinds("x = a \\  # comment\n  + b") == [
        "NAME",
        "=",
        "NAME",
        "+",
        "NAME",
        "NEWLINE",
        "EOF",
    ]


def test_stray_backslash_is_an_error() -> None:
    assert errors_of("x = \\y") == ["t:1:5: error: unexpected character '\\'"]


# --------------------------------------------------------------- numbers


@pytest.mark.parametrize(
    ("text", "kind", "value"),
    [
        ("0", "INT", 0),
        ("1_000_000", "INT", 1_000_000),
        ("0xff", "INT", 255),
        ("0XFF_FF", "INT", 0xFFFF),
        ("0o17", "INT", 15),
        ("0b101", "INT", 5),
        ("42i64", "INT", 42),
        ("0xffi64", "INT", 255),
        ("9223372036854775807", "INT", 9223372036854775807),
        ("1.5", "FLOAT", 1.5),
        ("0.5e-3", "FLOAT", 0.0005),
        ("2e10", "FLOAT", 2e10),
        ("2E+3", "FLOAT", 2000.0),
        ("1_0.2_5", "FLOAT", 10.25),
        ("1.5f64", "FLOAT", 1.5),
        ("3f64", "FLOAT", 3.0),
    ],
)
def test_number_literals(text: str, kind: str, value: object) -> None:
    toks, errors = lex(text)
    assert errors == []
    assert (toks[0].kind, toks[0].value) == (kind, value)
    assert type(toks[0].value) is type(value)
    assert (toks[0].start, toks[0].end) == (0, len(text))


def test_range_is_not_a_float() -> None:
    toks, _ = lex("1..5 1..=5 1.5..2.5")
    assert [(t.kind, t.value) for t in toks[:-2]] == [
        ("INT", 1),
        ("..", None),
        ("INT", 5),
        ("INT", 1),
        ("..=", None),
        ("INT", 5),
        ("FLOAT", 1.5),
        ("..", None),
        ("FLOAT", 2.5),
    ]


def test_method_on_int_literal() -> None:
    assert kinds("42.to_text()") == ["INT", ".", "NAME", "(", ")", "NEWLINE", "EOF"]


def test_tuple_index_is_not_a_float() -> None:
    toks, _ = lex("t.0.1")
    assert [(t.kind, t.value) for t in toks[:-2]] == [
        ("NAME", "t"),
        (".", None),
        ("INT", 0),
        (".", None),
        ("INT", 1),
    ]


@pytest.mark.parametrize(
    "text", ["9223372036854775808", "0x8000000000000000", "1" * 30, "9" * 5000]
)
def test_integer_out_of_range(text: str) -> None:
    toks, errors = lex(text)
    assert errors == ["t:1:1: error: integer literal out of range (does not fit in i64)"]
    assert toks[0].value == 0


def test_out_of_range_even_after_minus() -> None:
    assert errors_of("-9223372036854775808") == [
        "t:1:2: error: integer literal out of range (does not fit in i64)"
    ]
    assert errors_of("-9223372036854775807 - 1") == []


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("12abc", "invalid number literal '12abc'"),
        ("1e", "invalid number literal '1e'"),
        ("0x", "invalid number literal '0x': no digits"),
        ("1.5i64", "a float literal cannot have the suffix i64"),
    ],
)
def test_bad_number_literals(text: str, message: str) -> None:
    assert errors_of(text) == [f"t:1:1: error: {message}"]


# --------------------------------------------------------------- strings


def test_plain_string_and_escapes() -> None:
    assert values(r'"a\n\t\r\0\\\"\'\x41\u{263A}\u{1F600}"') == ["a\n\t\r\0\\\"'A\u263a\U0001f600"]


def test_string_without_braces_is_plain() -> None:
    toks, _ = lex('"hello"')
    assert (toks[0].kind, toks[0].value) == ("STR", "hello")


def test_doubled_braces_are_literal() -> None:
    toks, _ = lex('"{{x}}"')
    assert (toks[0].kind, toks[0].value) == ("STR", "{x}")


def test_lone_closing_brace_is_literal() -> None:
    assert values('"a } b }}} c"') == ["a } b }} c"]


def test_interpolation_parts_alternate() -> None:
    text = '"a {x} b {y + 1}"'
    toks, errors = lex(text)
    assert errors == []
    tok = toks[0]
    assert tok.kind == "ISTR"
    parts = tok.value
    assert parts[0] == "a " and parts[2] == " b " and parts[4] == ""
    assert text[parts[1][0] : parts[1][1]] == "x"
    assert text[parts[3][0] : parts[3][1]] == "y + 1"


def test_interpolation_tracks_nested_strings_and_brackets() -> None:
    text = '"a {f("b}")} c {"x {n}"} d {m[{1: 2}]}"'
    toks, errors = lex(text.replace("{1: 2}", "(1)"))
    assert errors == []
    parts = toks[0].value
    src = text.replace("{1: 2}", "(1)")
    assert [src[p[0] : p[1]] for p in parts[1::2]] == ['f("b}")', '"x {n}"', "m[(1)]"]
    assert len(toks) == 3  # ISTR NEWLINE EOF


def test_raw_strings() -> None:
    assert values(r"'raw {n}\n' 'it\'s' 'a\b'") == ["raw {n}\\n", "it's", "a\\b"]
    # Only \' is an escape, so a backslash before the closing quote escapes it.
    assert errors_of(r"'a\'") == ["t:1:1: error: unterminated string literal"]


def test_triple_quoted_string() -> None:
    toks, errors = lex('"""doc\n  {x} "quoted" \\n"""\nx')
    assert errors == []
    assert (toks[0].kind, toks[0].value) == ("STR", 'doc\n  {x} "quoted" \\n')
    assert [t.kind for t in toks[1:]] == ["NEWLINE", "NAME", "NEWLINE", "EOF"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('"abc', ["t:1:1: error: unterminated string literal"]),
        ('"abc\nx', ["t:1:1: error: unterminated string literal"]),
        ("'abc", ["t:1:1: error: unterminated string literal"]),
        ('"""abc', ["t:1:1: error: unterminated triple-quoted string"]),
        ('"a\\qb"', ["t:1:3: error: unknown escape sequence '\\q'"]),
        ('"\\x4"', ["t:1:2: error: invalid escape: '\\x' needs two hex digits"]),
        ('"\\u{D800}"', ["t:1:2: error: invalid unicode escape: U+D800 is not a character"]),
        ('"\\u263A"', ["t:1:2: error: invalid escape: expected '\\u{NNNN}'"]),
    ],
)
def test_string_errors(text: str, expected: list[str]) -> None:
    assert errors_of(text) == expected


def test_deeply_nested_interpolation_is_an_error_not_a_crash() -> None:
    text = "x = " + '"{' * 100 + "1" + '}"' * 100 + "\ny = 2\n"
    toks, errors = lex(text)
    assert errors == ["t:1:5: error: string interpolation nested too deeply"]
    assert [t.kind for t in toks][-6:] == ["NEWLINE", "NAME", "=", "INT", "NEWLINE", "EOF"]


def test_interp_mode_has_no_layout_tokens() -> None:
    text = '"{a +\n b}"'
    diags = DiagnosticBag()
    toks = tokenize(text, diags, 2, 6, interp=True)
    assert [t.kind for t in toks] == ["NAME", "+", "EOF"]
