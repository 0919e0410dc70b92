"""Lexer, parser and AST of Simple Core: ``parse(source, diags) -> ast.Module``."""

from simple_jit.syntax.parser import parse

__all__ = ["parse"]
