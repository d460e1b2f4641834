"""Records the seller feed publishes: accepted item records on `catalog.items`, rejected ones on `catalog.items.rejected`.

`ItemRecord` is the contract of `catalog.items`: what it refuses, no store could keep (MongoDB, MySQL, Elasticsearch),
so every consumer that parses a record refuses the same records, and the feed refuses them at intake."""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, Field, ValidationError, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError

from infra.schema.topics import A_WEEK, TopicSpec

ITEMS_TOPIC = "catalog.items"
REJECTED_TOPIC = "catalog.items.rejected"
ITEMS_DLQ_TOPIC = "catalog.items.dlq"
TOPICS = (TopicSpec(ITEMS_TOPIC, 6), TopicSpec(REJECTED_TOPIC, 3, A_WEEK), TopicSpec(ITEMS_DLQ_TOPIC, 3))

SizeClass = Literal["small", "medium", "large", "bulky"]
SIZE_CLASSES: tuple[str, ...] = ("small", "medium", "large", "bulky")
Operation = Literal["upsert", "patch", "delete"]

REQUIRED_ON_UPSERT = ("title", "category", "price", "currency", "size_class")
INT64_LIMIT = 2**63  # MySQL BIGINT and MongoDB int64 hold -2**63 to 2**63 - 1
# ISO 4217 minor-unit exponents that differ from the usual 2.
MINOR_UNIT_EXPONENTS = {"JPY": 0, "KRW": 0, "VND": 0, "CLP": 0, "ISK": 0, "UGX": 0,
                        "BHD": 3, "KWD": 3, "OMR": 3, "JOD": 3, "TND": 3, "IQD": 3, "LYD": 3}


def minor_unit_exponent(currency: str) -> int:
    return MINOR_UNIT_EXPONENTS.get(currency.upper(), 2)


def minor_units(price: Decimal, currency: str) -> int:
    """`price` in `currency`'s minor units (paise, cents). ValueError when it has more decimals than the currency or
    the amount does not fit in 64 bits: a price is never rounded, the buyer pays the price the search showed."""
    exponent = minor_unit_exponent(currency)
    limit = Decimal(INT64_LIMIT).scaleb(-exponent)
    if not -limit <= price < limit:
        raise ValueError(f"{price} cannot be expressed in {currency} minor units: the amount does not fit in 64 bits")
    amount = price.quantize(Decimal(1).scaleb(-exponent))  # at most 19 digits now, so exact when it can be
    if amount != price:
        raise ValueError(f"{price} cannot be expressed in {currency} minor units: more decimals than {currency} has")
    return int(amount.scaleb(exponent))


def _below_int64_limit(value: int) -> int:
    if value >= INT64_LIMIT:
        raise PydanticCustomError("too_large", "must be less than 2**63")
    return value


NonNegativeInt64 = Annotated[int, Field(ge=0), AfterValidator(_below_int64_limit)]


class StockLine(BaseModel):
    warehouse_id: str
    quantity: NonNegativeInt64


class ItemFields(BaseModel):
    """The item's own data. On `upsert` every required field is set; on `patch` only the fields being changed; on `delete` none."""

    title: str | None = None
    description: str | None = None
    category: str | None = None
    brand: str | None = None
    price: Decimal | None = None
    currency: str | None = None
    attributes: dict[str, Any] | None = None
    size_class: SizeClass | None = None
    stock: list[StockLine] | None = None
    images: list[str] | None = None

    @model_validator(mode="after")
    def _price_in_minor_units(self) -> ItemFields:
        """A price with its currency; a patch of only one of them is checked by the consumers, against the stored
        other."""
        if self.price is not None and self.currency is not None:
            try:
                minor_units(self.price, self.currency)
            except ValueError as problem:
                raise _refusal(self, [(("price",), str(problem), self.price)]) from None
        return self


class ItemRecord(BaseModel):
    """One accepted feed record, keyed by item_id on `catalog.items`.

    `version` orders the records of one item: a consumer applies a record only when its version is newer than what it has,
    so replays and out-of-order delivery change nothing.
    """

    item_id: str
    seller_id: str
    sku: str
    op: Operation
    version: NonNegativeInt64
    feed_id: str
    index: int  # position of the record in its feed, so outcomes can be reported per record
    received_at: str  # RFC 3339 UTC
    fields: ItemFields = Field(default_factory=ItemFields)

    @model_validator(mode="after")
    def _complete_and_keepable(self) -> ItemRecord:
        if problems := _record_problems(self):
            raise _refusal(self, problems)
        return self

    def kept_attributes(self) -> dict[str, Any]:
        """The attributes this record would keep: a patch's null value removes an attribute, so that name never is."""
        attributes = self.fields.attributes or {}
        return {name: value for name, value in attributes.items() if value is not None or self.op != "patch"}


def refusal(record: ItemRecord) -> str | None:
    """Why no store could keep `record`, or None: the contract's rules, for a record that was built without being
    validated (`model_copy`, `model_construct`), which a store must not trust to have passed them."""
    fields = record.fields
    if not 0 <= record.version < INT64_LIMIT:
        return "version must be between 0 and 2**63 - 1"
    if any(not 0 <= line.quantity < INT64_LIMIT for line in fields.stock or []):
        return "stock quantity must be between 0 and 2**63 - 1"
    if fields.price is not None and fields.currency is not None:
        try:
            minor_units(fields.price, fields.currency)
        except ValueError as problem:
            return f"price {problem}"
    return next((reason for _, reason, _ in _record_problems(record)), None)


def _record_problems(record: ItemRecord) -> list[Problem]:
    problems: list[Problem] = []
    if record.op == "upsert" and (missing := [n for n in REQUIRED_ON_UPSERT if getattr(record.fields, n) is None]):
        problems.append(((), f"upsert lacks {', '.join(missing)}", record.fields))
    if problem := _unkeepable(record.kept_attributes(), "attributes."):
        problems.append((("fields", "attributes"), problem, record.fields.attributes))
    return problems


def _unkeepable(value: Any, path: str = "") -> str | None:
    """Why the stores could not keep this value (MongoDB and FerretDB refuse such names, 64-bit columns such numbers),
    or None."""
    if isinstance(value, dict):
        for name, item in value.items():
            if "." in name or name.startswith("$"):
                return f"field name {path}{name!r} may not contain '.' or start with '$'"
            if problem := _unkeepable(item, f"{path}{name}."):
                return problem
    elif isinstance(value, list):
        return next((problem for item in value if (problem := _unkeepable(item, path))), None)
    elif isinstance(value, float) and not math.isfinite(value):
        return f"{path.rstrip('.')} is not a finite number"
    elif isinstance(value, int) and not isinstance(value, bool) and not -INT64_LIMIT <= value < INT64_LIMIT:
        return f"{path.rstrip('.')} does not fit in 64 bits"
    return None


Problem = tuple[tuple[str, ...], str, Any]  # where a problem is, why it is one, and the value at fault


def _refusal(model: BaseModel, problems: list[Problem]) -> ValidationError:
    """The problems as one validation error, each located at its field (a model validator's own error names only the
    model)."""
    return ValidationError.from_exception_data(type(model).__name__, [
        InitErrorDetails(type=PydanticCustomError("record_contract", reason), loc=loc, input=given)
        for loc, reason, given in problems])


class RejectedRecord(BaseModel):
    """A feed record that failed validation, with the reasons; keyed by feed_id on `catalog.items.rejected`."""

    feed_id: str
    seller_id: str
    index: int
    sku: str | None
    errors: list[str]
    raw: Any
