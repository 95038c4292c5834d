import js from '@eslint/js';
import svelte from 'eslint-plugin-svelte';
import globals from 'globals';
import ts from 'typescript-eslint';
import svelteConfig from './svelte.config.js';

export default ts.config(
  { ignores: ['dist/', 'dist-app/', 'node_modules/', 'src/lib/bindings.ts', 'src/lib/desktop/bindings.ts', 'src/lib/remote/bindings.ts'] },
  js.configs.recommended,
  ...ts.configs.recommended,
  ...svelte.configs.recommended,
  {
    languageOptions: { globals: { ...globals.browser } },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      eqeqeq: ['error', 'always'],
    },
  },
  {
    files: ['**/*.svelte', '**/*.svelte.ts'],
    languageOptions: {
      parserOptions: { projectService: true, extraFileExtensions: ['.svelte'], parser: ts.parser, svelteConfig },
    },
  },
  {
    // Node-side files: build plugin, configs, scripts, the benchmark and the end-to-end tests.
    files: ['build/**', 'scripts/**', 'bench/**', '*.config.*'],
    languageOptions: { globals: { ...globals.node } },
  },
  {
    // Node scripts (the benchmark, icon rendering, and ../tests/e2e, whose eslint.config.js
    // re-exports this one); page.evaluate callbacks in them run in the browser.
    files: ['**/*.mjs'],
    languageOptions: { globals: { ...globals.node, ...globals.browser } },
  },
  {
    files: ['sw/**'],
    languageOptions: { globals: { ...globals.serviceworker, __SHELL_FILES__: 'readonly' } },
  },
  {
    files: ['test/**'],
    languageOptions: { globals: { ...globals.node } },
  },
);
