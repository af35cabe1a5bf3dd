"""Reads a /metrics exposition on stdin with the Prometheus project's own
OpenMetrics parser (prometheus_client), which rejects what Prometheus would
not scrape, and prints every sample as one JSON line:
{"family": ..., "type": ..., "name": ..., "labels": {...}, "value": ...}.
The tests of `tidings serve` check counts against these lines."""

import json
import sys

from prometheus_client.openmetrics.parser import text_string_to_metric_families

for family in text_string_to_metric_families(sys.stdin.read()):
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
