"""Reads a /metrics exposition on stdin with the Prometheus project's own
parser (prometheus_client) of the format named by the one argument:
`text` (the classic format, version 0.0.4) or `openmetrics` (the stricter
one, which rejects what Prometheus would not scrape). Prints every sample
as one JSON line:
{"family": ..., "type": ..., "name": ..., "labels": {...}, "value": ...}.
The tests of `tidings serve` check counts against these lines."""

import json
import sys

from prometheus_client import parser
from prometheus_client.openmetrics import parser as openmetrics_parser

PARSERS = {
    "text": parser.text_string_to_metric_families,
    "openmetrics": openmetrics_parser.text_string_to_metric_families,
}

for family in PARSERS[sys.argv[1]](sys.stdin.read()):
    for sample in family.samples:
        print(
            json.dumps(
                {
                    "family": family.name,
                    "type": family.type,
                    "name": sample.name,
                    "labels": sample.labels,
                    "value": sample.value,
                }
            )
        )
