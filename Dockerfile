# MAIS Exchange in one image: the `mais` CLI runs every part (registry, adapters, SingleView, monitor).
#   docker build -t mais-exchange:0.1.0 .
# Dependencies come from the hash-locked requirements.lock; the image runs as a non-root user.
FROM python:3.11-slim-bookworm AS build
WORKDIR /src
COPY requirements.lock pyproject.toml README.md ./
RUN python -m venv /opt/mais \
 && /opt/mais/bin/pip install --no-cache-dir --require-hashes --no-deps -r requirements.lock
COPY exchange ./exchange
COPY adapters ./adapters
COPY services ./services
COPY schemas ./schemas
RUN /opt/mais/bin/pip install --no-cache-dir --no-deps .

FROM python:3.11-slim-bookworm
RUN useradd --system --uid 10001 --home-dir /var/lib/mais --create-home mais
COPY --from=build /opt/mais /opt/mais
COPY agencies.toml mais.toml /etc/mais/
ENV PATH=/opt/mais/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    MAIS_AGENCIES_FILE=/etc/mais/agencies.toml
USER mais
WORKDIR /var/lib/mais
ENTRYPOINT ["mais"]
CMD ["--help"]
