// Operations, for real: the repository's load balancer config (deploy/nginx.conf
// in Debian's nginx) in front of two instances, and TURN credentials issued by
// the server accepted by Debian's coturn with the pages forced to relay only.
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { programs } from './env';
import { expect, lastHello, meetOnVideo, needProgram, selectedCandidatePair, sentEvents, test } from './fixtures';
import { scrapeMetric } from './metrics';

test('two strangers through nginx (deploy/nginx.conf) in front of two instances connect, sockets balanced over both', async ({
  goServer,
  redis,
  nginx,
  stranger,
}) => {
  needProgram(programs.redisServer);
  needProgram(programs.nginx);
  const shared = await redis();
  const instances = [
    await goServer({ redisURL: shared.url, instanceID: 'e2e-lb-one' }),
    await goServer({ redisURL: shared.url, instanceID: 'e2e-lb-two' }),
  ];
  const balancer = await nginx(instances);

  const a = await stranger(balancer.url);
  const b = await stranger(balancer.url);
  await meetOnVideo(a.page, b.page);

  // The pages talked to nginx only: their sockets are on its address, not an instance's.
  const nginxHost = new URL(balancer.url).host;
  for (const { webSockets } of [a, b]) {
    expect(webSockets.length).toBeGreaterThan(0);
    for (const socket of webSockets) expect(new URL(socket).host).toBe(nginxHost);
  }

  // The balancer keeps the internal endpoints internal: /metrics and /readyz are
  // the replicas' own (scraped below, on each instance directly) and the
  // moderator console is never proxied.
  for (const path of ['/metrics', '/readyz', '/mod', '/mod/', '/mod/api/reports']) {
    const response = await fetch(`${balancer.url}${path}`);
    expect(response.status, `${path} through the balancer`).toBe(404);
  }
  for (const server of instances) expect((await fetch(`${server.url}/readyz`)).status).toBe(200);

  // nginx proxies to both instances, one upstream server line each.
  const conf = readFileSync(balancer.confFile, 'utf8');
  for (const upstream of balancer.upstreams) expect(conf).toContain(`server ${upstream} max_fails=1 fail_timeout=10s;`);

  // Each instance counts the sockets it holds (gomegle_clients_connected).
  const connected = () => Promise.all(instances.map((server) => scrapeMetric(server.url, 'gomegle_clients_connected')));
  await expect
    .poll(async () => (await connected()).reduce((sum, n) => sum + n, 0), { message: 'clients connected over both instances' })
    .toBe(2);
  const split = await connected();
  console.log(`nginx least_conn split of the two WebSockets: ${instances.map((s, i) => `${s.url}=${split[i]}`).join(', ')}`);
  test.info().annotations.push({ type: 'least_conn split', description: split.join(' + ') });
  if (balancer.sharedUpstreamZone) {
    // Counts shared by all workers: the second socket goes where the first is not.
    expect(split, 'least_conn spreads two sockets over two instances').toEqual([1, 1]);
  } else {
    // deploy/nginx.conf runs one worker per core (worker_processes auto) and its
    // upstream has no zone, so each worker balances on its own counts: two
    // sockets accepted by different workers can land on the same instance.
    console.log('deploy/nginx.conf: upstream without a shared zone, least_conn is per worker; one socket per instance not asserted');
  }
});

test('two strangers forced to relay-only connect through coturn with the credentials the server issued', async ({
  goServer,
  turnServer,
  stranger,
}) => {
  needProgram(programs.turnServer);
  const turn = await turnServer();
  const server = await goServer({ env: { TURN_URLS: turn.url, TURN_SECRET: turn.secret } });

  const a = await stranger(server.url, { iceTransportPolicy: 'relay' });
  const b = await stranger(server.url, { iceTransportPolicy: 'relay' });

  // hello hands out no TURN credential (that takes the proof of work and a match)
  for (const page of [a, b]) {
    await expect.poll(() => page.received.some((message) => message.event === 'hello'), { message: 'hello received' }).toBe(true);
    const hello = lastHello(page);
    const credentials = (hello.ice_servers ?? []).filter((server) => server.username || server.credential || server.urls.includes(turn.url));
    expect(credentials, 'hello carries no TURN entry').toEqual([]);
  }

  await meetOnVideo(a.page, b.page);

  // Each page was given, with its match, a TURN entry with a time-limited username naming
  // itself, and the TURN REST API credential of it under coturn's secret.
  for (const page of [a, b]) {
    const hello = lastHello(page);
    const found = page.received.findLast((message) => message.event === 'match_found');
    const servers = found?.event === 'match_found' ? (found.data.ice_servers ?? []) : [];
    const entry = servers.find((server) => server.urls.includes(turn.url));
    expect(entry, `a TURN entry for ${turn.url} in match_found's ${JSON.stringify(servers)}`).toBeDefined();
    const [expiry, id, ...rest] = (entry!.username ?? '').split(':');
    expect(rest).toEqual([]);
    expect(id).toBe(hello.id);
    expect(expiry).toMatch(/^\d+$/);
    expect(Number(expiry)).toBeGreaterThan(Date.now() / 1000);
    expect(entry!.credential).toBe(createHmac('sha1', turn.secret).update(entry!.username!).digest('base64'));
  }

  for (const page of [a.page, b.page]) {
    // The app's own configuration was overridden by the init script, not changed.
    const policies = await page.evaluate(() => window.__peerConnections!.map((pc) => pc.getConfiguration().iceTransportPolicy));
    expect(policies.length).toBeGreaterThan(0);
    expect(policies.every((policy) => policy === 'relay'), `iceTransportPolicy of every peer connection: ${policies}`).toBe(true);
    const pair = await selectedCandidatePair(page);
    console.log(`selected candidate pair: ${JSON.stringify(pair)}`);
    expect(pair, 'a selected candidate pair').not.toBeNull();
    expect(pair!.local.candidateType, 'the local end of the selected pair is a TURN relay').toBe('relay');
    expect(pair!.local.address).toMatch(/^127\.0\.0\.1:\d+$/);
  }
  // The pages' rtc_stats say the same: connected, over a relay candidate.
  for (const page of [a, b]) {
    await expect.poll(() => sentEvents(page, 'rtc_stats').map((report) => report.data.candidate)).toEqual(['relay']);
    expect(sentEvents(page, 'rtc_stats')[0].data.outcome).toBe('connected');
  }
});
