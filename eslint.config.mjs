// Lint rules double as the architecture's import rules (docs/ARCHITECTURE.md, "What may import what").
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

const leafDoors = (self) => ({
  patterns: [
    { group: ['**/src/**', '../src/*'], message: `${self}/ is a leaf package: it never imports src/.` },
    ...['ocr', 'storage', 'retention-rules']
      .filter((p) => p !== self)
      .map((p) => ({ group: [`../${p}`, `../${p}/*`, `**/${p}/**`], message: `${self}/ never imports ${p}/.` })),
  ],
});

export default tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', '.data/**', 'web/vendor/**', 'test/.out/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node, ...globals.mocha } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'error',
      'no-console': 'off',
    },
  },
  // The web UI runs in the browser.
  { files: ['web/**/*.js'], languageOptions: { globals: { ...globals.browser }, sourceType: 'module' } },
  // Tests read loosely typed JSON responses.
  { files: ['test/**/*.ts', 'bench/**/*.ts'], rules: { '@typescript-eslint/no-explicit-any': 'off' } },
  { files: ['bin/**/*.js', 'scripts/**/*.js', 'test/helpers/*.js'], rules: { '@typescript-eslint/no-require-imports': 'off' } },
  { files: ['ocr/**/*.ts'], rules: { 'no-restricted-imports': ['error', leafDoors('ocr')] } },
  { files: ['storage/**/*.ts'], rules: { 'no-restricted-imports': ['error', leafDoors('storage')] } },
  { files: ['retention-rules/**/*.ts'], rules: { 'no-restricted-imports': ['error', leafDoors('retention-rules')] } },
  {
    // src reaches the leaf packages only through their index.ts door.
    files: ['src/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [
          { group: ['**/ocr/*', '!**/ocr/index'], message: 'Import ocr/ only through ocr/index.ts.' },
          { group: ['**/storage/*', '!**/storage/index'], message: 'Import storage/ only through storage/index.ts.' },
          { group: ['**/retention-rules/*', '!**/retention-rules/index'], message: 'Import retention-rules/ only through its index.ts.' },
        ],
      }],
    },
  },
  {
    files: ['src/services/**/*.ts', 'src/models/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { paths: [{ name: 'koa', message: 'Services and models never import koa.' }], patterns: [{ group: ['**/api/**'], message: 'Services and models never import the API layer.' }] }] },
  },
  {
    // Only src/config.ts reads process.env.
    files: ['src/**/*.ts', 'ocr/**/*.ts', 'storage/**/*.ts', 'retention-rules/**/*.ts'],
    ignores: ['src/config.ts'],
    rules: { 'no-restricted-properties': ['error', { object: 'process', property: 'env', message: 'Read configuration from src/config.ts.' }] },
  },
);
