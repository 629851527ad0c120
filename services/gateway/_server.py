"""Running the gateway: TLS with optional client certificates, on uvicorn."""

from __future__ import annotations

import ssl

import uvicorn

from exchange.audit import AuditSettings
from exchange.registry_client import RegistrySettings
from exchange.settings import KafkaSettings
from services.enquiry import EnquiryClient, EnquirySettings, load_policies, make_codec
from services.gateway._app import Gateway
from services.gateway._auth import Authenticator, PeerCertificateProtocol, load_clients
from services.gateway._settings import GatewaySettings

__all__ = ["build_gateway", "server_config"]


def build_gateway(
    settings: GatewaySettings, kafka: KafkaSettings, registry: RegistrySettings, audit: AuditSettings
) -> Gateway:
    """The gateway application, connected to Kafka (checks every file and key before serving)."""
    policies = load_policies(settings.policies)
    authenticator = Authenticator(load_clients(settings.clients), settings.audience)
    audit.signer(), audit.hasher(settings.agency)
    enquiry = EnquirySettings()
    client = EnquiryClient(
        kafka,
        make_codec(registry),
        agency=settings.agency,
        writer_name=f"gateway.{settings.agency}",
        enquiry=enquiry,
        audit=audit,
    )
    return Gateway(
        client,
        authenticator,
        policies,
        deadline_s=settings.deadline_s,
        responders=settings.responders,
        base_path=settings.base_path,
        enquiry=enquiry,
    )


def server_config(gateway: Gateway, settings: GatewaySettings) -> uvicorn.Config:
    """HTTPS on ``host:port``; client certificates requested, verified against the CA, optional."""
    return uvicorn.Config(
        gateway.app,
        host=settings.host,
        port=settings.port,
        ssl_certfile=str(settings.tls_cert_file),
        ssl_keyfile=str(settings.tls_key_file),
        ssl_ca_certs=str(settings.tls_ca_file),
        ssl_cert_reqs=ssl.CERT_OPTIONAL,
        http=PeerCertificateProtocol,
        log_config=None,
        access_log=False,
        lifespan="off",
    )


def serve(settings: GatewaySettings) -> None:
    gateway = build_gateway(settings, KafkaSettings(), RegistrySettings(), AuditSettings())
    try:
        uvicorn.Server(server_config(gateway, settings)).run()
    finally:
        gateway.client.close()
