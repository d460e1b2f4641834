"""orjson for Elasticsearch request bodies and answers: they are the search API's largest JSON (facets, 20 hits, the
pincode's delivery slots), and the standard library's codec showed up in its profile."""

from __future__ import annotations

import orjson
from elasticsearch.exceptions import SerializationError
from elasticsearch.serializer import JSONSerializer


class OrjsonSerializer(JSONSerializer):
    def dumps(self, data):
        if isinstance(data, str):  # already serialized (bulk lines, scripts)
            return data
        try:
            return orjson.dumps(data, default=self.default, option=orjson.OPT_NON_STR_KEYS).decode()
        except (TypeError, orjson.JSONEncodeError) as error:
            raise SerializationError(data, error) from error

    def loads(self, s):
        try:
            return orjson.loads(s)
        except orjson.JSONDecodeError as error:
            raise SerializationError(s, error) from error
