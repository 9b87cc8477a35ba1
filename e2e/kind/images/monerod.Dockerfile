# The scenarios' monerod image for Docker users (the cluster tier builds the same image without
# Docker: e2e/cluster/images.sh). Debian bookworm's monero package, run as uid 1000.
FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends monero \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --uid 1000 --user-group --create-home --home-dir /home/monero monero \
 && monerod --version
USER 1000:1000
WORKDIR /home/monero
EXPOSE 18080 18081
ENTRYPOINT ["monerod"]
