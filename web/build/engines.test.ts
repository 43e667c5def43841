// The Node version the README promises is one every installed package accepts: `npm ci`
// warns EBADENGINE (and `engine-strict` refuses) when a locked package's engines.node does
// not admit the running Node. Checked against the lowest version our own engines field
// admits, for both lock files (the root's and the web app's).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import semver from 'semver';
import { describe, expect, it } from 'vitest';

const web = join(import.meta.dirname, '..');
const root = join(web, '..');

interface Manifest {
  engines?: { node?: string };
}
interface LockFile {
  packages: Record<string, Manifest>;
}

const readJSON = <T>(path: string): T => JSON.parse(readFileSync(path, 'utf8')) as T;

function lowestNode(manifest: string): string {
  const range = readJSON<Manifest>(manifest).engines?.node;
  if (!range) throw new Error(`${manifest} has no engines.node`);
  const lowest = semver.minVersion(range);
  if (!lowest) throw new Error(`${manifest}: engines.node ${range} admits no version`);
  return lowest.version;
}

/** The locked packages whose engines.node refuses this Node version. */
export function refusing(lock: LockFile, node: string): string[] {
  return Object.entries(lock.packages)
    .filter(([name, manifest]) => name !== '' && manifest.engines?.node && !semver.satisfies(node, manifest.engines.node))
    .map(([name, manifest]) => `${name.replace(/^.*node_modules\//, '')} (engines.node ${manifest.engines?.node})`);
}

describe('the Node version', () => {
  const node = lowestNode(join(root, 'package.json'));

  it('is the same in both package.json files and in the README', () => {
    expect(lowestNode(join(web, 'package.json'))).toBe(node);
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    expect(readme).toContain(`Node ${semver.major(node)}`);
  });

  it.each(['package-lock.json', 'web/package-lock.json'])('every package in %s accepts it', (lock) => {
    expect(refusing(readJSON<LockFile>(join(root, lock)), node)).toEqual([]);
  });

  it('the check itself: finds a package pinned to another Node', () => {
    // nsfwjs 4.4.0's engines field, which pins the one Node its maintainers built with
    const lock = { packages: { '': {}, 'node_modules/nsfwjs': { engines: { node: '22.13.0' } }, 'node_modules/ok': { engines: { node: '>=18' } } } };
    expect(refusing(lock, '20.19.0')).toEqual(['nsfwjs (engines.node 22.13.0)']);
  });
});
