"""Extracts libtensorflow from a TensorFlow wheel into the layout @tensorflow/tfjs-node's installer
expects: lib/ with the library names and sonames its binding.gyp links, include/ with the C API
headers (the #include closure of the headers the binding includes).

usage: extract-libtensorflow.py WHEEL OUT_DIR LIBTENSORFLOW_VERSION
"""
import os
import re
import shutil
import sys
import zipfile

wheel, out, version = sys.argv[1], sys.argv[2], sys.argv[3]
z = zipfile.ZipFile(wheel)
names = set(z.namelist())
libs = {'tensorflow/libtensorflow_cc.so.2': 'libtensorflow_cc.so.2',
        'tensorflow/libtensorflow_framework.so.2': 'libtensorflow_framework.so.2'}
for member in libs:
    if member not in names:
        sys.exit(f'{wheel}: has no {member} (TensorFlow wheels ship it from 2.12 on)')

os.makedirs(os.path.join(out, 'lib'), exist_ok=True)
for member, name in libs.items():
    with z.open(member) as src, open(os.path.join(out, 'lib', name), 'wb') as dst:
        shutil.copyfileobj(src, dst, 1 << 22)

# binding.gyp links -ltensorflow -ltensorflow_framework; the installer checks libtensorflow.so.<version>;
# at run time the loader looks for the sonames (libtensorflow_cc.so.2, libtensorflow_framework.so.2).
links = {
    'libtensorflow.so': 'libtensorflow_cc.so.2',
    'libtensorflow.so.2': 'libtensorflow_cc.so.2',
    f'libtensorflow.so.{version}': 'libtensorflow_cc.so.2',
    'libtensorflow_framework.so': 'libtensorflow_framework.so.2',
    f'libtensorflow_framework.so.{version}': 'libtensorflow_framework.so.2',
}
for link, target in links.items():
    path = os.path.join(out, 'lib', link)
    if os.path.lexists(path):
        os.remove(path)
    os.symlink(target, path)

prefix = 'tensorflow/include/'
# The binding's own #includes (tfjs-node 4.22 binding/*.cc); everything they include follows.
todo = ['tensorflow/c/c_api.h', 'tensorflow/c/eager/c_api.h', 'tensorflow/core/platform/ctstring_internal.h']
seen = set()
while todo:
    header = todo.pop()
    if header in seen:
        continue
    seen.add(header)
    if prefix + header not in names:
        sys.exit(f'{wheel}: header {header} is missing from {prefix}')
    text = z.read(prefix + header)
    dest = os.path.join(out, 'include', header)
    os.makedirs(os.path.dirname(dest), exist_ok=True)
    with open(dest, 'wb') as f:
        f.write(text)
    todo.extend(re.findall(r'#include\s+"([^"]+)"', text.decode('utf-8', 'replace')))
print(f'{len(seen)} headers, {len(libs)} libraries')
