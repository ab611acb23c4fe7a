"""An independent ext_authz client (Debian python3-grpcio) for keycard's wire-compatibility test.

Usage: /usr/bin/python3 check_client.py STUBS_DIR ADDRESS < cases.json

Each case: {"name", "method", "host", "path", "headers": {}, "context_extensions": {}, "source_address"}.
Prints {"health": {service: status}, "results": [...]} as JSON on stdout.
"""
import json
import sys

sys.path.insert(0, sys.argv[1])

import grpc  # noqa: E402
from google.protobuf import json_format  # noqa: E402
from google.protobuf.message import Message  # noqa: E402
from envoy.config.core.v3 import base_pb2  # noqa: E402
from envoy.service.auth.v3 import external_auth_pb2, external_auth_pb2_grpc  # noqa: E402
from health.v1 import health_pb2, health_pb2_grpc  # noqa: E402

try:
    from google.protobuf.unknown_fields import UnknownFieldSet
except ImportError:  # protobuf < 4.25 (Debian 12)
    def UnknownFieldSet(message):
        return message.UnknownFields()

TIMEOUT = 10
APPEND_ACTION = base_pb2.HeaderValueOption.HeaderAppendAction


def check_request(case):
    request = external_auth_pb2.CheckRequest()
    attributes = request.attributes
    http = attributes.request.http
    http.method = case.get("method", "GET")
    http.host = case.get("host", "")
    http.path = case["path"]
    http.headers.update(case.get("headers", {}))
    attributes.context_extensions.update(case.get("context_extensions", {}))
    if "source_address" in case:
        attributes.source.address.socket_address.address = case["source_address"]
    return request


def header_list(options):
    return [
        {
            "key": option.header.key,
            "value": option.header.value,
            "append_action": APPEND_ACTION.Name(option.append_action),
        }
        for option in options
    ]


def unknown_field_count(message):
    """Fields on the wire that this schema does not know, anywhere in the message tree."""
    count = len(UnknownFieldSet(message))
    for field, value in message.ListFields():
        if field.message_type is None:
            continue
        if field.message_type.GetOptions().map_entry:
            children = value.values()
        elif field.label == field.LABEL_REPEATED:
            children = value
        else:
            children = [value]
        count += sum(unknown_field_count(child) for child in children if isinstance(child, Message))
    return count


def describe(response):
    kind = response.WhichOneof("http_response")
    result = {
        "status_code": response.status.code,
        "http_response": kind,
        "dynamic_metadata": json_format.MessageToDict(response.dynamic_metadata),
        "unknown_fields": unknown_field_count(response),
        "headers": [],
    }
    if kind == "ok_response":
        result["headers"] = header_list(response.ok_response.headers)
        result["headers_to_remove"] = list(response.ok_response.headers_to_remove)
    elif kind == "denied_response":
        denied = response.denied_response
        result["denied_status"] = denied.status.code
        result["body"] = denied.body
        result["headers"] = header_list(denied.headers)
    return result


def main():
    cases = json.load(sys.stdin)
    with grpc.insecure_channel(sys.argv[2]) as channel:
        grpc.channel_ready_future(channel).result(timeout=TIMEOUT)
        authz = external_auth_pb2_grpc.AuthorizationStub(channel)
        results = [
            {"name": case.get("name"), **describe(authz.Check(check_request(case), timeout=TIMEOUT))}
            for case in cases
        ]
        health = health_pb2_grpc.HealthStub(channel)
        statuses = {}
        for service in ("", "envoy.service.auth.v3.Authorization"):
            reply = health.Check(health_pb2.HealthCheckRequest(service=service), timeout=TIMEOUT)
            statuses[service] = health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status)
    json.dump({"health": statuses, "results": results}, sys.stdout)


if __name__ == "__main__":
    main()
