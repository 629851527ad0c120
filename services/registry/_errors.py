"""Confluent Schema Registry error codes, raised as one exception type the API turns into JSON.

Clients (confluent-kafka's ``SchemaRegistryClient``, Kafka Connect converters) branch on
``error_code``, so the numbers and HTTP statuses follow Confluent's registry exactly. Messages name
subjects, versions and ids only: never schema content or record data.
"""

from __future__ import annotations

from exchange.errors import MaisError

__all__ = ["RegistryError"]


class RegistryError(MaisError):
    """A request the registry refuses, with Confluent's HTTP status and ``error_code``."""

    def __init__(self, status: int, error_code: int, message: str, *, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.status = status
        self.error_code = error_code

    def body(self) -> dict[str, object]:
        return {"error_code": self.error_code, "message": self.message}

    # 404 -------------------------------------------------------------------------------------
    @classmethod
    def subject_not_found(cls, subject: str) -> RegistryError:
        return cls(404, 40401, f"Subject '{subject}' not found.")

    @classmethod
    def version_not_found(cls, subject: str, version: int | str) -> RegistryError:
        return cls(404, 40402, f"Version {version} not found for subject '{subject}'.")

    @classmethod
    def schema_not_found(cls, detail: str = "Schema not found") -> RegistryError:
        return cls(404, 40403, detail)

    @classmethod
    def subject_soft_deleted(cls, subject: str) -> RegistryError:
        return cls(
            404, 40404, f"Subject '{subject}' was soft deleted.Set permanent=true to delete permanently"
        )

    @classmethod
    def subject_not_soft_deleted(cls, subject: str) -> RegistryError:
        return cls(404, 40405, f"Subject '{subject}' was not deleted first before being permanently deleted")

    @classmethod
    def version_soft_deleted(cls, subject: str, version: int) -> RegistryError:
        return cls(
            404,
            40406,
            f"Subject '{subject}' Version {version} was soft deleted."
            "Set permanent=true to delete permanently",
        )

    @classmethod
    def version_not_soft_deleted(cls, subject: str, version: int) -> RegistryError:
        return cls(
            404,
            40407,
            f"Subject '{subject}' Version {version} was not deleted first before being permanently deleted",
        )

    @classmethod
    def subject_config_not_found(cls, subject: str) -> RegistryError:
        return cls(404, 40408, f"Subject '{subject}' does not have subject-level compatibility configured")

    @classmethod
    def subject_mode_not_found(cls, subject: str) -> RegistryError:
        return cls(404, 40409, f"Subject '{subject}' does not have subject-level mode configured")

    @classmethod
    def not_found(cls) -> RegistryError:
        return cls(404, 404, "HTTP 404 Not Found")

    # 409 / 422 ---------------------------------------------------------------------------------
    @classmethod
    def incompatible(cls, message: str) -> RegistryError:
        return cls(409, 409, message)

    @classmethod
    def invalid_schema(cls, detail: str) -> RegistryError:
        return cls(422, 42201, f"Invalid schema: {detail}")

    @classmethod
    def invalid_version(cls, version: str) -> RegistryError:
        return cls(
            422,
            42202,
            f"The specified version '{version}' is not a valid version id. "
            'Allowed values are between [1, 2^31-1] and the string "latest"',
        )

    @classmethod
    def invalid_compatibility_level(cls, level: object) -> RegistryError:
        return cls(
            422,
            42203,
            f"Invalid compatibility level {level!s}. Valid values are none, backward, forward, full, "
            "backward_transitive, forward_transitive, and full_transitive",
        )

    @classmethod
    def invalid_mode(cls, mode: object) -> RegistryError:
        return cls(
            422,
            42204,
            f"Invalid mode {mode!s}. Valid values are READWRITE, READONLY, READONLY_OVERRIDE and IMPORT",
        )

    @classmethod
    def operation_not_permitted(cls, detail: str) -> RegistryError:
        return cls(422, 42205, detail)

    @classmethod
    def reference_exists(cls, detail: str) -> RegistryError:
        return cls(422, 42206, detail)

    @classmethod
    def bad_request(cls, detail: str) -> RegistryError:
        return cls(400, 400, detail)

    # 5xx ---------------------------------------------------------------------------------------
    @classmethod
    def store_error(cls, detail: str) -> RegistryError:
        return cls(500, 50001, f"Error in the backend data store: {detail}")

    @classmethod
    def timeout(cls, detail: str) -> RegistryError:
        return cls(500, 50002, f"Operation timed out: {detail}")

    @classmethod
    def not_ready(cls) -> RegistryError:
        return cls(503, 50003, "The registry is still loading its state from Kafka; retry shortly")
