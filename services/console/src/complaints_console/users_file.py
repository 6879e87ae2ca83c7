"""Who may sign in to the console: CONSOLE_USERS_FILE (YAML), validated at start.

    users:
      wang:
        name: 王经理
        role: owner              # agent | owner | admin
        departments: [payments]
        password_argon2: "$argon2id$v=19$m=65536,t=3,p=4$..."

Only argon2 hashes are stored (`complaints console-user NAME` prints an entry). An invalid
file stops the console at start, naming the file and the problem.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import yaml
from argon2 import PasswordHasher
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from complaints_console.domain.access import Role, User

Name = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.@-]{1,64}$")]


class UsersFileError(ValueError):
    pass


class _Entry(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100)
    role: Role
    departments: tuple[str, ...] = ()
    password_argon2: str = Field(pattern=r"^\$argon2(id|i|d)\$")


class _File(BaseModel):
    model_config = ConfigDict(extra="forbid")

    users: dict[Name, _Entry]


def parse_users(text: str, *, source: str = "<users>") -> dict[str, User]:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise UsersFileError(f"{source}: not YAML: {exc}") from exc
    try:
        parsed = _File.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
        )
        raise UsersFileError(f"{source}: {problems}") from exc
    users = {}
    for username, entry in parsed.users.items():
        if entry.role is not Role.ADMIN and not entry.departments:
            raise UsersFileError(f"{source}: users.{username}: an {entry.role} needs departments")
        users[username] = User(
            username=username,
            name=entry.name,
            role=entry.role,
            departments=entry.departments,
            password_hash=entry.password_argon2,
        )
    return users


def load_users(path: Path) -> dict[str, User]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise UsersFileError(f"{path}: cannot read: {exc.strerror}") from exc
    return parse_users(text, source=str(path))


def user_entry(
    username: str, *, name: str, role: Role, departments: tuple[str, ...], password: str
) -> str:
    """A users-file entry with the password's argon2 hash."""
    return yaml.safe_dump(
        {
            username: {
                "name": name,
                "role": role.value,
                "departments": list(departments),
                "password_argon2": PasswordHasher().hash(password),
            }
        },
        allow_unicode=True,
        sort_keys=False,
    )
