# Image of the telemetry connector and the simulator (one image, two commands).
FROM python:3.11-slim
WORKDIR /app
COPY requirements.txt ./
COPY connector/requirements.txt connector/requirements.txt
COPY simulator/requirements.txt simulator/requirements.txt
RUN pip install --no-cache-dir -r requirements.txt \
    -r connector/requirements.txt -r simulator/requirements.txt
COPY connector connector
COPY simulator simulator
# The anomaly engine's compiled twins (python -m connector.native), with a
# compiler that does not stay in the image.
RUN apt-get update -qq && apt-get install -y -qq --no-install-recommends gcc libc6-dev \
    && python -m connector.native \
    && apt-get purge -y -qq gcc libc6-dev && apt-get autoremove -y -qq \
    && rm -rf /var/lib/apt/lists/*
RUN useradd --system --home /data cmms && mkdir -p /data && chown cmms /data
USER cmms
VOLUME /data
ENV CMMS_STORE=/data/connector.sqlite3
CMD ["python", "-m", "connector", "run"]
