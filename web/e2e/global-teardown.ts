import { rmSync } from 'node:fs';

export default function globalTeardown() {
  const dir = process.env.GOMEGLE_E2E_TMP;
  if (dir) rmSync(dir, { recursive: true, force: true });
}
