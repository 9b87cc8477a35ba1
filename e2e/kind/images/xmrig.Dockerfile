# The scenarios' xmrig image for Docker users (the cluster tier builds the same image without
# Docker: e2e/cluster/images.sh). Debian trixie's xmrig package, run as uid 1000.
FROM debian:trixie-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends xmrig \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --uid 1000 --user-group --create-home --home-dir /home/xmrig xmrig \
 && xmrig --version
USER 1000:1000
WORKDIR /home/xmrig
ENTRYPOINT ["xmrig"]
