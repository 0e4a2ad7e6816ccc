// Lint rules. Imports point downward only (README, "Layers"):
//   cli → runtime → workflows / activities → services → pipeline, steps → core
// Each layer below gets a deny-list of the layers above it (type-only imports of shapes are fine).
// Workflow code is replayed by Temporal and must stay deterministic: it may not import Node
// built-ins or tfjs, and its value imports come from an allow-list of pure modules.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';
import { builtinModules } from 'node:module';

const nodeBuiltins = builtinModules.flatMap((m) => [m, `node:${m}`]);

/** A no-restricted-imports rule that forbids the given top-level folders (type imports allowed). */
const forbid = (layer, folders) => [
  'error',
  {
    patterns: [
      {
        group: folders.map((f) => `**/${f}/**`),
        message: `${layer} sits below ${folders.join(', ')}: imports point downward only (README, "Layers").`,
        allowTypeImports: true,
      },
    ],
  },
];

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.autogan/**', '.cache/**', 'runs/**', 'scratch/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['bin/**/*.js'],
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    files: ['core/**/*.ts'],
    rules: {
      'no-restricted-imports': forbid('core/ (the ML library)', [
        'services',
        'pipeline',
        'steps',
        'workflows',
        'activities',
        'runtime',
        'server',
        'cli',
      ]),
    },
  },
  {
    files: ['services/**/*.ts'],
    rules: {
      'no-restricted-imports': forbid('services/', [
        'steps',
        'workflows',
        'activities',
        'runtime',
        'server',
        'cli',
      ]),
    },
  },
  {
    files: ['pipeline/**/*.ts', 'steps/**/*.ts'],
    rules: {
      'no-restricted-imports': forbid('pipeline/ and steps/', [
        'services',
        'workflows',
        'activities',
        'runtime',
        'server',
        'cli',
      ]),
    },
  },
  {
    files: ['activities/**/*.ts'],
    rules: { 'no-restricted-imports': forbid('activities/', ['workflows', 'runtime', 'server', 'cli']) },
  },
  {
    files: ['runtime/**/*.ts', 'server/**/*.ts'],
    rules: { 'no-restricted-imports': forbid('runtime/ and server/', ['cli']) },
  },
  {
    files: ['workflows/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: nodeBuiltins.map((name) => ({
            name,
            message: 'Workflow code must not use Node built-ins.',
          })),
          patterns: [
            {
              group: ['@tensorflow/*'],
              message: 'Workflow code must not use tfjs: run tensors in activities.',
            },
            {
              // The allow-list: workflow code, the SDK, and the pure pipeline modules (plain data and
              // functions, no I/O). Everything else only as `import type`.
              group: [
                '../*',
                '!../workflows',
                '!../pipeline',
                '../pipeline/*',
                '!../pipeline/plan',
                '!../pipeline/templates',
                '!../pipeline/search-params',
                '!../pipeline/retrain-params',
                '!../pipeline/direct-input',
              ],
              message:
                'Workflow code may only import workflows/, pipeline/plan, pipeline/templates, pipeline/search-params, pipeline/retrain-params and pipeline/direct-input (type-only imports are fine).',
              allowTypeImports: true,
            },
          ],
        },
      ],
      'no-restricted-globals': [
        'error',
        { name: 'Date', message: 'Use workflow time (Date is replaced by Temporal, but keep it explicit).' },
        { name: 'setTimeout', message: 'Use sleep() from @temporalio/workflow.' },
      ],
      'no-restricted-properties': [
        'error',
        { object: 'Math', property: 'random', message: 'No randomness in workflows.' },
      ],
    },
  },
  {
    // Functions stay small enough to read in one screen (tests' describe blocks are lists of cases).
    files: ['**/*.ts'],
    ignores: ['test/**'],
    rules: {
      'max-lines-per-function': ['error', { max: 120, skipBlankLines: true, skipComments: true }],
    },
  },
);
