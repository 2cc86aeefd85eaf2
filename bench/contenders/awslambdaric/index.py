# The benchmark's echo for awslambdaric: logs the event to stderr and
# answers "Echoing request: '<event>'". awslambdaric hands the handler the
# event already parsed; compact json.dumps gives back the event's bytes for
# the benchmark's events (compact JSON, ASCII, keys in order). The answer,
# a str, goes out JSON-encoded, as awslambdaric sends every result.
import json
import sys


def main_handler(event, context):
    body = json.dumps(event, separators=(",", ":"))
    sys.stderr.write(body + "\n")
    return "Echoing request: '" + body + "'"
