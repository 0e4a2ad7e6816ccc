// Lint rules. Workflow code is replayed by Temporal and must stay deterministic: it may not
// import Node built-ins, tfjs, or the ML core (which reaches both).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';
import { builtinModules } from 'node:module';

const nodeBuiltins = builtinModules.flatMap((m) => [m, `node:${m}`]);

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.autogan/**', 'runs/**', 'scratch/**'] },
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
    files: ['workflows/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: nodeBuiltins.map((name) => ({ name, message: 'Workflow code must not use Node built-ins.' })),
          patterns: [
            { group: ['@tensorflow/*'], message: 'Workflow code must not use tfjs: run tensors in activities.' },
            {
              group: ['**/core/**', '**/activities/**', '**/server/**', '**/runtime/**', '**/cli/**'],
              message: 'Workflow code may only import deterministic modules (type-only imports are fine).',
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
      'no-restricted-properties': ['error', { object: 'Math', property: 'random', message: 'No randomness in workflows.' }],
    },
  },
);
