"""The feed's rules: which raw records are valid items (upsert, patch, delete), their verdicts, each item's id."""

from __future__ import annotations

import hashlib
import re
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, model_validator
from pydantic_core import ErrorDetails

from inbound.events import ItemFields, ItemRecord, NonNegativeInt64, Operation, RejectedRecord, SizeClass, StockLine
from inbound.parse import Unparsable

# Fixed forever: item ids derive from it, so changing it would give every item a new id.
NAMESPACE = uuid.UUID("6f1c2a9e-3b4d-5e6f-8a7b-9c0d1e2f3a4b")


def item_id_for(seller_id: str, sku: str) -> str:
    """The item's id: the same (seller, sku) always names the same item."""
    return uuid.uuid5(NAMESPACE, f"{seller_id}/{sku}").hex


def key_hash(api_key: str) -> str:
    """What is stored of a seller's API key (sha256 hex): enough to recognise it, never enough to show it again."""
    return hashlib.sha256(api_key.encode()).hexdigest()


def _matching(pattern: str, meaning: str):
    def check(value: str) -> str:
        if not re.fullmatch(pattern, value):
            raise ValueError(f"must be {meaning}")
        return value
    return AfterValidator(check)


def _not_bool(value: Any) -> Any:
    if isinstance(value, bool):
        raise ValueError("must be a number, not a boolean")  # noqa: TRY004 (pydantic reports only ValueError)
    return value


def _attribute_value(value: Any) -> Any:
    if isinstance(value, list):
        return [_attribute_scalar(item) for item in value]
    return _attribute_scalar(value)


def _attribute_scalar(value: Any) -> str | int | float | bool:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, (str, int, float, bool)):
        return value
    raise ValueError("an attribute value must be a string, number, boolean or a list of those")


def _one_line_per_warehouse(stock: list[StockLine]) -> list[StockLine]:
    if len({line.warehouse_id for line in stock}) != len(stock):
        raise ValueError("a warehouse appears more than once")
    return stock


Sku = Annotated[str, Field(min_length=1, max_length=100), _matching(r"\S+", "without spaces")]
Version = Annotated[NonNegativeInt64, BeforeValidator(_not_bool)]
Title = Annotated[str, Field(min_length=1, max_length=300)]
Name = Annotated[str, Field(min_length=1, max_length=100)]
Price = Annotated[Decimal, BeforeValidator(_not_bool), Field(gt=0, max_digits=14, decimal_places=2)]
Currency = Annotated[str, _matching(r"[A-Za-z]{3}", "a 3-letter currency code such as INR"), AfterValidator(str.upper)]
Attributes = Annotated[dict[Annotated[str, Field(min_length=1, max_length=64)],
                            Annotated[Any, AfterValidator(_attribute_value)]], Field(max_length=100)]
ImageUrl = Annotated[str, Field(max_length=2048), _matching(r"https?://\S+", "an http(s) URL")]
Stock = Annotated[list[StockLine], Field(max_length=1000), AfterValidator(_one_line_per_warehouse)]


class RecordInput(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    op: Operation = "upsert"
    sku: Sku
    version: Version | None = None


class DeleteInput(RecordInput):
    pass


class PatchInput(RecordInput):
    title: Title | None = None
    description: Annotated[str, Field(max_length=5000)] | None = None
    category: Name | None = None
    brand: Name | None = None
    price: Price | None = None
    currency: Currency | None = None
    attributes: Attributes | None = None
    size_class: SizeClass | None = None
    stock: Stock | None = None
    images: Annotated[list[ImageUrl], Field(max_length=50)] | None = None

    @model_validator(mode="after")
    def _changes_something(self) -> PatchInput:
        if all(getattr(self, name) is None for name in ItemFields.model_fields):
            raise ValueError("a patch must change at least one field")
        return self

    def item_fields(self) -> dict[str, Any]:
        return self.model_dump(exclude={"op", "sku", "version"}, exclude_none=True)


class UpsertInput(PatchInput):
    title: Title
    category: Name
    price: Price
    currency: Currency
    size_class: SizeClass


INPUTS: dict[str, type[RecordInput]] = {"upsert": UpsertInput, "patch": PatchInput, "delete": DeleteInput}


def validate_record(raw: dict[str, Any]) -> RecordInput | list[str]:
    """The record as its operation's input model, or the reasons it is refused (one string per problem)."""
    op = raw.get("op", "upsert")
    if not isinstance(op, str) or op not in INPUTS:
        return [f"op: must be one of {', '.join(INPUTS)}"]
    try:
        return INPUTS[op].model_validate(raw)
    except ValidationError as error:
        return [_describe(problem) for problem in error.errors()]


@dataclass(frozen=True)
class FeedContext:
    feed_id: str
    seller_id: str
    received_at: datetime


def judge(index: int, parsed: dict[str, Any] | Unparsable, feed: FeedContext, *,
          default_version: int) -> ItemRecord | RejectedRecord:
    """One parsed record as the item record to publish, or as a rejection with its reasons."""
    if isinstance(parsed, Unparsable):
        return RejectedRecord(feed_id=feed.feed_id, seller_id=feed.seller_id, index=index, sku=None,
                              errors=[parsed.reason], raw=parsed.raw)
    valid = validate_record(parsed)
    record = valid if isinstance(valid, list) else item_record(valid, index, feed, default_version=default_version)
    if isinstance(record, list):
        return RejectedRecord(feed_id=feed.feed_id, seller_id=feed.seller_id, index=index, sku=sku_of(parsed),
                              errors=record, raw=parsed)
    return record


def item_record(valid: RecordInput, index: int, feed: FeedContext, *,
                default_version: int) -> ItemRecord | list[str]:
    """The accepted record as published (prices normalised to two decimals), or the reasons the record contract
    (`ItemRecord`) refuses it, named by the seller's field names."""
    fields = valid.item_fields() if isinstance(valid, PatchInput) else {}
    if "price" in fields:
        fields["price"] = fields["price"].quantize(Decimal("0.01"))
    try:
        return ItemRecord(
            item_id=item_id_for(feed.seller_id, valid.sku), seller_id=feed.seller_id, sku=valid.sku, op=valid.op,
            version=default_version if valid.version is None else valid.version, feed_id=feed.feed_id, index=index,
            received_at=rfc3339(feed.received_at), fields=ItemFields(**fields),
        )
    except ValidationError as error:
        return _contract_refusals(error)


@dataclass(frozen=True)
class Verdict:
    """What became of one feed record: accepted | rejected on arrival, later applied | dead_lettered."""

    index: int
    sku: str | None
    item_id: str | None
    status: str
    errors: list[str] = field(default_factory=list)

    @classmethod
    def of(cls, record: ItemRecord | RejectedRecord) -> Verdict:
        if isinstance(record, ItemRecord):
            return cls(record.index, record.sku, record.item_id, "accepted")
        return cls(record.index, record.sku, None, "rejected", record.errors)


def sku_of(raw: Any) -> str | None:
    """The sku a record names, even when the record is invalid, so a rejection can say which one it was."""
    sku = raw.get("sku") if isinstance(raw, dict) else None
    return str(sku)[:100] if isinstance(sku, (str, int)) and not isinstance(sku, bool) else None


def rfc3339(moment: datetime) -> str:
    return moment.isoformat(timespec="microseconds").replace("+00:00", "Z")


def _contract_refusals(error: ValidationError) -> list[str]:
    """The record contract's reasons, each at the field as the seller names it (at the top of a feed record, not under
    `fields`)."""
    problems = error.errors()
    for problem in problems:
        if problem["loc"][:1] == ("fields",):
            problem["loc"] = problem["loc"][1:]
    return [_describe(problem) for problem in problems]


def _describe(problem: ErrorDetails) -> str:
    where = ".".join(str(part) for part in problem["loc"]) or "record"
    message = "unknown field" if problem["type"] == "extra_forbidden" else problem["msg"]
    return f"{where}: {message.removeprefix('Value error, ')}"
