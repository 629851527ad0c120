"""``mais adapter``: run one adapter process from one source to the agency's standard topics."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console

from exchange.cli import tokens
from exchange.cli._ingress_options import (
    AllowClientOption,
    InsecureOption,
    TlsCertOption,
    TlsClientCaOption,
    TlsKeyOption,
    TokenFileOption,
    ingress_settings,
)
from exchange.cli._options import renamed_help
from exchange.cli._runtime_options import (
    AgencyOption,
    BootstrapOption,
    RegistryOption,
    agency_id,
    default_instance_id,
    kafka_settings,
    registry_client,
)
from exchange.codec import record_name_strategy, topic_name_strategy, topic_record_name_strategy
from exchange.errors import ConfigError, MaisError
from exchange.logging import configure_logging
from exchange.runtime import RunOptions, parse_source, resolve_adapter, run_adapter
from exchange.runtime._txn import TransactionFencedError

app = typer.Typer(help="Run adapters: legacy records in, standard events out.", no_args_is_help=True)
app.add_typer(tokens.app, name="tokens")

_err = Console(stderr=True, highlight=False)
_STRATEGIES = {
    "topic": topic_name_strategy,
    "record": record_name_strategy,
    "topic-record": topic_record_name_strategy,
}


@app.command()
def run(  # noqa: PLR0917 - a Typer command takes its options as parameters
    adapter: Annotated[str, typer.Option(help="Adapter package name (hl7v2, csv…) or module:attribute.")],
    agency: AgencyOption,
    source: Annotated[str, typer.Option(help="kafka:TOPIC, dir:PATH, http:HOST:PORT or mllp:HOST:PORT.")],
    metrics_port: Annotated[
        int | None, typer.Option(help="Serve /metrics, /healthz and /readyz on this port.")
    ] = None,
    metrics_host: Annotated[str, typer.Option(help="Address the metrics endpoint binds to.")] = "127.0.0.1",
    instance_id: Annotated[
        str | None,
        typer.Option(help="Stable id of this instance (default: host name); unique per running copy."),
    ] = None,
    organisation: Annotated[
        str,
        typer.Option(
            "--organisation",
            "--organisation-id",
            help=renamed_help(
                "ODS code or DfE LA number of the publishing organisation (default: the agency id).",
                "--organisation-id",
            ),
            show_default=False,
        ),
    ] = "",
    sharing_purpose: Annotated[str | None, typer.Option(help="ce_sharingpurpose of every event.")] = None,
    legal_basis: Annotated[str | None, typer.Option(help="ce_legalbasis of every event.")] = None,
    subject_strategy: Annotated[
        str, typer.Option(help="Schema subject naming: topic-record (default), topic or record.")
    ] = "topic-record",
    batch_size: Annotated[int, typer.Option(min=1, max=100_000, help="Most records per transaction.")] = 2000,
    log_level: Annotated[str, typer.Option(help="DEBUG, INFO, WARNING or ERROR.")] = "INFO",
    ops: Annotated[
        bool,
        typer.Option(
            "--ops/--no-ops",
            help="Report status and rejects to the operator's monitor and carry out its replay requests "
            "(on mais.<agency>.ops.v1).",
        ),
    ] = True,
    bootstrap_servers: BootstrapOption = None,
    registry_url: RegistryOption = None,
    tls_cert: TlsCertOption = None,
    tls_key: TlsKeyOption = None,
    tls_client_ca: TlsClientCaOption = None,
    tls_allow_client: AllowClientOption = None,
    token_file: TokenFileOption = None,
    insecure: InsecureOption = False,
) -> None:
    """Run ADAPTER for AGENCY from SOURCE until SIGTERM (drains, commits, exits 0)."""
    configure_logging(log_level)
    if subject_strategy not in _STRATEGIES:
        raise ConfigError(
            f"unknown subject strategy {subject_strategy!r}", hint="use topic, record or topic-record"
        )
    options = RunOptions(
        adapter=resolve_adapter(adapter),
        agency=agency_id(agency),
        source=parse_source(source),
        kafka=kafka_settings(bootstrap_servers),
        registry=registry_client(registry_url),
        organisation_id=organisation,
        instance_id=instance_id or default_instance_id(),
        metrics_host=metrics_host,
        metrics_port=metrics_port,
        sharing_purpose=sharing_purpose,
        legal_basis=legal_basis,
        subject_strategy=_STRATEGIES[subject_strategy],
        batch_size=batch_size,
        ops_interval_s=5.0 if ops else None,
        ingress=ingress_settings(
            tls_cert=tls_cert,
            tls_key=tls_key,
            tls_client_ca=tls_client_ca,
            allowed_clients=tls_allow_client,
            token_file=token_file,
            insecure=insecure,
        ),
    )
    try:
        run_adapter(options)
    except TransactionFencedError:
        raise MaisError(
            "another instance with the same --instance-id took over this adapter's transactions",
            hint="give every running copy of an adapter its own --instance-id",
        ) from None
