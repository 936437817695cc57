"""Page component and component group bodies on the wire (camelCase; ids as numbers or numeric strings).

A component is ``monitor`` (linked to a monitor, named after it unless given a name) or ``static``. Its type
and monitor are fixed at creation: a patch that changes them is refused with the field named.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, Field, field_validator

from api.pages.schemas import Description, Id, Name, Strict, not_blank

ComponentType = Literal["monitor", "static"]
Order = Annotated[int, Field(ge=-1_000_000, le=1_000_000)]


def _component_type(value: Any) -> Any:
    return value.strip().lower().removeprefix("page_component_type_") if isinstance(value, str) else value


TypeField = Annotated[ComponentType, BeforeValidator(_component_type)]


class ComponentIn(Strict):
    """A component to add. ``order`` defaults to after everything on the page, ``groupOrder`` to the end of
    the group."""

    type: TypeField
    monitorId: Id | None = None
    name: Name | None = None
    description: Description = ""
    order: Order | None = None
    groupId: Id | None = None
    groupOrder: Order | None = None

    _name = field_validator("name")(not_blank)


class ComponentPatch(Strict):
    """Only the fields given change; ``groupId: null`` ungroups the component."""

    name: Name | None = None
    description: Description | None = None
    order: Order | None = None
    groupId: Id | None = None
    groupOrder: Order | None = None
    # Accepted only to refuse a change with a clear message.
    type: Annotated[Any, BeforeValidator(_component_type)] = None
    monitorId: Any = None

    _name = field_validator("name")(not_blank)


class ComponentOut(BaseModel):
    id: str
    pageId: str
    type: ComponentType
    monitorId: str | None
    name: str
    description: str
    order: int
    groupId: str | None
    groupOrder: int
    createdAt: datetime
    updatedAt: datetime


class ComponentList(BaseModel):
    items: list[ComponentOut]
    totalSize: int


class GroupIn(Strict):
    """A group of components. ``order`` places it among the page's ungrouped components (default: last)."""

    name: Name
    order: Order | None = None
    defaultOpen: bool = False

    _name = field_validator("name")(not_blank)


class GroupPatch(Strict):
    name: Name | None = None
    order: Order | None = None
    defaultOpen: bool | None = None

    _name = field_validator("name")(not_blank)


class GroupOut(BaseModel):
    id: str
    pageId: str
    name: str
    order: int
    defaultOpen: bool
    # The group's components in their order.
    componentIds: list[str]
    createdAt: datetime
    updatedAt: datetime


class GroupList(BaseModel):
    items: list[GroupOut]
    totalSize: int
