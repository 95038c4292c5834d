// The UI's lint rules, for its end-to-end tests (run by `npm run lint` in src-ui).
export { default } from '../../src-ui/eslint.config.js';
