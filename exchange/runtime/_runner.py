"""Run one adapter from one source: wiring of pipeline, loop, metrics endpoint and signals."""

from __future__ import annotations

import gc
import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from exchange.adapter import Adapter, AdapterContext, adapter_module, load_adapter
from exchange.codec import AvroCodec, SubjectNameStrategy, topic_record_name_strategy
from exchange.errors import ConfigError, MaisError, PrerequisiteError
from exchange.ingress import IngressGate, IngressSettings, Listener, build_gate
from exchange.logging import get_logger
from exchange.metrics import HealthState, MetricsServer, RuntimeMetrics
from exchange.registry_client import SchemaRegistry
from exchange.runtime._context import LoopContext
from exchange.runtime._control import StopSignal
from exchange.runtime._dir_source import DirectorySourceLoop
from exchange.runtime._http_source import HttpSourceLoop
from exchange.runtime._kafka_source import KafkaSourceLoop
from exchange.runtime._mllp_source import MllpSourceLoop
from exchange.runtime._ops_agent import OpsAgent
from exchange.runtime._pipeline import Identity, Pipeline
from exchange.runtime._sources import DirectorySource, KafkaSource, ListenerSource, SourceSpec
from exchange.settings import KafkaSettings
from exchange.topics import validate_agency

__all__ = ["LoadedAdapter", "RunOptions", "build_pipeline", "resolve_adapter", "run_adapter"]


@dataclass(frozen=True, slots=True)
class LoadedAdapter:
    """An adapter and where its event schemas come from."""

    adapter: Adapter
    resolve_schema: Callable[[str], str]


def resolve_adapter(name: str) -> LoadedAdapter:
    """Find an adapter by package name (``hl7v2``) or by ``module:attribute``.

    Event schemas are looked up in the module's optional ``schemas`` mapping (full name → Avro
    JSON) first, then in the standard schemas (``exchange.schemas.schema_json``).
    """
    if ":" in name:
        module_name, _, attribute = name.partition(":")
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            raise ConfigError(
                f"cannot import adapter module {module_name!r}", hint="check PYTHONPATH"
            ) from None
        adapter = getattr(module, attribute, None)
        if not isinstance(adapter, Adapter):
            raise ConfigError(f"{name} is not an exchange.adapter.Adapter", hint="point at an Adapter object")
    else:
        adapter = load_adapter(name)
        module = adapter_module(name)
    return LoadedAdapter(adapter, _schema_resolver(module))


def _schema_resolver(module: ModuleType) -> Callable[[str], str]:
    local: Mapping[str, str] = getattr(module, "schemas", {}) or {}

    def resolve(full_name: str) -> str:
        if full_name in local:
            return local[full_name]
        try:
            standard: Any = importlib.import_module("exchange.schemas")
            return str(standard.schema_json(full_name))
        except (ImportError, AttributeError, LookupError, MaisError):
            raise LookupError(full_name) from None

    return resolve


@dataclass(frozen=True)
class RunOptions:
    """Everything ``mais adapter run`` needs, validated.

    ``ingress`` applies to ``http:`` and ``mllp:`` sources: TLS, who may send, limits. ``None``
    means none of it — allowed only on a loopback address.
    """

    adapter: LoadedAdapter
    agency: str
    source: SourceSpec
    kafka: KafkaSettings
    registry: SchemaRegistry
    organisation_id: str = ""
    instance_id: str = "0"
    metrics_host: str = "127.0.0.1"
    metrics_port: int | None = None
    sharing_purpose: str | None = None
    legal_basis: str | None = None
    subject_strategy: SubjectNameStrategy = topic_record_name_strategy
    batch_size: int = 2000
    ops_interval_s: float | None = 5.0
    """How often the ops agent reports to the monitor (``None``: no ops agent, no replays by request)."""
    ingress: IngressSettings | None = None


def _counted_warnings(metrics: RuntimeMetrics | None) -> Callable[[str, str], None]:
    """The ``AdapterContext.warn`` of a running adapter: counted by code, logged (no values)."""
    log = get_logger("exchange.adapter")

    def warn(code: str, message: str) -> None:
        if metrics is not None:
            metrics.warned(code)
        log.info("adapter warning", warning_code=code, error=message)

    return warn


def build_pipeline(options: RunOptions, metrics: RuntimeMetrics | None = None) -> Pipeline:
    """The adapter's pipeline; an organisation id the adapter cannot use is a usage error, now."""
    agency = validate_agency(options.agency)
    organisation = options.organisation_id or agency
    options.adapter.adapter.check_organisation(organisation)
    warn = _counted_warnings(metrics)
    return Pipeline(
        options.adapter.adapter,
        AdapterContext(agency=agency, organisation_id=organisation, warn=warn),
        AvroCodec(options.registry, subject_strategy=options.subject_strategy),
        options.adapter.resolve_schema,
        Identity(
            agency=agency,
            adapter=options.adapter.adapter.name,
            source=str(options.source),
            sharing_purpose=options.sharing_purpose,
            legal_basis=options.legal_basis,
        ),
    )


def run_adapter(options: RunOptions, stop: StopSignal | None = None) -> None:
    """Run until SIGTERM/SIGINT (or ``stop``); drains, commits and returns normally."""
    stop = stop or StopSignal().install()
    metrics = RuntimeMetrics(options.adapter.adapter.name, options.agency)
    health = HealthState()
    pipeline = build_pipeline(options, metrics)
    log = get_logger("exchange.runtime").bind(adapter=pipeline.identity.adapter, agency=options.agency)
    ctx = LoopContext(
        pipeline,
        options.kafka,
        metrics,
        health,
        stop,
        log,
        options.instance_id,
        batch_size=options.batch_size,
    )
    gate = _listener_gate(options, metrics, log)  # checks TLS files and exposure before anything starts
    server = None
    if options.metrics_port is not None:
        try:
            server = MetricsServer(metrics, health, options.metrics_host, options.metrics_port).start()
        except OSError as exc:
            raise PrerequisiteError(
                f"cannot listen on metrics port {options.metrics_port} ({exc.strerror})",
                hint="choose a free port with --metrics-port",
            ) from None
    agent = None
    if options.ops_interval_s:

        def replay_context() -> LoopContext:
            pipeline = build_pipeline(options, metrics)
            kafka, instance = options.kafka, options.instance_id
            return LoopContext(pipeline, kafka, metrics, HealthState(), stop, log, instance)

        agent = OpsAgent(ctx, str(options.source), replay_context, interval_s=options.ops_interval_s).start()
    # Start-up objects (modules, schemas, settings) never die: keep them out of the cyclic
    # garbage collector's full passes, which would otherwise add pauses to record latency.
    gc.collect()
    gc.freeze()
    try:
        source = options.source
        if isinstance(source, KafkaSource):
            KafkaSourceLoop(ctx, source.topic).run()
        elif isinstance(source, DirectorySource):
            if not source.path.is_dir():
                raise ConfigError(f"drop directory {source.path} does not exist", hint="create it first")
            DirectorySourceLoop(ctx, source.path).run()
        elif source.kind == "http":
            HttpSourceLoop(ctx, source.host, source.port, gate).run()
        else:
            MllpSourceLoop(ctx, source.host, source.port, gate).run()
    finally:
        health.live = False
        if agent is not None:
            stop.stop()  # the loop ended (or failed): the agent ends with it
            agent.join(30)
        if server is not None:
            server.stop()


def _listener_gate(options: RunOptions, metrics: RuntimeMetrics, log: Any) -> IngressGate | None:
    source = options.source
    if not isinstance(source, ListenerSource):
        return None
    settings = options.ingress or IngressSettings.model_construct()
    listener: Listener = "http" if source.kind == "http" else "mllp"
    return build_gate(settings, listener, source.host, source.port, metrics=metrics, log=log)
