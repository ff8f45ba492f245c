"""A command group that imports a command's module only when the command runs.

`qms --help` lists every command from its name and one line of help, without importing any;
`qms deviations list` imports the deviations commands and what they use, and nothing else (not
the demo, the migrations, the Word documents or the spreadsheet reader)."""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any, ClassVar, NamedTuple

import typer
from typer.core import TyperCommand, TyperGroup


class Entry(NamedTuple):
    """Where a command lives, and the line of help listed for it."""

    module: str
    attribute: str
    help: str


class _Listed(TyperCommand):
    """A command as listed, before its module is imported."""


class LazyGroup(TyperGroup):
    """A group whose commands are imported when resolved, from a table of entries."""

    entries: ClassVar[dict[str, Entry]] = {}

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        for name, entry in self.entries.items():
            self.commands.setdefault(name, _Listed(name, help=entry.help))

    def load(self, name: str) -> Any:
        """Import the command's module and return the command itself."""
        command = self.commands.get(name)
        if command is not None and not isinstance(command, _Listed):
            return command
        entry = self.entries[name]
        target = getattr(importlib.import_module(entry.module), entry.attribute)
        if isinstance(target, typer.Typer):
            command = typer.main.get_group(target)
        else:
            single = typer.Typer(add_completion=False)
            single.command(name=name)(target)
            command = typer.main.get_command(single)
        command.name = name
        self.commands[name] = command
        return command

    def resolve_command(self, ctx: Any, args: list[str]) -> tuple[str | None, Any, list[str]]:
        name, command, rest = super().resolve_command(ctx, args)
        if name is not None and isinstance(command, _Listed):
            command = self.load(name)
        return name, command, rest


class _Later(ModuleType):
    """A module imported when one of its names is first used."""

    def __getattr__(self, name: str) -> Any:
        return getattr(importlib.import_module(self.__name__), name)


def imported_later(name: str) -> Any:
    """Return a stand-in for the module that imports it when a name of it is first used (a
    command's module names the services its other commands use without importing them)."""
    return _Later(name)
