# syntax=docker/dockerfile:1.7
# The platform image: Dagster code location, webserver/daemon (compose), run workers and vision jobs.
#   docker build -t city-platform:0.1.0 .
#   docker build -t city-platform-gpu:0.1.0 --build-arg TORCH_INDEX_URL=https://pypi.org/simple .
# The GPU variant differs only in its torch wheels: PyPI's Linux wheels bundle the CUDA runtime, so
# no CUDA base image is needed, only the NVIDIA driver and container toolkit on the host.
ARG PYTHON_IMAGE=python:3.11.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
# CPU-only torch by default: the CUDA wheels add several GB that CPU-only nodes never use. With the
# CPU index as an extra index, pip prefers torch==X+cpu over PyPI's CUDA build of the same version.
ARG TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /opt/city
COPY pyproject.toml README.md ./
COPY cityapp ./cityapp
COPY cityplatform ./cityplatform
COPY citysim ./citysim
COPY governance ./governance
COPY ingestion ./ingestion
COPY orchestration ./orchestration
COPY vision_jobs ./vision_jobs
# Editable, so the source tree stays at /opt/city: orchestration finds dbt_project/ beside its
# package, not in site-packages. The `production` extra adds what a deployment needs, pinned in
# pyproject.toml: PostgreSQL storage (with psycopg2), the Docker and Kubernetes run launchers and
# Pipes clients.
RUN pip install --extra-index-url "${TORCH_INDEX_URL}" --editable ".[production]" \
 && pip check

FROM ${PYTHON_IMAGE} AS runtime
# tini reaps the subprocesses Dagster spawns per run and forwards SIGTERM; libglib is OpenCV's one
# system dependency in its headless build; libgomp is torch's OpenMP runtime.
RUN apt-get update \
 && apt-get install -y --no-install-recommends tini libglib2.0-0 libgomp1 \
 && rm -rf /var/lib/apt/lists/*
RUN groupadd --system --gid 10001 city \
 && useradd --system --uid 10001 --gid city --home-dir /home/city --create-home city \
 && install -d -o city -g city /opt/dagster/dagster_home /opt/dagster/logs /var/lib/city
COPY --from=build /opt/venv /opt/venv
COPY --from=build /opt/city /opt/city
# dbt writes target/ and logs/ inside its project at run time.
COPY --chown=city:city dbt_project /opt/city/dbt_project
COPY --chmod=0755 infra/docker/entrypoint.sh /usr/local/bin/city-entrypoint
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    DAGSTER_HOME=/opt/dagster/dagster_home \
    CITY_HOME=/var/lib/city \
    YOLO_OFFLINE=1 \
    YOLO_CONFIG_DIR=/tmp/ultralytics \
    MPLCONFIGDIR=/tmp/matplotlib \
    NVIDIA_DRIVER_CAPABILITIES=compute,utility
WORKDIR /opt/city
USER 10001:10001
# The dbt manifest, prepared at build time the dagster-dbt way: the code location only reads it.
RUN dagster-dbt project prepare-and-package --file orchestration/lib/dbt.py
EXPOSE 4000
ENTRYPOINT ["/usr/bin/tini", "--", "/usr/local/bin/city-entrypoint"]
CMD ["dagster", "api", "grpc", "--host", "0.0.0.0", "--port", "4000", \
     "--module-name", "orchestration.definitions", "--location-name", "smart_city"]
