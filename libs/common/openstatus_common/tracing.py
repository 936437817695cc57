"""OpenTelemetry hooks: a tracer provider named after the service; OTLP/HTTP export when configured."""

from __future__ import annotations

import importlib

import structlog
from fastapi.telemetry import TelemetryConfig
from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

from openstatus_common.settings import Settings

log = structlog.get_logger(__name__)


def configure_tracing(settings: Settings, *, service: str) -> TracerProvider:
    provider = TracerProvider(resource=Resource.create({"service.name": f"openstatus-{service}"}))
    if settings.otlp_endpoint:
        try:
            module = importlib.import_module("opentelemetry.exporter.otlp.proto.http.trace_exporter")
        except ImportError:
            log.warning("tracing.exporter_missing", hint="pip install opentelemetry-exporter-otlp-proto-http")
        else:
            provider.add_span_processor(
                BatchSpanProcessor(module.OTLPSpanExporter(endpoint=settings.otlp_endpoint))
            )
    trace.set_tracer_provider(provider)
    return provider


def http_telemetry(settings: Settings) -> TelemetryConfig:
    """FastAPI's own instrumentation: request spans only when they go somewhere (an OTLP endpoint).

    Recording spans nobody exports costs about a third of a cached status page's CPU time.
    """
    exporting = bool(settings.otlp_endpoint)
    return {"tracing": exporting, "operation_spans": exporting, "metrics": False, "logs": False}


def tracer(name: str) -> trace.Tracer:
    return trace.get_tracer(name)
