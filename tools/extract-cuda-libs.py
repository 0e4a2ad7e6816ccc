"""Unpacks the shared libraries of NVIDIA's CUDA runtime wheels (nvidia-*-cu12) into OUT/nvidia/<name>/lib,
the layout pip gives them in site-packages. libtensorflow_framework.so.2 from the tensorflow wheel
carries RUNPATH entries $ORIGIN/../nvidia/<name>/lib, so with OUT = tfjs-node-gpu's deps/ (the
library itself in deps/lib) TensorFlow's dlopen of libcudart/libcublas/libcudnn/... finds them
without LD_LIBRARY_PATH. Headers, static libraries and tools in the wheels are not needed.

usage: extract-cuda-libs.py OUT WHEEL...
"""
import os
import re
import shutil
import sys
import zipfile

out, wheels = sys.argv[1], sys.argv[2:]
member = re.compile(r'^nvidia/([A-Za-z0-9_]+)/lib/([^/]+\.so(\.[0-9]+)*)$')
count = 0
size = 0
for wheel in wheels:
    z = zipfile.ZipFile(wheel)
    found = 0
    for info in z.infolist():
        m = member.match(info.filename)
        if not m or info.is_dir():
            continue
        dest = os.path.join(out, 'nvidia', m.group(1), 'lib', m.group(2))
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        with z.open(info) as src, open(dest, 'wb') as dst:
            shutil.copyfileobj(src, dst, 1 << 22)
        os.chmod(dest, 0o755)
        found += 1
        size += info.file_size
    if found == 0:
        sys.exit(f'{wheel}: no shared library under nvidia/*/lib (is it an NVIDIA runtime wheel?)')
    count += found
print(f'{count} libraries, {size / 2**20:.0f} MiB')
