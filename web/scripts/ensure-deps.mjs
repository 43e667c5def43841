// `npm test` at the repository root runs this first: a fresh clone gets the web app's
// dependencies before its tests need them.
import { ensureWebDeps } from './lib.mjs';

ensureWebDeps();
