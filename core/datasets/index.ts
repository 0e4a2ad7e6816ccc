import * as fs from 'node:fs';
import { openCifar10 } from './cifar10';
import { openMnist } from './mnist';
import { openPngFolder } from './png-folder';
import { openStl10 } from './stl10';
import { DatasetError, type Dataset, type DatasetSpec } from './types';

export * from './types';

/** Dataset kinds that read files from spec.path (the validator checks the path exists). */
export const FILE_DATASETS: ReadonlyArray<DatasetSpec['kind']> = ['cifar10', 'stl10', 'folder'];

export function openDataset(spec: DatasetSpec): Dataset {
  if (spec.kind === 'mnist') return openMnist();
  if (!spec.path) throw new DatasetError(`dataset kind "${spec.kind}" needs a path`);
  if (!fs.existsSync(spec.path)) throw new DatasetError(`dataset path ${spec.path} does not exist`);
  switch (spec.kind) {
    case 'cifar10':
      return openCifar10(spec.path);
    case 'stl10':
      return openStl10(spec.path);
    case 'folder':
      return openPngFolder(spec.path, spec.channels === 1 ? 1 : 3);
    default:
      throw new DatasetError(`dataset kind "${spec.kind}" is not readable yet`);
  }
}
