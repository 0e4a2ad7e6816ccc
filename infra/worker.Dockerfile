# Worker image. BACKEND=cpu builds @tensorflow/tfjs-node, BACKEND=gpu also @tensorflow/tfjs-node-gpu,
# both with `npm run setup:native` from the TensorFlow 2.21 wheels on the Python package index (a
# mirror works: PIP_INDEX_URL). The GPU build carries its own CUDA 12 / cuDNN 9 libraries (NVIDIA's
# runtime wheels), so any base image works: the host needs only an NVIDIA driver for CUDA 12
# (>= 525) and the NVIDIA Container Toolkit.
ARG BACKEND=cpu
ARG BASE=node:20-bookworm
FROM ${BASE}
ARG BACKEND
# CUDA base images have no Node.js: install Node 20 from the official tarball when missing.
RUN command -v node || (apt-get update && apt-get install -y --no-install-recommends curl ca-certificates xz-utils \
 && curl -fsSL https://nodejs.org/dist/v20.18.0/node-v20.18.0-linux-x64.tar.xz | tar -xJ -C /usr/local --strip-components=1)
# setup:native needs pip (to fetch the wheels), a C++ compiler and make (to build the binding).
RUN python3 -m pip --version || (apt-get update && apt-get install -y --no-install-recommends python3-pip g++ make)
WORKDIR /app
COPY . .
RUN npm ci --no-audit --no-fund \
 && if [ "$BACKEND" = "gpu" ]; then npm run setup:native -- --gpu; else npm run setup:native; fi \
 && rm -rf .autogan/native/wheel
ENV TEMPORAL_ADDRESS=temporal:7233
ENTRYPOINT ["node", "bin/autogan.js", "worker"]
CMD ["--queue", "autogan-gpu"]
