"""Spark schemas of the lake's tables, derived from the event records in each folder's `events.py` (the records are the
contract; the lake follows them instead of restating them). Pure: pydantic models in, Spark types out."""

from __future__ import annotations

import datetime
import types
import typing
from decimal import Decimal
from typing import Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel
from pyspark.sql import types as T

DECIMAL = T.DecimalType(38, 6)  # any price or total the contract allows (INT64 minor units, up to 6 decimals)


def spark_type(annotation: Any) -> T.DataType:
    """The Spark type of one field's annotation. Free-form values (`dict[str, Any]`, `Any`) are kept as their JSON
    text: Spark's JSON reader turns a nested object into its text when the schema says string."""
    origin, args = get_origin(annotation), get_args(annotation)
    if origin is typing.Annotated:
        return spark_type(args[0])
    if origin in (Union, types.UnionType):
        present = [arg for arg in args if arg is not type(None)]
        return spark_type(present[0]) if len(present) == 1 else T.StringType()
    if origin is Literal:
        return T.StringType()
    if origin is list:
        return T.ArrayType(spark_type(args[0]) if args else T.StringType())
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return struct_of(annotation)
    return SIMPLE.get(annotation, T.StringType())


SIMPLE: dict[Any, T.DataType] = {str: T.StringType(), int: T.LongType(), float: T.DoubleType(), bool: T.BooleanType(),
                                 Decimal: DECIMAL, datetime.datetime: T.TimestampType(), datetime.date: T.DateType()}


def struct_of(model: type[BaseModel]) -> T.StructType:
    return T.StructType([T.StructField(name, spark_type(field.annotation), nullable=True)
                         for name, field in model.model_fields.items()])


def required_fields(model: type[BaseModel]) -> list[str]:
    """The top-level fields an event must carry (no default and not optional): a record without one is quarantined."""
    return [name for name, field in model.model_fields.items()
            if field.is_required() and not _optional(field.annotation)]


def _optional(annotation: Any) -> bool:
    return get_origin(annotation) in (Union, types.UnionType) and type(None) in get_args(annotation)
