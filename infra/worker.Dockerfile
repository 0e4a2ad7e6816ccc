# Worker image. BACKEND=cpu installs @tensorflow/tfjs-node; BACKEND=gpu uses a CUDA base image and
# @tensorflow/tfjs-node-gpu (libtensorflow 2.9 needs CUDA 11.2+ and cuDNN 8.1+).
ARG BACKEND=cpu
ARG BASE=node:20-bookworm
FROM ${BASE}
ARG BACKEND
# CUDA base images have no Node.js: install Node 20 from the official tarball when missing.
RUN command -v node || (apt-get update && apt-get install -y --no-install-recommends curl ca-certificates xz-utils python3 \
 && curl -fsSL https://nodejs.org/dist/v20.18.0/node-v20.18.0-linux-x64.tar.xz | tar -xJ -C /usr/local --strip-components=1)
WORKDIR /app
COPY . .
RUN npm ci --no-audit --no-fund \
 && if [ "$BACKEND" = "gpu" ]; then npm install --no-save @tensorflow/tfjs-node-gpu@4.22.0; \
    else npm install --no-save @tensorflow/tfjs-node@4.22.0; fi
ENV TEMPORAL_ADDRESS=temporal:7233
ENTRYPOINT ["node", "bin/autogan.js", "worker"]
CMD ["--queue", "autogan-gpu"]
