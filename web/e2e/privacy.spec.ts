// "Hide my address from strangers" (issue 25, part 1) in real browsers, through Debian's
// coturn with the credentials the server issues with each match: the page that hides
// gathers and sends relayed candidates only, so its partner's browser learns no address
// of it but the relay's; the partner, which does not hide, is reached from the relay at
// its own addresses (it learns nothing, and gives its own as usual); both decode video.
import type { Page } from '@playwright/test';
import type { ServerMessage } from '../src/protocol';
import { programs } from './env';
import { expect, expectAccessible, meetOnVideo, needProgram, screenshot, selectedCandidatePair, sentEvents, test, type Stranger } from './fixtures';

interface CandidateReport {
  candidateType: string;
  address: string;
  port: number;
}

/** Every remote-candidate report of the page's newest open peer connection: what its browser learned of the other's addresses. */
async function remoteCandidates(page: Page): Promise<CandidateReport[]> {
  return page.evaluate(async () => {
    const pc = (window.__peerConnections ?? []).filter((p) => p.connectionState !== 'closed').at(-1);
    if (!pc) return [];
    const found: CandidateReport[] = [];
    (await pc.getStats()).forEach((report: Record<string, unknown>) => {
      if (report.type === 'remote-candidate') found.push({ candidateType: String(report.candidateType), address: String(report.address), port: Number(report.port) });
    });
    return found;
  });
}

/** The ICE candidates in signals: alone ("candidate") and as a=candidate lines of offers and answers. */
function candidatesIn(signals: { type: string; payload: unknown }[]): string[] {
  return signals.flatMap(({ type, payload }) => {
    if (type === 'candidate') return [String((payload as { candidate?: string } | null)?.candidate ?? '')].filter(Boolean);
    const sdp = (payload as { sdp?: string } | null)?.sdp ?? '';
    return sdp.split(/\r?\n/).filter((line) => line.startsWith('a=candidate:'));
  });
}

const typeOf = (candidate: string) => / typ (\S+)/.exec(candidate)?.[1];

/** The signals a page received from its partner. */
const signalsReceived = (stranger: Stranger) =>
  stranger.received.filter((message): message is Extract<ServerMessage, { event: 'signal' }> => message.event === 'signal').map((message) => message.data);

test("one stranger hides its address: the other's browser learns only relay candidates of it, and video flows both ways", async ({ goServer, turnServer, stranger }) => {
  needProgram(programs.turnServer);
  const turn = await turnServer();
  const server = await goServer({ env: { TURN_URLS: turn.url, TURN_SECRET: turn.secret } });
  const hider = await stranger(server.url);
  const other = await stranger(server.url);

  // Offered, once hello said the server has TURN, with what it costs.
  const option = hider.page.getByRole('checkbox', { name: 'Hide my address from strangers' });
  await expect(option).toBeVisible();
  await expect(option).toHaveAccessibleDescription(/never learns your IP address/);
  await option.check();
  await expectAccessible(hider.page, 'landing with "Hide my address"');
  await screenshot(hider.page, '23-hide-address');

  await meetOnVideo(hider.page, other.page);

  // The page that hides asked its browser for relayed candidates only (the fixture's init
  // script does not force any policy here).
  const policies = await hider.page.evaluate(() => window.__peerConnections!.map((pc) => pc.getConfiguration().iceTransportPolicy));
  expect(policies.length).toBeGreaterThan(0);
  expect(new Set(policies)).toEqual(new Set(['relay']));

  // Through signaling: every candidate it sent, and every candidate its partner received from
  // it, alone or in an SDP, is a relay candidate.
  const sent = candidatesIn(sentEvents(hider, 'signal').map((message) => message.data));
  const arrived = candidatesIn(signalsReceived(other));
  expect(sent.length).toBeGreaterThan(0);
  expect(arrived.length).toBeGreaterThan(0);
  for (const [what, candidates] of [['sent by the page that hides', sent], ['received by its partner', arrived]] as const) {
    expect(candidates.map(typeOf), `candidates ${what}: ${candidates.join(' | ')}`).toEqual(candidates.map(() => 'relay'));
  }

  // The partner's browser: every address it knows of the page that hides is a relay's. A
  // check from the relay that arrives before the relay candidate itself is learned as peer
  // reflexive; its address is then the relay's as well (a port of coturn's relay range).
  const learned = await remoteCandidates(other.page);
  console.log(`the partner's remote candidates: ${JSON.stringify(learned)}`);
  expect(learned.length).toBeGreaterThan(0);
  for (const candidate of learned) {
    const relayed = candidate.candidateType === 'relay' || (candidate.candidateType === 'prflx' && candidate.port >= turn.relayPorts.min && candidate.port <= turn.relayPorts.max);
    expect(relayed, `the partner learned ${JSON.stringify(candidate)}: only the relay's addresses`).toBe(true);
  }
  expect(learned.some((candidate) => candidate.candidateType === 'relay')).toBe(true);
  const otherPair = await selectedCandidatePair(other.page);
  expect(otherPair?.remote.candidateType, 'the partner reaches it through the relay').toMatch(/^(relay|prflx)$/);

  // The other way round, as the README says: the partner did not hide, so the page that hides
  // learned the partner's own (host) addresses, and its relay reached the partner at one.
  const hiderLearned = await remoteCandidates(hider.page);
  console.log(`the hiding page's remote candidates: ${JSON.stringify(hiderLearned)}`);
  expect(hiderLearned.some((candidate) => candidate.candidateType === 'host')).toBe(true);
  const hiderPair = await selectedCandidatePair(hider.page);
  expect(hiderPair?.local.candidateType).toBe('relay');

  // Both pages report the call as connected; the one that hides over a relay.
  await expect.poll(() => sentEvents(hider, 'rtc_stats').map((report) => [report.data.outcome, report.data.candidate])).toEqual([['connected', 'relay']]);
  await expect.poll(() => sentEvents(other, 'rtc_stats').map((report) => report.data.outcome)).toEqual(['connected']);

  // Remembered: after a reload it is still on.
  await hider.page.reload();
  await expect(hider.page.getByRole('checkbox', { name: 'Hide my address from strangers' })).toBeChecked();
});
