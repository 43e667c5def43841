import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { haveChromium, missingChromiumMessage, repoRoot, requireBrowser, webDir } from './env';

/**
 * Builds what every test runs, once per run: the UI (web/dist, which the Go
 * server serves) and the Go server binary. The binary's path goes to the
 * workers through the environment.
 */
export default function globalSetup() {
  if (!haveChromium) {
    if (requireBrowser) throw new Error(missingChromiumMessage);
    console.warn(`\n*** ${missingChromiumMessage}\n`);
    return;
  }
  console.log('e2e: building the UI (vite build)…');
  execFileSync('npx', ['vite', 'build', '--logLevel', 'warn'], { cwd: webDir, stdio: 'inherit' });

  const prebuilt = process.env.GOMEGLE_SERVER_BINARY;
  if (prebuilt) {
    console.log(`e2e: using the prebuilt server ${prebuilt} (GOMEGLE_SERVER_BINARY)`);
    process.env.GOMEGLE_E2E_BINARY = prebuilt;
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'gomegle-e2e-'));
  mkdirSync(dir, { recursive: true });
  const binary = join(dir, 'gomegle');
  console.log(`e2e: building the Go server (go build -o ${binary} .)…`);
  execFileSync('go', ['build', '-o', binary, '.'], { cwd: repoRoot, stdio: 'inherit' });
  process.env.GOMEGLE_E2E_BINARY = binary;
  process.env.GOMEGLE_E2E_TMP = dir;
}
